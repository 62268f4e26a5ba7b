import type { MikroORM } from "@mikro-orm/postgresql";
import { BODY_LIMITS } from "./body-limit";
import express, { Router } from "express";
import type { Config } from "../config/env";
import { PaymentAttemptStatus } from "../entities";
import { logger } from "../logger";
import { applyPaymentEvent, type PaymentEvent } from "../services/payment/payments";
import { applyRefundEvent, type RefundEvent } from "../services/refund/refund-events";
import { parseRefundEvent } from "./refund-event";
import { verifySignature } from "../services/payment/signature";
import { isCleanText } from "../services/validation";
import { requestIdOf } from "./request-id";

const REPORTABLE = new Set<string>([PaymentAttemptStatus.PENDING, PaymentAttemptStatus.PAID, PaymentAttemptStatus.FAILED, PaymentAttemptStatus.CANCELLED]);

/**
 * `POST /webhooks/payments`: the provider's signed status reports. The signature is checked over
 * the raw bytes before anything is parsed; unsigned, forged, stale or future requests get 4xx and
 * write nothing. Processing is idempotent by event id (see applyPaymentEvent, and applyRefundEvent
 * for `refund.updated`).
 */
export function paymentWebhookRouter(orm: MikroORM, config: Config): Router {
  const router = Router();
  router.post("/webhooks/payments", express.raw({ type: () => true, limit: BODY_LIMITS.paymentWebhook }), async (req, res) => {
    const requestId = requestIdOf(req, res);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifySignature(config.paymentWebhookSecret, req.get("payment-signature"), raw);
    if (!check.ok) {
      const status = check.reason === "mismatch" ? 401 : 400;
      logger().warn({ requestId, reason: check.reason }, "payment webhook refused");
      res.status(status).json({ error: `signature ${check.reason}` });
      return;
    }
    const event = parseEvent(raw);
    if (typeof event === "string") {
      res.status(400).json({ error: event });
      return;
    }
    try {
      const result = event.type === "refund.updated" ? await applyRefundEvent(orm.em.fork(), event) : await applyPaymentEvent(orm.em.fork(), event);
      if ("unknownAttempt" in result) {
        logger().warn({ requestId, eventId: event.id, attempt: event.data.attemptExternalId }, "payment event for an unknown attempt; not recorded");
        res.status(404).json({ error: "unknown attempt" });
        return;
      }
      res.status(200).json({ received: true, ...result });
    } catch (err) {
      logger().error({ err, requestId, eventId: event.id }, "payment webhook failed");
      res.status(500).json({ error: "internal error", requestId });
    }
  });
  return router;
}

/** The event, or a description of what is wrong with the body. */
export function parseEvent(raw: Buffer): PaymentEvent | RefundEvent | string {
  // Untrusted JSON, checked field by field below before anything is taken from it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let body: any;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return "body is not JSON";
  }
  if (typeof body?.id !== "string" || body.id.length < 1 || body.id.length > 200 || !isCleanText(body.id)) {
    return "id must be a string of 1..200 printable characters";
  }
  if (body.type === "refund.updated") return parseRefundEvent(body.id, body.data);
  if (body.type !== "payment_attempt.updated") return 'type must be "payment_attempt.updated" or "refund.updated"';
  const d = body.data;
  if (typeof d?.attemptExternalId !== "string" || d.attemptExternalId.length > 100 || !isCleanText(d.attemptExternalId)) {
    return "data.attemptExternalId must be a string of at most 100 printable characters";
  }
  if (!REPORTABLE.has(d.status)) return "data.status must be PENDING, PAID, FAILED or CANCELLED";
  // At most PostgreSQL's int, as every amount we store (a mismatching one is refunded: see payments.ts).
  if (!Number.isInteger(d.totalAmount) || d.totalAmount < 0 || d.totalAmount > 2_147_483_647)
    return "data.totalAmount must be a non-negative integer (minor units) of at most 2147483647";
  if (typeof d.currency !== "string" || !/^[A-Z]{3}$/.test(d.currency)) return "data.currency must be an ISO 4217 code";
  return {
    id: body.id,
    type: body.type,
    data: { attemptExternalId: d.attemptExternalId, status: d.status, totalAmount: d.totalAmount, currency: d.currency },
  };
}
