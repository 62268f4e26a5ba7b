import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BrandDiscountsDocument,
  CreateDiscountDocument,
  DeleteDiscountDocument,
  GetDiscountDocument,
  UpdateDiscountDocument,
  type CreateDiscountInput,
  type UpdateDiscountInput,
} from "../graphql/generated";
import { codes, count, db, gql, ok, type Auth, type GraphQLResult } from "../helpers/api";
import { anonymous, apiKey, brandWithProducts, member, placeOrder, signUp, type BrandSetup } from "../helpers/fixtures";

/** A fresh code per call (upper case, 4..32 of A-Z, 0-9 and -), so tests never share one. */
const newCode = (prefix: string) => `${prefix}-${randomUUID().slice(0, 6).toUpperCase()}`;
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const aMinuteAgo = () => new Date(Date.now() - 60_000).toISOString();

const discountInput = (brand: BrandSetup, overrides: Partial<CreateDiscountInput> = {}): CreateDiscountInput => ({
  brandId: brand.brandId,
  name: "Summer sale",
  type: "PERCENT",
  amount: 10,
  usageLimit: 5,
  ...overrides,
});

const discountRows = (brand: BrandSetup) => count("select 1 from discount where brand_id = $1", [brand.brandId]);
const liveDiscountRows = (brand: BrandSetup) => count("select 1 from discount where brand_id = $1 and deleted_at is null", [brand.brandId]);

function expectBadInput(r: GraphQLResult<unknown>, field: string) {
  expect(codes(r), JSON.stringify(r.body)).toEqual(["BAD_USER_INPUT"]);
  expect(r.errors![0].extensions?.field).toBe(field);
  expect(r.data ?? null).toBeNull();
}

describe("who may manage a brand's discounts", () => {
  let brand: BrandSetup;
  let other: BrandSetup;
  const callers: Record<string, Auth> = {};

  beforeAll(async () => {
    [brand, other] = await Promise.all([brandWithProducts(), brandWithProducts()]);
    const [organizer, coorganizer, customer, stranger, key, anon] = await Promise.all([
      member(brand, "ORGANIZER"),
      member(brand, "COORGANIZER"),
      signUp("customer"),
      signUp("stranger"),
      apiKey(brand),
      anonymous(),
    ]);
    await placeOrder(brand, customer.token); // a customer of the brand, but no member
    Object.assign(callers, {
      OWNER: { token: brand.owner.token },
      ORGANIZER: { token: organizer.token },
      "the brand's API key": { apiKey: key },
      COORGANIZER: { token: coorganizer.token },
      "a customer of the brand": { token: customer.token },
      "a stranger": { token: stranger.token },
      "an anonymous session": { token: anon.token },
      "another brand's owner": { token: other.owner.token },
      "nobody (no credentials)": {},
    });
  });

  it.each(["OWNER", "ORGANIZER", "the brand's API key"])("%s can create, read (with fixedCode), list, update and delete a discount", async (who) => {
    const auth = callers[who];
    const fixedCode = newCode("ROLE");
    const { createDiscount: created } = await ok(CreateDiscountDocument, { input: discountInput(brand, { fixedCode: fixedCode.toLowerCase() }) }, auth);
    expect(created).toMatchObject({ name: "Summer sale", type: "PERCENT", amount: 10, usageLimit: 5, fixedCode, brand: { id: brand.brandId } });
    expect(await count("select 1 from coupon where discount_id = $1 and code = $2 and uses = 0", [created.id, fixedCode])).toBe(1);

    const { discount } = await ok(GetDiscountDocument, { id: created.id }, auth);
    expect(discount).toEqual(created);
    const { discounts } = await ok(BrandDiscountsDocument, { brandId: brand.brandId, first: 100 }, auth);
    expect(discounts.edges.map((e) => e.node)).toContainEqual({ id: created.id, name: "Summer sale", fixedCode });

    const { updateDiscount } = await ok(UpdateDiscountDocument, { id: created.id, input: { name: `Renamed by ${who}` } }, auth);
    expect(updateDiscount).toMatchObject({ id: created.id, name: `Renamed by ${who}`, amount: 10, fixedCode });

    expect(await ok(DeleteDiscountDocument, { id: created.id }, auth)).toEqual({ deleteDiscount: true });
    expect(codes(await gql(GetDiscountDocument, { id: created.id }, auth))).toEqual(["NOT_FOUND"]);
  });

  it.each([
    ["COORGANIZER", "FORBIDDEN"],
    ["a customer of the brand", "NOT_FOUND"],
    ["a stranger", "NOT_FOUND"],
    ["an anonymous session", "NOT_FOUND"],
    ["another brand's owner", "NOT_FOUND"],
    ["nobody (no credentials)", "NOT_FOUND"],
  ])("%s gets %s from every discount operation and changes nothing", async (who, code) => {
    const auth = callers[who];
    const { createDiscount: target } = await ok(
      CreateDiscountDocument,
      { input: discountInput(brand, { fixedCode: newCode("KEEP") }) },
      { token: brand.owner.token },
    );
    const rowsBefore = await discountRows(brand);

    const create = await gql(CreateDiscountDocument, { input: discountInput(brand, { fixedCode: newCode("NOPE") }) }, auth);
    expect(codes(create)).toEqual([code]);
    if (code === "NOT_FOUND") expect(create.errors![0].extensions?.field).toBe("input.brandId");
    expect(await discountRows(brand)).toBe(rowsBefore);

    expect(codes(await gql(GetDiscountDocument, { id: target.id }, auth))).toEqual([code]);
    expect(codes(await gql(BrandDiscountsDocument, { brandId: brand.brandId }, auth))).toEqual([code]);
    expect(codes(await gql(UpdateDiscountDocument, { id: target.id, input: { name: "Hijacked", amount: 100 } }, auth))).toEqual([code]);
    expect(codes(await gql(DeleteDiscountDocument, { id: target.id }, auth))).toEqual([code]);

    // The discount is untouched (the owner still reads it as it was).
    const { discount } = await ok(GetDiscountDocument, { id: target.id }, { token: brand.owner.token });
    expect(discount).toEqual(target);
  });

  // fixedCode carries @auth(requires: ORGANIZER), but a COORGANIZER is refused the whole discount
  // (FORBIDDEN above) and Fan (the only other path to a Discount) is ORGANIZER-only, so the
  // field-level rule cannot be reached by anyone below ORGANIZER: nothing more to test here.

  it("answers NOT_FOUND for an unknown or malformed discount id", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      expect(codes(await gql(GetDiscountDocument, { id }, { token: brand.owner.token }))).toEqual(["NOT_FOUND"]);
      expect(codes(await gql(UpdateDiscountDocument, { id, input: { name: "x" } }, { token: brand.owner.token }))).toEqual(["NOT_FOUND"]);
      expect(codes(await gql(DeleteDiscountDocument, { id }, { token: brand.owner.token }))).toEqual(["NOT_FOUND"]);
    }
  });
});

