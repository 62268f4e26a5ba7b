import { beforeAll, describe, expect, it } from "vitest";
import { CancelOrderDocument, FulfillOrderDocument, GetOrderDocument, GetPaymentAttemptDocument } from "../graphql/generated";
import { codes, count, db, gql, ok } from "../helpers/api";
import {
  brandWithProducts,
  member,
  payOrder,
  placeOrder,
  providerEvent,
  sendWebhook,
  signUp,
  startPayment,
  type Account,
  type BrandSetup,
} from "../helpers/fixtures";

let brand: BrandSetup;
let customer: Account;
let coorganizer: Account;
let stranger: Account;

beforeAll(async () => {
  brand = await brandWithProducts();
  [customer, coorganizer, stranger] = await Promise.all([signUp("customer"), member(brand, "COORGANIZER"), signUp("stranger")]);
});

const getOrder = async (id: string) => (await ok(GetOrderDocument, { id }, { token: brand.owner.token })).order!;
const history = (o: { events: { from?: string | null; to: string; actor?: string | null }[] }) => o.events.map((e) => [e.from ?? null, e.to, e.actor]);
const eventsTo = (orderId: string, to: string) => count(`select 1 from order_event where order_id = $1 and "to" = $2`, [orderId, to]);
const creation = () => [null, "PENDING", `user:${customer.userId}`];

/**
 * Orders live ORDER_TTL_MINUTES (30 in tests) and no API moves time, so the only way to reach an
 * order's deadline in a fast test is to move it into the past directly: the one accepted use of
 * SQL to set up state. The background sweeper (every 15 s) may or may not mark the order EXPIRED
 * before the next request; every assertion below holds either way.
 */
async function moveDeadlineIntoPast(orderId: string) {
  const { rowCount } = await db().query("update orders set expires_at = now() - interval '1 second' where id = $1 and status = 'PENDING'", [orderId]);
  expect(rowCount).toBe(1);
}

describe("an order past its deadline", () => {
  it("cannot be paid: attemptToPayForOrder is FAILED_PRECONDITION and creates no attempt", async () => {
    const order = await placeOrder(brand, customer.token);
    await moveDeadlineIntoPast(order.id);
    const r = await gql(`mutation($id: ID!) { attemptToPayForOrder(orderId: $id) { id } }`, { id: order.id }, { token: customer.token });
    expect(codes(r)).toEqual(["FAILED_PRECONDITION"]);
    expect(r.data?.attemptToPayForOrder ?? null).toBeNull();
    expect(await count("select 1 from payment_attempt where order_id = $1", [order.id])).toBe(0);
  });

  it("is paid by a late PAID for an attempt made before the deadline (its seats can be taken again): EXPIRED by system, then PAID", async () => {
    // Issue #10 (PRODUCT v2, "Late payments"): honoured when what the order gave back can be taken
    // again; this order's products sit in no quota, so they always can (tests/api/quotas.test.ts
    // has the sold-out case, which stays flagged).
    const order = await placeOrder(brand, customer.token);
    const attempt = await startPayment(order.id, customer.token);
    await moveDeadlineIntoPast(order.id);
    const res = await sendWebhook(providerEvent(attempt));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, duplicate: false, outcome: "applied: order PAID (late payment honoured)" });
    const { paymentAttempt } = await ok(GetPaymentAttemptDocument, { id: attempt.id }, { token: customer.token });
    expect(paymentAttempt).toMatchObject({ flagged: false, order: { id: order.id, status: "PAID" } });
    const after = await getOrder(order.id);
    expect(after.paidAt).not.toBeNull();
    expect(history(after)).toEqual([creation(), ["PENDING", "EXPIRED", "system"], ["EXPIRED", "PAID", "payment-provider"]]);
    expect(await eventsTo(order.id, "PAID")).toBe(1);
    expect(await count("select 1 from orders where id = $1 and snapshot is not null", [order.id])).toBe(1);
  });

  it("cannot be cancelled: cancelOrder is FAILED_PRECONDITION", async () => {
    const order = await placeOrder(brand, customer.token);
    await moveDeadlineIntoPast(order.id);
    const r = await gql(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    expect(codes(r)).toEqual(["FAILED_PRECONDITION"]);
    expect(r.data?.cancelOrder ?? null).toBeNull();
    expect((await getOrder(order.id)).status).not.toBe("CANCELLED");
    expect(await eventsTo(order.id, "CANCELLED")).toBe(0);
  });
});

