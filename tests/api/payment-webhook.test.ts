import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { signPayload } from "../../src/services/payment/signature";
import { GetOrderDocument, GetPaymentAttemptDocument } from "../graphql/generated";
import { apiUrl, count, db, ok } from "../helpers/api";
import { delivered, eventually } from "../helpers/mail";
import {
  brandWithProducts,
  orderInput,
  placeOrder,
  providerEvent,
  sendWebhook,
  signUp,
  startPayment,
  type Account,
  type BrandSetup,
  type WebhookEvent,
} from "../helpers/fixtures";

let brand: BrandSetup;
let customer: Account;

beforeAll(async () => {
  [brand, customer] = await Promise.all([brandWithProducts(), signUp("customer")]);
});

type Attempt = Awaited<ReturnType<typeof startPayment>>;

/** A new PENDING order of 29.00 EUR with one CREATED payment attempt. */
async function orderWithAttempt() {
  const order = await placeOrder(brand, customer.token);
  const attempt = await startPayment(order.id, customer.token);
  return { order, attempt };
}

const getOrder = async (id: string) => (await ok(GetOrderDocument, { id }, { token: customer.token })).order!;
const getAttempt = async (id: string) => (await ok(GetPaymentAttemptDocument, { id }, { token: customer.token })).paymentAttempt!;
const transitions = (o: { events: { from?: string | null; to: string }[] }) => o.events.map((e) => [e.from ?? null, e.to]);
const rowsForAttempt = (externalId: string) => count("select 1 from payment_webhook_event where attempt_external_id = $1", [externalId]);
const rowsForEvent = (id: string) => count("select 1 from payment_webhook_event where id = $1", [id]);
const paidEvents = (orderId: string) => count(`select 1 from order_event where order_id = $1 and "from" = 'PENDING' and "to" = 'PAID'`, [orderId]);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Nothing was written: no event row, the attempt still CREATED, the order PENDING with only its creation event. */
async function expectUntouched(orderId: string, attempt: Attempt, eventIds: string[] = []) {
  expect(await rowsForAttempt(attempt.externalId)).toBe(0);
  for (const id of eventIds) expect(await rowsForEvent(id)).toBe(0);
  const order = await getOrder(orderId);
  expect(order.status).toBe("PENDING");
  expect(order.paidAt).toBeNull();
  expect(transitions(order)).toEqual([[null, "PENDING"]]);
  expect(order.paymentAttempts).toEqual([expect.objectContaining({ id: attempt.id, status: "CREATED", flagged: false })]);
}

