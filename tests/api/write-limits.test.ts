import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  AttemptToPayDocument,
  CancelOrderDocument,
  CreateBrandDocument,
  CreateDiscountDocument,
  CreateOrderWithCouponDocument,
  CreateProductDocument,
  DeleteDiscountDocument,
} from "../graphql/generated";
import { COUPON_FAILURES } from "../../src/rate-limit/rules";
import { count, db, gql, ok, testClientIp, type GraphQLResult } from "../helpers/api";
import { anonymous, apiKey, brandWithProducts, placeOrder, signUp, type BrandSetup } from "../helpers/fixtures";

// Limits on writes (src/rate-limit/rules.ts), coupon holds and code guessing (#12 item 5). Each test
// presents its own client addresses (testClientIp) so budgets do not leak between tests.

const from = (ip: string, token?: string) => ({ token, headers: { "x-forwarded-for": ip } });
const codeOf = (r: GraphQLResult<unknown>) => r.errors?.[0]?.extensions?.code ?? "OK";
const tally = (results: GraphQLResult<unknown>[]) => {
  const t: Record<string, number> = {};
  for (const r of results) t[codeOf(r)] = (t[codeOf(r)] ?? 0) + 1;
  return t;
};
const scopesOf = (results: GraphQLResult<unknown>[]) => [
  ...new Set(results.filter((r) => codeOf(r) === "RATE_LIMITED").map((r) => (r.errors![0].extensions!.limit as { scope: string }).scope)),
];

const orderInput = (brand: BrandSetup, couponCode: string | null = null) => ({
  brandId: brand.brandId,
  lines: [{ productId: brand.products[0].id, quantity: 1 }],
  buyer: { name: "Ada", email: "ada@example.test" },
  couponCode,
});
const createOrder = (brand: BrandSetup, auth: { token?: string; headers: Record<string, string> }, couponCode: string | null = null) =>
  gql(CreateOrderWithCouponDocument, { input: orderInput(brand, couponCode) }, auth);

async function brandWithCode(usageLimit = 100) {
  const brand = await brandWithProducts("EUR", [1000]);
  const code = `CODE-${randomUUID().slice(0, 6).toUpperCase()}`;
  const input = { brandId: brand.brandId, name: "Promo", type: "PERCENT" as const, amount: 10, usageLimit, fixedCode: code };
  const { createDiscount } = await ok(CreateDiscountDocument, { input }, { token: brand.owner.token });
  return { brand, code, discountId: createDiscount.id };
}

describe("limits on writes", () => {
  it("createOrder: exactly 60 of 65 concurrent orders by one session pass; the rest are RATE_LIMITED (429) and create nothing", async () => {
    const brand = await brandWithProducts();
    const session = await anonymous();
    const results = await Promise.all(Array.from({ length: 65 }, () => createOrder(brand, from(testClientIp(), session.token))));
    expect(tally(results)).toEqual({ OK: 60, RATE_LIMITED: 5 });
    expect(scopesOf(results)).toEqual(["user"]);
    expect(results.find((r) => codeOf(r) === "RATE_LIMITED")!.status).toBe(429);
    expect(await count("select 1 from orders where brand_id = $1", [brand.brandId])).toBe(60);
  });

  it("createOrder: exactly 300 of 320 orders by 16 sessions from one address (40 at a time) pass; the brand's API key there is not held back", async () => {
    const brand = await brandWithProducts();
    const sessions = await Promise.all(Array.from({ length: 16 }, () => anonymous()));
    const ip = testClientIp();
    // 40 at a time (2 cores, other test files running): the limit is exact across the batches.
    const calls = sessions.flatMap((s) => Array.from({ length: 20 }, () => () => createOrder(brand, from(ip, s.token))));
    const results: GraphQLResult<unknown>[] = [];
    for (let i = 0; i < calls.length; i += 40) results.push(...(await Promise.all(calls.slice(i, i + 40).map((call) => call()))));
    expect(tally(results)).toEqual({ OK: 300, RATE_LIMITED: 20 });
    expect(scopesOf(results)).toEqual(["ip"]);
    const key = await apiKey(brand);
    const byKey = await gql(CreateOrderWithCouponDocument, { input: orderInput(brand) }, { apiKey: key, headers: { "x-forwarded-for": ip } });
    expect(codeOf(byKey)).toBe("OK");
    expect(await count("select 1 from orders where brand_id = $1", [brand.brandId])).toBe(301);
  });

  it("attemptToPayForOrder: exactly 60 of 65 concurrent attempts by one customer pass", async () => {
    const brand = await brandWithProducts();
    const customer = await signUp("payer");
    // Spread over 4 orders: an order takes at most 20 attempts (list-bounds.ts).
    const orders: Awaited<ReturnType<typeof placeOrder>>[] = [];
    for (let i = 0; i < 4; i++) orders.push(await placeOrder(brand, customer.token));
    const results = await Promise.all(
      Array.from({ length: 65 }, (_, i) => gql(AttemptToPayDocument, { orderId: orders[i % 4].id }, from(testClientIp(), customer.token))),
    );
    expect(tally(results)).toEqual({ OK: 60, RATE_LIMITED: 5 });
    expect(await count("select 1 from payment_attempt where order_id = any($1)", [orders.map((o) => o.id)])).toBe(60);
  });

  it("createBrand: exactly 10 of 15 concurrent brands by one account pass", async () => {
    const owner = await signUp("founder");
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => gql(CreateBrandDocument, { input: { name: `Brand ${i}`, currency: "EUR" } }, from(testClientIp(), owner.token))),
    );
    expect(tally(results)).toEqual({ OK: 10, RATE_LIMITED: 5 });
    expect(await count("select 1 from brand_member where user_id = $1", [owner.userId])).toBe(10);
  });

  it("createProduct: exactly 300 of 310 products by one account (50 at a time) pass", async () => {
    const brand = await brandWithProducts("EUR", []);
    // Spread over 4 brands of the account: a brand has at most 100 products (list-bounds.ts).
    const brandIds = [brand.brandId];
    for (let i = 1; i < 4; i++) {
      const { createBrand } = await ok(CreateBrandDocument, { input: { name: `More ${i}`, currency: "EUR" } }, from(testClientIp(), brand.owner.token));
      brandIds.push(createBrand.id);
    }
    const results: GraphQLResult<unknown>[] = [];
    for (let b = 0; b < 310; b += 50) {
      const batch = Array.from({ length: Math.min(50, 310 - b) }, (_, i) =>
        gql(CreateProductDocument, { input: { brandId: brandIds[(b + i) % 4], name: `P${b + i}`, unitPrice: 100 } }, from(testClientIp(), brand.owner.token)),
      );
      results.push(...(await Promise.all(batch)));
    }
    expect(tally(results)).toEqual({ OK: 300, RATE_LIMITED: 10 });
    expect(await count("select 1 from product where brand_id = any($1)", [brandIds])).toBe(300);
  });
});

