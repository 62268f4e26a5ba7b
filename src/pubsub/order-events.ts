import type { EntityManager } from "@mikro-orm/postgresql";
import { Repeater } from "@graphql-yoga/subscription";
import type { Order, OrderStatus } from "../entities";
import { pubSub } from "./local";

/** The NOTIFY channel of order status changes (one per database, all instances LISTEN). */
export const ORDER_STATUS_CHANNEL = "orderline_order_status";
const TOPIC = "order_status";

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

/** Called by the LISTEN connection for each notification: hands it to local subscribers. */
export function dispatchOrderStatus(message: OrderStatusMessage): void {
  pubSub.publish(TOPIC, message);
}

let active = 0;
/** Subscriptions currently open on this instance (for /readyz and the leak tests). */
export const activeSubscriptions = () => active;

/**
 * The local stream of status changes that pass `keep`. Built on a Repeater so that a client going
 * away ends it at once, even while it waits for the next event (an async generator would not), and
 * counted while open.
 */
export function orderStatusStream(keep: (m: OrderStatusMessage) => boolean): AsyncIterable<OrderStatusMessage> {
  return new Repeater<OrderStatusMessage>(async (push, stop) => {
    const source = pubSub.subscribe(TOPIC)[Symbol.asyncIterator]() as AsyncIterator<OrderStatusMessage>;
    active++;
    const stopped = stop.then(() => ({ done: true as const, value: undefined }));
    try {
      for (;;) {
        const next = await Promise.race([source.next(), stopped]);
        if (next.done) break;
        if (keep(next.value)) await push(next.value);
      }
    } finally {
      active--;
      await source.return?.();
      stop();
    }
  });
}