describe("createDiscount validation", () => {
  let brand: BrandSetup;
  beforeAll(async () => {
    brand = await brandWithProducts();
  });

  const long33 = "A".repeat(33);
  it.each<[string, Partial<CreateDiscountInput>, string]>([
    ["PERCENT amount 0", { type: "PERCENT", amount: 0 }, "input.amount"],
    ["PERCENT amount 101", { type: "PERCENT", amount: 101 }, "input.amount"],
    ["FIXED_AMOUNT amount 0", { type: "FIXED_AMOUNT", amount: 0 }, "input.amount"],
    ["FIXED_AMOUNT amount -5", { type: "FIXED_AMOUNT", amount: -5 }, "input.amount"],
    ["expiresAt in the past", { expiresAt: aMinuteAgo() }, "input.expiresAt"],
    ["usageLimit 0", { usageLimit: 0 }, "input.usageLimit"],
    ["usageLimit -1", { usageLimit: -1 }, "input.usageLimit"],
    ["a fixedCode of 3 characters", { fixedCode: "ABC" }, "input.fixedCode"],
    ["a fixedCode of 33 characters", { fixedCode: long33 }, "input.fixedCode"],
    ["a fixedCode with an underscore", { fixedCode: "SUMMER_10" }, "input.fixedCode"],
    ["a fixedCode with a non-ASCII letter", { fixedCode: "SÜMMER" }, "input.fixedCode"],
    ["a fixedCode with a space inside", { fixedCode: "SUM MER" }, "input.fixedCode"],
    ["an empty name", { name: "" }, "input.name"],
    ["a blank name", { name: "   " }, "input.name"],
  ])("refuses %s with BAD_USER_INPUT on the field and creates no discount or coupon", async (_, overrides, field) => {
    const before = await discountRows(brand);
    const couponsBefore = await count("select 1 from coupon where brand_id = $1", [brand.brandId]);
    expectBadInput(await gql(CreateDiscountDocument, { input: discountInput(brand, overrides) }, { token: brand.owner.token }), field);
    expect(await discountRows(brand)).toBe(before);
    expect(await count("select 1 from coupon where brand_id = $1", [brand.brandId])).toBe(couponsBefore);
  });

  it("accepts the boundaries: PERCENT 1 and 100, usageLimit 1, fixedCodes of 4 and 32 characters, FIXED_AMOUNT above 100", async () => {
    const make = (o: Partial<CreateDiscountInput>) => ok(CreateDiscountDocument, { input: discountInput(brand, o) }, { token: brand.owner.token });
    expect((await make({ amount: 1, usageLimit: 1 })).createDiscount).toMatchObject({ amount: 1, usageLimit: 1, fixedCode: null });
    expect((await make({ amount: 100 })).createDiscount.amount).toBe(100);
    expect((await make({ type: "FIXED_AMOUNT", amount: 5000 })).createDiscount).toMatchObject({ type: "FIXED_AMOUNT", amount: 5000 });
    const four = randomUUID().slice(0, 4).toUpperCase();
    expect((await make({ fixedCode: four })).createDiscount.fixedCode).toBe(four);
    const thirtyTwo = `Z-${randomUUID().replaceAll("-", "").slice(0, 30)}`;
    expect((await make({ fixedCode: thirtyTwo })).createDiscount.fixedCode).toBe(thirtyTwo.toUpperCase());
    const { createDiscount: dated } = await make({ expiresAt: inAnHour(), freeShipping: true, verifyEmail: true, description: "For fans" });
    expect(dated).toMatchObject({ freeShipping: true, verifyEmail: true, description: "For fans" });
  });

  it("refuses a fixedCode already used in the brand, ignoring case; another brand may use it", async () => {
    const code = newCode("SUMMER");
    const { createDiscount: first } = await ok(CreateDiscountDocument, { input: discountInput(brand, { fixedCode: code }) }, { token: brand.owner.token });
    expect(first.fixedCode).toBe(code);
    const before = await discountRows(brand);
    expectBadInput(
      await gql(CreateDiscountDocument, { input: discountInput(brand, { fixedCode: code.toLowerCase() }) }, { token: brand.owner.token }),
      "input.fixedCode",
    );
    expect(await discountRows(brand)).toBe(before);
    expect(await count("select 1 from coupon where brand_id = $1 and code = $2", [brand.brandId, code])).toBe(1);

    const other = await brandWithProducts();
    const { createDiscount: elsewhere } = await ok(
      CreateDiscountDocument,
      { input: discountInput(other, { fixedCode: code.toLowerCase() }) },
      { token: other.owner.token },
    );
    expect(elsewhere.fixedCode).toBe(code);
  });

  it("lets only one of two concurrent creates with the same fixedCode win", async () => {
    const code = newCode("RACE");
    const before = await discountRows(brand);
    const results = await Promise.all(
      [code, code.toLowerCase()].map((fixedCode) => gql(CreateDiscountDocument, { input: discountInput(brand, { fixedCode }) }, { token: brand.owner.token })),
    );
    expect(results.filter((r) => r.data?.createDiscount)).toHaveLength(1);
    const refused = results.find((r) => r.errors)!;
    expectBadInput(refused, "input.fixedCode");
    expect(await discountRows(brand)).toBe(before + 1);
  });
});

