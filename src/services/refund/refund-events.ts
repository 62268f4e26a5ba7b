import { LockMode, ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { issueCreditNote } from "../invoice/invoices";
import { queueOrderWebhook } from "../order/webhooks";
import { EmailKind, Order, OrderStatus, PaymentAttempt, PaymentAttemptStatus, Refund, RefundSource, RefundStatus, RefundWebhookEvent } from "../../entities";
import { queueEmail } from "../../email/queue";
import { logger } from "../../logger";
import { transition } from "../order/status";
import { isUuid } from "../pagination";
import { countedRefunds, MAX_REFUNDS_PER_ORDER, refundable } from "./refunds";
import { oncePerEvent, UnknownAttempt, type WebhookOutcome } from "../payment/provider-events";

/** The `refund.updated` body of `POST /webhooks/payments`, already verified and shape-checked. */
export interface RefundEvent {
  id: string;
  type: "refund.updated";
  data: {
    refundId: string | null;
    refundExternalId: string;
    attemptExternalId: string;
    status: RefundStatus.SUCCEEDED | RefundStatus.FAILED;
    amount: number;
    currency: string;
  };
}

/**
 * Applies one refund report exactly once per event id, in one transaction (the event row is
 * inserted first, so concurrent deliveries of one event wait on it and then see a duplicate), under
 * the order's row lock, which every change of a refund's status takes.
 */
export function applyRefundEvent(em: EntityManager, event: RefundEvent): Promise<WebhookOutcome> {
  const { refundId, refundExternalId, status } = event.data;
  return oncePerEvent(
    em,
    (tx) =>
      tx.execute(`insert into refund_webhook_event (id, outcome, received_at) values (?, 'processing', now()) on conflict (id) do nothing returning id`, [
        event.id,
      ]),
    (tx) => applyToRefund(tx, event),
    (tx, outcome) => tx.nativeUpdate(RefundWebhookEvent, { id: event.id }, { outcome: outcome.slice(0, 500) }),
    { message: "refund event", fields: { eventId: event.id, refund: refundId, refundExternalId, status } },
  );
}

async function applyToRefund(tx: EntityManager, event: RefundEvent): Promise<string> {
  const d = event.data;
  const attempt = await tx.findOne(PaymentAttempt, { externalId: d.attemptExternalId });
  if (!attempt) throw new UnknownAttempt();
  const order = await tx.findOneOrFail(Order, attempt.order.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
  // Read after the lock: what another report or the refund job decided is committed by now.
  const refund =
    (d.refundId && isUuid(d.refundId) ? await tx.findOne(Refund, d.refundId) : null) ?? (await tx.findOne(Refund, { externalId: d.refundExternalId }));
  if (!refund) return recordProviderRefund(tx, order, attempt, event);
  if (refund.paymentAttempt.id !== attempt.id) return refused(event, "the refund belongs to another payment");
  if (d.amount !== refund.amount || d.currency !== refund.currency) {
    return refused(event, `amount or currency differs from the refund asked for (${refund.amount} ${refund.currency})`);
  }
  refund.externalId ??= d.refundExternalId;
  if (refund.status === d.status) return `ignored: refund already ${refund.status}`;
  if (refund.status === RefundStatus.SUCCEEDED) return refused(event, "the refund had already SUCCEEDED");
  if (d.status === RefundStatus.FAILED) {
    refund.status = RefundStatus.FAILED; // its amount is refundable again
    refund.lastError = "the provider reported the refund FAILED";
    if (refund.source === RefundSource.AUTOMATIC)
      logger().error({ refund: refund.id, order: order.id }, "an AUTOMATIC refund FAILED: the buyer was charged without an order");
    return "applied: refund FAILED";
  }
  // PENDING, or FAILED earlier (say, after our retries ran out) and then paid after all: counted
  // again only when it still fits in what remains.
  if (refund.status === RefundStatus.FAILED && d.amount > (await refundable(tx, attempt))) {
    return refused(event, "a FAILED refund reported SUCCEEDED, but its amount no longer fits in what remains");
  }
  refund.status = RefundStatus.SUCCEEDED;
  await onRefundSucceeded(tx, order, refund);
  return "applied: refund SUCCEEDED";
}

/**
 * A refund the provider made on its own (its dashboard): recorded with source PROVIDER when it
 * SUCCEEDED and fits in what remains of the payment. One that would make the refunds exceed what
 * was paid is not recorded: refused and logged for an operator (answered 200, so it is not resent).
 */
async function recordProviderRefund(tx: EntityManager, order: Order, attempt: PaymentAttempt, event: RefundEvent): Promise<string> {
  const d = event.data;
  if (d.status !== RefundStatus.SUCCEEDED) return "ignored: a FAILED refund we never asked for";
  if (attempt.status !== PaymentAttemptStatus.PAID) return refused(event, "the payment was never captured");
  if (d.currency !== attempt.currency) return refused(event, `currency ${d.currency} differs from the payment's ${attempt.currency}`);
  const remaining = await refundable(tx, attempt);
  if (d.amount < 1 || d.amount > remaining) return refused(event, `${d.amount} exceeds the ${remaining} that remains refundable`);
  if (!attempt.flagged && (await countedRefunds(tx, order)) >= MAX_REFUNDS_PER_ORDER)
    return refused(event, `the order already has ${MAX_REFUNDS_PER_ORDER} refunds`);
  const source = RefundSource.PROVIDER;
  const refund = new Refund({ order: ref(order), attempt: ref(attempt), amount: d.amount, currency: d.currency, source });
  refund.status = RefundStatus.SUCCEEDED;
  refund.externalId = d.refundExternalId;
  tx.persist(refund);
  await onRefundSucceeded(tx, order, refund);
  return "applied: refund made at the provider recorded (PROVIDER) SUCCEEDED";
}

/**
 * What a SUCCEEDED refund does, in the webhook's transaction under the order's lock. A refund of the
 * payment that paid the order raises refundedTotal (a check constraint keeps it ≤ total); reaching
 * the total makes the order REFUNDED through the status machine (event, subscriptions, board,
 * seats released). The buyer gets a refund email (an AUTOMATIC refund's buyer was told already).
 */
export async function onRefundSucceeded(tx: EntityManager, order: Order, refund: Refund): Promise<void> {
  const attempt = await tx.findOneOrFail(PaymentAttempt, refund.paymentAttempt.id); // already loaded: no query
  if (!attempt.flagged && attempt.status === PaymentAttemptStatus.PAID && refund.source !== RefundSource.AUTOMATIC) {
    order.refundedTotal += refund.amount;
    const refundable = order.status === OrderStatus.PAID || order.status === OrderStatus.FULFILLED;
    if (order.refundedTotal >= order.total && refundable) await transition(tx, order, OrderStatus.REFUNDED, "payment-provider");
  }
  if (refund.source === RefundSource.AUTOMATIC) return;
  // After the seat release above, so that at commit the quota rows lock before the invoice counter.
  await issueCreditNote(tx, order, { id: refund.id, amount: refund.amount, at: new Date() });
  await queueEmail(tx, { order }, EmailKind.REFUND, order.buyerEmail, { refundId: refund.id }); // with the credit note's PDF
  // order.refunded was queued by transition() when the order became REFUNDED.
  const shown = { id: refund.id, amount: refund.amount, currency: refund.currency, source: refund.source, reason: refund.reason };
  await queueOrderWebhook(tx, order, "refund.succeeded", { refund: shown });
}

function refused(event: RefundEvent, why: string): string {
  logger().error({ eventId: event.id, data: event.data, why }, "refund report not applied; check it at the provider");
  return `refused: ${why}`;
}
