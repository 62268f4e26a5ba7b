import { buildSchema } from "graphql";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { db, gql, ok, testClientIp, uniqueEmail, type Auth, type GraphQLResult } from "../helpers/api";
import {
  PASSWORD,
  anonymous,
  apiKey,
  brandWithProducts,
  member,
  orderInput,
  payOrder,
  placeOrder,
  promoteToAdmin,
  signUp,
  startPayment,
  type Account,
  type BrandSetup,
} from "../helpers/fixtures";
import { delivered, eventually } from "../helpers/mail";
import { ROOT } from "../helpers/processes";
import { MY_ORDER_EVENTS, STATUS_EVENTS, subscribe } from "../helpers/ws";
import { EXPECTED, PERMISSION_OF, ROLES, tableRow, type Role } from "./permission-matrix.expected";
import { CREATE_QUOTA } from "../helpers/quotas";
import { REQUEST_RESET, RESET_PASSWORD, requestResetToken } from "../helpers/password-reset";

/**
 * Every root field of the printed schema × every kind of caller, against the hand-written table in
 * permission-matrix.expected.ts. Each call targets brand X's resources with valid arguments, so the
 * caller is the only thing that differs; mutations that change their target get a fresh one per
 * caller. An observed outcome is "ok" (no error, and the data checked) or the error's code.
 */

const SCHEMA = buildSchema(readFileSync(join(ROOT, "src", "schema", "schema.graphql"), "utf8"));
const ROOT_FIELDS: string[] = [SCHEMA.getQueryType(), SCHEMA.getMutationType(), SCHEMA.getSubscriptionType()].flatMap((type) =>
  type ? Object.keys(type.getFields()).map((f) => `${type.name}.${f}`) : [],
);

// ---- the world every call targets ---------------------------------------------------------------

let X: BrandSetup; // the brand under test
let Y: BrandSetup; // another brand
let customerA: Account; // placed orderX
let customerB: Account;
let anonSession: { token: string };
let coorganizerX: Account, organizerX: Account, admin: Account;
let keyX: string;
let brandXName: string;
let orderX: { id: string }; // PENDING, customer A's, with one payment attempt
let attemptX: string;
let discountX: { id: string; fixedCode: string }; // updated by updateDiscount (never deleted)
let fanDiscountX: string; // no email verification: registerFan issues at once
let verifyDiscountX: string; // with email verification: activateFan's tokens
let fanX: string;
let quotaX: string; // updated by updateQuota

const ACCOUNTS = (): Partial<Record<Role, Account>> => ({
  customerA,
  customerB,
  coorganizerX,
  organizerX,
  ownerX: X.owner,
  ownerY: Y.owner,
  admin,
});

function authOf(role: Role): Auth {
  switch (role) {
    case "noToken":
      return {};
    case "anonymous":
      return { token: anonSession.token };
    case "apiKeyX":
      return { apiKey: keyX };
    default:
      return { token: ACCOUNTS()[role]!.token };
  }
}

/** Setup calls use their own client addresses, so the file's per-IP budgets are left for the calls under test. */
const setupIp = () => ({ headers: { "x-forwarded-for": testClientIp() } });

const REGISTER_FAN = `mutation ($input: RegisterFanInput!) { registerFan(input: $input) { ok } }`;
const CREATE_DISCOUNT = `mutation ($input: CreateDiscountInput!) { createDiscount(input: $input) { id fixedCode } }`;
const newCode = () => `PM-${randomUUID().slice(0, 8).toUpperCase()}`;

async function createDiscountX(overrides: Record<string, unknown> = {}) {
  const { createDiscount } = await ok(
    CREATE_DISCOUNT,
    { input: { brandId: X.brandId, name: "Matrix", type: "PERCENT", amount: 10, usageLimit: 3, ...overrides } },
    { token: X.owner.token },
  );
  return createDiscount as { id: string; fixedCode: string | null };
}

/** A PENDING order of customer A in brand X. */
const pendingOrderX = () => placeOrder(X, customerA.token);
/** A PAID order of customer A in brand X (paid through the provider's webhook). */
async function paidOrderX() {
  const order = await placeOrder(X, customerA.token);
  await payOrder(order, customerA.token);
  return order;
}

let codes: Promise<string[]> | undefined;
function checkInCodes(): Promise<string[]> {
  return (codes ??= (async () => {
    const attendees = ROLES.map((role) => ({ name: `Door ${role}`, email: `${role.toLowerCase()}@example.test` }));
    const order = await placeOrder(X, customerA.token, { attendees });
    await payOrder(order, customerA.token);
    const { order: o } = await ok(`query ($id: ID!) { order(id: $id) { tickets { code } } }`, { id: order.id }, { token: customerA.token });
    return o.tickets.map((t: { code: string }) => t.code);
  })());
}
const REFUND_ORDER = `mutation ($input: RefundOrderInput!) { refundOrder(input: $input) { id status amount source order { id } } }`;

