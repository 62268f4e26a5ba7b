import { LockMode, ref } from "@mikro-orm/core";
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type { Task as WorkerTask } from "graphile-worker";
import type { Config } from "../config/env";
import { Brand, CouponDelivery, DeliveryAttempt, DeliveryStatus } from "../entities";
import { Task, enqueue } from "../jobs/queue";
import { retryDelayMs } from "../jobs/retry";
import { logger } from "../logger";
import { signPayload } from "../services/payment/signature";
import { publicReason } from "./delivery-errors";
import { postWebhook } from "./outbound";

/** Per try: a shop that does not answer in 10 s counts as down. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Deliveries are retried for at least this long before they are marked FAILED. */
export const DELIVERY_RETRY_WINDOW_MS = 25 * 60 * 60_000; // 25 hours

/**
 * The `deliver_coupon` job: POSTs the frozen body to the brand's current couponWebhookUrl with
 * `Orderline-Signature: t=<unix>,v1=<hex HMAC-SHA256(webhookSecret, "<t>.<body>")>`. Every try is
 * recorded; a 2xx delivers; anything else (or a timeout) is retried with backoff for 25 hours.
 * The row lock (SKIP LOCKED) keeps two jobs for one delivery from both sending.
 *
 * Always the brand's current URL, never the one the delivery was queued for: the body holds fans'
 * names, emails and codes, and a brand that moved or removed its shop does not want them sent to
 * the old address. No URL any more: the delivery is CANCELLED (updateBrand cancels the others at
 * once, see cancelPendingDeliveries). A failed try re-reads the URL before scheduling the next, so
 * a try already under way when the URL was removed is the last one.
 */
export function deliverCouponTask(orm: MikroORM, config: Config): WorkerTask {
  return async (payload) => {
    const deliveryId = (payload as { deliveryId?: string })?.deliveryId;
    if (typeof deliveryId !== "string") return;
    const log = logger().child({ job: Task.DELIVER_COUPON, deliveryId });
    await orm.em.fork().transactional(async (tx) => {
      const delivery = await tx.findOne(CouponDelivery, deliveryId, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
      if (!delivery || delivery.status !== DeliveryStatus.PENDING) return;
      const brand = await tx.findOneOrFail(Brand, delivery.brand.id);
      const url = brand.couponWebhookUrl;
      if (!url) {
        delivery.status = DeliveryStatus.CANCELLED;
        log.info({ attempts: delivery.attempts }, "coupon delivery cancelled: the brand has no coupon webhook URL any more");
        return;
      }
      delivery.url = url; // the shop may have moved since the coupon was issued
      delivery.attempts += 1;
      const started = performance.now();
      const attempt = new DeliveryAttempt(ref(delivery), 0);
      try {
        const res = await postWebhook(
          url,
          {
            "content-type": "application/json",
            "user-agent": "Orderline-Webhooks/1",
            "orderline-delivery": delivery.id,
            "orderline-signature": signPayload(brand.webhookSecret, delivery.body),
          },
          delivery.body,
          { timeoutMs: DELIVERY_TIMEOUT_MS, allowPrivate: config.webhookAllowPrivate },
        );
        attempt.statusCode = res.status;
        if (res.status < 200 || res.status >= 300) attempt.error = `HTTP ${res.status}`;
      } catch (err) {
        // Brand members read a generic reason; the detail (addresses, ports, errno) only in the log.
        attempt.error = publicReason(err);
        log.warn({ err, reason: attempt.error, url: redactedUrl(url) }, "coupon delivery try failed");
      }
      attempt.durationMs = Math.round(performance.now() - started);
      tx.persist(attempt);
      if (!attempt.error) {
        delivery.status = DeliveryStatus.DELIVERED;
        delivery.deliveredAt = new Date();
        delivery.lastError = null;
        log.info({ attempts: delivery.attempts, status: attempt.statusCode }, "coupon delivered to the shop");
        return;
      }
      delivery.lastError = attempt.error.slice(0, 1000);
      if (Date.now() - delivery.createdAt.getTime() >= DELIVERY_RETRY_WINDOW_MS) {
        delivery.status = DeliveryStatus.FAILED;
        log.error({ attempts: delivery.attempts, error: attempt.error }, "coupon delivery failed after 25 hours of retries");
        return;
      }
      // The URL may have been removed while this try was under way: then this was the last one.
      const [current] = await tx.execute<{ url: string | null }[]>("select coupon_webhook_url as url from brand where id = ?", [brand.id]);
      if (!current?.url) {
        delivery.status = DeliveryStatus.CANCELLED;
        log.info({ attempts: delivery.attempts }, "coupon delivery cancelled: the brand removed its coupon webhook URL");
        return;
      }
      const delay = retryDelayMs(delivery.attempts, config.jobRetryBaseMs);
      await enqueue(tx, Task.DELIVER_COUPON, { deliveryId }, { jobKey: `delivery:${deliveryId}`, runAt: new Date(Date.now() + delay) });
      log.warn({ attempts: delivery.attempts, error: attempt.error, retryInMs: delay }, "coupon delivery failed; will retry");
    });
  };
}

/**
 * In updateBrand's transaction, when the URL is removed: every PENDING delivery of the brand is
 * CANCELLED at once. A delivery whose try is under way right now (its row locked by the job) is
 * skipped here, not waited for (a try may take 10 s, longer than statement_timeout); its job
 * re-reads the URL after the try and cancels it then. Returns how many were cancelled here.
 */
export async function cancelPendingDeliveries(tx: EntityManager, brandId: string): Promise<number> {
  const rows: unknown[] = await tx.execute(
    `update coupon_delivery set status = 'CANCELLED' where id in
       (select id from coupon_delivery where brand_id = ? and status = 'PENDING' for update skip locked)
     returning id`,
    [brandId],
  );
  return rows.length;
}

/** The URL without credentials, query or fragment, for logs (a query may carry the shop's token). */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
