import type { EntityManager } from "@mikro-orm/postgresql";
import type { Order, OrderStatus } from "../entities";
import { EventStream } from "./event-stream";

/** The NOTIFY channel of order status changes (one per database, all instances LISTEN). */
export const ORDER_STATUS_CHANNEL = "orderline_order_status";

/**
 * What travels through NOTIFY: ids, statuses, time and the order's sequence number (so a client
 * can tell it missed an event). Subscribers load the order themselves.
 */
export interface OrderStatusMessage {
  orderId: string;
  brandId: string;
  customerId: string | null;
  from: OrderStatus | null;
  to: OrderStatus;
  at: string;
  seq: number;
}

/**
 * Publishes a status change through `pg_notify` on the transaction's own connection: PostgreSQL
 * delivers it only if the transaction commits, to every instance that listens.
 */
export async function notifyOrderStatus(em: EntityManager, order: Order, from: OrderStatus | null, to: OrderStatus, at: Date): Promise<void> {
  const message: OrderStatusMessage = {
    orderId: order.id,
    brandId: order.brand.id,
    customerId: order.customer?.id ?? null,
    from,
    to,
    at: at.toISOString(),
    seq: order.seq,
  };
  await em.execute(`select pg_notify('${ORDER_STATUS_CHANNEL}', ?)`, [JSON.stringify(message)]);
}

// This instance's open streams, by what they follow: `brand:<id>` or `order:<id>`. A notification
// goes straight to the streams of its brand and of its order (no scan of the others).
const streams = new Map<string, Set<EventStream<OrderStatusMessage>>>();
let active = 0;
let opened = 0;

/**
 * Called by the LISTEN connection for each notification: hands it to local subscribers. Every
 * subscriber gets the same (frozen) message object, so executions can be shared per event (see
 * src/http/ws-subscribe.ts).
 */
export function dispatchOrderStatus(message: OrderStatusMessage): void {
  Object.freeze(message);
  push(`brand:${message.brandId}`, message);
  // A new order (no previous status) is news to its brand only: whoever follows one order
  // subscribed after it existed, and would only hear a late echo of its creation.
  if (message.from !== null) push(`order:${message.orderId}`, message);
}

function push(key: string, message: OrderStatusMessage): void {
  const set = streams.get(key);
  if (set) for (const stream of set) stream.push(message);
}

/** Subscriptions currently open on this instance (for /readyz and the leak tests). */
export const activeSubscriptions = () => active;
/**
 * Subscriptions opened on this instance since it started (never decreases): a client that waits for
 * it to grow knows its subscription is registered and hears events from then on.
 */
export const openedSubscriptions = () => opened;

/**
 * Counts a subscription of another kind (availabilityChanged) in the same numbers as the order
 * streams: /readyz, /metrics and the tests' wait for a registered subscription read them. Returns
 * the function to call once when it ends.
 */
export function trackSubscription(): () => void {
  active++;
  opened++;
  let ended = false;
  return () => {
    if (!ended) active--;
    ended = true;
  };
}

/** What a stream follows: every order of a brand, or one order. */
export type OrderStatusFilter = { brandId: string } | { orderId: string };

/**
 * The local stream of status changes of a brand or of one order, listening from the moment it is
 * created and counted while open. An EventStream: a client going away ends it at once, even
 * while it waits for the next event.
 */
export function orderStatusStream(filter: OrderStatusFilter): AsyncIterableIterator<OrderStatusMessage> {
  const key = "brandId" in filter ? `brand:${filter.brandId}` : `order:${filter.orderId}`;
  let set = streams.get(key);
  if (!set) streams.set(key, (set = new Set()));
  const stream: EventStream<OrderStatusMessage> = new EventStream(() => {
    active--;
    set.delete(stream);
    if (set.size === 0 && streams.get(key) === set) streams.delete(key);
  });
  set.add(stream);
  active++;
  opened++;
  return stream;
}
