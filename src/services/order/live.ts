import { orderStatusStream, type OrderStatusMessage } from "../../pubsub/order-events";
import { Permission } from "../access/permissions";
import { requireAccess } from "../access/require";
import type { ServiceContext } from "../context";
import { requireOrder } from "./access";
import { ordersByIds, type OrderView } from "./order.repository";

/**
 * `orderStatusChanged(brandId)`: COORGANIZER+ of the brand (or its key), checked when subscribing
 * (outsiders get NOT_FOUND as for an unknown brand).
 */
export async function watchBrand(ctx: ServiceContext, brandId: string): Promise<AsyncIterable<OrderStatusMessage>> {
  const [id] = await requireAccess(ctx, Permission.BRAND_ORDERS_READ, [brandId]);
  return orderStatusStream({ brandId: id });
}

/** `myOrderStatusChanged(orderId)`: the order's own customer (account or anonymous session) only. */
export async function watchMyOrder(ctx: ServiceContext, orderId: string): Promise<AsyncIterable<OrderStatusMessage>> {
  const order = await requireOrder(ctx.em, ctx.viewer, Permission.ORDER_WATCH_MINE, orderId);
  return orderStatusStream({ orderId: order.id });
}

// One load of the order per status change and instance, shared by every subscriber to it (with
// 1,000 subscribers an instance otherwise ran 1,000 identical queries per change). Keyed by the
// order's seq, so a later change is a new load; kept briefly.
const SHARED_LOAD_MS = 10_000;
const sharedLoads = new Map<string, Promise<OrderView | null>>();

function orderAsOf(ctx: ServiceContext, m: OrderStatusMessage): Promise<OrderView | null> {
  const key = `${m.orderId}:${m.seq}`;
  let load = sharedLoads.get(key);
  if (!load) {
    load = ordersByIds(ctx.sql, [m.orderId]).then((rows) => rows[0] ?? null);
    sharedLoads.set(key, load);
    setTimeout(() => sharedLoads.delete(key), SHARED_LOAD_MS).unref();
  }
  return load;
}

/**
 * The event subscribers receive: the order as loaded once for this change. `ctx` is the context of
 * one execution of the event (src/http/ws.ts gives each its own EntityManager fork and loaders, so
 * whatever else is selected is read fresh); the loaded order is primed into its loaders.
 */
export async function statusEvent(ctx: ServiceContext, m: OrderStatusMessage) {
  const order = await orderAsOf(ctx, m);
  if (order) ctx.loaders.order.prime(order.id, order);
  return { order, previousStatus: m.from, status: m.to, at: new Date(m.at), seq: m.seq };
}
