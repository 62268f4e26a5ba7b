import { describe, expect, it } from "vitest";
import {
  CreateDiscountDocument,
  CreatePrefixedBrandDocument,
  CreateTaxedOrderDocument,
  CreateTaxedProductDocument,
  OrderInvoicesDocument,
  UpdateBrandPrefixDocument,
} from "../graphql/generated";
import { codes, db, gql, ok, testClientIp } from "../helpers/api";
import { anonymous, apiKey, brandWithProducts, eventId, member, payOrder, sendWebhook, startPayment, type BrandSetup } from "../helpers/fixtures";

// Issue #11: tax on order lines, gapless invoice numbers per brand, the invoice prefix.

/** A product of `brand` at `unitPrice` with `taxRate` (as the brand's owner). */
async function taxedProduct(brand: BrandSetup, unitPrice: number, taxRate: number) {
  const { createProduct } = await ok(
    CreateTaxedProductDocument,
    { input: { brandId: brand.brandId, name: `Taxed ${taxRate}`, unitPrice, taxRate } },
    { token: brand.owner.token },
  );
  return createProduct;
}

/** One order's input: these lines, a buyer, no attendees (orderInput's default lines need two products). */
const inputOf = (brand: BrandSetup, lines: { productId: string; quantity: number }[], couponCode?: string) => ({
  brandId: brand.brandId,
  lines,
  buyer: { name: "Ada Buyer", email: "ada@example.test" },
  couponCode,
});
const oneOf = (brand: BrandSetup) => inputOf(brand, [{ productId: brand.products[0].id, quantity: 1 }]);

const invoicesOf = async (brandId: string) =>
  (await db().query("select order_id, seq, number, kind from invoice where brand_id = $1 order by seq", [brandId])).rows as {
    order_id: string;
    seq: number;
    number: string;
    kind: string;
  }[];

describe("tax on order lines", () => {
  it("snapshots each product's rate on the line, spreads the discount by largest remainder and sums to the cent", async () => {
    const brand = await brandWithProducts("EUR", []);
    const a = await taxedProduct(brand, 1250, 1900);
    const b = await taxedProduct(brand, 400, 700);
    expect([a.taxRate, b.taxRate]).toEqual([1900, 700]);
    const code = `TAX${Date.now()}`;
    await ok(
      CreateDiscountDocument,
      { input: { brandId: brand.brandId, name: "100 off", type: "FIXED_AMOUNT", amount: 100, usageLimit: 10, fixedCode: code } },
      { token: brand.owner.token },
    );
    const buyer = await anonymous();
    const input = inputOf(
      brand,
      [
        { productId: a.id, quantity: 2 },
        { productId: b.id, quantity: 1 },
      ],
      code,
    );
    const { createOrder: order } = await ok(CreateTaxedOrderDocument, { input }, { token: buyer.token });
    // 2500 + 400 - 100: shares 86.2 → 86 and 13.8 → 14 (largest remainder);
    // 2414 at 19 % → net 2029, tax 385; 386 at 7 % → net 361, tax 25.
    expect(order.total).toBe(2800);
    expect(order.lines.map((l) => [l.total, l.taxRate, l.tax])).toEqual([
      [2500, 1900, 385],
      [400, 700, 25],
    ]);
    expect(order.taxTotal).toBe(410);

    await payOrder(order, buyer.token);
    const { order: paid } = await ok(OrderInvoicesDocument, { id: order.id }, { token: buyer.token });
    expect(paid!.invoices).toHaveLength(1);
    const [invoice] = paid!.invoices;
    expect(invoice).toMatchObject({ kind: "INVOICE", total: 2800, taxTotal: 410, currency: "EUR" });
    expect(invoice.taxLines).toEqual([
      { rate: 700, net: 361, tax: 25 },
      { rate: 1900, net: 2029, tax: 385 },
    ]);
    // The paid snapshot keeps the tax (a later product change does not touch it).
    expect(paid!.lines.map((l) => l.tax)).toEqual([385, 25]);
  });

  it("refuses a rate outside 0..10000 with BAD_USER_INPUT on input.taxRate; the default is 0", async () => {
    const brand = await brandWithProducts("EUR", [100]);
    for (const taxRate of [-1, 10001]) {
      const r = await gql(CreateTaxedProductDocument, { input: { brandId: brand.brandId, name: "x", unitPrice: 100, taxRate } }, { token: brand.owner.token });
      expect(codes(r)).toEqual(["BAD_USER_INPUT"]);
      expect(r.errors![0].extensions!.field).toBe("input.taxRate");
    }
    const { createProduct } = await ok(
      CreateTaxedProductDocument,
      { input: { brandId: brand.brandId, name: "y", unitPrice: 100 } },
      { token: brand.owner.token },
    );
    expect(createProduct.taxRate).toBe(0);
    expect((await taxedProduct(brand, 100, 10000)).taxRate).toBe(10000);
  });
});