describe("cancelOrder", () => {
  it.each([
    ["its customer", () => customer],
    ["a COORGANIZER of the brand", () => coorganizer],
    ["the brand owner", () => brand.owner],
  ])("lets %s cancel a PENDING order; the CANCELLED event names them", async (_, who) => {
    const order = await placeOrder(brand, customer.token);
    const { cancelOrder } = await ok(CancelOrderDocument, { orderId: order.id }, { token: who().token });
    expect(cancelOrder.status).toBe("CANCELLED");
    expect(cancelOrder.events.map((e) => [e.from ?? null, e.to, e.actor])).toEqual([creation(), ["PENDING", "CANCELLED", `user:${who().userId}`]]);
    expect((await getOrder(order.id)).status).toBe("CANCELLED");
  });

  it("refuses to cancel twice (FAILED_PRECONDITION) and records one CANCELLED event", async () => {
    const order = await placeOrder(brand, customer.token);
    await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    const again = await gql(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    expect(codes(again)).toEqual(["FAILED_PRECONDITION"]);
    expect(again.errors![0].message).toMatch(/CANCELLED/);
    expect(await eventsTo(order.id, "CANCELLED")).toBe(1);
  });

  it("refuses to cancel a PAID order (FAILED_PRECONDITION); it stays PAID", async () => {
    const order = await placeOrder(brand, customer.token);
    await payOrder(order, customer.token);
    const r = await gql(CancelOrderDocument, { orderId: order.id }, { token: brand.owner.token });
    expect(codes(r)).toEqual(["FAILED_PRECONDITION"]);
    const after = await getOrder(order.id);
    expect(after.status).toBe("PAID");
    expect(await eventsTo(order.id, "CANCELLED")).toBe(0);
  });

  it("answers NOT_FOUND to someone who cannot see the order, and leaves it PENDING", async () => {
    const order = await placeOrder(brand, customer.token);
    const r = await gql(CancelOrderDocument, { orderId: order.id }, { token: stranger.token });
    expect(codes(r)).toEqual(["NOT_FOUND"]);
    expect((await getOrder(order.id)).status).toBe("PENDING");
  });

  it("lets a late PAID for an earlier attempt pay a cancelled order when its seats can be taken again (CANCELLED, then PAID)", async () => {
    // Issue #10 (PRODUCT v2, "Late payments"); the sold-out case stays flagged (tests/api/quotas.test.ts).
    const order = await placeOrder(brand, customer.token);
    const attempt = await startPayment(order.id, customer.token);
    await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    const res = await sendWebhook(providerEvent(attempt));
    expect(res).toEqual({ status: 200, body: { received: true, duplicate: false, outcome: "applied: order PAID (late payment honoured)" } });
    const after = await getOrder(order.id);
    expect(after.status).toBe("PAID");
    expect(after.paidAt).not.toBeNull();
    expect(after.paymentAttempts).toEqual([expect.objectContaining({ id: attempt.id, flagged: false })]);
  });
});

describe("fulfillOrder", () => {
  const paidOrder = async () => {
    const order = await placeOrder(brand, customer.token);
    await payOrder(order, customer.token);
    return order;
  };

  it("turns a PAID order FULFILLED with fulfilledAt; a second call returns the same fulfilledAt and records no second event", async () => {
    const order = await paidOrder();
    const before = Date.now();
    const { fulfillOrder: first } = await ok(FulfillOrderDocument, { orderId: order.id }, { token: coorganizer.token });
    expect(first.status).toBe("FULFILLED");
    const at = new Date(first.fulfilledAt!).getTime();
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    const { fulfillOrder: second } = await ok(FulfillOrderDocument, { orderId: order.id }, { token: brand.owner.token });
    expect(second).toEqual(first);
    const after = await getOrder(order.id);
    expect(after.fulfilledAt).toBe(first.fulfilledAt);
    expect(history(after)).toEqual([creation(), ["PENDING", "PAID", "payment-provider"], ["PAID", "FULFILLED", `user:${coorganizer.userId}`]]);
    expect(await eventsTo(order.id, "FULFILLED")).toBe(1);
  });

  it("fulfils once under twenty concurrent calls: one FULFILLED event, one fulfilledAt", async () => {
    const order = await paidOrder();
    const results = await Promise.all(Array.from({ length: 20 }, () => gql(FulfillOrderDocument, { orderId: order.id }, { token: coorganizer.token })));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(new Set(results.map((r) => r.data!.fulfillOrder.status))).toEqual(new Set(["FULFILLED"]));
    expect(new Set(results.map((r) => r.data!.fulfillOrder.fulfilledAt)).size).toBe(1);
    expect(await eventsTo(order.id, "FULFILLED")).toBe(1);
    expect((await getOrder(order.id)).fulfilledAt).toBe(results[0].data!.fulfillOrder.fulfilledAt);
  });

  it("refuses a PENDING order (FAILED_PRECONDITION)", async () => {
    const order = await placeOrder(brand, customer.token);
    const r = await gql(FulfillOrderDocument, { orderId: order.id }, { token: coorganizer.token });
    expect(codes(r)).toEqual(["FAILED_PRECONDITION"]);
    const after = await getOrder(order.id);
    expect(after.status).toBe("PENDING");
    expect(after.fulfilledAt).toBeNull();
  });

  it("refuses the customer (FORBIDDEN) and answers NOT_FOUND to a stranger; the order stays PAID", async () => {
    const order = await paidOrder();
    expect(codes(await gql(FulfillOrderDocument, { orderId: order.id }, { token: customer.token }))).toEqual(["FORBIDDEN"]);
    expect(codes(await gql(FulfillOrderDocument, { orderId: order.id }, { token: stranger.token }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(FulfillOrderDocument, { orderId: crypto.randomUUID() }, { token: coorganizer.token }))).toEqual(["NOT_FOUND"]);
    const after = await getOrder(order.id);
    expect(after.status).toBe("PAID");
    expect(after.fulfilledAt).toBeNull();
    expect(await eventsTo(order.id, "FULFILLED")).toBe(0);
  });
});
