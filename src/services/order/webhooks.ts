import { ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { randomUUID } from "node:crypto";
import { Brand, OrderStatus, WebhookDelivery, WebhookKind, type Order } from "../../entities";
import { queueDelivery } from "../../webhooks/delivery";
import type { ServiceContext } from "../context";
import { orderView } from "./order.repository";

/** The events a brand's orderWebhookUrl receives. order.refunded and refund.succeeded come with refunds (queued by them). */
export type OrderWebhookEvent = "order.paid" | "order.fulfilled" | "order.cancelled" | "order.expired" | "order.refunded" | "refund.succeeded";

/** The event each status change sends (transition() queues it). */
export const EVENT_OF_STATUS: Partial<Record<OrderStatus, OrderWebhookEvent>> = {
  [OrderStatus.PAID]: "order.paid",
  [OrderStatus.FULFILLED]: "order.fulfilled",
  [OrderStatus.CANCELLED]: "order.cancelled",
  [OrderStatus.EXPIRED]: "order.expired",
  [OrderStatus.REFUNDED]: "order.refunded",
  // refund.succeeded is queued by the refund events (src/services/refund/refund-events.ts) for every successful refund.
};

/**
 * Order.webhookDeliveries answers the newest this many. An order sends one event per transition
 * (at most MAX_ORDER_EVENTS) plus its refunds' events, so this holds an ordinary order's history.
 */
export const MAX_ORDER_DELIVERIES_SHOWN = 20;

/**
 * Queues `type` for the order's brand, in the caller's transaction (the change's own: a rolled-back
 * change sends nothing), when the brand has an orderWebhookUrl. Exported for the refund events.
 * The body holds what ORGANIZER+ of the brand can read through the API about the order (not the
 * attendees: the order's id fetches them), plus `extra` (e.g. the refund) under `data`.
 */
export async function queueOrderWebhook(
  tx: EntityManager,
  order: Order,
  type: OrderWebhookEvent,
  extra: Record<string, unknown> = {},
): Promise<WebhookDelivery | null> {
  const brand = await tx.findOneOrFail(Brand, order.brand.id);
  if (!brand.orderWebhookUrl) return null;
  const v = orderView(order);
  const body = {
    id: randomUUID(),
    type,
    createdAt: new Date().toISOString(),
    data: {
      ...extra,
      order: {
        id: v.id,
        number: v.number,
        brandId: v.brandId,
        status: v.status,
        buyer: { name: v.buyerName, email: v.buyerEmail },
        lines: v.lines,
        subtotal: v.subtotal,
        discountTotal: v.discountTotal,
        total: v.total,
        currency: v.currency,
        couponCode: v.couponCode,
        createdAt: v.createdAt.toISOString(),
        paidAt: v.paidAt?.toISOString() ?? null,
        fulfilledAt: v.fulfilledAt?.toISOString() ?? null,
      },
    },
  };
  return queueDelivery(tx, brand, WebhookKind.ORDER, body, { fan: null, order: ref(order) });
}

/** Order.webhookDeliveries (ORGANIZER+ by @auth on the field): the newest, oldest first. */
export async function orderDeliveries(ctx: ServiceContext, orderId: string): Promise<WebhookDelivery[]> {
  const rows = await ctx.em.find(
    WebhookDelivery,
    { order: orderId, kind: WebhookKind.ORDER },
    { orderBy: [{ createdAt: "desc" }, { id: "desc" }], limit: MAX_ORDER_DELIVERIES_SHOWN },
  );
  return rows.reverse();
}
