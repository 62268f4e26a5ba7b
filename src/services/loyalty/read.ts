import { CouponDelivery, DeliveryAttempt } from "../../entities";
import type { ServiceContext } from "../context";
import { shownDeliveryError } from "../../webhooks/delivery-errors";

/** Reached only through Fan (ORGANIZER+ by @auth on the type). */
export function fanDeliveries(ctx: ServiceContext, fanId: string): Promise<CouponDelivery[]> {
  return ctx.em.find(CouponDelivery, { fan: fanId }, { orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

export async function deliveryTries(ctx: ServiceContext, deliveryId: string) {
  const rows = await ctx.em.find(DeliveryAttempt, { delivery: deliveryId }, { orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return rows.map((a) => ({ at: a.createdAt, statusCode: a.statusCode, error: shownDeliveryError(a.error), durationMs: a.durationMs }));
}

/** Brand members read the generic reason only (rows stored before it existed included). */
export function deliveryLastError(delivery: CouponDelivery): string | null {
  return shownDeliveryError(delivery.lastError);
}