describe("updateDiscount", () => {
  let brand: BrandSetup;
  beforeAll(async () => {
    brand = await brandWithProducts();
  });
  const create = async (o: Partial<CreateDiscountInput> = {}) =>
    (
      await ok(
        CreateDiscountDocument,
        { input: discountInput(brand, { fixedCode: newCode("UPD"), expiresAt: inAnHour(), description: "Before", ...o }) },
        { token: brand.owner.token },
      )
    ).createDiscount;
  const read = async (id: string) => (await ok(GetDiscountDocument, { id }, { token: brand.owner.token })).discount!;

  it.each<[string, Partial<CreateDiscountInput>, UpdateDiscountInput, string]>([
    ["amount 101 on a PERCENT discount", { type: "PERCENT" }, { amount: 101 }, "input.amount"],
    ["amount 0 on a PERCENT discount", { type: "PERCENT" }, { amount: 0 }, "input.amount"],
    ["amount 0 on a FIXED_AMOUNT discount", { type: "FIXED_AMOUNT", amount: 500 }, { amount: 0 }, "input.amount"],
    ["usageLimit 0", {}, { usageLimit: 0 }, "input.usageLimit"],
    ["expiresAt in the past", {}, { expiresAt: aMinuteAgo() }, "input.expiresAt"],
    ["an empty name", {}, { name: "" }, "input.name"],
    ["a bad field next to good ones", {}, { name: "Fine", description: "Fine too", usageLimit: 0 }, "input.usageLimit"],
  ])("refuses %s with BAD_USER_INPUT on the field and changes nothing", async (_, createWith, input, field) => {
    const before = await create(createWith);
    expectBadInput(await gql(UpdateDiscountDocument, { id: before.id, input }, { token: brand.owner.token }), field);
    expect(await read(before.id)).toEqual(before);
  });

  it("allows FIXED_AMOUNT above 100 (the 1..100 rule is PERCENT's)", async () => {
    const d = await create({ type: "FIXED_AMOUNT", amount: 500 });
    const { updateDiscount } = await ok(UpdateDiscountDocument, { id: d.id, input: { amount: 2500 } }, { token: brand.owner.token });
    expect(updateDiscount.amount).toBe(2500);
  });

  it("changes only the fields given; the others stay as they were", async () => {
    const before = await create({ amount: 15, usageLimit: 7, freeShipping: true, verifyEmail: true });
    const expiresAt = new Date(Date.now() + 7_200_000).toISOString();
    const { updateDiscount: a } = await ok(UpdateDiscountDocument, { id: before.id, input: { usageLimit: 9 } }, { token: brand.owner.token });
    const unchanged = (d: typeof a) => {
      const { updatedAt: _u, usageLimit: _l, amount: _a, expiresAt: _e, name: _n, ...rest } = d;
      return rest;
    };
    expect(a).toMatchObject({ usageLimit: 9, amount: 15, name: before.name, expiresAt: before.expiresAt });
    expect(unchanged(a)).toEqual(unchanged(before));

    const { updateDiscount: b } = await ok(
      UpdateDiscountDocument,
      { id: before.id, input: { amount: 20, expiresAt, name: "Autumn" } },
      { token: brand.owner.token },
    );
    expect(b).toMatchObject({ amount: 20, usageLimit: 9, name: "Autumn" });
    expect(new Date(b.expiresAt!).getTime()).toBe(new Date(expiresAt).getTime());
    expect(unchanged(b)).toEqual(unchanged(before));
    expect(await read(before.id)).toEqual(b);
  });
});

