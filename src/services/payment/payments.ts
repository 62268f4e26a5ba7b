import { randomUUID } from "node:crypto";
import { LockMode, ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { Order, OrderStatus, PaymentAttempt, PaymentAttemptStatus, PaymentWebhookEvent, type PaidSnapshot } from "../../entities";
import { failedPrecondition } from "../../errors";
import { logger } from "../../logger";
import type { ServiceContext } from "../context";
import { Permission } from "../access/permissions";
import { accessible } from "../access/require";
import { orderViewSubject, requireOrder } from "../order/access";
import { isPastDue, transition } from "../order/status";
import { isUuid } from "../pagination";
import { queueConfirmation } from "../confirmation/confirmation";
import { attemptById, attemptView, type AttemptView } from "../order/order.repository";
import { createCheckout } from "./provider";
import { retakeForLatePayment } from "../capacity/seats";
import { idempotent, type Claim } from "../idempotency";
import { issueInvoice } from "../invoice/invoices";
import { refundAutomatically } from "../refund/refunds";
import { oncePerEvent, UnknownAttempt, type WebhookOutcome } from "./provider-events";

/** Payment attempts per order: more are refused (FAILED_PRECONDITION); Order.paymentAttempts lists them all. */
export const MAX_ATTEMPTS_PER_ORDER = 20;

/**
 * Creates a payment attempt with the provider for a PENDING order the caller may see (its row lock
 * makes the count exact). With an idempotencyKey, the same caller gets the first attempt back for 24 h.
 */
export function attemptToPayForOrder(ctx: ServiceContext, orderId: string, idempotencyKey?: string | null): Promise<AttemptView> {
  const once = { operation: "attemptToPayForOrder", key: idempotencyKey, field: "idempotencyKey", args: { orderId } };
  return idempotent(
    ctx,
    once,
    (id) => getPaymentAttempt(ctx, id),
    (claim) => startAttempt(ctx, orderId, claim),
  );
}

async function startAttempt(ctx: ServiceContext, orderId: string, claim: Claim): Promise<AttemptView> {
  const attemptId = randomUUID(); // known before the transaction: the idempotency key is claimed for it first
  const created = await ctx.em.transactional(async (tx) => {
    await claim(tx, attemptId);
    const order = await requireOrder(tx, ctx.viewer, Permission.ORDER_PAY, orderId, true);
    if (order.status !== OrderStatus.PENDING) throw failedPrecondition(`Only a PENDING order can be paid; this one is ${order.status}`);
    if (isPastDue(order)) throw failedPrecondition("This order has expired and can no longer be paid");
    const attempts = await tx.count(PaymentAttempt, { order: order.id });
    if (attempts >= MAX_ATTEMPTS_PER_ORDER) throw failedPrecondition(`An order can have at most ${MAX_ATTEMPTS_PER_ORDER} payment attempts; place a new order`);
    const { externalId } = createCheckout(ctx.config);
    const attempt = new PaymentAttempt(ref(order), externalId, order.total, order.currency);
    attempt.id = attemptId;
    tx.persist(attempt);
    return attempt;
  });
  return attemptView(created);
}

export async function getPaymentAttempt(ctx: ServiceContext, id: string): Promise<AttemptView> {
  const attempt = isUuid(id) ? await attemptById(ctx.sql, id) : null;
  const order = attempt ? await ctx.loaders.order.load(attempt.orderId) : null;
  const found = attempt && order ? { attempt, order } : null;
  return accessible(ctx.viewer, Permission.PAYMENT_ATTEMPT_READ, found, (f) => orderViewSubject(f.order)).attempt;
}

/** How the reason of a PAID that does not match its order starts (the refund email tells it apart). */
export const AMOUNT_MISMATCH = "amount mismatch";

/** The body of `POST /webhooks/payments`, already verified and shape-checked. */
export interface PaymentEvent {
  id: string;
  type: "payment_attempt.updated";
  data: { attemptExternalId: string; status: PaymentAttemptStatus; totalAmount: number; currency: string };
}

/**
 * Applies one provider event, exactly once per event id, in one transaction:
 * the event row (primary key = event id) is inserted first, so concurrent deliveries of the same
 * event wait on it and then see a duplicate. A PAID whose amount or currency differs from the
 * attempt, or for an order that can no longer be paid, flags the attempt and never pays the order;
 * a partial unique index keeps it to one unflagged PAID attempt per order.
 */
export function applyPaymentEvent(em: EntityManager, event: PaymentEvent): Promise<WebhookOutcome> {
  return oncePerEvent(
    em,
    (tx) =>
      tx.execute(
        `insert into payment_webhook_event (id, attempt_external_id, status, outcome, received_at)
         values (?, ?, ?, 'processing', now()) on conflict (id) do nothing returning id`,
        [event.id, event.data.attemptExternalId, event.data.status],
      ),
    (tx) => applyToAttempt(tx, event),
    (tx, outcome) => tx.nativeUpdate(PaymentWebhookEvent, { id: event.id }, { outcome }),
    { message: "payment event", fields: { eventId: event.id, attempt: event.data.attemptExternalId, status: event.data.status } },
  );
}

async function applyToAttempt(tx: EntityManager, event: PaymentEvent): Promise<string> {
  const { attemptExternalId, status, totalAmount, currency } = event.data;
  const attempt = await tx.findOne(PaymentAttempt, { externalId: attemptExternalId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  // A provider can report before attemptToPayForOrder has committed: refuse without using up the
  // event id, so the provider's retry is processed once the attempt exists.
  if (!attempt) throw new UnknownAttempt();
  const order = await tx.findOneOrFail(Order, attempt.order.id, { lockMode: LockMode.PESSIMISTIC_WRITE });

  if (attempt.status === PaymentAttemptStatus.PAID) return "ignored: attempt already PAID";
  if (status !== PaymentAttemptStatus.PAID) {
    attempt.status = status;
    return `applied: attempt ${status}`;
  }

  attempt.status = PaymentAttemptStatus.PAID;
  if (totalAmount !== attempt.amount || currency !== attempt.currency || attempt.amount !== order.total || attempt.currency !== order.currency) {
    const reason = `${AMOUNT_MISMATCH}: expected ${order.total} ${order.currency}, provider reported ${totalAmount} ${currency}`;
    // What the provider took is paid back; the order stays as it is (another attempt can pay it).
    return totalAmount > 0 ? refundBack(tx, order, attempt, reason, { amount: totalAmount, currency }) : flag(attempt, reason);
  }
  const pastDue = isPastDue(order);
  if (pastDue) await transition(tx, order, OrderStatus.EXPIRED, "system");
  // A late payment is honoured when what the order gave back (seats, coupon use) can be taken again now.
  const late = order.status === OrderStatus.EXPIRED || order.status === OrderStatus.CANCELLED;
  // A customer is never charged without an order or a refund: a payment that cannot be kept is paid back.
  if (late && !(await retakeForLatePayment(tx, order)))
    return refundBack(tx, order, attempt, pastDue ? "order expired before payment" : `order is ${order.status}, not payable`);
  if (!late && order.status !== OrderStatus.PENDING) return refundBack(tx, order, attempt, `order is ${order.status}, not payable`);

  const at = new Date();
  await transition(tx, order, OrderStatus.PAID, "payment-provider", at);
  order.snapshot = snapshotOf(order, at);
  await queueConfirmation(tx, order); // committed (or rolled back) with the payment
  await issueInvoice(tx, order, at); // last: the brand's invoice counter stays locked until the commit
  return late ? "applied: order PAID (late payment honoured)" : "applied: order PAID";
}

/**
 * Flags a captured payment that cannot be kept and refunds it at once (source AUTOMATIC; the order's
 * status stays): the attempt's amount, or `charged` when the provider reported taking another.
 */
async function refundBack(
  tx: EntityManager,
  order: Order,
  attempt: PaymentAttempt,
  reason: string,
  charged?: { amount: number; currency: string },
): Promise<string> {
  const outcome = flag(attempt, reason);
  await refundAutomatically(tx, order, attempt, reason, charged);
  return `${outcome}; refunded automatically`;
}

function flag(attempt: PaymentAttempt, reason: string): string {
  attempt.flagged = true;
  attempt.flagReason = reason;
  logger().warn({ attempt: attempt.externalId, reason }, "payment attempt flagged; the order was not paid");
  return `flagged: ${reason}`;
}

/** The immutable record of what was paid for (a database trigger refuses later changes). */
export function snapshotOf(order: Order, at: Date): PaidSnapshot {
  return {
    takenAt: at.toISOString(),
    lines: order.lines.map((l) => ({ ...l })),
    subtotal: order.subtotal,
    discountTotal: order.discountTotal,
    total: order.total,
    currency: order.currency,
    couponCode: order.couponCode,
  };
}
