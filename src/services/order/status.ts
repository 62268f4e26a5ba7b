import { ref, type EntityManager } from "@mikro-orm/core";
import type { EntityManager as SqlEntityManager } from "@mikro-orm/postgresql";
import { Order, OrderEvent, OrderStatus } from "../../entities";
import { notifyOrderStatus } from "../../pubsub/order-events";
import { releaseCoupon } from "../loyalty/coupons";
import { seatsOnTransition } from "../capacity/seats";
import { EVENT_OF_STATUS, queueOrderWebhook } from "./webhooks";
import { issueTickets } from "../checkin/issue";

/**
 * The order lifecycle: PENDING → PAID → FULFILLED; PENDING → CANCELLED | EXPIRED; and
 * CANCELLED | EXPIRED → PAID for a late payment whose seats could be taken again (payments.ts);
 * PAID | FULFILLED → REFUNDED when its refunds reach the total (src/services/refund).
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  [OrderStatus.PENDING]: [OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED],
  [OrderStatus.PAID]: [OrderStatus.FULFILLED, OrderStatus.REFUNDED],
  [OrderStatus.FULFILLED]: [OrderStatus.REFUNDED],
  [OrderStatus.CANCELLED]: [OrderStatus.PAID],
  [OrderStatus.EXPIRED]: [OrderStatus.PAID],
  [OrderStatus.REFUNDED]: [],
};

/** The longest history an order can have: its creation and the longest path of transitions (EXPIRED, a late PAID, FULFILLED, REFUNDED). */
export const MAX_ORDER_EVENTS = 1 + longestPath(OrderStatus.PENDING);

function longestPath(from: OrderStatus): number {
  return Math.max(0, ...TRANSITIONS[from].map((to) => 1 + longestPath(to)));
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** An order still PENDING whose time has run out can no longer be paid (the sweeper marks it EXPIRED). */
export function isPastDue(order: Pick<Order, "status" | "expiresAt">, now = new Date()): boolean {
  return order.status === OrderStatus.PENDING && order.expiresAt.getTime() <= now.getTime();
}

/**
 * Moves an order to `to` and records the order event, in the caller's transaction (the caller
 * holds the row lock). An unpaid order that ends (CANCELLED, EXPIRED) gives back its coupon use
 * and then its seats; a paid one turns its held seats into sold (capacity/seats.ts) and gets its
 * tickets (checkin/issue.ts).
 * Subscribers on every instance hear of it once the transaction commits (pg_notify), and the
 * brand's orderWebhookUrl gets the event (order.paid, ...) queued in this same transaction.
 * Throws on a transition the table does not allow: callers check first and answer with the right
 * error; reaching this throw is a bug.
 */
export async function transition(em: EntityManager, order: Order, to: OrderStatus, actor: string | null, at = new Date()): Promise<OrderEvent> {
  const from = order.status;
  if (!canTransition(from, to)) throw new Error(`illegal order transition ${from} -> ${to}`);
  order.status = to;
  order.seq += 1;
  if (to === OrderStatus.PAID) order.paidAt = at;
  if (to === OrderStatus.FULFILLED) order.fulfilledAt = at;
  if (to === OrderStatus.REFUNDED) order.refundedAt = at;
  const event = new OrderEvent(ref(order), from, to, at, actor);
  em.persist(event);
  await releaseCoupon(em as SqlEntityManager, order, to); // an order that ends unpaid gives its coupon use back
  await seatsOnTransition(em as SqlEntityManager, order, from, to); // after the coupon: the lock order of createOrder
  if (to === OrderStatus.PAID) issueTickets(em as SqlEntityManager, order); // every way to PAID (also a late payment) writes its tickets here
  await notifyOrderStatus(em as SqlEntityManager, order, from, to, at); // delivered on commit only
  const hook = EVENT_OF_STATUS[to];
  if (hook) await queueOrderWebhook(em as SqlEntityManager, order, hook); // sent only if this commits
  return event;
}

/**
 * The first event of every order (no previous status, seq 0), in the caller's transaction; brand
 * subscribers hear of the new order once it commits, as of any status change.
 */
export async function recordCreation(em: EntityManager, order: Order, actor: string | null): Promise<OrderEvent> {
  const event = new OrderEvent(ref(order), null, OrderStatus.PENDING, order.createdAt, actor);
  em.persist(event);
  await notifyOrderStatus(em as SqlEntityManager, order, null, OrderStatus.PENDING, order.createdAt); // delivered on commit only
  return event;
}
