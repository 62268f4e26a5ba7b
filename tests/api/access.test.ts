import { SignJWT } from "jose";
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AddBrandMemberDocument,
  AttemptToPayDocument,
  BrandMembersDocument,
  BrandOrdersWithBuyerDocument,
  BrandProtectedFieldsDocument,
  BrandsDocument,
  CancelOrderDocument,
  CreateApiKeyDocument,
  CreateOrderDocument,
  CreateProductDocument,
  GetOrderDocument,
  GetPaymentAttemptDocument,
  LogInDocument,
  MeDocument,
  MyOrdersDocument,
  OrderWithBuyerDocument,
} from "../graphql/generated";
import { codes, count, gql, ok, uniqueEmail, type Auth, type GraphQLResult } from "../helpers/api";
import {
  anonymous,
  apiKey,
  brandWithProducts,
  member,
  orderInput,
  PASSWORD,
  placeOrder,
  promoteToAdmin,
  signUp,
  type Account,
  type BrandSetup,
} from "../helpers/fixtures";
import { TEST_AUTH_SECRET } from "../helpers/processes";

/** Asserts a single error with this code (and field/path when given) and returns it. */
function expectError(r: GraphQLResult<unknown>, code: string, opts: { path?: (string | number)[]; status?: number } = {}) {
  expect(r.status, JSON.stringify(r.body)).toBe(opts.status ?? 200);
  expect(codes(r), JSON.stringify(r.body)).toEqual([code]);
  if (opts.path) expect(r.errors![0].path).toEqual(opts.path);
  return r.errors![0];
}

let X: BrandSetup; // the brand under test
let Y: BrandSetup; // another brand, owned by someone else
let customer: Account;
let anonCustomer: { token: string };
let orderX: Awaited<ReturnType<typeof placeOrder>>; // placed by `customer`
let anonOrderX: Awaited<ReturnType<typeof placeOrder>>; // placed by `anonCustomer`
let orderY: Awaited<ReturnType<typeof placeOrder>>;
let attemptId: string;
let coorganizer: Account, organizer: Account, admin: Account;
let keyX: string;

beforeAll(async () => {
  [X, Y, customer, anonCustomer] = await Promise.all([brandWithProducts(), brandWithProducts(), signUp("customer"), anonymous()]);
  orderX = await placeOrder(X, customer.token);
  anonOrderX = await placeOrder(X, anonCustomer.token);
  orderY = await placeOrder(Y, customer.token);
  const paid = await ok(AttemptToPayDocument, { orderId: orderX.id }, { token: customer.token });
  attemptId = paid.attemptToPayForOrder.id;
  [coorganizer, organizer, admin, keyX] = await Promise.all([member(X, "COORGANIZER"), member(X, "ORGANIZER"), signUp("admin"), apiKey(X)]);
  await promoteToAdmin(admin);
});

