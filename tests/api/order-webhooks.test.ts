import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../src/services/payment/signature";
import { codes, count, db, gql, ok } from "../helpers/api";
import { startFakeShop, type ShopRequest } from "../helpers/fake-shop";
import { brandWithProducts, member, payOrder, placeOrder, signUp, type Account, type BrandSetup } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { CancelOrderDocument, FulfillOrderDocument } from "../graphql/generated";

// Issue #16: order events POSTed to Brand.orderWebhookUrl through the coupon-delivery machinery.

const UPDATE = `mutation ($id: ID!, $input: UpdateBrandInput!) { updateBrand(id: $id, input: $input) { id orderWebhookUrl } }`;
const DELIVERIES = `query ($id: ID!) { order(id: $id) { id webhookDeliveries { id event url status attempts lastError deliveredAt tries { statusCode error } } } }`;

let shop: Awaited<ReturnType<typeof startFakeShop>>;
let brand: BrandSetup;
let customer: Account;
beforeAll(async () => {
  shop = await startFakeShop();
  [brand, customer] = await Promise.all([brandWithProducts(), signUp("webhook-buyer")]);
  await ok(UPDATE, { id: brand.brandId, input: { orderWebhookUrl: shop.url } }, { token: brand.owner.token });
});
afterAll(async () => shop?.close());

const sentFor = (orderId: string) => shop.requests.filter((r) => r.body?.data?.order?.id === orderId);
/** Polls until the shop has accepted `type` for the order; returns that request. */
const accepted = (orderId: string, type: string) =>
  eventually(async () => {
    const hit = sentFor(orderId).find((r) => r.body.type === type && r.answeredWith === 200);
    if (!hit) throw new Error(`no accepted ${type} for ${orderId} yet: ${JSON.stringify(sentFor(orderId).map((r) => [r.body.type, r.answeredWith]))}`);
    return hit;
  }, 40_000);

function expectSigned(call: ShopRequest) {
  const signature = call.headers["orderline-signature"] as string;
  expect(verifySignature(brand.webhookSecret, signature, call.raw)).toMatchObject({ ok: true });
  expect(verifySignature("whsec_not_the_brand_secret_000000000000", signature, call.raw)).toMatchObject({ ok: false });
  expect(call.headers["orderline-delivery"]).toBe(call.body.id);
}