describe("POST /webhooks/payments refuses what it cannot trust, writing nothing", () => {
  const signed = (e: WebhookEvent) => JSON.stringify({ type: "payment_attempt.updated", ...e });
  const refusals: { name: string; status: number; error: string; send: (e: WebhookEvent) => Promise<{ status: number; body: any }> }[] = [
    { name: "without a Payment-Signature header", status: 400, error: "signature missing", send: (e) => sendWebhook(e, { signature: null }) },
    { name: "with a header lacking v1", status: 400, error: "signature malformed", send: (e) => sendWebhook(e, { signature: `t=${nowSeconds()}` }) },
    { name: "with a non-numeric t and a short v1", status: 400, error: "signature malformed", send: (e) => sendWebhook(e, { signature: "t=now,v1=abc123" }) },
    {
      name: "with a header that is not key=value pairs",
      status: 400,
      error: "signature malformed",
      send: (e) => sendWebhook(e, { signature: "sha256 deadbeef" }),
    },
    {
      name: "signed with another secret (forged)",
      status: 401,
      error: "signature mismatch",
      send: (e) => sendWebhook(e, { secret: "not-the-secret-0123456789abcdefghijklmnop" }),
    },
    { name: "signed 301 s ago (stale)", status: 400, error: "signature stale", send: (e) => sendWebhook(e, { timestamp: nowSeconds() - 301 }) },
    {
      name: "signed 301 s ahead (future)",
      status: 400,
      error: "signature future",
      send: async (e) => {
        // Start early in a second so the server's clock cannot tick to the next second meanwhile.
        while (Date.now() % 1000 > 400) await new Promise((r) => setTimeout(r, 20));
        return sendWebhook(e, { timestamp: nowSeconds() + 301 });
      },
    },
    {
      name: "whose body was re-serialised after signing",
      status: 401,
      error: "signature mismatch",
      send: (e) => {
        const { attemptExternalId, status, totalAmount, currency } = e.data;
        const reordered = JSON.stringify({ data: { currency, totalAmount, status, attemptExternalId }, type: "payment_attempt.updated", id: e.id }, null, 2);
        expect(JSON.parse(reordered)).toEqual(JSON.parse(signed(e))); // same data, other bytes
        return sendWebhook(reordered, { signature: signPayload(inject("webhookSecret"), signed(e)) });
      },
    },
    {
      name: "whose v1 was moved to another timestamp",
      status: 401,
      error: "signature mismatch",
      send: (e) => {
        const t = nowSeconds();
        const v1 = signPayload(inject("webhookSecret"), signed(e), t).split("v1=")[1];
        return sendWebhook(e, { signature: `t=${t - 1},v1=${v1}` });
      },
    },
  ];

  it.each(refusals)("refuses a delivery $name with $status and leaves the event id unused", async ({ send, status, error }) => {
    const { order, attempt } = await orderWithAttempt();
    const event = providerEvent(attempt);
    const res = await send(event);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error });
    await expectUntouched(order.id, attempt, [event.id]);
    // The refused delivery consumed nothing: the same event, correctly signed, is applied afterwards.
    const retry = await sendWebhook(event);
    expect(retry).toEqual({ status: 200, body: { received: true, duplicate: false, outcome: "applied: order PAID" } });
  });

  const badBodies: [string, (a: Attempt) => string, string][] = [
    ["that is not JSON", (a) => `{"id":"evt_broken","data":{"attemptExternalId":"${a.externalId}"`, "body is not JSON"],
    ["that is a JSON array", () => "[]", "id must be a string of 1..200 printable characters"],
    ["without an id", (a) => JSON.stringify({ ...JSON.parse(signed(providerEvent(a))), id: undefined }), "id must be a string of 1..200 printable characters"],
    [
      "of another type",
      (a) => JSON.stringify({ ...JSON.parse(signed(providerEvent(a))), type: "payment_attempt.created" }),
      'type must be "payment_attempt.updated" or "refund.updated"',
    ],
    ["with status CREATED", (a) => signed(providerEvent(a, "PAID", { status: "CREATED" })), "data.status must be PENDING, PAID, FAILED or CANCELLED"],
    [
      "with a fractional amount",
      (a) => signed(providerEvent(a, "PAID", { totalAmount: 2900.5 })),
      "data.totalAmount must be a non-negative integer (minor units) of at most 2147483647",
    ],
    [
      "with the amount as a string",
      (a) => signed(providerEvent(a, "PAID", { totalAmount: "2900" as any })),
      "data.totalAmount must be a non-negative integer (minor units) of at most 2147483647",
    ],
    [
      "with an amount beyond what is stored",
      (a) => signed(providerEvent(a, "PAID", { totalAmount: 2 ** 31 })),
      "data.totalAmount must be a non-negative integer (minor units) of at most 2147483647",
    ],
    ["with a lower-case currency", (a) => signed(providerEvent(a, "PAID", { currency: "eur" })), "data.currency must be an ISO 4217 code"],
    ["with a NUL in the event id", (a) => signed(providerEvent(a, "PAID", { id: "evt_\u0000_nul" })), "id must be a string of 1..200 printable characters"],
    [
      "with a lone surrogate in the attempt id",
      (a) =>
        JSON.stringify({ ...JSON.parse(signed(providerEvent(a))), data: { ...JSON.parse(signed(providerEvent(a))).data, attemptExternalId: "cs_\ud800" } }),
      "data.attemptExternalId must be a string of at most 100 printable characters",
    ],
  ];

  it.each(badBodies)("answers 400 to a correctly signed body %s, writing nothing", async (_, body, error) => {
    const { order, attempt } = await orderWithAttempt();
    const res = await sendWebhook(body(attempt));
    expect(res).toEqual({ status: 400, body: { error } });
    await expectUntouched(order.id, attempt);
  });

  it("accepts a signature 290 s old, also next to a v1 of a rotated-out secret", async () => {
    const { order, attempt } = await orderWithAttempt();
    const event = providerEvent(attempt);
    const header = signPayload(inject("webhookSecret"), signed(event), nowSeconds() - 290);
    const res = await sendWebhook(event, { signature: `${header},v1=${"0".repeat(64)}` });
    expect(res).toEqual({ status: 200, body: { received: true, duplicate: false, outcome: "applied: order PAID" } });
    expect((await getOrder(order.id)).status).toBe("PAID");
  });
});

