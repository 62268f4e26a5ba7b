import { LockMode, ref } from "@mikro-orm/core";
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type { Task as WorkerTask } from "graphile-worker";
import type { Config } from "../config/env";
import { Brand, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookKind } from "../entities";
import { Task, enqueue } from "../jobs/queue";
import { retryDelayMs } from "../jobs/retry";
import { logger } from "../logger";
import { signPayload } from "../services/payment/signature";
import { publicReason } from "./delivery-errors";
import { postWebhook } from "./outbound";

/** Per try: a brand's system that does not answer in 10 s counts as down. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Deliveries are retried for at least this long before they are marked FAILED. */
export const DELIVERY_RETRY_WINDOW_MS = 25 * 60 * 60_000; // 25 hours

/** The brand's URL each kind goes to (and its column, for the re-read after a failed try). */
const URL_OF: Record<WebhookKind, { get: (b: Brand) => string | null; column: string }> = {
  [WebhookKind.COUPON]: { get: (b) => b.couponWebhookUrl, column: "coupon_webhook_url" },
  [WebhookKind.ORDER]: { get: (b) => b.orderWebhookUrl, column: "order_webhook_url" },
};

/**
 * Records a delivery and enqueues its first try, in the caller's transaction: a rolled-back change
 * leaves neither. The body is frozen now; it is signed at each try with the brand's current secret.
 */
export async function queueDelivery(
  tx: EntityManager,
  brand: Brand,
  kind: WebhookKind,
  body: { id: string; type: string },
  about: Pick<WebhookDelivery, "fan" | "order">,
): Promise<WebhookDelivery> {
  const delivery = new WebhookDelivery(ref(brand), kind, URL_OF[kind].get(brand)!, JSON.stringify(body));
  delivery.id = body.id;
  delivery.event = body.type;
  delivery.fan = about.fan;
  delivery.order = about.order;
  tx.persist(delivery);
  await enqueue(tx, Task.DELIVER_WEBHOOK, { deliveryId: delivery.id }, { jobKey: `delivery:${delivery.id}` });
  return delivery;
}

/**
 * The `deliver_webhook` job (and `deliver_coupon`, its name for jobs queued before order webhooks):
 * POSTs the frozen body to the brand's current URL for the delivery's kind with
 * `Orderline-Signature: t=<unix>,v1=<hex HMAC-SHA256(webhookSecret, "<t>.<body>")>`. Every try is
 * recorded; a 2xx delivers; anything else (or a timeout) is retried with backoff for 25 hours.
 * The row lock (SKIP LOCKED) keeps two jobs for one delivery from both sending.
 *
 * Always the brand's current URL, never the one the delivery was queued for: the body holds
 * personal data (fans', buyers'), and a brand that moved or removed its system does not want them
 * sent to the old address. No URL any more: the delivery is CANCELLED (updateBrand cancels the
 * others at once, see cancelPendingDeliveries). A failed try re-reads the URL before scheduling
 * the next, so a try already under way when the URL was removed is the last one.
 */
export function deliverWebhookTask(orm: MikroORM, config: Config): WorkerTask {
  return async (payload) => {
    const deliveryId = (payload as { deliveryId?: string })?.deliveryId;
    if (typeof deliveryId !== "string") return;
    const log = logger().child({ job: Task.DELIVER_WEBHOOK, deliveryId });
    await orm.em.fork().transactional(async (tx) => {
      const delivery = await tx.findOne(WebhookDelivery, deliveryId, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
      if (!delivery || delivery.status !== DeliveryStatus.PENDING) return;
      const brand = await tx.findOneOrFail(Brand, delivery.brand.id);
      const target = URL_OF[delivery.kind];
      const url = target.get(brand);
      const what = `${delivery.kind.toLowerCase()} delivery`;
      if (!url) {
        delivery.status = DeliveryStatus.CANCELLED;
        log.info({ attempts: delivery.attempts, kind: delivery.kind }, `${what} cancelled: the brand has no webhook URL for it any more`);
        return;
      }
      delivery.url = url; // the brand's system may have moved since the delivery was queued
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
        log.warn({ err, reason: attempt.error, url: redactedUrl(url) }, `${what} try failed`);
      }
      attempt.durationMs = Math.round(performance.now() - started);
      tx.persist(attempt);
      if (!attempt.error) {
        delivery.status = DeliveryStatus.DELIVERED;
        delivery.deliveredAt = new Date();
        delivery.lastError = null;
        log.info({ attempts: delivery.attempts, status: attempt.statusCode }, `${what} delivered`);
        return;
      }
      delivery.lastError = attempt.error.slice(0, 1000);
      if (Date.now() - delivery.createdAt.getTime() >= DELIVERY_RETRY_WINDOW_MS) {
        delivery.status = DeliveryStatus.FAILED;
        log.error({ attempts: delivery.attempts, error: attempt.error }, `${what} failed after 25 hours of retries`);
        return;
      }
      // The URL may have been removed while this try was under way: then this was the last one.
      const [current] = await tx.execute<{ url: string | null }[]>(`select ${target.column} as url from brand where id = ?`, [brand.id]);
      if (!current?.url) {
        delivery.status = DeliveryStatus.CANCELLED;
        log.info({ attempts: delivery.attempts }, `${what} cancelled: the brand removed its webhook URL`);
        return;
      }
      const delay = retryDelayMs(delivery.attempts, config.jobRetryBaseMs);
      await enqueue(tx, Task.DELIVER_WEBHOOK, { deliveryId }, { jobKey: `delivery:${deliveryId}`, runAt: new Date(Date.now() + delay) });
      log.warn({ attempts: delivery.attempts, error: attempt.error, retryInMs: delay }, `${what} failed; will retry`);
    });
  };
}

/**
 * In updateBrand's transaction, when a kind's URL is removed: every PENDING delivery of that kind
 * is CANCELLED at once. A delivery whose try is under way right now (its row locked by the job) is
 * skipped here, not waited for (a try may take 10 s, longer than statement_timeout); its job
 * re-reads the URL after the try and cancels it then. Returns how many were cancelled here.
 */
export async function cancelPendingDeliveries(tx: EntityManager, brandId: string, kind: WebhookKind): Promise<number> {
  const rows: unknown[] = await tx.execute(
    `update webhook_delivery set status = 'CANCELLED' where id in
       (select id from webhook_delivery where brand_id = ? and kind = ? and status = 'PENDING' for update skip locked)
     returning id`,
    [brandId, kind],
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
