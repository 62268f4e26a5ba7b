import type { MikroORM } from "@mikro-orm/postgresql";
import { BODY_LIMITS } from "./body-limit";
import express, { Router } from "express";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Config } from "../config/env";
import { PaymentAttempt, Refund } from "../entities";
import { logger } from "../logger";
import { signPayload } from "../services/payment/signature";
import { CURRENCIES } from "../services/validation";
import { escapeHtml, formatMoney, page } from "./html";

/**
 * The development payment provider's checkout page (never mounted in production):
 * `GET /dev/checkout/:externalId` shows the attempt with Pay and Fail buttons; each posts a
 * correctly signed `payment_attempt.updated` webhook to this server's own /webhooks/payments,
 * so the whole payment flow can be clicked through locally.
 */
export function devCheckoutRouter(orm: MikroORM, config: Config): Router {
  const router = Router();

  router.get("/dev/checkout/:externalId", async (req, res) => {
    const attempt = await findAttempt(orm, req.params.externalId);
    if (!attempt) {
      res.status(404).type("html").send(page("Checkout not found", "<h1>Checkout not found</h1>"));
      return;
    }
    const order = attempt.order.getEntity();
    const action = (what: string) => `/dev/checkout/${encodeURIComponent(attempt.externalId)}/${what}`;
    const refunds = await orm.em.fork().find(Refund, { paymentAttempt: attempt.id }, { orderBy: { createdAt: "asc", id: "asc" } });
    const done = attempt.status === "PAID" || attempt.status === "FAILED" || attempt.status === "CANCELLED";
    res.type("html").send(
      page(
        `Pay ${order.number}`,
        `<h1>Development checkout</h1>
<p class="note">A stand-in for the payment provider. Nothing is charged.</p>
<table>
<tr><th scope="row">Order</th><td>${escapeHtml(order.number)}</td></tr>
<tr><th scope="row">Amount</th><td>${escapeHtml(formatMoney(attempt.amount, attempt.currency, CURRENCIES[attempt.currency] ?? 2))}</td></tr>
<tr><th scope="row">Payment</th><td id="attempt-status">${escapeHtml(attempt.status)}${attempt.flagged ? " (flagged)" : ""}</td></tr>
<tr><th scope="row">Order status</th><td id="order-status">${escapeHtml(order.status)}</td></tr>
</table>
${refundList(refunds)}
${
  done
    ? ""
    : `<form method="post" action="${action("pay")}" style="display:inline"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="${action("fail")}" style="display:inline"><button class="fail" type="submit">Fail</button></form>`
}`,
      ),
    );
  });

  router.post("/dev/checkout/:externalId/:outcome", express.urlencoded({ extended: false, limit: BODY_LIMITS.devCheckout }), async (req, res) => {
    const outcome = req.params.outcome === "pay" ? "PAID" : req.params.outcome === "fail" ? "FAILED" : null;
    const attempt = await findAttempt(orm, req.params.externalId);
    if (!attempt || !outcome) {
      res.status(404).type("html").send(page("Checkout not found", "<h1>Checkout not found</h1>"));
      return;
    }
    const body = JSON.stringify({
      id: `evt_dev_${randomUUID()}`,
      type: "payment_attempt.updated",
      data: { attemptExternalId: attempt.externalId, status: outcome, totalAmount: attempt.amount, currency: attempt.currency },
    });
    const { port } = req.socket.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/webhooks/payments`, {
      method: "POST",
      headers: { "content-type": "application/json", "payment-signature": signPayload(config.paymentWebhookSecret, body) },
      body,
    });
    if (!answer.ok) logger().warn({ status: answer.status }, "development checkout: webhook refused");
    res.redirect(303, `/dev/checkout/${encodeURIComponent(attempt.externalId)}`);
  });

  return router;
}

/** The refunds of the attempt, which the development provider pays back at once (src/services/refund/refund-job.ts). */
function refundList(refunds: Refund[]): string {
  if (!refunds.length) return "";
  const rows = refunds.map(
    (r) =>
      `<tr><td>${escapeHtml(formatMoney(r.amount, r.currency, CURRENCIES[r.currency] ?? 2))}</td><td>${escapeHtml(r.source)}</td><td class="refund-status">${escapeHtml(r.status)}</td><td>${escapeHtml(r.externalId ?? "")}</td></tr>`,
  );
  return `<h2>Refunds</h2>
<table id="refunds"><tr><th>Amount</th><th>Source</th><th>Status</th><th>Provider id</th></tr>
${rows.join("\n")}
</table>`;
}

async function findAttempt(orm: MikroORM, externalId: string): Promise<PaymentAttempt | null> {
  if (!/^cs_dev_[0-9a-f]{32}$/.test(externalId)) return null;
  return orm.em.fork().findOne(PaymentAttempt, { externalId }, { populate: ["order"] });
}
