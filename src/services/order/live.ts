import { Role } from "../../entities";
import { createLoaders } from "../loaders";
import { failedPrecondition } from "../../errors";
import { orderStatusStream, type OrderStatusMessage } from "../../pubsub/order-events";
import { brandWithRole } from "../brand/brands";
import type { ServiceContext } from "../context";
import { findVisibleOrder } from "./orders";

/**
 * `orderStatusChanged(brandId)`: COORGANIZER+ of the brand (or its key), checked when subscribing
 * (outsiders get NOT_FOUND as for an unknown brand).
 */
export async function watchBrand(ctx: ServiceContext, brandId: string): Promise<AsyncIterable<OrderStatusMessage>> {
  const brand = await brandWithRole(ctx, brandId, Role.COORGANIZER, { hideFromOutsiders: true });
  return orderStatusStream((m) => m.brandId === brand.id);
}

/** `myOrderStatusChanged(orderId)`: the order's own customer (account or anonymous session) only. */
export async function watchMyOrder(ctx: ServiceContext, orderId: string): Promise<AsyncIterable<OrderStatusMessage>> {
  const order = await findVisibleOrder(ctx.em, ctx.viewer, orderId);
  const me = ctx.viewer.kind === "user" || ctx.viewer.kind === "anonymous" ? ctx.viewer.userId : null;
  if (!me || order.customer?.id !== me) {
    throw failedPrecondition("myOrderStatusChanged is for the order's customer; brand members use orderStatusChanged(brandId)");
  }
  return orderStatusStream((m) => m.orderId === order.id);
}

/**
 * The event a subscriber receives: the order loaded fresh, with an EntityManager fork and loaders
 * of its own (the subscription's context lives as long as the socket; caches would go stale).
 */
export async function statusEvent(ctx: ServiceContext, m: OrderStatusMessage) {
  ctx.em = ctx.em.fork({ clear: true });
  ctx.loaders = createLoaders(ctx.em, ctx.sql);
  const order = await ctx.loaders.order.load(m.orderId);
  return { order, previousStatus: m.from, status: m.to, at: new Date(m.at), seq: m.seq };
}