/**
 * One paid order X of product 1 only, shared by every caller (each allowed one refunds 100 of it):
 * customer A's createOrder budget (60 per 10 minutes) is spent by the other fields, and the quotas
 * createQuota's calls put on product 2 (5 seats) do not limit product 1.
 */
let refundTarget: Promise<{ id: string }> | undefined;
const paidOrderXForRefund = () =>
  (refundTarget ??= placeOrder(X, customerA.token, { lines: [{ productId: X.products[0].id, quantity: 1 }] }).then(async (order) => {
    await payOrder(order, customerA.token);
    return order;
  }));

/** A paid order X with a refund of 100 asked by its owner, read by every caller (issue #11). */
let refundedTarget: Promise<{ order: { id: string }; refundId: string }> | undefined;
const refundedOrderX = () =>
  (refundedTarget ??= placeOrder(X, customerA.token, { lines: [{ productId: X.products[0].id, quantity: 1 }] }).then(async (order) => {
    await payOrder(order, customerA.token);
    const { refundOrder } = await ok(REFUND_ORDER, { input: { orderId: order.id, amount: 100 } }, { token: X.owner.token });
    return { order, refundId: refundOrder.id as string };
  }));

/** A fresh, unused verification token for a fan of brand X's verifying discount, from the email it sent. */
async function verificationToken(): Promise<string> {
  const email = uniqueEmail("matrix-verify");
  await ok(REGISTER_FAN, { input: { discountId: verifyDiscountX, name: "Verify Me", email } }, setupIp());
  const mail = await eventually(async () => {
    const [m] = (await delivered(email)).filter((x) => x.body.Tag === "fan-verification");
    if (!m) throw new Error(`no verification email to ${email} yet`);
    return m;
  });
  const token = /\/fans\/([A-Za-z0-9_-]+)/.exec(mail.body.TextBody)?.[1];
  if (!token) throw new Error(`no link in ${mail.body.TextBody}`);
  return token;
}

const ADD_MEMBER = `mutation ($brandId: ID!, $email: String!, $role: BrandRole!) { addBrandMember(brandId: $brandId, email: $email, role: $role) { role } }`;
const INVITE = `mutation ($brandId: ID!, $email: String!, $role: BrandRole!) { inviteBrandMember(brandId: $brandId, email: $email, role: $role) { ok } }`;

/** Brand V, owned by an account of its own: acceptBrandInvitation makes callers members there, not in X. */
let brandV: Promise<{ brandId: string; owner: Account }> | undefined;
const otherBrand = () =>
  (brandV ??= signUp("matrix-inviter").then(async (owner) => {
    const { createBrand } = await ok(`mutation { createBrand(input: { name: "Matrix V", currency: "EUR" }) { id } }`, {}, { token: owner.token });
    return { brandId: createBrand.id as string, owner };
  }));

/** The token of a fresh invitation to brand V for `email`, from the email it sent. */
async function invitationToken(v: { brandId: string; owner: Account }, email: string): Promise<string> {
  await ok(INVITE, { brandId: v.brandId, email, role: "COORGANIZER" }, { token: v.owner.token, ...setupIp() });
  const mail = await eventually(async () => {
    const [m] = (await delivered(email)).filter((x) => x.body.Tag === "brand-invitation" && x.body.TextBody.includes("Matrix V"));
    if (!m) throw new Error(`no invitation email to ${email} yet`);
    return m;
  });
  const token = /\/invitations\/([A-Za-z0-9_-]+)/.exec(mail.body.TextBody)?.[1];
  if (!token) throw new Error(`no link in ${mail.body.TextBody}`);
  return token;
}

/**
 * Brand W, which brand X's members also belong to with their X role, next to W's own OWNER: they
 * leave W, so brand X keeps its members for the other rows.
 */
let brandW: Promise<string> | undefined;
const leavingBrand = () =>
  (brandW ??= signUp("matrix-w-owner").then(async (owner) => {
    const { createBrand } = await ok(`mutation { createBrand(input: { name: "Matrix W", currency: "EUR" }) { id } }`, {}, { token: owner.token });
    const roles: [Account, string][] = [
      [coorganizerX, "COORGANIZER"],
      [organizerX, "ORGANIZER"],
      [X.owner, "OWNER"],
    ];
    for (const [who, role] of roles) await ok(ADD_MEMBER, { brandId: createBrand.id, email: who.email, role }, { token: admin.token });
    return createBrand.id as string;
  }));