describe("idempotency by event id", () => {
  it("answers a redelivered event with duplicate: true and changes nothing, even when its data differ", async () => {
    const { order, attempt } = await orderWithAttempt();
    const event = providerEvent(attempt);
    expect(await sendWebhook(event)).toEqual({ status: 200, body: { received: true, duplicate: false, outcome: "applied: order PAID" } });
    const paid = await getOrder(order.id);
    expect(await sendWebhook(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const altered = { ...event, data: { ...event.data, status: "FAILED" } };
    expect(await sendWebhook(altered)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const after = await getOrder(order.id);
    expect(after).toEqual(paid);
    expect(after.paymentAttempts).toEqual([expect.objectContaining({ status: "PAID", flagged: false })]);
    expect(await rowsForEvent(event.id)).toBe(1);
    expect(await paidEvents(order.id)).toBe(1);
  });

  it("applies ten concurrent deliveries of one PAID event exactly once", async () => {
    const { order, attempt } = await orderWithAttempt();
    const event = providerEvent(attempt);
    const results = await Promise.all(Array.from({ length: 10 }, () => sendWebhook(event)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(results.filter((r) => r.body.duplicate === false).map((r) => r.body.outcome)).toEqual(["applied: order PAID"]);
    expect(results.filter((r) => r.body.duplicate === true)).toHaveLength(9);
    const after = await getOrder(order.id);
    expect(after.status).toBe("PAID");
    expect(transitions(after)).toEqual([
      [null, "PENDING"],
      ["PENDING", "PAID"],
    ]);
    expect(await paidEvents(order.id)).toBe(1);
    expect(await rowsForEvent(event.id)).toBe(1);
  });
});

describe("a PAID that does not match the order", () => {
  it.each([
    ["a wrong amount", { totalAmount: 2899 }, "2899 EUR"],
    ["a wrong currency", { currency: "USD" }, "2900 USD"],
  ])("with %s is acknowledged, flags the attempt, refunds what the provider took and leaves the order PENDING", async (_, data, reported) => {
    const { order, attempt } = await orderWithAttempt();
    const res = await sendWebhook(providerEvent(attempt, "PAID", data));
    expect(res).toEqual({
      status: 200,
      body: { received: true, duplicate: false, outcome: `flagged: amount mismatch: expected 2900 EUR, provider reported ${reported}; refunded automatically` },
    });
    expect(await getAttempt(attempt.id)).toMatchObject({ id: attempt.id, flagged: true, order: { id: order.id, status: "PENDING" } });
    const after = await getOrder(order.id);
    expect(after.status).toBe("PENDING");
    expect(after.paidAt).toBeNull();
    expect(transitions(after)).toEqual([[null, "PENDING"]]);
    expect(after.paymentAttempts).toEqual([expect.objectContaining({ id: attempt.id, flagged: true })]);
    expect(await paidEvents(order.id)).toBe(0);
    expect(await count("select 1 from orders where id = $1 and snapshot is null", [order.id])).toBe(1);
    // A customer is never charged without an order or a refund: what the provider took is paid back
    // at once (AUTOMATIC), and the buyer is told why.
    const [amount, currency] = reported.split(" ");
    expect((await db().query("select amount, currency, source from refund where order_id = $1", [order.id])).rows).toEqual([
      { amount: Number(amount), currency, source: "AUTOMATIC" },
    ]);
    const emails = await db().query("select id from email where order_id = $1 and kind = 'PAYMENT_REFUNDED'", [order.id]);
    expect(emails.rows).toHaveLength(1);
    const mail = await eventually(async () => {
      const m = (await delivered(orderInput(brand).buyer.email)).find((x) => x.body.Metadata?.emailId === emails.rows[0].id);
      expect(m).toBeDefined();
      return m!;
    });
    expect(mail.body.TextBody).toContain("did not match the order's total of");
    expect(mail.body.TextBody).toContain("The order is still open: you can pay it again.");
    // The flag blocks that attempt, not the order: a new attempt reported correctly pays it.
    const retry = await startPayment(order.id, customer.token);
    expect((await sendWebhook(providerEvent(retry))).body.outcome).toBe("applied: order PAID");
  });
});

describe("exactly one attempt pays an order", () => {
  it("flags a second attempt reporting PAID after the first, and paidAt stays", async () => {
    const order = await placeOrder(brand, customer.token);
    const a = await startPayment(order.id, customer.token);
    const b = await startPayment(order.id, customer.token);
    expect((await sendWebhook(providerEvent(a))).body.outcome).toBe("applied: order PAID");
    const paid = await getOrder(order.id);
    expect(paid.paidAt).toBeTruthy();
    const second = await sendWebhook(providerEvent(b));
    expect(second).toEqual({ status: 200, body: { received: true, duplicate: false, outcome: "flagged: order is PAID, not payable; refunded automatically" } });
    const after = await getOrder(order.id);
    expect(after.status).toBe("PAID");
    expect(after.paidAt).toBe(paid.paidAt);
    expect(transitions(after)).toEqual([
      [null, "PENDING"],
      ["PENDING", "PAID"],
    ]);
    expect(after.paymentAttempts.map((p) => [p.id, p.status, p.flagged])).toEqual([
      [a.id, "PAID", false],
      [b.id, "PAID", true],
    ]);
  });

  it("lets one of several attempts reporting PAID concurrently win; the others are flagged and paidAt never changes", async () => {
    const order = await placeOrder(brand, customer.token);
    const attempts: Attempt[] = [];
    for (let i = 0; i < 4; i++) attempts.push(await startPayment(order.id, customer.token));
    const racing = attempts.slice(0, 3);
    const results = await Promise.all(racing.map((a) => sendWebhook(providerEvent(a))));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const outcomes = results.map((r) => r.body.outcome);
    expect(outcomes.filter((o) => o === "applied: order PAID")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "flagged: order is PAID, not payable; refunded automatically")).toHaveLength(2);
    const winner = racing[outcomes.indexOf("applied: order PAID")];
    const paid = await getOrder(order.id);
    expect(paid.status).toBe("PAID");
    expect(await count("select 1 from payment_attempt where order_id = $1 and status = 'PAID' and not flagged", [order.id])).toBe(1);
    expect(paid.paymentAttempts.find((p) => !p.flagged && p.status === "PAID")?.id).toBe(winner.id);

    // Later reports: the fourth attempt is flagged; the winner's redelivery (new event id) is ignored.
    expect((await sendWebhook(providerEvent(attempts[3]))).body.outcome).toBe("flagged: order is PAID, not payable; refunded automatically");
    expect((await sendWebhook(providerEvent(winner))).body.outcome).toBe("ignored: attempt already PAID");
    const after = await getOrder(order.id);
    expect(after.paidAt).toBe(paid.paidAt);
    expect(transitions(after)).toEqual([
      [null, "PENDING"],
      ["PENDING", "PAID"],
    ]);
    expect(await paidEvents(order.id)).toBe(1);
    expect(after.paymentAttempts.filter((p) => p.flagged)).toHaveLength(3);
  });
});

describe("other statuses", () => {
  it.each(["PENDING", "FAILED", "CANCELLED"] as const)("%s updates the attempt only; the order stays PENDING", async (status) => {
    const { order, attempt } = await orderWithAttempt();
    const res = await sendWebhook(providerEvent(attempt, status));
    expect(res).toEqual({ status: 200, body: { received: true, duplicate: false, outcome: `applied: attempt ${status}` } });
    expect(await getAttempt(attempt.id)).toMatchObject({ status, flagged: false });
    const after = await getOrder(order.id);
    expect(after.status).toBe("PENDING");
    expect(transitions(after)).toEqual([[null, "PENDING"]]);
  });

  it("pays the order on a PAID after FAILED on the same attempt, and ignores a late FAILED after PAID", async () => {
    const { order, attempt } = await orderWithAttempt();
    expect((await sendWebhook(providerEvent(attempt, "PENDING"))).body.outcome).toBe("applied: attempt PENDING");
    expect((await sendWebhook(providerEvent(attempt, "FAILED"))).body.outcome).toBe("applied: attempt FAILED");
    expect((await sendWebhook(providerEvent(attempt, "PAID"))).body.outcome).toBe("applied: order PAID");
    expect((await sendWebhook(providerEvent(attempt, "FAILED"))).body.outcome).toBe("ignored: attempt already PAID");
    expect(await getAttempt(attempt.id)).toMatchObject({ status: "PAID", flagged: false, order: { status: "PAID" } });
    expect(transitions(await getOrder(order.id))).toEqual([
      [null, "PENDING"],
      ["PENDING", "PAID"],
    ]);
  });

  it("answers 404 to an event for an unknown attempt without recording it, so the provider's retry is processed later", async () => {
    const { order, attempt } = await orderWithAttempt();
    const event = providerEvent({ externalId: `cs_dev_${randomBytes(16).toString("hex")}`, amount: 2900, currency: "EUR" });
    expect(await sendWebhook(event)).toEqual({ status: 404, body: { error: "unknown attempt" } });
    await expectUntouched(order.id, attempt);
    const { rows } = await db().query("select outcome from payment_webhook_event where id = $1", [event.id]);
    expect(rows).toEqual([]);
    // The same event id, now for the real attempt (as if it had been committed meanwhile), is applied.
    const retried = await sendWebhook({ ...event, data: { ...event.data, attemptExternalId: attempt.externalId } });
    expect(retried.body).toMatchObject({ duplicate: false, outcome: "applied: order PAID" });
  });
});

describe("the paid snapshot", () => {
  it("keeps a paid order's lines as created, and the database refuses to rewrite the snapshot", async () => {
    const { order, attempt } = await orderWithAttempt();
    expect((await sendWebhook(providerEvent(attempt))).body.outcome).toBe("applied: order PAID");
    const paid = await getOrder(order.id);
    expect(paid.lines).toEqual(order.lines);
    expect(paid.total).toBe(order.total);
    const read = async () => (await db().query("select snapshot from orders where id = $1", [order.id])).rows[0].snapshot;
    const snapshot = await read();
    expect(snapshot).toMatchObject({ lines: order.lines, subtotal: 2900, discountTotal: 0, total: 2900, currency: "EUR", couponCode: null });
    expect(new Date(snapshot.takenAt).getTime()).toBe(new Date(paid.paidAt!).getTime());

    // Direct SQL is the point here: the guarantee holds below the API, in the database itself.
    const immutable = /orders\.snapshot is immutable once taken/;
    await expect(db().query(`update orders set snapshot = jsonb_set(snapshot, '{total}', '1') where id = $1`, [order.id])).rejects.toThrow(immutable);
    await expect(db().query("update orders set snapshot = null where id = $1", [order.id])).rejects.toThrow(immutable);
    expect(await read()).toEqual(snapshot);
    expect((await getOrder(order.id)).lines).toEqual(order.lines);
  });
});

describe("the development checkout", () => {
  it("Fail button marks the attempt FAILED, redirects (303) to the page and leaves the order PENDING", async () => {
    const { order, attempt } = await orderWithAttempt();
    const path = new URL(attempt.checkoutUrl!).pathname;
    const res = await fetch(`${apiUrl()}${path}/fail`, { method: "POST", redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(path);
    expect(await getAttempt(attempt.id)).toMatchObject({ status: "FAILED", flagged: false, order: { status: "PENDING" } });
    const after = await getOrder(order.id);
    expect(transitions(after)).toEqual([[null, "PENDING"]]);
    expect(after.paidAt).toBeNull();
    const { rows } = await db().query("select status, outcome from payment_webhook_event where attempt_external_id = $1", [attempt.externalId]);
    expect(rows).toEqual([{ status: "FAILED", outcome: "applied: attempt FAILED" }]);
    const html = await (await fetch(`${apiUrl()}${path}`)).text();
    expect(html).toContain('<td id="attempt-status">FAILED</td>');
    expect(html).toContain('<td id="order-status">PENDING</td>');
  });
});
