import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AddBrandMemberDocument,
  BrandOrdersDocument,
  CreateBrandDocument,
  CreateOrderDocument,
  CreateProductDocument,
  LogInDocument,
  MyOrdersDocument,
  SignUpDocument,
  type CreateOrderInput,
} from "../graphql/generated";
import { codes, count, gql, graphqlUrl, uniqueEmail, type GraphQLResult } from "../helpers/api";
import { brandWithProducts, orderInput, PASSWORD, setupAdmin, signUp, type Account, type BrandSetup } from "../helpers/fixtures";

/** Nothing an error answer says may reveal SQL, stack frames or source paths. */
const LEAK = /select |insert |update .* set |\bat \/|node_modules|\.ts:|\.js:\d|postgres|mikro-?orm|stack/i;

function expectBadInput(r: GraphQLResult<unknown>, field: string, code = "BAD_USER_INPUT") {
  expect(codes(r), JSON.stringify(r.body)).toEqual([code]);
  expect(r.errors![0].extensions?.field).toBe(field);
  expect(r.data ?? null, "no data for a refused mutation").toBeNull();
  expect(JSON.stringify(r.body)).not.toMatch(LEAK);
}

let X: BrandSetup;
let Y: BrandSetup;
let customer: Account;

/** Rows the customer's createOrder could have written, anywhere. */
const orderRows = async () => ({
  orders: await count("select 1 from orders where customer_id = $1", [customer.userId]),
  events: await count("select 1 from order_event e join orders o on o.id = e.order_id where o.customer_id = $1", [customer.userId]),
  ordersX: await count("select 1 from orders where brand_id = $1", [X.brandId]),
});

beforeAll(async () => {
  [X, Y, customer] = await Promise.all([brandWithProducts(), brandWithProducts("EUR", [999]), signUp("validation")]);
});

describe("createOrder refuses bad input, names the field and stores nothing", () => {
  const line = (quantity: number, productId?: string) => ({ productId: productId ?? X.products[0].id, quantity });
  const cases: [string, () => Partial<CreateOrderInput>, string][] = [
    ["no lines", () => ({ lines: [] }), "input.lines"],
    ["101 lines", () => ({ lines: Array.from({ length: 101 }, () => line(1, randomUUID())) }), "input.lines"],
    ["quantity 0", () => ({ lines: [line(0)] }), "input.lines[0].quantity"],
    ["quantity 1000", () => ({ lines: [line(1), line(1000, X.products[1].id)] }), "input.lines[1].quantity"],
    ["quantity -1", () => ({ lines: [line(-1)] }), "input.lines[0].quantity"],
    ["an unknown productId", () => ({ lines: [line(1, randomUUID())] }), "input.lines[0].productId"],
    ["a product of another brand", () => ({ lines: [line(1), line(1, Y.products[0].id)] }), "input.lines[1].productId"],
    ["a malformed productId", () => ({ lines: [line(1, "abc")] }), "input.lines[0].productId"],
    ["the same product on two lines", () => ({ lines: [line(1), line(2, X.products[0].id.toUpperCase())] }), "input.lines[1].productId"],
    ["an unknown brandId", () => ({ brandId: randomUUID() }), "input.brandId"],
    ["a malformed brandId", () => ({ brandId: "brand-1" }), "input.brandId"],
    ["an invalid buyer email", () => ({ buyer: { name: "Ada", email: "ada-at-example.test" } }), "input.buyer.email"],
    ["a buyer email with a NUL byte", () => ({ buyer: { name: "Ada", email: "ada\u0000@example.test" } }), "input.buyer.email"],
    ["a buyer name with a lone surrogate", () => ({ buyer: { name: "Ada \ud800", email: "ada@example.test" } }), "input.buyer.name"],
    ["an attendee name with a lone surrogate", () => ({ attendees: [{ name: "\udc00Tim", email: "tim@example.test" }] }), "input.attendees[0].name"],
    ["an empty buyer name", () => ({ buyer: { name: "   ", email: "ada@example.test" } }), "input.buyer.name"],
    ["a buyer name of 201 characters", () => ({ buyer: { name: "a".repeat(201), email: "ada@example.test" } }), "input.buyer.name"],
    [
      "an invalid second attendee email",
      () => ({
        attendees: [
          { name: "Tim", email: "tim@example.test" },
          { name: "Kim", email: "kim@" },
        ],
      }),
      "input.attendees[1].email",
    ],
    ["a coupon code (no discounts exist yet)", () => ({ couponCode: "WELCOME10" }), "input.couponCode"],
    ["a quantity that is not an integer (variable coercion)", () => ({ lines: [line(1.5)] }), "input.lines[0].quantity"],
    [
      "a quantity given as a string (variable coercion)",
      () => ({ lines: [{ productId: X.products[0].id, quantity: "two" as never }] }),
      "input.lines[0].quantity",
    ],
  ];

  it.each(cases)("%s", async (_, overrides, field) => {
    const before = await orderRows();
    const r = await gql(CreateOrderDocument, { input: orderInput(X, overrides()) }, { token: customer.token });
    expectBadInput(r, field);
    expect(await orderRows()).toEqual(before);
  });

  it('a type error in the document itself (quantity: "two") fails validation with HTTP 400 and stores nothing', async () => {
    const before = await orderRows();
    const r = await gql(
      `mutation { createOrder(input: { brandId: "${X.brandId}", lines: [{ productId: "${X.products[0].id}", quantity: "two" }],
        buyer: { name: "Ada", email: "ada@example.test" } }) { id } }`,
      undefined,
      { token: customer.token },
    );
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(r.body).not.toHaveProperty("data");
    expect(await orderRows()).toEqual(before);
  });

  it("every problem is listed in extensions.problems, the first one in extensions.field", async () => {
    const r = await gql(CreateOrderDocument, { input: orderInput(X, { lines: [line(0)], buyer: { name: "", email: "nope" } }) }, { token: customer.token });
    expectBadInput(r, "input.lines[0].quantity");
    expect((r.errors![0].extensions!.problems as { field: string }[]).map((p) => p.field)).toEqual([
      "input.lines[0].quantity",
      "input.buyer.name",
      "input.buyer.email",
    ]);
  });

  it("a valid order still goes through (the cases above fail for their own reason)", async () => {
    const before = await orderRows();
    const r = await gql(CreateOrderDocument, { input: orderInput(X) }, { token: customer.token });
    expect(r.errors).toBeUndefined();
    expect((await orderRows()).orders).toBe(before.orders + 1);
  });
});

