import { randomUUID } from "node:crypto";
import { ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { EmailKind, OrderStatus, PaymentAttempt, PaymentAttemptStatus, Refund, RefundSource, type Order } from "../../entities";
import { queueEmail } from "../../email/queue";
import { badInput, failedPrecondition, InputCheck } from "../../errors";
import { Task, enqueue } from "../../jobs/queue";
import { logger } from "../../logger";
import { Permission } from "../access/permissions";
import { requireAccess } from "../access/require";
import type { ServiceContext } from "../context";
import { requireOrder } from "../order/access";
import { idempotent, type Claim } from "../idempotency";
import { isCleanText } from "../validation";

/**
 * Refunds (issue #11). A refund pays back part or all of one captured payment attempt. It counts
 * against what remains refundable from the moment it is asked for (PENDING), so concurrent asks
 * under the order's row lock can never promise more than was paid; FAILED gives the amount back.
 * Every change of a refund's status happens under its order's row lock.
 */

/**
 * refundOrder and provider refunds: at most this many per order (FAILED_PRECONDITION beyond).
 * Automatic refunds come on top: one per payment attempt, at most MAX_ATTEMPTS_PER_ORDER.
 */
export const MAX_REFUNDS_PER_ORDER = 50;
export const MAX_REASON_LENGTH = 500;
/** graphile-worker's own retries (a crash mid-job); our retry policy lives in the refund job. */
const JOB_MAX_ATTEMPTS = 25;

export interface RefundOrderArgs {
  orderId: string;
  amount?: number | null;
  reason?: string | null;
  idempotencyKey?: string | null;
}

/**
 * ORGANIZER+ or the brand's key, on a PAID or FULFILLED order: records a PENDING refund of the
 * payment that paid it (default: all that remains) and, in the same transaction, the job that asks
 * the provider to pay it back.
 */
export async function refundOrder(ctx: ServiceContext, input: RefundOrderArgs): Promise<Refund> {
  const check = new InputCheck();
  const reason = input.reason?.trim() || null;
  if (reason !== null) {
    check.check(
      reason.length <= MAX_REASON_LENGTH && isCleanText(reason),
      "input.reason",
      `must be at most ${MAX_REASON_LENGTH} characters, without control characters`,
    );
  }
  if (input.amount != null) check.check(Number.isInteger(input.amount) && input.amount > 0, "input.amount", "must be a positive whole number (minor units)");
  check.throwIfAny();
  const { idempotencyKey, ...args } = input;
  const once = { operation: "refundOrder", key: idempotencyKey, field: "input.idempotencyKey", args };
  const refundId = randomUUID(); // made before the transaction so that the key can be claimed for it first
  return idempotent(
    ctx,
    once,
    (id) => getRefund(ctx, id),
    (claim) => ctx.em.transactional((tx) => recordRefund(ctx, tx, claim, refundId, args, reason)),
  );
}

async function recordRefund(
  ctx: ServiceContext,
  tx: EntityManager,
  claim: Claim,
  refundId: string,
  input: Omit<RefundOrderArgs, "idempotencyKey">,
  reason: string | null,
): Promise<Refund> {
  await claim(tx, refundId);
  const order = await requireOrder(tx, ctx.viewer, Permission.ORDER_REFUND, input.orderId, true);
  if (order.status !== OrderStatus.PAID && order.status !== OrderStatus.FULFILLED) {
    throw failedPrecondition(`Only a PAID or FULFILLED order can be refunded; this one is ${order.status}`);
  }
  const attempt = await tx.findOne(PaymentAttempt, { order: order.id, status: PaymentAttemptStatus.PAID, flagged: false });
  if (!attempt) throw failedPrecondition("This order has no captured payment to refund");
  if ((await countedRefunds(tx, order)) >= MAX_REFUNDS_PER_ORDER) {
    throw failedPrecondition(`An order can have at most ${MAX_REFUNDS_PER_ORDER} refunds`);
  }
  const remaining = await refundable(tx, attempt);
  if (remaining <= 0) throw badInput("input.amount", "nothing remains to be refunded on this order");
  const amount = input.amount ?? remaining;
  if (amount > remaining) throw badInput("input.amount", `at most ${remaining} (minor units) remains to be refunded`);
  const refund = new Refund({ order: ref(order), attempt: ref(attempt), amount, currency: attempt.currency, source: RefundSource.BRAND, reason });
  refund.id = refundId;
  await askProvider(tx, refund);
  return refund;
}

/** What of an attempt can still be refunded: its amount less its PENDING and SUCCEEDED refunds. */
export async function refundable(tx: EntityManager, attempt: PaymentAttempt): Promise<number> {
  const [row]: { promised: number }[] = await tx.execute(
    "select coalesce(sum(amount), 0)::int as promised from refund where payment_attempt_id = ? and status <> 'FAILED'",
    [attempt.id],
  );
  return attempt.amount - (row?.promised ?? 0);
}

/** Refunds that take one of the order's MAX_REFUNDS_PER_ORDER places (BRAND and PROVIDER). */
export function countedRefunds(tx: EntityManager, order: Order): Promise<number> {
  return tx.count(Refund, { order: order.id, source: { $ne: RefundSource.AUTOMATIC } });
}

/** Persists the refund and queues the provider call, both in the caller's transaction. */
async function askProvider(tx: EntityManager, refund: Refund): Promise<void> {
  tx.persist(refund);
  await enqueue(tx, Task.REFUND_PAYMENT, { refundId: refund.id }, { jobKey: `refund:${refund.id}`, maxAttempts: JOB_MAX_ATTEMPTS });
}

/**
 * A payment that cannot be kept (a late payment whose seats are gone, or a second payment of an
 * order already paid; the attempt is flagged): paid back in full at once (source AUTOMATIC) and the
 * buyer told, in the payment webhook's transaction. The order's status does not change.
 */
export async function refundAutomatically(
  tx: EntityManager,
  order: Order,
  attempt: PaymentAttempt,
  why: string,
  charged: { amount: number; currency: string } = attempt,
): Promise<Refund> {
  const refund = new Refund({
    order: ref(order),
    attempt: ref(attempt),
    amount: charged.amount,
    currency: charged.currency,
    source: RefundSource.AUTOMATIC,
    reason: why,
  });
  await askProvider(tx, refund);
  await queueEmail(tx, { order }, EmailKind.PAYMENT_REFUNDED, order.buyerEmail, { refundId: refund.id });
  logger().warn({ order: order.id, attempt: attempt.externalId, refund: refund.id, why }, "payment refunded automatically");
  return refund;
}

/** refund(id): COORGANIZER+ of the order's brand, its key, ADMIN and the order's customer. */
export async function getRefund(ctx: ServiceContext, id: string): Promise<Refund> {
  const [refundId] = await requireAccess(ctx, Permission.REFUND_READ, [id]);
  return ctx.em.findOneOrFail(Refund, refundId);
}

/** Order.refunds: oldest first (the order is already visible to the caller). */
export function orderRefunds(ctx: ServiceContext, orderId: string): Promise<Refund[]> {
  return ctx.loaders.refundsOfOrder.load(orderId);
}