describe("invoice numbers", () => {
  it("50 orders of one brand paid at once (50 signed PAID webhooks fired together) get 50 consecutive numbers, no gap, no duplicate", async () => {
    const brand = await brandWithProducts("EUR", [1000]);
    const key = await apiKey(brand);
    const orders = [];
    for (let i = 0; i < 50; i++) {
      const { createOrder } = await ok(CreateTaxedOrderDocument, { input: oneOf(brand) }, { apiKey: key });
      orders.push(createOrder);
    }
    const attempts = [];
    for (const o of orders) attempts.push(await startPaymentWithKey(o.id, key));
    const hooks = await Promise.all(
      attempts.map((a) =>
        sendWebhook({ id: eventId(), data: { attemptExternalId: a.externalId, status: "PAID", totalAmount: a.amount, currency: a.currency } }),
      ),
    );
    expect(hooks.map((h) => [h.status, h.body.outcome])).toEqual(orders.map(() => [200, "applied: order PAID"]));

    const invoices = await invoicesOf(brand.brandId);
    expect(invoices.map((i) => i.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const prefix = (await db().query("select invoice_prefix from brand where id = $1", [brand.brandId])).rows[0].invoice_prefix;
    expect(new Set(invoices.map((i) => i.number)).size).toBe(50);
    expect(invoices.map((i) => i.number)).toEqual(Array.from({ length: 50 }, (_, i) => `${prefix}-${String(i + 1).padStart(6, "0")}`));
    expect(new Set(invoices.map((i) => i.order_id))).toEqual(new Set(orders.map((o) => o.id)));
    expect(invoices.every((i) => i.kind === "INVOICE")).toBe(true);
    expect((await db().query("select last from invoice_sequence where brand_id = $1", [brand.brandId])).rows[0].last).toBe(50);

    // Each brand has its own sequence: another brand's first invoice is its number 1.
    const other = await brandWithProducts("EUR", [500]);
    const buyer = await anonymous();
    const { createOrder } = await ok(CreateTaxedOrderDocument, { input: oneOf(other) }, { token: buyer.token });
    await payOrder(createOrder, buyer.token);
    expect((await invoicesOf(other.brandId)).map((i) => i.seq)).toEqual([1]);
    expect((await invoicesOf(brand.brandId)).length).toBe(50);
  });

  it("a repeated PAID report takes no second number", async () => {
    const brand = await brandWithProducts("EUR", [700]);
    const buyer = await anonymous();
    const { createOrder } = await ok(CreateTaxedOrderDocument, { input: oneOf(brand) }, { token: buyer.token });
    const attempt = await startPayment(createOrder.id, buyer.token);
    const event = { data: { attemptExternalId: attempt.externalId, status: "PAID", totalAmount: attempt.amount, currency: attempt.currency } };
    const hooks = await Promise.all(Array.from({ length: 5 }, () => sendWebhook({ id: eventId(), ...event })));
    expect(hooks.filter((h) => h.body.outcome === "applied: order PAID")).toHaveLength(1);
    expect((await invoicesOf(brand.brandId)).map((i) => i.seq)).toEqual([1]);
  });
});

async function startPaymentWithKey(orderId: string, key: string) {
  const { attemptToPayForOrder } = await ok(
    "mutation ($orderId: ID!) { attemptToPayForOrder(orderId: $orderId) { id externalId amount currency } }",
    { orderId },
    { apiKey: key },
  );
  return attemptToPayForOrder as { externalId: string; amount: number; currency: string };
}

describe("Brand.invoicePrefix", () => {
  it("defaults to up to 8 letters and digits of the name (else INV) and is validated on createBrand", async () => {
    const owner = (await brandWithProducts("EUR", [])).owner;
    const setup = { token: owner.token, headers: { "x-forwarded-for": testClientIp() } };
    const named = await ok(CreatePrefixedBrandDocument, { input: { name: "Café Müller & Söhne", currency: "EUR" } }, setup);
    expect(named.createBrand.invoicePrefix).toBe("CAFMLLER");
    const symbols = await ok(CreatePrefixedBrandDocument, { input: { name: "★ ★ ★", currency: "EUR" } }, setup);
    expect(symbols.createBrand.invoicePrefix).toBe("INV");
    const given = await ok(CreatePrefixedBrandDocument, { input: { name: "Given", currency: "EUR", invoicePrefix: "GV-2026" } }, setup);
    expect(given.createBrand.invoicePrefix).toBe("GV-2026");
    for (const invoicePrefix of ["", "lower", "WITH SPACE", "A".repeat(17), "ÄÖÜ"]) {
      const r = await gql(CreatePrefixedBrandDocument, { input: { name: "Bad", currency: "EUR", invoicePrefix } }, setup);
      expect(codes(r), invoicePrefix).toEqual(["BAD_USER_INPUT"]);
      expect(r.errors![0].extensions!.field).toBe("input.invoicePrefix");
    }
  });

  it("only an OWNER changes it (ORGANIZER: FORBIDDEN, nothing changed); ORGANIZER still renames; numbers already issued keep theirs", async () => {
    const brand = await brandWithProducts("EUR", [300]);
    const organizer = await member(brand, "ORGANIZER");
    const key = await apiKey(brand);
    const before = (await ok(UpdateBrandPrefixDocument, { id: brand.brandId, input: {} }, { token: brand.owner.token })).updateBrand.invoicePrefix;

    const refused = await gql(UpdateBrandPrefixDocument, { id: brand.brandId, input: { name: "Renamed", invoicePrefix: "ORG" } }, { token: organizer.token });
    expect(codes(refused)).toEqual(["FORBIDDEN"]);
    const byKey = await gql(UpdateBrandPrefixDocument, { id: brand.brandId, input: { invoicePrefix: "KEY" } }, { apiKey: key });
    expect(codes(byKey)).toEqual(["FORBIDDEN"]);
    const renamed = await ok(UpdateBrandPrefixDocument, { id: brand.brandId, input: { name: "Renamed" } }, { token: organizer.token });
    expect(renamed.updateBrand).toMatchObject({ name: "Renamed", invoicePrefix: before });

    const bad = await gql(UpdateBrandPrefixDocument, { id: brand.brandId, input: { invoicePrefix: "no good" } }, { token: brand.owner.token });
    expect(codes(bad)).toEqual(["BAD_USER_INPUT"]);
    expect(bad.errors![0].extensions!.field).toBe("input.invoicePrefix");

    const buyer = await anonymous();
    const first = (await ok(CreateTaxedOrderDocument, { input: oneOf(brand) }, { token: buyer.token })).createOrder;
    await payOrder(first, buyer.token);
    const changed = await ok(UpdateBrandPrefixDocument, { id: brand.brandId, input: { invoicePrefix: "NEW-2027" } }, { token: brand.owner.token });
    expect(changed.updateBrand.invoicePrefix).toBe("NEW-2027");
    const second = (await ok(CreateTaxedOrderDocument, { input: oneOf(brand) }, { token: buyer.token })).createOrder;
    await payOrder(second, buyer.token);
    expect((await invoicesOf(brand.brandId)).map((i) => i.number)).toEqual([`${before}-000001`, "NEW-2027-000002"]);
  });
});

describe("tax rates per order", () => {
  it("an order may mix at most 8 different rates (BAD_USER_INPUT on input.lines), so reading its invoices stays within the query cost", async () => {
    const brand = await brandWithProducts("EUR", []);
    const products = [];
    for (let i = 0; i < 9; i++) products.push(await taxedProduct(brand, 100 + i, i * 100));
    const buyer = await anonymous();
    const nine = await gql(
      CreateTaxedOrderDocument,
      {
        input: inputOf(
          brand,
          products.map((p) => ({ productId: p.id, quantity: 1 })),
        ),
      },
      { token: buyer.token },
    );
    expect(codes(nine)).toEqual(["BAD_USER_INPUT"]);
    expect(nine.errors![0].extensions!.field).toBe("input.lines");
    const eight = await ok(
      CreateTaxedOrderDocument,
      {
        input: inputOf(
          brand,
          products.slice(0, 8).map((p) => ({ productId: p.id, quantity: 1 })),
        ),
      },
      { token: buyer.token },
    );
    await payOrder(eight.createOrder, buyer.token);
    const { order } = await ok(OrderInvoicesDocument, { id: eight.createOrder.id }, { token: buyer.token });
    expect(order!.invoices[0].taxLines.map((t) => t.rate)).toEqual([0, 100, 200, 300, 400, 500, 600, 700]);
  });
});