describe("someone else's order is NOT_FOUND, exactly like an unknown or malformed id", () => {
  const outsiders: [string, () => Promise<Auth>][] = [
    ["a stranger's account", async () => ({ token: (await signUp("stranger")).token })],
    ["another anonymous session", async () => ({ token: (await anonymous()).token })],
    ["a caller without credentials", async () => ({})],
  ];

  it.each(outsiders)("order(id) for %s", async (_, who) => {
    const auth = await who();
    const [theirs, anonymousOnes, unknown, malformed] = await Promise.all(
      [orderX.id, anonOrderX.id, randomUUID(), "abc"].map((id) => gql(GetOrderDocument, { id }, auth)),
    );
    expectError(theirs, "NOT_FOUND", { path: ["order"] });
    expect(theirs.data).toEqual({ order: null });
    for (const other of [anonymousOnes, unknown, malformed]) expect(other.body).toEqual(theirs.body);
  });

  it.each(outsiders)("paymentAttempt(id) for %s", async (_, who) => {
    const auth = await who();
    const [theirs, unknown, malformed] = await Promise.all([attemptId, randomUUID(), "abc"].map((id) => gql(GetPaymentAttemptDocument, { id }, auth)));
    expectError(theirs, "NOT_FOUND", { path: ["paymentAttempt"] });
    for (const other of [unknown, malformed]) expect(other.body).toEqual(theirs.body);
  });

  it.each(outsiders.slice(0, 2))("cancelOrder and attemptToPayForOrder for %s change nothing", async (_, who) => {
    const auth = await who();
    const attemptsBefore = await count("select 1 from payment_attempt where order_id = $1", [anonOrderX.id]);
    const eventsBefore = await count("select 1 from order_event where order_id = $1", [anonOrderX.id]);
    for (const doc of [CancelOrderDocument, AttemptToPayDocument] as const) {
      const [theirs, unknown, malformed] = await Promise.all(
        [anonOrderX.id, randomUUID(), "abc"].map((orderId) => gql(doc as typeof CancelOrderDocument, { orderId }, auth)),
      );
      expectError(theirs, "NOT_FOUND");
      for (const other of [unknown, malformed]) expect(other.body).toEqual(theirs.body);
    }
    expect(await count("select 1 from payment_attempt where order_id = $1", [anonOrderX.id])).toBe(attemptsBefore);
    expect(await count("select 1 from order_event where order_id = $1", [anonOrderX.id])).toBe(eventsBefore);
    const { order } = await ok(OrderWithBuyerDocument, { id: anonOrderX.id }, { token: anonCustomer.token });
    expect(order!.status).toBe("PENDING");
  });

  it("the customers themselves (account and anonymous session) read their orders with the buyer", async () => {
    const mine = await ok(OrderWithBuyerDocument, { id: orderX.id }, { token: customer.token });
    expect(mine.order).toMatchObject({ id: orderX.id, buyer: { email: "ada@example.test" } });
    const anon = await ok(OrderWithBuyerDocument, { id: anonOrderX.id }, { token: anonCustomer.token });
    expect(anon.order).toMatchObject({ id: anonOrderX.id, buyer: { email: "ada@example.test" } });
    const crossed = await gql(OrderWithBuyerDocument, { id: orderX.id }, { token: anonCustomer.token });
    expectError(crossed, "NOT_FOUND");
    const { paymentAttempt } = await ok(GetPaymentAttemptDocument, { id: attemptId }, { token: customer.token });
    expect(paymentAttempt!.order.id).toBe(orderX.id);
  });
});