beforeAll(async () => {
  [X, Y, customerA, customerB, anonSession, admin] = await Promise.all([
    brandWithProducts(),
    brandWithProducts(),
    signUp("customer-a"),
    signUp("customer-b"),
    anonymous(),
    signUp("admin"),
  ]);
  await promoteToAdmin(admin);
  [coorganizerX, organizerX, keyX] = await Promise.all([member(X, "COORGANIZER"), member(X, "ORGANIZER"), apiKey(X)]);
  brandXName = (await ok(`query ($id: ID!) { brand(id: $id) { name } }`, { id: X.brandId })).brand.name;
  orderX = await pendingOrderX();
  attemptX = (await startPayment(orderX.id, customerA.token)).id;
  const [d, fanD, verifyD] = await Promise.all([createDiscountX({ fixedCode: newCode() }), createDiscountX(), createDiscountX({ verifyEmail: true })]);
  discountX = d as { id: string; fixedCode: string };
  [fanDiscountX, verifyDiscountX] = [fanD.id, verifyD.id];
  const fanEmail = uniqueEmail("matrix-fan");
  await ok(REGISTER_FAN, { input: { discountId: fanDiscountX, name: "Fan X", email: fanEmail } }, setupIp());
  const { rows } = await db().query("select id from fan where lower(email) = lower($1)", [fanEmail]);
  fanX = rows[0].id;
  quotaX = (await ok(CREATE_QUOTA, { input: { brandId: X.brandId, name: "Matrix", size: 1000, productIds: [X.products[0].id] } }, { token: X.owner.token }))
    .createQuota.id;
});

// ---- observing one call -------------------------------------------------------------------------

/** A failed data check: the call succeeded, but with the wrong data. */
function must(condition: unknown, problem: string): asserts condition {
  if (!condition) throw new Error(problem);
}

/**
 * What a call answered, as one string: "ok" (HTTP 200, no error, and `check` accepted the data) or
 * the error code; anything irregular (several errors, an error not at the field, data next to an
 * error, a status other than 200) is spelled out so the row differs from the table.
 */
function outcomeOf(field: string, r: GraphQLResult<any>, check: (data: any) => void): string {
  const notes: string[] = [];
  if (r.status !== 200) notes.push(`HTTP ${r.status}`);
  if (!r.errors?.length) {
    try {
      must(r.data?.[field] !== undefined && r.data?.[field] !== null, `no data: ${JSON.stringify(r.body)}`);
      check(r.data[field]);
    } catch (e) {
      notes.push(`wrong data: ${(e as Error).message}`);
    }
    return ["ok", ...notes].join(", ");
  }
  const codes = r.errors.map((e) => e.extensions?.code ?? `no code (${e.message})`).join("+");
  if (r.errors.some((e) => JSON.stringify(e.path) !== JSON.stringify([field]))) notes.push(`path ${r.errors.map((e) => JSON.stringify(e.path)).join(" ")}`);
  if (r.data?.[field] != null) notes.push("data next to the error");
  return [codes, ...notes].join(", ");
}

interface Caller {
  role: Role;
  auth: Auth;
}

/** How to call one root field; `prepare` makes a fresh target for one caller (run for all callers at once first). */
interface FieldCall<P = unknown> {
  prepare?: (role: Role) => Promise<P>;
  call: (caller: Caller, prepared: P) => Promise<string>;
}

/** A query or mutation over HTTP. */
function http<P = undefined>(spec: {
  query: string;
  vars?: (role: Role, prepared: P) => Record<string, unknown>;
  prepare?: (role: Role) => Promise<P>;
  /** Another credential for this call (e.g. a fresh anonymous session that signUp may consume). */
  auth?: (caller: Caller, prepared: P) => Auth;
  check?: (data: any, role: Role, prepared: P) => void;
}): FieldCall<P> {
  return {
    prepare: spec.prepare,
    async call(caller, prepared) {
      const field = /{\s*(\w+)/.exec(spec.query.slice(spec.query.indexOf("{")))![1];
      const r = await gql(spec.query, spec.vars?.(caller.role, prepared) ?? {}, spec.auth?.(caller, prepared) ?? caller.auth);
      return outcomeOf(field, r, (data) => spec.check?.(data, caller.role, prepared));
    },
  };
}

/**
 * A subscription over graphql-ws with the caller's credentials in connection_init: accepted when
 * no error arrives within three seconds of subscribing (no need to wait for an event), else the
 * error's code. A refusal needs one database read; the margin is for ten roles subscribing at once
 * on a loaded CI machine.
 */
function ws(query: string, vars: () => Record<string, unknown>): FieldCall {
  return {
    async call({ auth }) {
      const sub = await subscribe(query, vars(), { token: auth.token, apiKey: auth.apiKey });
      try {
        const ended = await Promise.race([sub.done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3_000))]);
        if (!ended) return sub.events.length ? `events before any change: ${JSON.stringify(sub.events)}` : "ok";
        const errors = sub.events.flatMap((e) => e.errors ?? []);
        if (!errors.length) return `completed without an error: ${JSON.stringify(sub.events)}`;
        return errors.map((e) => (e.extensions?.code as string | undefined) ?? `no code (${e.message})`).join("+");
      } finally {
        await sub.close();
      }
    },
  };
}