describe("coupon hoarding", () => {
  const held = (brand: BrandSetup, code: string) =>
    count("select 1 from orders where brand_id = $1 and coupon_code = $2 and status = 'PENDING'", [brand.brandId, code]);

  it("one buyer holds at most 1 use of a code: of 10 concurrent orders with it, exactly 1 is placed; after cancelling, the buyer may use it again", async () => {
    const { brand, code } = await brandWithCode(100);
    const session = await anonymous();
    // 10 at once, the caller's budget of code tries (COUPON_FAILURES.perCaller): a try in flight
    // holds a place in it until the code is accepted or refused as held, so with more at once the
    // 11th may be RATE_LIMITED, depending on how the tries overlap (that budget: "10 unusable codes" below).
    const results = await Promise.all(
      Array.from({ length: COUPON_FAILURES.perCaller.max }, () => createOrder(brand, from(testClientIp(), session.token), code)),
    );
    expect(tally(results)).toEqual({ OK: 1, BAD_USER_INPUT: COUPON_FAILURES.perCaller.max - 1 });
    for (const r of results.filter((r) => r.errors)) {
      expect(r.errors![0]).toMatchObject({
        message: "input.couponCode: is already held by your unpaid order: pay or cancel that order first",
        extensions: { field: "input.couponCode" },
      });
    }
    expect(await held(brand, code)).toBe(1);
    expect((await db().query("select uses from coupon where brand_id = $1 and code = $2", [brand.brandId, code])).rows[0].uses).toBe(1);
    // Without the code the buyer orders freely; once the held order is cancelled, the code again.
    expect(codeOf(await createOrder(brand, from(testClientIp(), session.token)))).toBe("OK");
    const placed = results.find((r) => !r.errors)!.data!.createOrder;
    await ok(CancelOrderDocument, { orderId: placed.id }, { token: session.token });
    expect(codeOf(await createOrder(brand, from(testClientIp(), session.token), code))).toBe("OK");
    expect(await held(brand, code)).toBe(1);
  });

  it("staff of the brand (a box office) may hold several uses", async () => {
    const { brand, code } = await brandWithCode(100);
    const results = await Promise.all(Array.from({ length: 3 }, () => createOrder(brand, from(testClientIp(), brand.owner.token), code)));
    expect(tally(results)).toEqual({ OK: 3 });
  });

  it("many sessions from one address hold at most 60 uses: the 61st order with a code is RATE_LIMITED", async () => {
    const { brand, code } = await brandWithCode(100);
    const sessions = await Promise.all(Array.from({ length: 61 }, () => anonymous()));
    const ip = testClientIp();
    // In batches of 20: a code try in flight holds a place in the address's budget of 30 unusable
    // codes until it is accepted, so 61 at once would also meet that limit.
    const results: GraphQLResult<unknown>[] = [];
    for (let i = 0; i < sessions.length; i += 20) {
      results.push(...(await Promise.all(sessions.slice(i, i + 20).map((s) => createOrder(brand, from(ip, s.token), code)))));
    }
    expect(scopesOf(results)).toEqual(["ip-coupon"]);
    expect(tally(results)).toEqual({ OK: 60, RATE_LIMITED: 1 });
    expect(await held(brand, code)).toBe(60);
    // Orders without a code from that address are not affected.
    expect(codeOf(await createOrder(brand, from(ip, sessions[0].token)))).toBe("OK");
  });
});