describe("signUp and logIn", () => {
  // (PostgreSQL cannot even be asked about a NUL byte, so it is dropped from the lookup.)
  const users = (email: string) => count("select 1 from users where lower(email) = lower($1)", [email.replaceAll("\u0000", "")]);

  it.each([
    ["an invalid email", { email: "not-an-email", password: PASSWORD }, "input.email"],
    ["an email with a NUL byte", { email: "nul\u0000byte@example.test", password: PASSWORD }, "input.email"],
    ["a password of 9 characters", { email: "short-password@example.test", password: "123456789" }, "input.password"],
  ])("%s is BAD_USER_INPUT and creates no account", async (_, input, field) => {
    // Other suites sign up concurrently, so the count is scoped to this email rather than the whole table.
    expectBadInput(await gql(SignUpDocument, { input }), field);
    expect(await users(input.email)).toBe(0);
  });

  it("an email that differs only in case is already registered", async () => {
    const tag = randomUUID().slice(0, 8);
    const first = await gql(SignUpDocument, { input: { email: `Foo-${tag}@Example.test`, password: PASSWORD } });
    expect(first.errors).toBeUndefined();
    expectBadInput(await gql(SignUpDocument, { input: { email: `foo-${tag}@example.test`, password: PASSWORD } }), "input.email");
    expect(await users(`foo-${tag}@example.test`)).toBe(1);
  });

  it("logIn with a NUL byte in the email is the usual UNAUTHENTICATED, not an internal error", async () => {
    const r = await gql(LogInDocument, { email: "a\u0000b@example.test", password: PASSWORD });
    const wrong = await gql(LogInDocument, { email: customer.email, password: "wrong password here" });
    expect(codes(r)).toEqual(["UNAUTHENTICATED"]);
    expect(r.body).toEqual(wrong.body);
  });
});