const X_MEMBERS: Role[] = ["coorganizerX", "organizerX", "ownerX", "admin", "apiKeyX"];

// ---- one call per root field --------------------------------------------------------------------

const CALLS: Record<string, FieldCall<any>> = {
  "Query.me": http({
    query: `{ me { anonymous apiKeyBrandId user { id isAdmin } } }`,
    check(me, role) {
      const account = ACCOUNTS()[role];
      must(me.anonymous === (role === "anonymous"), `anonymous is ${me.anonymous}`);
      must(me.apiKeyBrandId === (role === "apiKeyX" ? X.brandId : null), `apiKeyBrandId is ${me.apiKeyBrandId}`);
      must((me.user?.id ?? null) === (account?.userId ?? null), `user is ${JSON.stringify(me.user)}`);
      if (account) must(me.user.isAdmin === (role === "admin"), `isAdmin is ${me.user.isAdmin}`);
    },
  }),
  "Query.brands": http({
    query: `{ brands { id } }`,
    check(brands: { id: string }[], role) {
      const ids = brands.map((b) => b.id);
      must(ids.includes(X.brandId) === X_MEMBERS.includes(role), `brand X ${ids.includes(X.brandId) ? "listed" : "missing"}`);
      if (role === "apiKeyX") must(ids.length === 1, `a key lists ${ids.length} brands`);
      if (role === "ownerY" || role === "admin") must(ids.includes(Y.brandId), "brand Y missing");
      if (role === "noToken" || role === "anonymous") must(ids.length === 0, `lists ${ids.length} brands`);
    },
  }),
  "Query.brand": http({
    query: `query ($id: ID!) { brand(id: $id) { id name currency products { id } } }`,
    vars: () => ({ id: X.brandId }),
    check: (b) => must(b.id === X.brandId && b.products.length === 2, `brand ${JSON.stringify(b)}`),
  }),
  "Query.order": http({
    query: `query ($id: ID!) { order(id: $id) { id status buyer { email } } }`,
    vars: () => ({ id: orderX.id }),
    check: (o) => must(o.id === orderX.id && o.buyer.email === "ada@example.test", `order ${JSON.stringify(o)}`),
  }),
  "Query.orders": http({
    query: `query ($brandId: ID!) { orders(brandId: $brandId, first: 100) { totalCount edges { node { id brand { id } } } } }`,
    vars: () => ({ brandId: X.brandId }),
    check(c) {
      must(c.totalCount >= 1 && c.edges.length >= 1, `totalCount ${c.totalCount}`);
      must(
        c.edges.every((e: any) => e.node.brand.id === X.brandId),
        "an order of another brand is listed",
      );
    },
  }),
  "Query.searchOrders": http({
    query: `query ($brandId: ID!) { searchOrders(brandId: $brandId, filter: { search: "ada@example" }, first: 100) { totalCount edges { node { id brand { id } } } } }`,
    vars: () => ({ brandId: X.brandId }),
    check(c) {
      must(c.totalCount >= 1 && c.edges.some((e: any) => e.node.id === orderX.id), `totalCount ${c.totalCount}`);
      must(
        c.edges.every((e: any) => e.node.brand.id === X.brandId),
        "an order of another brand is listed",
      );
    },
  }),
  "Query.myOrders": http({
    query: `{ myOrders(first: 100) { totalCount edges { node { id } } } }`,
    check(c, role) {
      const listed = c.edges.some((e: any) => e.node.id === orderX.id);
      must(listed === (role === "customerA"), `orderX ${listed ? "listed" : "missing"}`);
    },
  }),
  "Query.paymentAttempt": http({
    query: `query ($id: ID!) { paymentAttempt(id: $id) { id status order { id } } }`,
    vars: () => ({ id: attemptX }),
    check: (a) => must(a.id === attemptX && a.order.id === orderX.id, `attempt ${JSON.stringify(a)}`),
  }),
  "Query.discount": http({
    query: `query ($id: ID!) { discount(id: $id) { id fixedCode brand { id } } }`,
    vars: () => ({ id: discountX.id }),
    check: (d) => must(d.id === discountX.id && d.fixedCode === discountX.fixedCode && d.brand.id === X.brandId, `discount ${JSON.stringify(d)}`),
  }),
  "Query.discounts": http({
    query: `query ($brandId: ID!) { discounts(brandId: $brandId, first: 100) { totalCount edges { node { id brand { id } } } } }`,
    vars: () => ({ brandId: X.brandId }),
    check(c) {
      must(
        c.edges.some((e: any) => e.node.id === discountX.id),
        "discount X missing",
      );
      must(
        c.edges.every((e: any) => e.node.brand.id === X.brandId),
        "a discount of another brand is listed",
      );
    },
  }),
  "Query.fan": http({
    query: `query ($id: ID!) { fan(id: $id) { id email brand { id } } }`,
    vars: () => ({ id: fanX }),
    check: (f) => must(f.id === fanX && f.brand.id === X.brandId && f.email.startsWith("matrix-fan"), `fan ${JSON.stringify(f)}`),
  }),
  "Query.fans": http({
    query: `query ($brandId: ID!) { fans(brandId: $brandId, first: 100) { totalCount edges { node { id email } } } }`,
    vars: () => ({ brandId: X.brandId }),
    check: (c) =>
      must(
        c.edges.some((e: any) => e.node.id === fanX),
        "fan X missing",
      ),
  }),

  "Mutation.signUp": http({
    query: `mutation ($input: SignUpInput!) { signUp(input: $input) { token user { id email } } }`,
    // Signing up turns the anonymous session into the account: that caller gets a session of its own.
    prepare: async (role) => ({ email: uniqueEmail("matrix-signup"), session: role === "anonymous" ? await anonymous() : null }),
    auth: (caller, p) => (p.session ? { token: p.session.token } : caller.auth),
    vars: (_, p) => ({ input: { email: p.email, password: PASSWORD, name: "Signed Up" } }),
    check: (s, _, p) => must(s.token && s.user.email === p.email, `signUp ${JSON.stringify(s)}`),
  }),
  "Mutation.logIn": http({
    query: `mutation ($email: String!, $password: String!) { logIn(email: $email, password: $password) { token user { id } } }`,
    prepare: () => signUp("matrix-login"), // one account per caller: the per-email limit is 10 per 15 minutes
    vars: (_, account: Account) => ({ email: account.email, password: PASSWORD }),
    check: (l, _, account: Account) => must(l.token && l.user.id === account.userId, `logIn ${JSON.stringify(l)}`),
  }),
  "Mutation.startAnonymousSession": http({
    query: `mutation { startAnonymousSession { token user { id } } }`,
    check: (s) => must(typeof s.token === "string" && s.token.length > 20 && s.user === null, `session ${JSON.stringify(s)}`),
  }),
  "Mutation.logOutEverywhere": http({
    query: `mutation { logOutEverywhere }`,
    // Ending a shared caller's sessions would break every later row, so each signed-in caller is a
    // fresh session of the same kind: a new anonymous session, or a new account (only the caller's
    // kind matters here, not its roles).
    prepare: async (role) => (role === "anonymous" ? await anonymous() : role === "noToken" || role === "apiKeyX" ? null : await signUp("matrix-logout")),
    auth: (caller, p) => (p ? { token: p.token } : caller.auth),
    check: (v) => must(v === true, `logOutEverywhere ${JSON.stringify(v)}`),
  }),
  "Mutation.createBrand": http({
    query: `mutation ($input: CreateBrandInput!) { createBrand(input: $input) { id name currency } }`,
    vars: (role) => ({ input: { name: `Matrix brand of ${role}`, currency: "EUR" } }),
    check: (b, role) => must(b.name === `Matrix brand of ${role}` && b.currency === "EUR", `brand ${JSON.stringify(b)}`),
  }),
  "Mutation.addBrandMember": http({
    query: `mutation ($brandId: ID!, $email: String!, $role: BrandRole!) {
      addBrandMember(brandId: $brandId, email: $email, role: $role) { role user { id } brand { id } } }`,
    prepare: () => signUp("matrix-newcomer"),
    vars: (_, newcomer: Account) => ({ brandId: X.brandId, email: newcomer.email, role: "COORGANIZER" }),
    check: (m, _, newcomer: Account) =>
      must(m.role === "COORGANIZER" && m.user.id === newcomer.userId && m.brand.id === X.brandId, `member ${JSON.stringify(m)}`),
  }),
  "Mutation.inviteBrandMember": http({
    query: `mutation ($brandId: ID!, $email: String!, $role: BrandRole!) { inviteBrandMember(brandId: $brandId, email: $email, role: $role) { ok } }`,
    vars: () => ({ brandId: X.brandId, email: uniqueEmail("matrix-invitee"), role: "COORGANIZER" }),
    check: (r) => must(r.ok === true, `inviteBrandMember ${JSON.stringify(r)}`),
  }),
  "Mutation.acceptBrandInvitation": http({
    query: `mutation ($token: String!) { acceptBrandInvitation(token: $token) { role user { id } brand { id } } }`,
    // An invitation to brand V for the caller's own email (a fresh address for callers without an account).
    prepare: async (role) => {
      const v = await otherBrand();
      return { brandId: v.brandId, token: await invitationToken(v, ACCOUNTS()[role]?.email ?? uniqueEmail("matrix-nobody")) };
    },
    vars: (_, p: { brandId: string; token: string }) => ({ token: p.token }),
    check: (m, role, p: { brandId: string; token: string }) =>
      must(m.brand.id === p.brandId && m.user.id === ACCOUNTS()[role]?.userId && m.role === "COORGANIZER", `member ${JSON.stringify(m)}`),
  }),
  "Mutation.leaveBrand": http({
    query: `mutation ($brandId: ID!) { leaveBrand(brandId: $brandId) { ok } }`,
    prepare: () => leavingBrand(),
    vars: (_, brandId: string) => ({ brandId }),
    check: (r) => must(r.ok === true, `leaveBrand ${JSON.stringify(r)}`),
  }),
  "Mutation.createApiKey": http({
    query: `mutation ($brandId: ID!) { createApiKey(brandId: $brandId) { id secret } }`,
    vars: () => ({ brandId: X.brandId }),
    check: (k) => must(typeof k.secret === "string" && k.secret.startsWith("olk_"), `key ${JSON.stringify(k)}`),
  }),
  "Mutation.revokeApiKey": http({
    query: `mutation ($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`,
    // A key of brand X for each caller, never the shared keyX the key column calls with.
    prepare: () => apiKey(X),
    vars: (_, key: string) => ({ id: key.split("_")[1] }),
    check: (k, _, key: string) => must(k.id === key.split("_")[1] && typeof k.revokedAt === "string", `key ${JSON.stringify(k)}`),
  }),
  "Mutation.updateBrand": http({
    query: `mutation ($id: ID!, $input: UpdateBrandInput!) { updateBrand(id: $id, input: $input) { id name } }`,
    vars: () => ({ id: X.brandId, input: { name: brandXName } }), // the same name: nothing changes for the next caller
    check: (b) => must(b.id === X.brandId && b.name === brandXName, `brand ${JSON.stringify(b)}`),
  }),
  "Mutation.rotateWebhookSecret": http({
    query: `mutation ($brandId: ID!) { rotateWebhookSecret(brandId: $brandId) { id webhookSecret } }`,
    vars: () => ({ brandId: X.brandId }),
    check: (b) => must(b.id === X.brandId && b.webhookSecret?.startsWith("whsec_") && b.webhookSecret !== X.webhookSecret, `brand ${JSON.stringify(b)}`),
  }),
  "Mutation.createProduct": http({
    query: `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id unitPrice brand { id } } }`,
    vars: (role) => ({ input: { brandId: X.brandId, name: `Made by ${role}`, unitPrice: 990 } }),
    check: (p) => must(p.brand.id === X.brandId && p.unitPrice === 990, `product ${JSON.stringify(p)}`),
  }),
  "Mutation.createOrder": http({
    query: `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id status total brand { id } } }`,
    vars: () => ({ input: orderInput(X) }),
    check: (o) => must(o.status === "PENDING" && o.brand.id === X.brandId && o.total === 2 * 1250 + 400, `order ${JSON.stringify(o)}`),
  }),
  "Mutation.cancelOrder": http({
    query: `mutation ($orderId: ID!) { cancelOrder(orderId: $orderId) { id status } }`,
    prepare: pendingOrderX,
    vars: (_, order: { id: string }) => ({ orderId: order.id }),
    check: (o, _, order: { id: string }) => must(o.id === order.id && o.status === "CANCELLED", `order ${JSON.stringify(o)}`),
  }),
  "Mutation.fulfillOrder": http({
    query: `mutation ($orderId: ID!) { fulfillOrder(orderId: $orderId) { id status fulfilledAt } }`,
    prepare: paidOrderX,
    vars: (_, order: { id: string }) => ({ orderId: order.id }),
    check: (o, _, order: { id: string }) => must(o.id === order.id && o.status === "FULFILLED" && o.fulfilledAt, `order ${JSON.stringify(o)}`),
  }),
  "Mutation.attemptToPayForOrder": http({
    query: `mutation ($orderId: ID!) { attemptToPayForOrder(orderId: $orderId) { id status amount order { id } } }`,
    prepare: pendingOrderX,
    vars: (_, order) => ({ orderId: order.id }),
    check: (a, _, order) => must(a.order.id === order.id && a.status === "CREATED" && a.amount === order.total, `attempt ${JSON.stringify(a)}`),
  }),
  "Mutation.resendConfirmation": http({
    query: `mutation ($orderId: ID!) { resendConfirmation(orderId: $orderId) { order { id } sentTo } }`,
    prepare: paidOrderX,
    vars: (_, order: { id: string }) => ({ orderId: order.id }),
    check: (r, _, order: { id: string }) =>
      must(r.order.id === order.id && JSON.stringify(r.sentTo) === JSON.stringify(["ada@example.test", "tim@example.test"]), `resent ${JSON.stringify(r)}`),
  }),
  "Mutation.createDiscount": http({
    query: `mutation ($input: CreateDiscountInput!) { createDiscount(input: $input) { id fixedCode brand { id } } }`,
    vars: () => ({ input: { brandId: X.brandId, name: "Matrix new", type: "FIXED_AMOUNT", amount: 100, fixedCode: newCode() } }),
    check: (d) => must(d.brand.id === X.brandId && d.fixedCode?.startsWith("PM-"), `discount ${JSON.stringify(d)}`),
  }),
  "Mutation.updateDiscount": http({
    query: `mutation ($id: ID!, $input: UpdateDiscountInput!) { updateDiscount(id: $id, input: $input) { id description } }`,
    vars: (role) => ({ id: discountX.id, input: { description: `Touched by ${role}` } }),
    check: (d, role) => must(d.id === discountX.id && d.description === `Touched by ${role}`, `discount ${JSON.stringify(d)}`),
  }),
  "Mutation.deleteDiscount": http({
    query: `mutation ($id: ID!) { deleteDiscount(id: $id) }`,
    prepare: () => createDiscountX(),
    vars: (_, d: { id: string }) => ({ id: d.id }),
    check: (deleted) => must(deleted === true, `deleteDiscount answered ${deleted}`),
  }),
  "Mutation.registerFan": http({
    query: REGISTER_FAN,
    vars: () => ({ input: { discountId: fanDiscountX, name: "Fan", email: uniqueEmail("matrix-register") } }),
    check: (r) => must(r.ok === true, `registerFan ${JSON.stringify(r)}`),
  }),
  "Mutation.activateFan": http({
    query: `mutation ($token: String!) { activateFan(token: $token) { ok } }`,
    prepare: verificationToken,
    vars: (_, token: string) => ({ token }),
    check: (r) => must(r.ok === true, `activateFan ${JSON.stringify(r)}`),
  }),
  "Mutation.requestPasswordReset": http({
    query: REQUEST_RESET,
    vars: () => ({ email: uniqueEmail("matrix-reset") }),
    check: (r) => must(r.ok === true, `requestPasswordReset ${JSON.stringify(r)}`),
  }),
  "Mutation.resetPassword": http({
    query: RESET_PASSWORD,
    // One fresh account per caller (a reset ends the account's sessions), its emailed token.
    prepare: async () => {
      const account = await signUp("matrix-reset");
      return { account, token: await requestResetToken(account.email) };
    },
    vars: (_, p: { account: Account; token: string }) => ({ token: p.token, password: "a brand new password" }),
    check: (r, _, p: { account: Account; token: string }) => must(r.token && r.user.id === p.account.userId, `resetPassword ${JSON.stringify(r)}`),
  }),

  "Query.quota": http({
    query: `query ($id: ID!) { quota(id: $id) { id size brand { id } } }`,
    vars: () => ({ id: quotaX }),
    check: (q) => must(q.id === quotaX && q.brand.id === X.brandId, `quota ${JSON.stringify(q)}`),
  }),
  "Query.refund": http({
    query: `query ($id: ID!) { refund(id: $id) { id amount order { id } } }`,
    prepare: refundedOrderX,
    vars: (_, p: { order: { id: string }; refundId: string }) => ({ id: p.refundId }),
    check: (r, _, p: { order: { id: string }; refundId: string }) =>
      must(r.id === p.refundId && r.amount === 100 && r.order.id === p.order.id, `refund ${JSON.stringify(r)}`),
  }),
  "Mutation.refundOrder": http({
    query: REFUND_ORDER,
    prepare: paidOrderXForRefund,
    vars: (_, order: { id: string }) => ({ input: { orderId: order.id, amount: 100, reason: "matrix" } }),
    check: (r, _, order: { id: string }) =>
      must(r.order.id === order.id && r.status === "PENDING" && r.amount === 100 && r.source === "BRAND", `refund ${JSON.stringify(r)}`),
  }),
  "Query.quotas": http({
    query: `query ($brandId: ID!) { quotas(brandId: $brandId, first: 100) { totalCount edges { node { id } } } }`,
    vars: () => ({ brandId: X.brandId }),
    check: (c) =>
      must(
        c.edges.some((e: any) => e.node.id === quotaX),
        "quota X missing",
      ),
  }),
  "Mutation.createQuota": http({
    query: CREATE_QUOTA,
    vars: (role) => ({ input: { brandId: X.brandId, name: `By ${role}`, size: 5, productIds: [X.products[1].id] } }),
    check: (q, role) => must(q.brand.id === X.brandId && q.name === `By ${role}`, `quota ${JSON.stringify(q)}`),
  }),
  "Mutation.updateQuota": http({
    query: `mutation ($id: ID!, $input: UpdateQuotaInput!) { updateQuota(id: $id, input: $input) { id name } }`,
    vars: (role) => ({ id: quotaX, input: { name: `Touched by ${role}` } }),
    check: (q, role) => must(q.id === quotaX && q.name === `Touched by ${role}`, `quota ${JSON.stringify(q)}`),
  }),
  "Subscription.availabilityChanged": ws(`subscription ($brandId: ID!) { availabilityChanged(brandId: $brandId) { available product { id } } }`, () => ({
    brandId: X.brandId,
  })),
  "Subscription.orderStatusChanged": ws(STATUS_EVENTS, () => ({ brandId: X.brandId })),
  "Subscription.checkInsChanged": ws(`subscription ($brandId: ID!) { checkInsChanged(brandId: $brandId) { at stats { checkedIn } } }`, () => ({
    brandId: X.brandId,
  })),
  "Query.checkInStats": http({
    query: `query ($brandId: ID!) { checkInStats(brandId: $brandId) { tickets checkedIn brand { id } } }`,
    vars: () => ({ brandId: X.brandId }),
    check: (s) => must(s.brand.id === X.brandId && s.tickets >= s.checkedIn, `stats ${JSON.stringify(s)}`),
  }),
  "Mutation.checkIn": http({
    query: `mutation ($brandId: ID!, $code: String!) { checkIn(brandId: $brandId, code: $code) { outcome ticket { id } } }`,
    // One paid order with a ticket per caller (ten orders would spend customer A's order budget), its codes read by the customer.
    prepare: async (role) => (await checkInCodes())[ROLES.indexOf(role)],
    vars: (_, code: string) => ({ brandId: X.brandId, code }),
    check: (r) => must(r.outcome === "OK" && r.ticket, `checkIn ${JSON.stringify(r)}`),
  }),
  "Subscription.myOrderStatusChanged": ws(MY_ORDER_EVENTS, () => ({ orderId: orderX.id })),
};