describe("code guessing", () => {
  it("a customer gets the same error for an unknown, malformed, expired, deleted and used-up code; staff of the brand see the reason", async () => {
    const usedUp = await brandWithCode(1);
    const expiring = await brandWithCode();
    const deleted = await brandWithCode();
    await ok(CreateOrderWithCouponDocument, { input: orderInput(usedUp.brand, usedUp.code) }, from(testClientIp(), (await anonymous()).token));
    await db().query("update discount set expires_at = now() - interval '1 second' where id = $1", [expiring.discountId]); // set-up only: no API moves time
    await ok(DeleteDiscountDocument, { id: deleted.discountId }, { token: deleted.brand.owner.token });
    const cases: [BrandSetup, string, RegExp][] = [
      [usedUp.brand, "NO-SUCH-CODE", /not a valid coupon code for this brand/],
      [usedUp.brand, "not a code!", /is not a valid coupon code/],
      [expiring.brand, expiring.code, /has expired/],
      [deleted.brand, deleted.code, /not a valid coupon code for this brand/],
      [usedUp.brand, usedUp.code, /has no uses left/],
    ];
    const asCustomer = await Promise.all(cases.map(async ([brand, code]) => createOrder(brand, from(testClientIp(), (await anonymous()).token), code)));
    const errors = asCustomer.map((r) => JSON.stringify({ status: r.status, errors: r.errors, data: r.data }));
    expect(new Set(errors).size).toBe(1);
    expect(asCustomer[0].errors).toEqual([
      {
        message: "input.couponCode: cannot be used (unknown, expired or used up)",
        locations: expect.any(Array),
        path: ["createOrder"],
        extensions: { code: "BAD_USER_INPUT", field: "input.couponCode" },
      },
    ]);
    for (const [brand, code, reason] of cases) {
      const r = await createOrder(brand, from(testClientIp(), brand.owner.token), code);
      expect(codeOf(r)).toBe("BAD_USER_INPUT");
      expect(r.errors![0].message).toMatch(reason);
    }
  });

  it("10 unusable codes per 10 minutes per caller: of 15 concurrent guesses exactly 10 are answered; then even a good code is RATE_LIMITED", async () => {
    const { brand, code } = await brandWithCode();
    const session = await anonymous();
    const guesses = await Promise.all(Array.from({ length: 15 }, (_, i) => createOrder(brand, from(testClientIp(), session.token), `GUESS-${i}`)));
    expect(tally(guesses)).toEqual({ BAD_USER_INPUT: 10, RATE_LIMITED: 5 });
    expect(scopesOf(guesses)).toEqual(["user"]);
    expect(codeOf(await createOrder(brand, from(testClientIp(), session.token), code))).toBe("RATE_LIMITED");
    expect(await count("select 1 from orders where brand_id = $1", [brand.brandId])).toBe(0);
  });

  it("30 unusable codes per 10 minutes per address, across sessions", async () => {
    const { brand } = await brandWithCode();
    const sessions = await Promise.all(Array.from({ length: 4 }, () => anonymous()));
    const ip = testClientIp();
    const guesses = await Promise.all(sessions.flatMap((s) => Array.from({ length: 10 }, (_, i) => createOrder(brand, from(ip, s.token), `GUESS-${i}`))));
    expect(tally(guesses)).toEqual({ BAD_USER_INPUT: 30, RATE_LIMITED: 10 });
    expect(scopesOf(guesses)).toEqual(["ip"]);
  });

  it("accepted codes do not count: 12 good codes, then still 10 unusable ones are answered", async () => {
    const { brand, code } = await brandWithCode();
    const ip = testClientIp();
    for (let i = 0; i < 12; i++) expect(codeOf(await createOrder(brand, from(ip, brand.owner.token), code))).toBe("OK");
    const guesses = await Promise.all(Array.from({ length: 11 }, (_, i) => createOrder(brand, from(ip, brand.owner.token), `GUESS-${i}`)));
    expect(tally(guesses)).toEqual({ BAD_USER_INPUT: 10, RATE_LIMITED: 1 });
  });
});
