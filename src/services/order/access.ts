import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { Order } from "../../entities";
import type { Viewer } from "../auth/viewer";
import type { Subject } from "../access/ladder";
import type { Permission } from "../access/permissions";
import { accessible } from "../access/require";
import { isUuid } from "../pagination";

/** What an order is to the access table: its brand and its customer (an Order entity). */
export const orderSubject = (o: Order): Subject => ({ brandId: o.brand.id, ownerId: o.customer?.id ?? null });

/** The same for an order of the read model (OrderView). */
export const orderViewSubject = (o: { brandId: string; customerId: string | null }): Subject => ({ brandId: o.brandId, ownerId: o.customerId });

/**
 * Loads an order (under a row lock with `lock`) and checks `permission` over it (src/services/access):
 * malformed, unknown and someone else's ids are NOT_FOUND alike; FORBIDDEN for a caller who may see
 * the order but not do this.
 */
export async function requireOrder(em: EntityManager, viewer: Viewer, permission: Permission, id: string, lock = false): Promise<Order> {
  const order = isUuid(id) ? await em.findOne(Order, id, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) : null;
  return accessible(viewer, permission, order, orderSubject);
}
