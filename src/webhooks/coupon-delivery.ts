import { LockMode, ref } from "@mikro-orm/core";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Task as WorkerTask } from "graphile-worker";
import type { Config } from "../config/env";
import { Brand, CouponDelivery, DeliveryAttempt, DeliveryStatus } from "../entities";
import { retryDelayMs } from "../email/send-email";
import { Task, enqueue } from "../jobs/queue";
import { logger } from "../logger";
import { signPayload } from "../services/payment/signature";
import { BlockedAddressError, postWebhook } from "./outbound";

/** Per try: a shop that does not answer in 10 s counts as down. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Deliveries are retried for at least this long before they are marked FAILED. */
export const DELIVERY_RETRY_WINDOW_MS = 25 * 60 * 60_000; // 25 hours

/**
 * The `deliver_coupon` job: POSTs the frozen body to the brand's current couponWebhookUrl with
 * `Orderline-Signature: t=<unix>,v1=<hex HMAC-SHA256(webhookSecret, "<t>.<body>")>`. Every try is
 * recorded; a 2xx delivers; anything else (or a timeout) is retried with backoff for 25 hours.
 * The row lock (SKIP LOCKED) keeps two jobs for one delivery from both sending.
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
      const url = brand.couponWebhookUrl ?? delivery.url; // the shop may have moved since the coupon was issued
      delivery.url = url;
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
      } catch (e) {
        const err = e as Error;
        attempt.error =
          err.name === "TimeoutError"
            ? `no answer in ${DELIVERY_TIMEOUT_MS / 1000} s`
            : err instanceof BlockedAddressError
              ? err.message
              : `request failed: ${(err as { code?: string }).code ?? err.message}`;
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
      const delay = retryDelayMs(delivery.attempts, config.jobRetryBaseMs);
      await enqueue(tx, Task.DELIVER_COUPON, { deliveryId }, { jobKey: `delivery:${deliveryId}`, runAt: new Date(Date.now() + delay) });
      log.warn({ attempts: delivery.attempts, error: attempt.error, retryInMs: delay }, "coupon delivery failed; will retry");
    });
  };
}