// ---- the tests ----------------------------------------------------------------------------------

describe("the permission matrix covers the printed schema", () => {
  it("has exactly one row, and one call, per root field of Query, Mutation and Subscription", () => {
    expect(ROOT_FIELDS.length).toBeGreaterThan(20);
    const missing = ROOT_FIELDS.filter((f) => !(f in EXPECTED));
    const stale = Object.keys(EXPECTED).filter((f) => !ROOT_FIELDS.includes(f));
    expect({ "root fields without a row (decide their permissions)": missing, "rows for fields not in the schema": stale }).toEqual({
      "root fields without a row (decide their permissions)": [],
      "rows for fields not in the schema": [],
    });
    expect(ROOT_FIELDS.filter((f) => !(f in CALLS))).toEqual([]);
    expect(Object.keys(CALLS).filter((f) => !ROOT_FIELDS.includes(f))).toEqual([]);
    for (const [field, row] of Object.entries(EXPECTED)) expect(row.length, field).toBe(ROLES.length);
  });
});

describe("the permission matrix agrees with the access table in src", () => {
  it("names, for every root field, the permission it checks (or null), and each such row is the one the table gives", () => {
    expect(ROOT_FIELDS.filter((f) => !(f in PERMISSION_OF))).toEqual([]);
    expect(Object.keys(PERMISSION_OF).filter((f) => !ROOT_FIELDS.includes(f))).toEqual([]);
    const byRole = (values: readonly string[]) => ROLES.map((role, i) => `${role}: ${values[i]}`);
    const governed = Object.entries(PERMISSION_OF).flatMap(([field, row]) => (row ? [[field, row] as const] : []));
    expect(governed.length).toBeGreaterThan(20);
    const fromTable = Object.fromEntries(governed.map(([field, row]) => [field, byRole(tableRow(row))]));
    const written = Object.fromEntries(governed.map(([field]) => [field, byRole(EXPECTED[field])]));
    expect(fromTable).toEqual(written);
  });
});

describe("every root field × every caller answers as the table says", () => {
  it.each(ROOT_FIELDS)("%s", async (field) => {
    const row = EXPECTED[field];
    const spec = CALLS[field];
    if (!row) throw new Error(`${field} has no row in permission-matrix.expected.ts: decide who may call it`);
    if (!spec) throw new Error(`${field} has no call in permission-matrix.test.ts`);
    const prepared = await Promise.all(ROLES.map((role) => spec.prepare?.(role)));
    const answers = await Promise.all(ROLES.map((role, i) => spec.call({ role, auth: authOf(role) }, prepared[i])));
    // One "caller: outcome" line per column, in the table's order, so a failure shows the row's diff.
    const byRole = (values: readonly string[]) => ROLES.map((role, i) => `${role}: ${values[i]}`);
    expect(byRole(answers)).toEqual(byRole(row));
  });
});
