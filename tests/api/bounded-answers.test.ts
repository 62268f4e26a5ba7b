import { beforeAll, describe, expect, it } from "vitest";
import { LIST_BOUNDS } from "../../src/http/list-bounds";
import { LARGEST_ANSWER, QUERY_LIMITS } from "../../src/http/limits";
import { codes, count, gql, ok } from "../helpers/api";
import { brandWithProducts, placeOrder, type BrandSetup } from "../helpers/fixtures";
import { AttemptToPayDocument, CreateProductDocument } from "../graphql/generated";
import { subscribe } from "../helpers/ws";

/**
 * Issue #12 item 4 on real data: a brand with the most products it can have and an order with the
 * most payment attempts. Documents that nest those lists are refused before they run (HTTP and
 * WebSocket); the worst accepted document stays under LARGEST_ANSWER.
 */
const MAX_PRODUCTS = LIST_BOUNDS["Brand.products"];
const MAX_ATTEMPTS = LIST_BOUNDS["Order.paymentAttempts"];
// 200 characters of a 3-byte character: the most bytes a name can hold.
const LONG_NAME = "€".repeat(200);
const LONG_URL = `https://shop.example.com/${"€".repeat(2_000 - 25)}`;

let brand: BrandSetup;
let order: { id: string };

beforeAll(async () => {
  brand = await brandWithProducts("EUR", [100, 200]);
  await ok(
    `mutation U($id: ID!, $url: String!, $name: String!) { updateBrand(id: $id, input: { couponWebhookUrl: $url, name: $name }) { id } }`,
    { id: brand.brandId, url: LONG_URL, name: LONG_NAME },
    { token: brand.owner.token },
  );
  order = await placeOrder(brand, brand.owner.token, { lines: [{ productId: brand.products[0].id, quantity: 1 }] });
}, 60_000);

describe("domain caps (fired concurrently, counted)", () => {
  it(`a brand gets at most ${MAX_PRODUCTS} products: the rest are FAILED_PRECONDITION`, async () => {
    const results = await Promise.all(
      Array.from({ length: MAX_PRODUCTS + 3 }, (_, i) =>
        gql(CreateProductDocument, { input: { brandId: brand.brandId, name: i % 2 ? LONG_NAME : `P${i}`, unitPrice: 100 + i } }, { token: brand.owner.token }),
      ),
    );
    const refused = results.filter((r) => codes(r)[0] === "FAILED_PRECONDITION");
    // The brand already had two products.
    expect(results.filter((r) => !r.errors).length).toBe(MAX_PRODUCTS - 2);
    expect(refused.length).toBe(5);
    expect(refused[0].errors![0].message).toMatch(/at most 100 products/);
    expect(await count(`select 1 from product where brand_id = $1`, [brand.brandId])).toBe(MAX_PRODUCTS);
  });

  it(`an order gets at most ${MAX_ATTEMPTS} payment attempts: the rest are FAILED_PRECONDITION`, async () => {
    const results = await Promise.all(
      Array.from({ length: MAX_ATTEMPTS + 5 }, () => gql(AttemptToPayDocument, { orderId: order.id }, { token: brand.owner.token })),
    );
    expect(results.filter((r) => !r.errors).length).toBe(MAX_ATTEMPTS);
    expect(results.filter((r) => codes(r)[0] === "FAILED_PRECONDITION").length).toBe(5);
    expect(await count(`select 1 from payment_attempt where order_id = $1`, [order.id])).toBe(MAX_ATTEMPTS);
  });
});

