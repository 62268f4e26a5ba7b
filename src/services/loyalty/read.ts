import { DeliveryAttempt, WebhookDelivery } from "../../entities";
import type { ServiceContext } from "../context";
import { shownDeliveryError } from "../../webhooks/delivery-errors";

/** A fan gets one coupon (issued once, when it becomes ACTIVE), pushed to the shop once. */
export const MAX_DELIVERIES_PER_FAN = 1;
/** CouponDelivery.tries and OrderWebhookDelivery.tries answer the newest this many; `attempts` counts them all. */
export const MAX_TRIES_SHOWN = 10;
/** Reached only through Fan (ORGANIZER+ by @auth on the type). */
export function fanDeliveries(ctx: ServiceContext, fanId: string): Promise<WebhookDelivery[]> {
  return ctx.em.find(WebhookDelivery, { fan: fanId }, { orderBy: [{ createdAt: "asc" }, { id: "asc" }], limit: MAX_DELIVERIES_PER_FAN });
}

/** The newest MAX_TRIES_SHOWN tries, oldest first. */
export async function deliveryTries(ctx: ServiceContext, deliveryId: string) {
  const rows = await ctx.em.find(DeliveryAttempt, { delivery: deliveryId }, { orderBy: [{ createdAt: "desc" }, { id: "desc" }], limit: MAX_TRIES_SHOWN });
  return rows.reverse().map((a) => ({ at: a.createdAt, statusCode: a.statusCode, error: shownDeliveryError(a.error), durationMs: a.durationMs }));
}

/** Brand members read the generic reason only (rows stored before it existed included). */
export function deliveryLastError(delivery: WebhookDelivery): string | null {
  return shownDeliveryError(delivery.lastError);
}
