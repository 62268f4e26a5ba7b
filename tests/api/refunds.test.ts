import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { gql, ok } from "../helpers/api";
import { startFakeProvider, type FakeProvider } from "../helpers/fake-provider";
import { eventually } from "../helpers/mail";
import { startFakePostmark, type FakePostmark, type ReceivedMail } from "../helpers/fake-postmark";
import { siblingDatabase, startApi, type ApiProcess, type TestDatabase } from "../helpers/processes";
import { STATUS_EVENTS, subscribe } from "../helpers/ws";
import { GET_REFUND, orderState, paidOrder, quotaSold, REFUND_ORDER, refundWorld, type RefundWorld } from "../helpers/refunds";

// Issue #11: refundOrder, the provider call and the refund.updated webhook, against a fake provider
// on 127.0.0.1. An API of its own on a database of its own: the run's API (no PAYMENT_PROVIDER_URL)
// would answer these refunds with the development provider.
const PROVIDER_KEY = "test-provider-key-0123456789";
let db: TestDatabase;
let api: ApiProcess;
let provider: FakeProvider;
let postmark: FakePostmark;
let sql: pg.Pool;
let w: RefundWorld;

beforeAll(async () => {
  db = await siblingDatabase(inject("databaseUrl"), "refunds");
  provider = await startFakeProvider(inject("webhookSecret"));
  postmark = await startFakePostmark(); // its own: the mail of this API is read back (the credit note)
  api = await startApi({
    DATABASE_URL: db.url,
    JOB_RETRY_BASE_MS: "200",
    TRUST_PROXY: "loopback",
    RATE_LIMIT_SCALE: "100",
    PAYMENT_PROVIDER_URL: provider.url,
    PAYMENT_PROVIDER_API_KEY: PROVIDER_KEY,
    POSTMARK_SERVER_TOKEN: postmark.token,
    POSTMARK_API_URL: postmark.url,
  });
  provider.reportTo(api.url);
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  w = await refundWorld(api.url);
}, 60_000);
afterAll(async () => {
  await sql?.end();
  await api?.stop(); // by PID
  await provider?.close();
  await postmark?.close();
  await db?.stop();
});

const refund = (input: Record<string, unknown>) => gql(REFUND_ORDER, { input }, w.owner);
const n = async (q: string, params: unknown[]) => (await sql.query(`select count(*)::int as n from (${q}) q`, params)).rows[0].n as number;
const emails = (orderId: string, kind: string) => n("select 1 from email where order_id = $1 and kind = $2 and status = 'SENT'", [orderId, kind]);
const refunded = (orderId: string, status: string) => eventually(async () => expect((await orderState(w, orderId)).status).toBe(status));