describe("order webhooks", () => {
  it("sends order.paid and order.fulfilled, each signed with the brand's secret, with the order as the API shows it", async () => {
    const order = await placeOrder(brand, customer.token);
    await payOrder(order, customer.token);
    const paid = await accepted(order.id, "order.paid");
    expectSigned(paid);
    expect(paid.body).toMatchObject({
      type: "order.paid",
      data: { order: { id: order.id, status: "PAID", total: order.total, currency: "EUR", brandId: brand.brandId, buyer: { email: "ada@example.test" } } },
    });
    expect(Object.keys(paid.body).sort()).toEqual(["createdAt", "data", "id", "type"]);
    await ok(FulfillOrderDocument, { orderId: order.id }, { token: brand.owner.token });
    const fulfilled = await accepted(order.id, "order.fulfilled");
    expectSigned(fulfilled);
    expect(fulfilled.body.data.order.status).toBe("FULFILLED");
    expect(fulfilled.body.id).not.toBe(paid.body.id);
  });

  it("sends order.cancelled for a cancelled order and order.expired for one the sweeper ends", async () => {
    const cancelled = await placeOrder(brand, customer.token);
    await ok(CancelOrderDocument, { orderId: cancelled.id }, { token: customer.token });
    expect((await accepted(cancelled.id, "order.cancelled")).body.data.order.status).toBe("CANCELLED");

    const expiring = await placeOrder(brand, customer.token);
    // No API moves time: the deadline is moved into the past; the sweeper (every 15 s) ends it.
    await db().query("update orders set expires_at = now() - interval '1 second' where id = $1", [expiring.id]);
    const expired = await accepted(expiring.id, "order.expired");
    expectSigned(expired);
    expect(expired.body.data.order.status).toBe("EXPIRED");
    expect(sentFor(expiring.id).map((r) => r.body.type)).toEqual(["order.expired"]);
  });

  it("sends refund.succeeded for each successful refund and order.refunded once the refunds reach the total", async () => {
    const order = await placeOrder(brand, customer.token);
    await payOrder(order, customer.token);
    await accepted(order.id, "order.paid");
    const REFUND = `mutation ($input: RefundOrderInput!) { refundOrder(input: $input) { id } }`;
    // The development provider pays refunds back in-process: two partial refunds, the second one the rest.
    const first = (await ok(REFUND, { input: { orderId: order.id, amount: 100 } }, { token: brand.owner.token })).refundOrder.id;
    const partial = await accepted(order.id, "refund.succeeded");
    expectSigned(partial);
    expect(partial.body.data.refund).toMatchObject({ id: first, amount: 100, source: "BRAND" });
    expect(partial.body.data.order.status).toBe("PAID");
    await ok(REFUND, { input: { orderId: order.id } }, { token: brand.owner.token });
    const refunded = await accepted(order.id, "order.refunded");
    expect(refunded.body.data.order.status).toBe("REFUNDED");
    await eventually(async () => expect(sentFor(order.id).filter((r) => r.body.type === "refund.succeeded")).toHaveLength(2));
    expect(sentFor(order.id).filter((r) => r.body.type === "order.refunded")).toHaveLength(1);
  });

  it("retries after a 500 until the shop accepts, every try recorded and readable by ORGANIZER+ only", async () => {
    const order = await placeOrder(brand, customer.token);
    shop.answer(order.id, 500, 500);
    await payOrder(order, customer.token);
    const delivered = await accepted(order.id, "order.paid");
    const tries = sentFor(order.id).filter((r) => r.body.type === "order.paid");
    expect(tries.map((r) => r.answeredWith)).toEqual([500, 500, 200]);
    expect(new Set(tries.map((r) => r.raw.toString()))).toEqual(new Set([delivered.raw.toString()])); // the same bytes every time

    const organizer = await member(brand, "ORGANIZER");
    const seen = await eventually(async () => {
      const { order: o } = await ok(DELIVERIES, { id: order.id }, { token: organizer.token });
      expect(o.webhookDeliveries[0]?.status).toBe("DELIVERED");
      return o;
    });
    expect(seen.webhookDeliveries).toEqual([
      {
        id: delivered.body.id,
        event: "order.paid",
        url: shop.url,
        status: "DELIVERED",
        attempts: 3,
        lastError: null,
        deliveredAt: expect.any(String),
        tries: [
          { statusCode: 500, error: "HTTP 500" },
          { statusCode: 500, error: "HTTP 500" },
          { statusCode: 200, error: null },
        ],
      },
    ]);
    // The brand's key counts as ORGANIZER; a COORGANIZER and the customer see the order, not its deliveries.
    const coorganizer = await member(brand, "COORGANIZER");
    for (const token of [coorganizer.token, customer.token]) {
      const r = await gql(DELIVERIES, { id: order.id }, { token });
      expect(codes(r)).toEqual(["FORBIDDEN"]);
    }
  });

  it("sends nothing for a change whose transaction is rolled back", async () => {
    const doomed = await placeOrder(brand, customer.token);
    // The cancellation's transaction fails after transition() has queued the event: a trigger
    // refuses this one order's new status at flush (the database's own failure, no mock).
    const fn = `fail_cancel_${doomed.id.replace(/-/g, "")}`;
    await db().query(`create function ${fn}() returns trigger language plpgsql as $$ begin
        if new.id = '${doomed.id}' and new.status = 'CANCELLED' then raise exception 'refused by test'; end if; return new; end $$`);
    await db().query(`create trigger ${fn} before update on orders for each row execute function ${fn}()`);
    try {
      const r = await gql(`mutation ($id: ID!) { cancelOrder(orderId: $id) { id status } }`, { id: doomed.id }, { token: customer.token });
      expect(codes(r)).toEqual(["INTERNAL_SERVER_ERROR"]);
    } finally {
      await db().query(`drop trigger ${fn} on orders`);
      await db().query(`drop function ${fn}()`);
    }
    // A later change of another order is delivered: the worker has run past anything queued before.
    const later = await placeOrder(brand, customer.token);
    await ok(CancelOrderDocument, { orderId: later.id }, { token: customer.token });
    await accepted(later.id, "order.cancelled");
    expect(await count("select 1 from webhook_delivery where order_id = $1", [doomed.id])).toBe(0);
    expect(await count(`select 1 from order_event where order_id = $1 and "to" = 'CANCELLED'`, [doomed.id])).toBe(0);
    expect(sentFor(doomed.id)).toEqual([]);
    const { order } = await ok(`query ($id: ID!) { order(id: $id) { status } }`, { id: doomed.id }, { token: customer.token });
    expect(order.status).toBe("PENDING");
  });

  it("sends nothing when the brand has no orderWebhookUrl, and removing it ('') cancels pending deliveries", async () => {
    const other = await brandWithProducts();
    const order = await placeOrder(other, customer.token);
    await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    expect(await count("select 1 from webhook_delivery where order_id = $1", [order.id])).toBe(0);

    await ok(UPDATE, { id: other.brandId, input: { orderWebhookUrl: shop.url } }, { token: other.owner.token });
    const failing = await placeOrder(other, customer.token);
    shop.answer(failing.id, ...Array(50).fill(500));
    await ok(CancelOrderDocument, { orderId: failing.id }, { token: customer.token });
    await eventually(async () => expect(sentFor(failing.id).length).toBeGreaterThanOrEqual(1));
    const { updateBrand } = await ok(UPDATE, { id: other.brandId, input: { orderWebhookUrl: "" } }, { token: other.owner.token });
    expect(updateBrand.orderWebhookUrl).toBeNull();
    await eventually(async () => {
      const { rows } = await db().query("select status from webhook_delivery where order_id = $1", [failing.id]);
      expect(rows.map((r) => r.status)).toEqual(["CANCELLED"]);
    });
  });

  it("validates the URL like couponWebhookUrl: http(s) only, no private addresses, on create and update", async () => {
    for (const url of [
      "ftp://shop.example/hooks",
      "not a url",
      "http://10.1.2.3/hooks",
      "http://169.254.169.254/latest",
      `https://shop.example/${"x".repeat(2000)}`,
    ]) {
      const r = await gql(UPDATE, { id: brand.brandId, input: { orderWebhookUrl: url } }, { token: brand.owner.token });
      expect(codes(r), url).toEqual(["BAD_USER_INPUT"]);
      expect(r.errors![0].extensions?.field).toBe("input.orderWebhookUrl");
      const c = await gql(
        `mutation ($input: CreateBrandInput!) { createBrand(input: $input) { id } }`,
        { input: { name: "Bad hook", currency: "EUR", orderWebhookUrl: url } },
        { token: customer.token },
      );
      expect(codes(c), url).toEqual(["BAD_USER_INPUT"]);
      expect(c.errors![0].extensions?.field).toBe("input.orderWebhookUrl");
    }
    const { brand: b } = await ok(`query ($id: ID!) { brand(id: $id) { orderWebhookUrl } }`, { id: brand.brandId }, { token: brand.owner.token });
    expect(b.orderWebhookUrl).toBe(shop.url);
    // ORGANIZER+ reads it; a COORGANIZER is refused.
    const coorganizer = await member(brand, "COORGANIZER");
    const r = await gql(`query ($id: ID!) { brand(id: $id) { orderWebhookUrl } }`, { id: brand.brandId }, { token: coorganizer.token });
    expect(codes(r)).toEqual(["FORBIDDEN"]);
  });
});
