import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { Order, Role } from "../../entities";
import { notFound } from "../../errors";
import { hasRole, type Viewer } from "../auth/viewer";
import { isUuid } from "../pagination";

/** Who may see an order: its customer, COORGANIZER+ of its brand (or the brand's key), ADMIN. */
export function canSeeOrder(viewer: Viewer, order: { brandId: string; customerId: string | null }): boolean {
  return hasRole(viewer, { brandId: order.brandId, ownerId: order.customerId }, Role.USER);
}

/** Loads an order the caller may see; anything else (malformed, unknown, someone else's) is NOT_FOUND alike. */
export async function findVisibleOrder(em: EntityManager, viewer: Viewer, id: string, lock = false): Promise<Order> {
  const order = isUuid(id) ? await em.findOne(Order, id, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) : null;
  if (!order || !canSeeOrder(viewer, { brandId: order.brand.id, customerId: order.customer?.id ?? null })) throw notFound("Order not found");
  return order;
}