describe("nested lists on the max-data world", () => {
  const nestedProducts = () => `{ brand(id: "${brand.brandId}") { products { brand { products { brand { products { brand { products { id } } } } } } } } }`;
  const aliased = () =>
    `{ ${Array.from({ length: 15 }, (_, i) => `b${i}: brand(id: "${brand.brandId}") { products { brand { products { id } } } }`).join(" ")} }`;
  const nestedAttempts = () => `{ order(id: "${order.id}") { paymentAttempts { order { paymentAttempts { order { paymentAttempts { id } } } } } } }`;

  it("refuses the issue's document, its aliased variants and the payment-attempt loop with QUERY_TOO_COMPLEX over HTTP, before anything runs", async () => {
    for (const document of [nestedProducts(), aliased(), nestedAttempts()]) {
      const r = await gql(document, undefined, { token: brand.owner.token });
      expect(r.status).toBe(400);
      expect(codes(r)).toEqual(["QUERY_TOO_COMPLEX"]);
      expect(r.errors![0].extensions).toMatchObject({ limit: QUERY_LIMITS.maxCost });
      expect(r.data).toBeUndefined();
    }
  });

  it("refuses the same nesting in a subscription over WebSocket", async () => {
    const nested = `subscription ($b: ID!) { orderStatusChanged(brandId: $b) { order { brand { products { brand { products { brand { products { id } } } } } } } } }`;
    // 20 × 20 × 20 attempts: two levels (400) would be accepted.
    const loop = `subscription ($b: ID!) { orderStatusChanged(brandId: $b) { order { paymentAttempts { order { paymentAttempts { order { paymentAttempts { id } } } } } } } }`;
    for (const query of [nested, loop]) {
      const s = await subscribe(query, { b: brand.brandId }, { token: brand.owner.token });
      await s.done;
      expect(s.events[0].errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
      await s.close();
    }
  });

  it(`the worst accepted document stays under the stated bound (${LARGEST_ANSWER.fields} fields, ${LARGEST_ANSWER.dataBytes / 1e6} MB)`, async () => {
    // Per product: its name (600 bytes) and its brand with six 2,000-character URLs (6 KB each) —
    // the most bytes per unit of cost the schema offers; 100 products cost 4,902.
    const urls = ["couponWebhookUrl", ...Array.from({ length: 5 }, (_, i) => `u${i}: couponWebhookUrl`)].join(" ");
    const worst = `{ brand(id: "${brand.brandId}") { products { id name unitPrice brand { ${urls} name webhookSecret currency } } } }`;
    const started = performance.now();
    const r = await gql(worst, undefined, { token: brand.owner.token });
    const ms = Math.round(performance.now() - started);
    expect(codes(r)).toEqual([]);
    expect(r.data.brand.products).toHaveLength(MAX_PRODUCTS);
    const bytes = Buffer.byteLength(JSON.stringify(r.data));
    const fields = countFields(r.data);
    console.log(
      `[bounds] worst accepted document: ${fields} fields, ${(bytes / 1e6).toFixed(2)} MB of data, ${ms} ms (bound ${LARGEST_ANSWER.fields} fields, ${LARGEST_ANSWER.dataBytes / 1e6} MB)`,
    );
    expect(bytes).toBeGreaterThan(3_000_000); // it is the big one the bound is about
    expect(bytes).toBeLessThanOrEqual(LARGEST_ANSWER.dataBytes);
    expect(fields).toBeLessThanOrEqual(LARGEST_ANSWER.fields);
    // One URL more per brand is over the limit.
    const over = worst.replace("name webhookSecret", "u5: couponWebhookUrl name webhookSecret");
    expect(codes(await gql(over, undefined, { token: brand.owner.token }))).toEqual(["QUERY_TOO_COMPLEX"]);
  });

  it("the most fields an accepted document gets stay under the bound too", async () => {
    // Every cheap field of a product and its brand: 1 unit each.
    const fieldsDoc = `{ brand(id: "${brand.brandId}") { products { id name unitPrice currency __typename brand { id name currency webhookSecret __typename } } } }`;
    const r = await gql(fieldsDoc, undefined, { token: brand.owner.token });
    expect(codes(r)).toEqual([]);
    expect(countFields(r.data)).toBeLessThanOrEqual(LARGEST_ANSWER.fields);
    expect(countFields(r.data)).toBeGreaterThan(1_000);
  });
});

/** Every key of the answer is one field. */
function countFields(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countFields(v), 0);
  if (value && typeof value === "object") return Object.values(value).reduce((n: number, v) => n + 1 + countFields(v), 0);
  return 0;
}