describe("brand members see what their role allows", () => {
  it("a COORGANIZER sees the brand's orders and buyers, and members, but not couponWebhookUrl or webhookSecret", async () => {
    const { orders } = await ok(BrandOrdersWithBuyerDocument, { brandId: X.brandId }, { token: coorganizer.token });
    expect(orders.edges.map((e) => e.node.id).sort()).toEqual([orderX.id, anonOrderX.id].sort());
    expect(orders.edges.every((e) => e.node.buyer.email === "ada@example.test")).toBe(true);
    const { order } = await ok(OrderWithBuyerDocument, { id: anonOrderX.id }, { token: coorganizer.token });
    expect(order!.buyer.email).toBe("ada@example.test");
    const { brand } = await ok(BrandMembersDocument, { id: X.brandId }, { token: coorganizer.token });
    expect(brand!.members.map((m) => m.role).sort()).toEqual(["COORGANIZER", "ORGANIZER", "OWNER"]);

    const r = await gql(BrandProtectedFieldsDocument, { id: X.brandId }, { token: coorganizer.token });
    expect(r.data?.brand).toMatchObject({ id: X.brandId, couponWebhookUrl: null, webhookSecret: null });
    expect(r.errors!.map((e) => [e.extensions?.code, e.path])).toEqual([
      ["FORBIDDEN", ["brand", "couponWebhookUrl"]],
      ["FORBIDDEN", ["brand", "webhookSecret"]],
    ]);
  });

  it("an ORGANIZER reads couponWebhookUrl but not webhookSecret", async () => {
    const r = await gql(BrandProtectedFieldsDocument, { id: X.brandId }, { token: organizer.token });
    expect(codes(r)).toEqual(["FORBIDDEN"]);
    expect(r.errors![0].path).toEqual(["brand", "webhookSecret"]);
    expect(r.errors![0].extensions?.requires).toBe("OWNER");
    expect(r.data?.brand?.webhookSecret).toBeNull();
  });

  it("an OWNER reads both protected fields", async () => {
    const { brand } = await ok(BrandProtectedFieldsDocument, { id: X.brandId }, { token: X.owner.token });
    expect(brand).toMatchObject({ id: X.brandId, webhookSecret: X.webhookSecret });
    expect(X.webhookSecret).toMatch(/^whsec_/);
  });

  it("the OWNER of another brand sees nothing of this one: its orders are NOT_FOUND, as for a brand that does not exist", async () => {
    const auth = { token: Y.owner.token };
    expectError(await gql(BrandOrdersWithBuyerDocument, { brandId: X.brandId }, auth), "NOT_FOUND", { path: ["orders"] });
    expectError(await gql(BrandOrdersWithBuyerDocument, { brandId: randomUUID() }, auth), "NOT_FOUND", { path: ["orders"] });
    expectError(await gql(OrderWithBuyerDocument, { id: orderX.id }, auth), "NOT_FOUND", { path: ["order"] });
    expectError(await gql(GetPaymentAttemptDocument, { id: attemptId }, auth), "NOT_FOUND");
    const fields = await gql(BrandProtectedFieldsDocument, { id: X.brandId }, auth);
    expect(codes(fields)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    const { brands } = await ok(BrandsDocument, {}, auth);
    expect(brands.map((b) => b.id)).toEqual([Y.brandId]);
  });

  it("an ADMIN sees every brand's orders, buyers and secrets", async () => {
    const auth = { token: admin.token };
    const { orders } = await ok(BrandOrdersWithBuyerDocument, { brandId: X.brandId }, auth);
    expect(orders.totalCount).toBe(2);
    expect((await ok(OrderWithBuyerDocument, { id: orderY.id }, auth)).order!.buyer.email).toBe("ada@example.test");
    expect((await ok(BrandProtectedFieldsDocument, { id: Y.brandId }, auth)).brand!.webhookSecret).toBe(Y.webhookSecret);
    const ids = (await ok(BrandsDocument, {}, auth)).brands.map((b) => b.id);
    expect(ids).toEqual(expect.arrayContaining([X.brandId, Y.brandId]));
  });
});

describe("Order.couponCode follows Discount.fixedCode (issue #12, item 11)", () => {
  const ORDER_CODE = `query ($id: ID!) { order(id: $id) { id couponCode } }`;
  const ORDERS_CODE = `query ($b: ID!) { orders(brandId: $b, first: 10) { edges { node { id couponCode } } } }`;

  it("is read by the order's customer and ORGANIZER+; a COORGANIZER gets FORBIDDEN, as for the shared code itself", async () => {
    const brand = await brandWithProducts();
    const fixedCode = `SHARED-${randomUUID().slice(0, 8).toUpperCase()}`;
    await ok(
      `mutation ($input: CreateDiscountInput!) { createDiscount(input: $input) { id } }`,
      { input: { brandId: brand.brandId, name: "Staff", type: "PERCENT", amount: 10, usageLimit: 100, fixedCode } },
      { token: brand.owner.token },
    );
    const [buyer, coorg, org, key] = await Promise.all([signUp("coupon-buyer"), member(brand, "COORGANIZER"), member(brand, "ORGANIZER"), apiKey(brand)]);
    const order = await placeOrder(brand, buyer.token, { couponCode: fixedCode.toLowerCase() });

    for (const auth of [{ token: buyer.token }, { token: org.token }, { token: brand.owner.token }, { apiKey: key }]) {
      expect((await ok(ORDER_CODE, { id: order.id }, auth)).order.couponCode).toBe(fixedCode);
    }
    const refused = await gql(ORDER_CODE, { id: order.id }, { token: coorg.token });
    expect(refused.data?.order).toEqual({ id: order.id, couponCode: null });
    expect(refused.errors!.map((e) => [e.extensions?.code, e.extensions?.requires, e.path])).toEqual([["FORBIDDEN", "ORGANIZER", ["order", "couponCode"]]]);
    const list = await gql(ORDERS_CODE, { b: brand.brandId }, { token: coorg.token });
    expect(list.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect(JSON.stringify(list.data)).not.toContain(fixedCode);
    // The code of their own order, which they typed as a customer, they may read.
    const ownOrder = await placeOrder(brand, coorg.token, { couponCode: fixedCode });
    expect((await ok(ORDER_CODE, { id: ownOrder.id }, { token: coorg.token })).order.couponCode).toBe(fixedCode);
  });
});

describe("a brand API key acts as ORGANIZER of its own brand only", () => {
  it("lists its brand's orders with buyers, reads couponWebhookUrl but not webhookSecret", async () => {
    const auth = { apiKey: keyX };
    const { orders } = await ok(BrandOrdersWithBuyerDocument, { brandId: X.brandId }, auth);
    expect(orders.edges.map((e) => e.node.id)).toContain(orderX.id);
    expect((await ok(OrderWithBuyerDocument, { id: orderX.id }, auth)).order!.buyer.email).toBe("ada@example.test");
    const fields = await gql(BrandProtectedFieldsDocument, { id: X.brandId }, auth);
    expect(fields.errors!.map((e) => e.path)).toEqual([["brand", "webhookSecret"]]);
  });

  it("cannot see another brand's orders", async () => {
    const auth = { apiKey: keyX };
    expectError(await gql(BrandOrdersWithBuyerDocument, { brandId: Y.brandId }, auth), "NOT_FOUND");
    expectError(await gql(OrderWithBuyerDocument, { id: orderY.id }, auth), "NOT_FOUND");
  });

  it("creates products and orders for its brand, and neither for another brand", async () => {
    const auth = { apiKey: keyX };
    const { createProduct } = await ok(CreateProductDocument, { input: { brandId: X.brandId, name: "By key", unitPrice: 100 } }, auth);
    expect(createProduct.brand.id).toBe(X.brandId);
    const { createOrder } = await ok(CreateOrderDocument, { input: orderInput(X) }, auth);
    expect(createOrder.events[0].actor).toMatch(/^api-key:/);

    const productsY = await count("select 1 from product where brand_id = $1", [Y.brandId]);
    const ordersY = await count("select 1 from orders where brand_id = $1", [Y.brandId]);
    const p = await gql(CreateProductDocument, { input: { brandId: Y.brandId, name: "Nope", unitPrice: 100 } }, auth);
    expectError(p, "NOT_FOUND"); // an outsider to brand Y, as for every brand-scoped operation
    expectError(await gql(CreateOrderDocument, { input: orderInput(Y) }, auth), "FORBIDDEN");
    expect(await count("select 1 from product where brand_id = $1", [Y.brandId])).toBe(productsY);
    expect(await count("select 1 from orders where brand_id = $1", [Y.brandId])).toBe(ordersY);
  });

  it("cannot create further API keys", async () => {
    const before = await count("select 1 from api_key where brand_id = $1", [X.brandId]);
    const r = await gql(CreateApiKeyDocument, { brandId: X.brandId }, { apiKey: keyX });
    expect(["UNAUTHENTICATED", "FORBIDDEN"]).toContain(codes(r)[0]);
    expect(await count("select 1 from api_key where brand_id = $1", [X.brandId])).toBe(before);
  });
});

describe("managing a brand needs the right role", () => {
  it("createApiKey needs OWNER: COORGANIZER and ORGANIZER get FORBIDDEN and no key is stored", async () => {
    const before = await count("select 1 from api_key where brand_id = $1", [X.brandId]);
    for (const who of [coorganizer, organizer]) {
      expectError(await gql(CreateApiKeyDocument, { brandId: X.brandId }, { token: who.token }), "FORBIDDEN", { path: ["createApiKey"] });
    }
    expect(await count("select 1 from api_key where brand_id = $1", [X.brandId])).toBe(before);
    const { createApiKey } = await ok(CreateApiKeyDocument, { brandId: X.brandId }, { token: X.owner.token });
    expect(createApiKey.secret).toMatch(/^olk_/);
  });

  it("addBrandMember is platform-ADMIN only: brand members get FORBIDDEN (they invite instead), outsiders NOT_FOUND", async () => {
    const newcomer = await signUp("newcomer");
    const members = () => count("select 1 from brand_member where brand_id = $1", [X.brandId]);
    const before = await members();
    const add = (who: Account, email: string, role: "OWNER" | "ORGANIZER" | "COORGANIZER") =>
      gql(AddBrandMemberDocument, { brandId: X.brandId, email, role }, { token: who.token });

    for (const who of [coorganizer, organizer, X.owner]) expectError(await add(who, newcomer.email, "COORGANIZER"), "FORBIDDEN");
    expectError(await add(Y.owner, newcomer.email, "COORGANIZER"), "NOT_FOUND");
    // An unknown email is no different to a brand member: nothing tells who has an account.
    expectError(await add(X.owner, uniqueEmail("nobody"), "COORGANIZER"), "FORBIDDEN");
    expect(await members()).toBe(before);

    const { addBrandMember } = await ok(AddBrandMemberDocument, { brandId: X.brandId, email: newcomer.email, role: "COORGANIZER" }, { token: admin.token });
    expect(addBrandMember).toMatchObject({ role: "COORGANIZER", user: { id: newcomer.userId } });
    expect(await members()).toBe(before + 1);
  });

  it("adds one person once under 10 concurrent calls (one row, no errors)", async () => {
    const newcomer = await signUp("racer");
    const results = await Promise.all(
      Array.from({ length: 10 }, () => gql(AddBrandMemberDocument, { brandId: X.brandId, email: newcomer.email, role: "COORGANIZER" }, { token: admin.token })),
    );
    expect(results.map((r) => codes(r))).toEqual(Array(10).fill([]));
    expect(await count("select 1 from brand_member where brand_id = $1 and user_id = $2", [X.brandId, newcomer.userId])).toBe(1);
  });

  it("never leaves a brand without an OWNER: the last OWNER cannot be demoted", async () => {
    const brand = await brandWithProducts();
    const demote = (email: string) => gql(AddBrandMemberDocument, { brandId: brand.brandId, email, role: "ORGANIZER" }, { token: admin.token });
    expectError(await demote(brand.owner.email), "FAILED_PRECONDITION");
    const second = await member(brand, "OWNER");
    expect(codes(await demote(brand.owner.email))).toEqual([]);
    expectError(await demote(second.email), "FAILED_PRECONDITION");
    expect(await count("select 1 from brand_member where brand_id = $1 and role = 'OWNER'", [brand.brandId])).toBe(1);
  });
});

describe("authentication", () => {
  it("logIn answers a wrong password and an unknown email with the same UNAUTHENTICATED error", async () => {
    const wrongPassword = await gql(LogInDocument, { email: customer.email, password: "not the password at all" });
    const unknownEmail = await gql(LogInDocument, { email: `nobody-${randomUUID()}@example.test`, password: PASSWORD });
    expectError(wrongPassword, "UNAUTHENTICATED", { path: ["logIn"] });
    expect(unknownEmail.body).toEqual(wrongPassword.body);
    const { logIn } = await ok(LogInDocument, { email: customer.email.toUpperCase(), password: PASSWORD });
    expect((await ok(MeDocument, {}, { token: logIn.token })).me.user!.id).toBe(customer.userId);
  });

  const sign = (claims: { sub: string; kind: string }, opts: { secret?: string; exp?: number; iat?: number; issuer?: string } = {}) =>
    new SignJWT({ kind: claims.kind })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(opts.issuer ?? "orderline")
      .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
      .setExpirationTime(opts.exp ?? "1h")
      .sign(new TextEncoder().encode(opts.secret ?? TEST_AUTH_SECRET));

  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const badCredentials: [string, () => Promise<Auth>][] = [
    ["a garbage bearer token", async () => ({ token: "not-a-token" })],
    ["an Authorization header that is not Bearer", async () => ({ headers: { authorization: "Basic dXNlcjpwYXNz" } })],
    ["an expired token", async () => ({ token: await sign({ sub: customer.userId, kind: "user" }, { iat: 1_600_000_000, exp: 1_600_000_060 }) })],
    ["a token forged with another secret", async () => ({ token: await sign({ sub: customer.userId, kind: "user" }, { secret: "x".repeat(44) }) })],
    ["an unsigned (alg none) token", async () => ({ token: `${b64({ alg: "none" })}.${b64({ sub: customer.userId, kind: "user", iss: "orderline" })}.` })],
    ["a valid signature for a user that does not exist", async () => ({ token: await sign({ sub: randomUUID(), kind: "user" }) })],
    ["an anonymous-kind token for an account", async () => ({ token: await sign({ sub: customer.userId, kind: "anonymous" }) })],
    ["a garbage X-API-Key", async () => ({ apiKey: "olk_nope" })],
    ["an X-API-Key with a wrong secret", async () => ({ apiKey: keyX.slice(0, -4) + (keyX.endsWith("AAAA") ? "BBBB" : "AAAA") })],
    ["an X-API-Key of an unknown key id", async () => ({ apiKey: keyX.replace(/^olk_[0-9a-f-]{36}/, `olk_${randomUUID()}`) })],
    ["an X-API-Key whose id is 36 hex digits but no UUID", async () => ({ apiKey: keyX.replace(/^olk_[0-9a-f-]{36}/, `olk_${"0".repeat(36)}`) })],
    ["an X-API-Key whose id is 36 dashes", async () => ({ apiKey: keyX.replace(/^olk_[0-9a-f-]{36}/, `olk_${"-".repeat(36)}`) })],
  ];

  it.each(badCredentials)("%s is refused with HTTP 401 UNAUTHENTICATED, even for `me`", async (_, auth) => {
    const r = await gql(MeDocument, {}, await auth());
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(["UNAUTHENTICATED"]);
    expect(r.data ?? null).toBeNull();
  });

  it("createOrder and myOrders without any credentials are UNAUTHENTICATED and store nothing", async () => {
    const before = await count("select 1 from orders where brand_id = $1", [X.brandId]);
    expectError(await gql(CreateOrderDocument, { input: orderInput(X) }), "UNAUTHENTICATED", { path: ["createOrder"] });
    expectError(await gql(MyOrdersDocument, {}), "UNAUTHENTICATED", { path: ["myOrders"] });
    expect(await count("select 1 from orders where brand_id = $1", [X.brandId])).toBe(before);
  });

  it("`me` describes every kind of viewer", async () => {
    expect((await ok(MeDocument)).me).toEqual({ anonymous: false, apiKeyBrandId: null, user: null });
    expect((await ok(MeDocument, {}, { token: anonCustomer.token })).me).toEqual({ anonymous: true, apiKeyBrandId: null, user: null });
    expect((await ok(MeDocument, {}, { apiKey: keyX })).me).toEqual({ anonymous: false, apiKeyBrandId: X.brandId, user: null });
    expect((await ok(MeDocument, {}, { token: customer.token })).me).toEqual({
      anonymous: false,
      apiKeyBrandId: null,
      user: { id: customer.userId, email: customer.email, isAdmin: false, memberships: [] },
    });
    const owner = (await ok(MeDocument, {}, { token: X.owner.token })).me.user!;
    expect(owner.memberships).toEqual([{ role: "OWNER", brand: { id: X.brandId, name: expect.any(String) } }]);
    const co = (await ok(MeDocument, {}, { token: coorganizer.token })).me.user!;
    expect(co.memberships.map((m) => [m.role, m.brand.id])).toEqual([["COORGANIZER", X.brandId]]);
    expect((await ok(MeDocument, {}, { token: admin.token })).me.user).toMatchObject({ id: admin.userId, isAdmin: true });
  });
});
