import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { CancelOrderDocument, CreateDiscountDocument, GetOrderDocument } from "../graphql/generated";
import { codes, count, db, gql, ok } from "../helpers/api";
import { brandWithProducts, member, providerEvent, sendWebhook, signUp, startPayment, type Account, type BrandSetup } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { CREATE_QUOTA, UPDATE_QUOTA, availability, buy, createQuota, expectSoldOut, quotaState, writtenFor } from "../helpers/quotas";

let brand: BrandSetup;
let other: BrandSetup;
let coorganizer: Account;

beforeAll(async () => {
  [brand, other] = await Promise.all([brandWithProducts("EUR", [1000, 500, 300]), brandWithProducts()]);
  coorganizer = await member(brand, "COORGANIZER");
});

/** No API moves time: the deadline is moved into the past directly (the accepted use of SQL to set up state). */
async function moveDeadlineIntoPast(orderId: string) {
  const { rowCount } = await db().query("update orders set expires_at = now() - interval '1 second' where id = $1 and status = 'PENDING'", [orderId]);
  expect(rowCount).toBe(1);
}

const line = (productId: string, quantity = 1) => [{ productId, quantity }];
const statusOf = async (id: string, token: string) => (await ok(GetOrderDocument, { id }, { token })).order!;

describe("createQuota, updateQuota, quota, quotas", () => {
  it("creates a quota with its products; Product.available is the least room among its quotas, null when unlimited", async () => {
    const [a, b, c] = brand.products.map((p) => p.id);
    const q1 = await createQuota(brand, 10, [a, b], "Saturday");
    expect(q1).toMatchObject({ size: 10, sold: 0, held: 0, available: 10 });
    const q2 = await createQuota(brand, 4, [a, a], "Venue total"); // duplicates count once
    const { quota } = await ok(`query ($id: ID!) { quota(id: $id) { name products { id } brand { id } } }`, { id: q2.id }, { token: brand.owner.token });
    expect(quota).toEqual({ name: "Venue total", products: [{ id: a }], brand: { id: brand.brandId } });
    expect(await availability(brand)).toEqual({ [a]: 4, [b]: 10, [c]: null });

    const page1 = await ok(
      `query ($b: ID!) { quotas(brandId: $b, first: 1) { totalCount edges { node { id } } pageInfo { endCursor hasNextPage } } }`,
      {
        b: brand.brandId,
      },
      { token: brand.owner.token },
    );
    expect(page1.quotas.totalCount).toBeGreaterThanOrEqual(2);
    expect(page1.quotas.pageInfo.hasNextPage).toBe(true);
    const page2 = await ok(
      `query ($b: ID!, $after: String) { quotas(brandId: $b, first: 1, after: $after) { edges { node { id } } } }`,
      {
        b: brand.brandId,
        after: page1.quotas.pageInfo.endCursor,
      },
      { token: brand.owner.token },
    );
    expect(page2.quotas.edges[0].node.id).not.toBe(page1.quotas.edges[0].node.id);
  });

  it.each([
    [{ size: -1 }, "input.size"],
    [{ size: 1_000_001 }, "input.size"],
    [{ size: 1.5 }, "BAD_USER_INPUT"], // not an Int: refused by GraphQL itself
    [{ name: "" }, "input.name"],
    [{ name: "x".repeat(201) }, "input.name"],
    [{ productIds: ["not-an-id"] }, "input.productIds"],
    [{ productIds: [randomUUID()] }, "input.productIds"],
  ])("refuses %j with BAD_USER_INPUT on %s and writes nothing", async (bad, field) => {
    const before = await count("select 1 from quota where brand_id = $1", [brand.brandId]);
    const input = { brandId: brand.brandId, name: "Q", size: 5, productIds: [brand.products[0].id], ...bad };
    const r = await gql(CREATE_QUOTA, { input }, { token: brand.owner.token });
    expect(codes(r)).toEqual(["BAD_USER_INPUT"]);
    if (field !== "BAD_USER_INPUT") expect(r.errors![0].extensions?.field).toBe(field);
    expect(await count("select 1 from quota where brand_id = $1", [brand.brandId])).toBe(before);
  });

  it("refuses another brand's products, and callers below ORGANIZER or outside the brand", async () => {
    const input = { brandId: brand.brandId, name: "Q", size: 5, productIds: [other.products[0].id] };
    const r = await gql(CREATE_QUOTA, { input }, { token: brand.owner.token });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.productIds" });
    const mine = { ...input, productIds: [brand.products[0].id] };
    expect(codes(await gql(CREATE_QUOTA, { input: mine }, { token: coorganizer.token }))).toEqual(["FORBIDDEN"]);
    expect(codes(await gql(CREATE_QUOTA, { input: mine }, { token: other.owner.token }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(CREATE_QUOTA, { input: mine }))).toEqual(["NOT_FOUND"]);
    const q = await createQuota(brand, 1, []);
    expect(codes(await gql(UPDATE_QUOTA, { id: q.id, input: { size: 2 } }, { token: other.owner.token }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(UPDATE_QUOTA, { id: q.id, input: { size: 2 } }, { token: coorganizer.token }))).toEqual(["FORBIDDEN"]);
  });

  it("refuses a size below sold + held (BAD_USER_INPUT on input.size); sold + held itself is fine", async () => {
    const b = await brandWithProducts("EUR", [100]);
    const q = await createQuota(b, 5, [b.products[0].id]);
    expect((await buy(b, line(b.products[0].id, 3))).r.errors).toBeUndefined();
    const r = await gql(UPDATE_QUOTA, { id: q.id, input: { size: 2 } }, { token: b.owner.token });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.size" });
    expect(await quotaState(b, q.id)).toEqual({ size: 5, sold: 0, held: 3, available: 2 });
    const { updateQuota } = await ok(UPDATE_QUOTA, { id: q.id, input: { size: 3, name: "Renamed" } }, { token: b.owner.token });
    expect(updateQuota).toMatchObject({ name: "Renamed", size: 3, held: 3, available: 0 });
  });
});

describe("taking seats", () => {
  it("answers SOLD_OUT with productId and available, and writes nothing: no order, no hold, no coupon use", async () => {
    const b = await brandWithProducts("EUR", [1000, 500]);
    const [a, c] = b.products.map((p) => p.id);
    await createQuota(b, 3, [a]);
    await createQuota(b, 100, [a, c]);
    const code = `SO-${randomUUID().slice(0, 6).toUpperCase()}`;
    const discount = { brandId: b.brandId, name: "Promo", type: "PERCENT", amount: 10, usageLimit: 100, fixedCode: code } as const;
    await ok(CreateDiscountDocument, { input: discount }, { token: b.owner.token });
    expect((await buy(b, line(a, 2))).r.errors).toBeUndefined();

    const before = await writtenFor(b);
    const { r } = await buy(b, [...line(c, 1), ...line(a, 2)], { couponCode: code });
    expectSoldOut(r, a, 1);
    expect(await writtenFor(b)).toEqual(before);
    expect(before).toMatchObject({ orders: 1, holds: 2, couponUses: 0 });
    expect(await availability(b)).toEqual({ [a]: 1, [c]: 98 });
  });

  it("holds while PENDING, turns into sold on PAID and is released on cancel; a changed quota keeps its counts exact", async () => {
    const b = await brandWithProducts("EUR", [1000]);
    const p = b.products[0].id;
    const q = await createQuota(b, 10, [p]);
    const paid = await buy(b, line(p, 3));
    const cancelled = await buy(b, line(p, 2));
    expect(await quotaState(b, q.id)).toMatchObject({ sold: 0, held: 5, available: 5 });

    const attempt = await startPayment(paid.r.data.createOrder.id, paid.token);
    expect((await sendWebhook(providerEvent(attempt))).body.outcome).toBe("applied: order PAID");
    expect(await quotaState(b, q.id)).toMatchObject({ sold: 3, held: 2, available: 5 });

    // The product leaves the quota while an order holds seats in it: the release still gives back exactly those seats.
    await ok(UPDATE_QUOTA, { id: q.id, input: { productIds: [] } }, { token: b.owner.token });
    await ok(CancelOrderDocument, { orderId: cancelled.r.data.createOrder.id }, { token: cancelled.token });
    expect(await quotaState(b, q.id)).toEqual({ size: 10, sold: 3, held: 0, available: 7 });
    // Cancelling again changes nothing (FAILED_PRECONDITION), and the seats were released once.
    expect(codes(await gql(CancelOrderDocument, { orderId: cancelled.r.data.createOrder.id }, { token: cancelled.token }))).toEqual(["FAILED_PRECONDITION"]);
    expect(await quotaState(b, q.id)).toMatchObject({ sold: 3, held: 0 });
  });

  it("releases the seats of an order that expires (the sweeper)", async () => {
    const b = await brandWithProducts("EUR", [1000]);
    const p = b.products[0].id;
    const q = await createQuota(b, 2, [p]);
    const { r, token } = await buy(b, line(p, 2));
    expectSoldOut((await buy(b, line(p, 1))).r, p, 0);
    await moveDeadlineIntoPast(r.data.createOrder.id);
    // The sweep runs every 15 s on the API.
    await eventually(async () => expect((await statusOf(r.data.createOrder.id, token)).status).toBe("EXPIRED"), 40_000);
    expect(await quotaState(b, q.id)).toMatchObject({ sold: 0, held: 0, available: 2 });
    expect((await buy(b, line(p, 2))).r.errors).toBeUndefined();
  }, 60_000);
});

describe("a late PAID", () => {
  it("is honoured when the expired order's seats can be taken again: EXPIRED, then PAID, seats sold", async () => {
    const b = await brandWithProducts("EUR", [1000]);
    const p = b.products[0].id;
    const q = await createQuota(b, 1, [p]);
    const { r, token } = await buy(b, line(p, 1));
    const attempt = await startPayment(r.data.createOrder.id, token);
    await moveDeadlineIntoPast(r.data.createOrder.id);
    const hook = await sendWebhook(providerEvent(attempt));
    expect(hook.body.outcome).toBe("applied: order PAID (late payment honoured)");
    const order = await statusOf(r.data.createOrder.id, token);
    expect(order.status).toBe("PAID");
    expect(order.events.map((e) => e.to)).toEqual(["PENDING", "EXPIRED", "PAID"]);
    expect(order.paymentAttempts).toEqual([expect.objectContaining({ status: "PAID", flagged: false })]);
    expect(await quotaState(b, q.id)).toEqual({ size: 1, sold: 1, held: 0, available: 0 });
  });

  it("stays flagged when the seats went to someone else meanwhile: the order stays CANCELLED, nothing oversold", async () => {
    const b = await brandWithProducts("EUR", [1000]);
    const p = b.products[0].id;
    const q = await createQuota(b, 1, [p]);
    const first = await buy(b, line(p, 1));
    const attempt = await startPayment(first.r.data.createOrder.id, first.token);
    await ok(CancelOrderDocument, { orderId: first.r.data.createOrder.id }, { token: first.token });
    expect((await buy(b, line(p, 1))).r.errors).toBeUndefined(); // the seat is held by another buyer now
    const hook = await sendWebhook(providerEvent(attempt));
    expect(hook.body.outcome).toBe("flagged: order is CANCELLED, not payable; refunded automatically");
    expect((await statusOf(first.r.data.createOrder.id, first.token)).status).toBe("CANCELLED");
    expect(await quotaState(b, q.id)).toEqual({ size: 1, sold: 0, held: 1, available: 0 });
  });
});

describe("an account outside every brand", () => {
  it("reads no quota (NOT_FOUND)", async () => {
    const stranger = await signUp("stranger");
    const q = await createQuota(brand, 1, []);
    expect(codes(await gql(`query ($id: ID!) { quota(id: $id) { id } }`, { id: q.id }, { token: stranger.token }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(`query ($b: ID!) { quotas(brandId: $b) { totalCount } }`, { b: brand.brandId }, { token: stranger.token }))).toEqual(["NOT_FOUND"]);
  });
});
