import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AttemptToPayOnceDocument, CancelOrderDocument, CreateOrderOnceDocument } from "../graphql/generated";
import { count, db, gql, ok } from "../helpers/api";
import { anonymous, apiKey, brandWithProducts, orderInput, placeOrder, type BrandSetup } from "../helpers/fixtures";
import { createQuota, quotaState } from "../helpers/quotas";

/**
 * Idempotency keys on createOrder and attemptToPayForOrder (src/services/idempotency.ts): the
 * same caller with the same key gets the first result back and no second effect, also when the
 * calls race; keys are per caller; a failed call leaves its key free; entries live 24 h.
 */

const key = () => `key-${randomUUID()}`;
const ordersOf = (brand: BrandSetup) => count("select 1 from orders where brand_id = $1", [brand.brandId]);
const create = (brand: BrandSetup, token: string, idempotencyKey: string | null, overrides = {}) =>
  gql(CreateOrderOnceDocument, { input: { ...orderInput(brand, overrides), idempotencyKey } }, { token });

describe("idempotency keys on createOrder", () => {
  it("10 concurrent calls with one key make exactly one order, and every caller gets its id", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const k = key();
    const results = await Promise.all(Array.from({ length: 10 }, () => create(brand, token, k)));
    expect(results.map((r) => r.errors)).toEqual(Array(10).fill(undefined));
    const ids = new Set(results.map((r) => r.data!.createOrder.id));
    expect(ids.size).toBe(1);
    expect(await ordersOf(brand)).toBe(1);
    const [id] = ids;
    expect(await count("select 1 from order_event where order_id = $1", [id])).toBe(1);
    expect(await count("select 1 from idempotency_key where key = $1", [k])).toBe(1);
  });

  it("calls with one key get the order that took the last seats, not SOLD_OUT, also when they race", async () => {
    const brand = await brandWithProducts();
    const quota = await createQuota(brand, 2, [brand.products[0].id]);
    const { token } = await anonymous();
    const k = key();
    const lines = [{ productId: brand.products[0].id, quantity: 2 }];
    const results = await Promise.all(Array.from({ length: 20 }, () => create(brand, token, k, { lines })));
    expect(results.map((r) => r.errors?.[0].extensions?.code ?? "ok")).toEqual(Array(20).fill("ok"));
    expect(new Set(results.map((r) => r.data!.createOrder.id)).size).toBe(1);
    expect((await create(brand, token, k, { lines })).data!.createOrder.id).toBe(results[0].data!.createOrder.id);
    expect(await quotaState(brand, quota.id)).toMatchObject({ held: 2, sold: 0, available: 0 });
    expect(await ordersOf(brand)).toBe(1);
  });

  it("a replay returns the same order in its current state, with no second effect", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const k = key();
    const first = (await create(brand, token, k)).data!.createOrder;
    await ok(CancelOrderDocument, { orderId: first.id }, { token });
    const again = await create(brand, token, k);
    expect(again.errors).toBeUndefined();
    expect(again.data!.createOrder).toMatchObject({ id: first.id, number: first.number, status: "CANCELLED" });
    expect(await ordersOf(brand)).toBe(1);
  });

  it("the same key with other arguments is BAD_USER_INPUT naming input.idempotencyKey, and makes nothing", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const k = key();
    await create(brand, token, k);
    const other = await create(brand, token, k, { buyer: { name: "Someone Else", email: "else@example.test" } });
    expect(other.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.idempotencyKey" });
    expect(other.errors?.[0].message).not.toMatch(/sql|select|insert|idempotency_key/i);
    expect(await ordersOf(brand)).toBe(1);
    // Omitting an optional field and sending null are the same arguments.
    const same = await gql(CreateOrderOnceDocument, { input: { ...orderInput(brand), couponCode: null, idempotencyKey: k } }, { token });
    expect(same.errors).toBeUndefined();
  });

  it("a key whose first call failed (before or inside the transaction) is free for the next call", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const k = key();
    const noSuchProduct = await create(brand, token, k, { lines: [{ productId: randomUUID(), quantity: 1 }] });
    expect(noSuchProduct.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    // The coupon is refused inside the order's transaction, after the key was claimed: rolled back with it.
    const badCode = await create(brand, token, k, { couponCode: "NO-SUCH-CODE" });
    expect(badCode.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(await count("select 1 from idempotency_key where key = $1", [k])).toBe(0);
    const works = await create(brand, token, k);
    expect(works.errors).toBeUndefined();
    expect(await ordersOf(brand)).toBe(1);
  });

  it("keys are per caller: another session or the brand's key with the same key gets its own order", async () => {
    const brand = await brandWithProducts();
    const [a, b] = await Promise.all([anonymous(), anonymous()]);
    const secret = await apiKey(brand);
    const k = key();
    const first = (await create(brand, a.token, k)).data!.createOrder;
    const theirs = (await create(brand, b.token, k)).data!.createOrder;
    const byKey = (await gql(CreateOrderOnceDocument, { input: { ...orderInput(brand), idempotencyKey: k } }, { apiKey: secret })).data!.createOrder;
    expect(new Set([first.id, theirs.id, byKey.id]).size).toBe(3);
    expect((await create(brand, a.token, k)).data!.createOrder.id).toBe(first.id);
    expect(await ordersOf(brand)).toBe(3);
  });

  it("without a key nothing changes: two calls make two orders", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const [x, y] = await Promise.all([create(brand, token, null), create(brand, token, null)]);
    expect(x.data!.createOrder.id).not.toBe(y.data!.createOrder.id);
    expect(await ordersOf(brand)).toBe(2);
  });

  it("an entry lives 24 h: after that the same key makes a new order", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const k = key();
    const first = (await create(brand, token, k)).data!.createOrder;
    await db().query("update idempotency_key set created_at = created_at - interval '24 hours 1 second' where key = $1", [k]);
    const later = (await create(brand, token, k)).data!.createOrder;
    expect(later.id).not.toBe(first.id);
    expect(await ordersOf(brand)).toBe(2);
    expect((await create(brand, token, k)).data!.createOrder.id).toBe(later.id);
    expect(await count("select 1 from idempotency_key where key = $1", [k])).toBe(1);
  });

  it("checks the key: 1 to 255 printable ASCII characters", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    for (const bad of ["", "x".repeat(256), "café", "tab\there", "line\n"]) {
      const r = await create(brand, token, bad);
      expect(r.errors?.[0].extensions, JSON.stringify(bad)).toMatchObject({ code: "BAD_USER_INPUT", field: "input.idempotencyKey" });
    }
    expect(await ordersOf(brand)).toBe(0);
    expect((await create(brand, token, "~".repeat(255))).errors).toBeUndefined();
    // Without credentials there is no caller to keep a key for.
    const nobody = await gql(CreateOrderOnceDocument, { input: { ...orderInput(brand), idempotencyKey: key() } });
    expect(nobody.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("idempotency keys on attemptToPayForOrder", () => {
  const pay = (orderId: string, token: string, idempotencyKey: string | null) => gql(AttemptToPayOnceDocument, { orderId, idempotencyKey }, { token });
  const attemptsOf = (orderId: string) => count("select 1 from payment_attempt where order_id = $1", [orderId]);

  it("10 concurrent calls with one key make exactly one attempt, and every caller gets its id", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const order = await placeOrder(brand, token);
    const k = key();
    const results = await Promise.all(Array.from({ length: 10 }, () => pay(order.id, token, k)));
    expect(results.map((r) => r.errors)).toEqual(Array(10).fill(undefined));
    expect(new Set(results.map((r) => r.data!.attemptToPayForOrder.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.data!.attemptToPayForOrder.externalId)).size).toBe(1);
    expect(await attemptsOf(order.id)).toBe(1);
  });

  it("the same key for another order is BAD_USER_INPUT naming idempotencyKey; other callers and no key are unaffected", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const [o1, o2] = [await placeOrder(brand, token), await placeOrder(brand, token)];
    const k = key();
    const first = (await pay(o1.id, token, k)).data!.attemptToPayForOrder;
    const other = await pay(o2.id, token, k);
    expect(other.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "idempotencyKey" });
    expect(await attemptsOf(o2.id)).toBe(0);
    expect((await pay(o1.id, token, k)).data!.attemptToPayForOrder.id).toBe(first.id);
    // The brand's key paying the same order with the same key starts its own attempt.
    const byKey = await gql(AttemptToPayOnceDocument, { orderId: o1.id, idempotencyKey: k }, { apiKey: await apiKey(brand) });
    expect(byKey.data!.attemptToPayForOrder.id).not.toBe(first.id);
    const [x, y] = await Promise.all([pay(o1.id, token, null), pay(o1.id, token, null)]);
    expect(x.data!.attemptToPayForOrder.id).not.toBe(y.data!.attemptToPayForOrder.id);
    expect(await attemptsOf(o1.id)).toBe(4);
  });

  it("a key whose first call was refused (order cancelled) leaves no entry", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const order = await placeOrder(brand, token);
    await ok(CancelOrderDocument, { orderId: order.id }, { token });
    const k = key();
    const refused = await pay(order.id, token, k);
    expect(refused.errors?.[0].extensions?.code).toBe("FAILED_PRECONDITION");
    expect(await count("select 1 from idempotency_key where key = $1", [k])).toBe(0);
  });
});