describe("deleteDiscount", () => {
  it("hides the discount (NOT_FOUND, not listed, not updatable, not deletable twice) and keeps its row and coupon", async () => {
    const brand = await brandWithProducts();
    const auth = { token: brand.owner.token };
    const fixedCode = newCode("GONE");
    const { createDiscount: gone } = await ok(CreateDiscountDocument, { input: discountInput(brand, { fixedCode }) }, auth);
    const { createDiscount: kept } = await ok(CreateDiscountDocument, { input: discountInput(brand, { name: "Kept" }) }, auth);
    expect((await ok(BrandDiscountsDocument, { brandId: brand.brandId }, auth)).discounts.totalCount).toBe(2);

    expect(await ok(DeleteDiscountDocument, { id: gone.id }, auth)).toEqual({ deleteDiscount: true });
    expect(codes(await gql(GetDiscountDocument, { id: gone.id }, auth))).toEqual(["NOT_FOUND"]);
    const { discounts } = await ok(BrandDiscountsDocument, { brandId: brand.brandId }, auth);
    expect(discounts.edges.map((e) => e.node.id)).toEqual([kept.id]);
    expect(discounts.totalCount).toBe(1);
    expect(codes(await gql(UpdateDiscountDocument, { id: gone.id, input: { name: "Back" } }, auth))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(DeleteDiscountDocument, { id: gone.id }, auth))).toEqual(["NOT_FOUND"]);

    // History is kept: the row is soft-deleted and its coupon still exists.
    expect(await discountRows(brand)).toBe(2);
    expect(await liveDiscountRows(brand)).toBe(1);
    const { rows } = await db().query("select deleted_at from discount where id = $1", [gone.id]);
    expect(rows[0].deleted_at).toBeInstanceOf(Date);
    expect(await count("select 1 from coupon where discount_id = $1 and code = $2", [gone.id, fixedCode])).toBe(1);
  });
});