describe("refundOrder with the provider", () => {
  it("a full refund: one provider call with the bearer key and idempotency key, then REFUNDED, seats released, one email", async () => {
    const { order, attempt } = await paidOrder(w);
    const before = await quotaSold(w);
    const r = await ok(REFUND_ORDER, { input: { orderId: order.id, reason: "cancelled show" } }, w.owner);
    expect(r.refundOrder).toMatchObject({
      amount: 2900,
      currency: "EUR",
      status: "PENDING",
      source: "BRAND",
      reason: "cancelled show",
      order: { id: order.id },
    });
    await refunded(order.id, "REFUNDED");
    const after = await orderState(w, order.id);
    expect(after).toMatchObject({ refundedTotal: 2900, total: 2900 });
    expect(after.refundedAt).toBeTruthy();
    expect(after.events.map((e: { to: string }) => e.to)).toEqual(["PENDING", "PAID", "REFUNDED"]);
    expect(after.refunds).toEqual([expect.objectContaining({ id: r.refundOrder.id, status: "SUCCEEDED", externalId: expect.stringMatching(/^re_fake_/) })]);
    expect((await quotaSold(w)).sold).toBe(before.sold - 1);
    const [call, ...more] = provider.callsFor(attempt.externalId);
    expect(more).toEqual([]);
    expect(call.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(call.headers["idempotency-key"]).toBe(r.refundOrder.id);
    expect(call.body).toEqual({ refundId: r.refundOrder.id, attemptExternalId: attempt.externalId, amount: 2900, currency: "EUR" });
    await eventually(async () => expect(await emails(order.id, "REFUND")).toBe(1));
    // The paper (issue #11 with the tax branch): the invoice, then one credit note of the whole
    // amount numbered next from the brand's sequence, attached to the REFUND email; tickets VOID.
    const PAPER = `query ($id: ID!) { order(id: $id) { invoices { kind number total } tickets { status } } }`;
    const paper = (await ok(PAPER, { id: order.id }, w.owner)).order;
    expect(paper.invoices.map((i: { kind: string; total: number }) => [i.kind, i.total])).toEqual([
      ["INVOICE", 2900],
      ["CREDIT_NOTE", 2900],
    ]);
    const [invoiceNo, noteNo] = paper.invoices.map((i: { number: string }) => Number(i.number.split("-").pop()));
    expect(noteNo).toBeGreaterThan(invoiceNo);
    expect(paper.tickets.length).toBeGreaterThan(0);
    expect(paper.tickets.every((t: { status: string }) => t.status === "VOID")).toBe(true);
    const { rows } = await sql.query("select recipient from email where order_id = $1 and kind = 'REFUND'", [order.id]);
    const received = (await (await fetch(`${postmark.url}/__mail?to=${encodeURIComponent(rows[0].recipient)}`)).json()) as ReceivedMail[];
    const mail = received.find((m) => m.status === 200 && m.body.Subject.startsWith("Refund for your order"));
    expect(mail?.body.Attachments?.map((f) => f.Name)).toEqual([`credit-note-${paper.invoices[1].number}.pdf`]);
    // Nothing remains: a second refund is refused, and so is a refund of a REFUNDED order.
    expect(codesOf(await refund({ orderId: order.id }))).toEqual(["FAILED_PRECONDITION"]);
  });

  it("a partial refund of 30 % leaves 70 % refundable: 71 % is refused on input.amount, 70 % passes", async () => {
    const { order } = await paidOrder(w);
    await ok(REFUND_ORDER, { input: { orderId: order.id, amount: 870 } }, w.owner);
    await eventually(async () => expect((await orderState(w, order.id)).refundedTotal).toBe(870));
    expect((await orderState(w, order.id)).status).toBe("PAID");
    const tooMuch = await refund({ orderId: order.id, amount: 2059 });
    expect(tooMuch.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.amount" });
    const rest = await ok(REFUND_ORDER, { input: { orderId: order.id } }, w.owner);
    expect(rest.refundOrder.amount).toBe(2030);
    await refunded(order.id, "REFUNDED");
    expect((await orderState(w, order.id)).refundedTotal).toBe(2900);
  });

  it("10 concurrent refundOrder calls with one idempotencyKey: one refund, every caller gets its id; other arguments are refused", async () => {
    const { order } = await paidOrder(w);
    const results = await Promise.all(Array.from({ length: 10 }, () => refund({ orderId: order.id, amount: 500, idempotencyKey: "refund-once" })));
    const ids = results.map((r) => r.data?.refundOrder?.id);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toEqual(expect.any(String));
    expect(await n("select 1 from refund where order_id = $1", [order.id])).toBe(1);
    const other = await refund({ orderId: order.id, amount: 600, idempotencyKey: "refund-once" });
    expect(other.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([["BAD_USER_INPUT", "input.idempotencyKey"]]);
  });

  it("10 concurrent full refunds: exactly one refund, 9 BAD_USER_INPUT on input.amount, one provider call", async () => {
    const { order, attempt } = await paidOrder(w);
    const results = await Promise.all(Array.from({ length: 10 }, () => refund({ orderId: order.id })));
    expect(results.filter((r) => r.data?.refundOrder).length).toBe(1);
    const refused = results.filter((r) => r.errors);
    expect(refused.map((r) => [r.errors![0].extensions?.code, r.errors![0].extensions?.field])).toEqual(Array(9).fill(["BAD_USER_INPUT", "input.amount"]));
    expect(await n("select 1 from refund where order_id = $1", [order.id])).toBe(1);
    await refunded(order.id, "REFUNDED");
    expect(provider.callsFor(attempt.externalId)).toHaveLength(1);
  });

  it("refund.updated delivered 10 times at once, and again under 5 other event ids, has one effect", async () => {
    const { order, attempt } = await paidOrder(w);
    provider.outcome(attempt.externalId, "none");
    const r = (await ok(REFUND_ORDER, { input: { orderId: order.id } }, w.owner)).refundOrder;
    await eventually(async () => expect(provider.callsFor(attempt.externalId)).toHaveLength(1));
    const live = await subscribe(STATUS_EVENTS, { brandId: w.brandId }, { token: w.owner.token, base: api.url });
    const data = {
      refundId: r.id,
      refundExternalId: `re_manual_${r.id}`,
      attemptExternalId: attempt.externalId,
      status: "SUCCEEDED",
      amount: 2900,
      currency: "EUR",
    };
    const same = await Promise.all(Array.from({ length: 10 }, () => provider.report(data, `evt_same_${r.id}`)));
    expect(same.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(same.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    const others = await Promise.all(Array.from({ length: 5 }, (_, i) => provider.report(data, `evt_other_${i}_${r.id}`)));
    expect(others.map((a) => a.body.outcome)).toEqual(Array(5).fill("ignored: refund already SUCCEEDED"));
    const after = await orderState(w, order.id);
    expect(after).toMatchObject({ status: "REFUNDED", refundedTotal: 2900 });
    expect(after.events.filter((e: { to: string }) => e.to === "REFUNDED")).toHaveLength(1);
    await eventually(async () => expect(await emails(order.id, "REFUND")).toBe(1));
    // Subscribers hear it once, through the usual status path.
    const mine = () => live.events.filter((e) => e.data?.orderStatusChanged?.order.id === order.id);
    await eventually(async () => expect(mine().length).toBeGreaterThan(0));
    await live.close();
    expect(mine().map((e) => [e.data.orderStatusChanged.previousStatus, e.data.orderStatusChanged.status])).toEqual([["PAID", "REFUNDED"]]);
  });

  it("a provider down (503) for a while delays the refund and loses nothing", async () => {
    const { order, attempt } = await paidOrder(w);
    provider.answer(attempt.externalId, 503, 503, 503);
    const r = (await ok(REFUND_ORDER, { input: { orderId: order.id } }, w.owner)).refundOrder;
    await refunded(order.id, "REFUNDED");
    const calls = provider.callsFor(attempt.externalId);
    expect(calls.map((c) => c.answeredWith)).toEqual([503, 503, 503, 200]);
    expect(new Set(calls.map((c) => c.headers["idempotency-key"]))).toEqual(new Set([r.id]));
    const { rows } = await sql.query("select attempts, status from refund where id = $1", [r.id]);
    expect(rows[0]).toEqual({ attempts: 4, status: "SUCCEEDED" });
    expect((await ok(GET_REFUND, { id: r.id }, w.owner)).refund).toMatchObject({ status: "SUCCEEDED", order: { status: "REFUNDED", refundedTotal: 2900 } });
  });

  it("a FAILED refund (reported, or refused for good with a 422) frees its amount to refund again", async () => {
    const { order, attempt } = await paidOrder(w);
    provider.outcome(attempt.externalId, "FAILED");
    const first = (await ok(REFUND_ORDER, { input: { orderId: order.id } }, w.owner)).refundOrder;
    await eventually(async () => expect((await ok(GET_REFUND, { id: first.id }, w.owner)).refund.status).toBe("FAILED"));
    provider.answer(attempt.externalId, 422);
    const second = (await ok(REFUND_ORDER, { input: { orderId: order.id } }, w.owner)).refundOrder;
    await eventually(async () => expect((await ok(GET_REFUND, { id: second.id }, w.owner)).refund.status).toBe("FAILED"));
    expect(await orderState(w, order.id)).toMatchObject({ status: "PAID", refundedTotal: 0 });
    provider.outcome(attempt.externalId, "SUCCEEDED");
    await ok(REFUND_ORDER, { input: { orderId: order.id } }, w.owner);
    await refunded(order.id, "REFUNDED");
    expect(await emails(order.id, "REFUND")).toBeLessThanOrEqual(1);
  });

  it("a refund made at the provider is recorded as PROVIDER; one that would exceed what was paid is refused", async () => {
    const { order, attempt } = await paidOrder(w);
    const data = { refundExternalId: `re_dash_${order.id}`, attemptExternalId: attempt.externalId, status: "SUCCEEDED", amount: 900, currency: "EUR" };
    expect((await provider.report(data)).body.outcome).toBe("applied: refund made at the provider recorded (PROVIDER) SUCCEEDED");
    const over = await provider.report({ ...data, refundExternalId: `re_dash2_${order.id}`, amount: 2001 });
    expect(over).toMatchObject({ status: 200, body: { outcome: "refused: 2001 exceeds the 2000 that remains refundable" } });
    const after = await orderState(w, order.id);
    expect(after).toMatchObject({ status: "PAID", refundedTotal: 900 });
    expect(after.refunds).toEqual([expect.objectContaining({ amount: 900, source: "PROVIDER", status: "SUCCEEDED", externalId: `re_dash_${order.id}` })]);
    expect(codesOf(await refund({ orderId: order.id, amount: 2001 }))).toEqual(["BAD_USER_INPUT"]);
  });

  it("validates its input and refuses orders that are not paid; at most 50 refunds per order", async () => {
    const { order } = await paidOrder(w);
    const field = async (input: Record<string, unknown>) => (await refund({ orderId: order.id, ...input })).errors?.[0].extensions;
    expect(await field({ amount: 0 })).toMatchObject({ code: "BAD_USER_INPUT", field: "input.amount" });
    expect(await field({ amount: -5 })).toMatchObject({ code: "BAD_USER_INPUT", field: "input.amount" });
    expect(await field({ reason: "x".repeat(501) })).toMatchObject({ code: "BAD_USER_INPUT", field: "input.reason" });
    expect(await field({ idempotencyKey: "k".repeat(256) })).toMatchObject({ code: "BAD_USER_INPUT", field: "input.idempotencyKey" });
    expect(codesOf(await refund({ orderId: "00000000-0000-4000-8000-000000000000" }))).toEqual(["NOT_FOUND"]);
    const pending = await gql(
      `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }`,
      {
        input: { brandId: w.brandId, lines: [{ productId: w.productId, quantity: 1 }], buyer: { name: "P", email: "p@example.test" } },
      },
      w.owner,
    );
    expect(codesOf(await refund({ orderId: pending.data.createOrder.id }))).toEqual(["FAILED_PRECONDITION"]);
    provider.outcome((await orderState(w, order.id)).paymentAttempts[0].externalId, "none");
    const many = await Promise.all(Array.from({ length: 51 }, () => refund({ orderId: order.id, amount: 1 })));
    expect(many.filter((r) => r.data?.refundOrder)).toHaveLength(50);
    expect(many.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code)).toEqual(["FAILED_PRECONDITION"]);
  });
});

function codesOf(r: { errors?: { extensions?: Record<string, unknown> }[] }) {
  return (r.errors ?? []).map((e) => e.extensions?.code);
}