describe("createBrand, createProduct and addBrandMember", () => {
  const brandsOf = (userId: string) => count("select 1 from brand_member where user_id = $1", [userId]);
  const products = () => count("select 1 from product where brand_id = $1", [X.brandId]);

  it.each([
    ["an unknown currency", { name: "B", currency: "EURO" }, "input.currency"],
    ["a currency that is not ISO 4217", { name: "B", currency: "XYZ" }, "input.currency"],
    ["an empty name", { name: " ", currency: "EUR" }, "input.name"],
    ["a name of 100 000 characters", { name: "n".repeat(100_000), currency: "EUR" }, "input.name"],
    ["a couponWebhookUrl that is not a URL", { name: "B", currency: "EUR", couponWebhookUrl: "shop" }, "input.couponWebhookUrl"],
    ["a non-http couponWebhookUrl", { name: "B", currency: "EUR", couponWebhookUrl: "javascript:alert(1)" }, "input.couponWebhookUrl"],
    ["a couponWebhookUrl with a NUL byte", { name: "B", currency: "EUR", couponWebhookUrl: "https://shop.test/a\u0000b" }, "input.couponWebhookUrl"],
  ])("createBrand with %s is BAD_USER_INPUT and creates no brand", async (_, input, field) => {
    const before = await brandsOf(customer.userId);
    expectBadInput(await gql(CreateBrandDocument, { input }, { token: customer.token }), field);
    expect(await brandsOf(customer.userId)).toBe(before);
  });

  it.each([
    ["a negative price", { name: "P", unitPrice: -1 }, "input.unitPrice"],
    ["a price above the maximum", { name: "P", unitPrice: 100_000_001 }, "input.unitPrice"],
    ["a non-integer price (variable coercion)", { name: "P", unitPrice: 12.5 }, "input.unitPrice"],
    ["an empty name", { name: "", unitPrice: 100 }, "input.name"],
  ])("createProduct with %s is BAD_USER_INPUT and creates no product", async (_, input, field) => {
    const before = await products();
    expectBadInput(await gql(CreateProductDocument, { input: { brandId: X.brandId, ...input } }, { token: X.owner.token }), field);
    expect(await products()).toBe(before);
  });

  it("createProduct for an unknown brand is NOT_FOUND naming input.brandId", async () => {
    const r = await gql(CreateProductDocument, { input: { brandId: randomUUID(), name: "P", unitPrice: 1 } }, { token: X.owner.token });
    expectBadInput(r, "input.brandId", "NOT_FOUND");
  });

  it("addBrandMember (platform ADMIN) with an invalid or unknown email names the email argument", async () => {
    const members = () => count("select 1 from brand_member where brand_id = $1", [X.brandId]);
    const before = await members();
    const { token } = await setupAdmin();
    const add = (email: string) => gql(AddBrandMemberDocument, { brandId: X.brandId, email, role: "COORGANIZER" }, { token });
    expectBadInput(await add("x\u0000y@example.test"), "email");
    expectBadInput(await add("nobody"), "email");
    expectBadInput(await add(uniqueEmail("unknown")), "email", "NOT_FOUND");
    expect(await members()).toBe(before);
  });
});

describe("orders and myOrders check their paging arguments", () => {
  const cursor = (text: string) => Buffer.from(text).toString("base64url");
  const cases: [string, Record<string, unknown>, string][] = [
    ["first: 0", { first: 0 }, "first"],
    ["first: -1", { first: -1 }, "first"],
    ["first: 101", { first: 101 }, "first"],
    ["a garbage after cursor", { after: "garbage!!" }, "after"],
    ["a cursor with a date PostgreSQL cannot hold", { after: cursor(`-271821-04-20T00:00:00.000Z|${randomUUID()}`) }, "after"],
    ["a cursor with a far-future date", { after: cursor(`+275760-09-13T00:00:00.000Z|${randomUUID()}`) }, "after"],
    ["a cursor whose id is not a UUID", { after: cursor(`2024-01-01T00:00:00.000Z|${"-".repeat(36)}`) }, "after"],
  ];

  it.each(cases)("myOrders with %s (through variables)", async (_, vars, field) => {
    expectBadInput(await gql(MyOrdersDocument, vars, { token: customer.token }), field);
  });

  it.each(cases)("orders with %s (through variables)", async (_, vars, field) => {
    expectBadInput(await gql(BrandOrdersDocument, { brandId: X.brandId, ...vars }, { token: X.owner.token }), field);
  });

  it("first: 101 written in the document is refused the same way", async () => {
    const r = await gql(`{ myOrders(first: 101) { totalCount } }`, undefined, { token: customer.token });
    expectBadInput(r, "first");
  });

  it("a cursor the server handed out is accepted", async () => {
    const r = await gql(MyOrdersDocument, { first: 1 }, { token: customer.token });
    const after = r.data!.myOrders.pageInfo.endCursor!;
    expect((await gql(MyOrdersDocument, { first: 1, after }, { token: customer.token })).errors).toBeUndefined();
  });
});

describe("error answers never leak internals", () => {
  it("parse errors, unknown fields, missing variables and transport errors carry no SQL, stack or path", async () => {
    const answers = await Promise.all([
      gql(`{ me { `, undefined, {}),
      gql(`{ doesNotExist }`, undefined, {}),
      gql(CreateOrderDocument, {} as never, { token: customer.token }),
      fetch(graphqlUrl(), { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" }).then(async (res) => ({
        status: res.status,
        body: await res.json(),
      })),
    ]);
    for (const a of answers) {
      expect(a.status).toBe(400);
      expect(JSON.stringify(a.body)).not.toMatch(LEAK);
    }
    expect((answers[2].body as any).errors[0].extensions).toEqual({ code: "BAD_USER_INPUT", field: "input" });
  });
});
