import { LockMode } from "@mikro-orm/core";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Task as WorkerTask } from "graphile-worker";
import { randomBytes } from "node:crypto";
import type { Config } from "../../config/env";
import { Order, PaymentAttempt, Refund, RefundSource, RefundStatus } from "../../entities";
import { Task, enqueue } from "../../jobs/queue";
import { retryDelayMs } from "../../jobs/retry";
import { logger } from "../../logger";
import { isCleanText } from "../validation";
import { applyRefundEvent } from "./refund-events";

/** Per call: a provider that does not answer in 10 s counts as down. */
export const REFUND_CALL_TIMEOUT_MS = 10_000;
/** Calls tried (retryable failures only) before the refund is marked FAILED, as for emails. */
export const MAX_REFUND_CALLS = 10;

type CallResult = { kind: "accepted"; externalId: string | null } | { kind: "retry" | "config" | "final"; error: string } | { kind: "dev" };

/**
 * The `refund_payment` job: asks the provider to pay a PENDING refund back,
 * `POST {PAYMENT_PROVIDER_URL}/refunds` with `{refundId, attemptExternalId, amount, currency}`,
 * `Authorization: Bearer {PAYMENT_PROVIDER_API_KEY}` and `Idempotency-Key: {refundId}` (so a call
 * repeated after a lost answer refunds once). The outcome comes later on the signed webhook
 * (refund.updated). Retried like email: 429, 5xx, timeouts and network errors with backoff, up to
 * MAX_REFUND_CALLS, then FAILED; 401/403 (our key) without limit, a minute apart at least; any
 * other 4xx is final: FAILED, and the amount is refundable again. The refund's row lock
 * (SKIP LOCKED) keeps two jobs for one refund from both calling.
 * Without PAYMENT_PROVIDER_URL, the development provider answers in-process: it reports SUCCEEDED
 * through the webhook's own code path (applyRefundEvent).
 */
export function refundPaymentTask(orm: MikroORM, config: Config): WorkerTask {
  return async (payload) => {
    const refundId = (payload as { refundId?: string })?.refundId;
    if (typeof refundId !== "string") return;
    const log = logger().child({ job: Task.REFUND_PAYMENT, refundId });
    let report: Parameters<typeof applyRefundEvent>[1] | null = null;
    let failedWith: string | null = null;
    await orm.em.fork().transactional(async (tx) => {
      const refund = await tx.findOne(Refund, refundId, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
      if (!refund || refund.status !== RefundStatus.PENDING || refund.source === RefundSource.PROVIDER) return;
      const attempt = await tx.findOneOrFail(PaymentAttempt, refund.paymentAttempt.id);
      refund.attempts += 1;
      const result = await callProvider(config, refund, attempt);
      if (result.kind === "dev") {
        refund.externalId ??= `re_dev_${randomBytes(12).toString("hex")}`;
        const data = { refundId, refundExternalId: refund.externalId, attemptExternalId: attempt.externalId, amount: refund.amount, currency: refund.currency };
        report = { id: `evt_dev_refund_${refundId}`, type: "refund.updated", data: { ...data, status: RefundStatus.SUCCEEDED } };
        return;
      }
      if (result.kind === "accepted") {
        refund.externalId ??= result.externalId;
        refund.lastError = null;
        log.info({ attempts: refund.attempts, externalId: refund.externalId }, "refund accepted by the provider");
        return;
      }
      refund.lastError = result.error.slice(0, 1000);
      if (result.kind === "final" || (result.kind === "retry" && refund.attempts >= MAX_REFUND_CALLS)) {
        failedWith = result.error;
        return;
      }
      const base = result.kind === "config" ? Math.max(config.jobRetryBaseMs, 60_000) : config.jobRetryBaseMs;
      const delay = retryDelayMs(refund.attempts, base);
      await enqueue(tx, Task.REFUND_PAYMENT, { refundId }, { jobKey: `refund:${refundId}`, runAt: new Date(Date.now() + delay) });
      const entry = { attempts: refund.attempts, retryInMs: delay, error: result.error };
      if (result.kind === "config") log.error(entry, "REFUNDS ARE NOT BEING SENT: check PAYMENT_PROVIDER_URL / PAYMENT_PROVIDER_API_KEY; will retry");
      else log.warn(entry, "refund call failed; will retry");
    });
    // After the refund's row lock is released: both take the order's lock first, as the webhook does.
    if (report) await applyRefundEvent(orm.em.fork(), report);
    if (failedWith) await markFailed(orm, refundId, failedWith);
  };
}

async function callProvider(config: Config, refund: Refund, attempt: PaymentAttempt): Promise<CallResult> {
  const { url, apiKey } = config.paymentProvider;
  if (!url) return config.devPaymentProvider ? { kind: "dev" } : { kind: "config", error: "PAYMENT_PROVIDER_URL is not set" };
  const body = JSON.stringify({ refundId: refund.id, attemptExternalId: attempt.externalId, amount: refund.amount, currency: refund.currency });
  const headers: Record<string, string> = { "content-type": "application/json", "idempotency-key": refund.id, "user-agent": "Orderline-Refunds/1" };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  let res: Response;
  try {
    res = await fetch(`${url}/refunds`, { method: "POST", headers, body, signal: AbortSignal.timeout(REFUND_CALL_TIMEOUT_MS) });
  } catch (err) {
    logger().warn({ err, refundId: refund.id }, "could not reach the payment provider");
    return { kind: "retry", error: "could not reach the payment provider" };
  }
  const text = await res.text().catch(() => "");
  if (res.ok) return { kind: "accepted", externalId: externalIdIn(text) };
  const error = `HTTP ${res.status}: ${text.slice(0, 500)}`;
  if (res.status === 429 || res.status >= 500) return { kind: "retry", error };
  if (res.status === 401 || res.status === 403) return { kind: "config", error };
  return { kind: "final", error };
}

/** The provider's refund id in its answer (`{"id": "re_..."}`), when it is a sane one. */
function externalIdIn(text: string): string | null {
  try {
    const id = (JSON.parse(text) as { id?: unknown })?.id;
    return typeof id === "string" && id.length >= 1 && id.length <= 100 && isCleanText(id) ? id : null;
  } catch {
    return null;
  }
}

/** The provider refused for good (or our retries ran out): FAILED under the order's lock, so its amount is refundable again. */
async function markFailed(orm: MikroORM, refundId: string, error: string): Promise<void> {
  await orm.em.fork().transactional(async (tx) => {
    const [row]: { order_id: string }[] = await tx.execute("select order_id from refund where id = ?", [refundId]);
    if (!row) return;
    await tx.findOneOrFail(Order, row.order_id, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const refund = await tx.findOneOrFail(Refund, refundId);
    if (refund.status !== RefundStatus.PENDING) return;
    refund.status = RefundStatus.FAILED;
    const log = logger().child({ job: Task.REFUND_PAYMENT, refundId });
    if (refund.source === RefundSource.AUTOMATIC) log.error({ error }, "an AUTOMATIC refund FAILED at the provider: the buyer was charged without an order");
    else log.warn({ error, attempts: refund.attempts }, "refund FAILED at the provider; its amount is refundable again");
  });
}
