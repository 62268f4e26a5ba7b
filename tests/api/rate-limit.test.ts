import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomUUID } from "node:crypto";
import { LogInDocument, ResendConfirmationDocument, SignUpDocument, StartAnonymousSessionDocument } from "../graphql/generated";
import { count, gql, testClientIp, type GraphQLResult } from "../helpers/api";
import { brandWithProducts, member, PASSWORD, payOrder, placeOrder, signUp, type Account, type BrandSetup } from "../helpers/fixtures";
import { startApi, type ApiProcess } from "../helpers/processes";

/** A brand with one paid order (no attendees: one email per resend). */
async function paidBrand(): Promise<{ brand: BrandSetup; orderId: string }> {
  const brand = await brandWithProducts();
  const customer = await signUp("customer");
  const order = await placeOrder(brand, customer.token, { attendees: [] });
  await payOrder(order, customer.token);
  return { brand, orderId: order.id };
}

const resend = (orderId: string, who: Account, ip: string, api?: string) =>
  gql(ResendConfirmationDocument, { orderId }, { token: who.token, headers: { "x-forwarded-for": ip }, api });

function tally(results: GraphQLResult<unknown>[]) {
  const passed = results.filter((r) => r.status === 200 && !r.errors);
  const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === "RATE_LIMITED");
  return { passed: passed.length, limited: limited.length, other: results.length - passed.length - limited.length, limitedResults: limited };
}

// A second API on the same database, as a second instance behind a load balancer (trusting it),
// and a third that trusts no proxy. Neither runs the worker: instance A (the run's API) sends.
let apiB: ApiProcess;
let apiC: ApiProcess;
beforeAll(async () => {
  const shared = { DATABASE_URL: inject("databaseUrl"), RUN_WORKER: "false" };
  [apiB, apiC] = await Promise.all([startApi({ ...shared, TRUST_PROXY: "loopback" }), startApi(shared)]);
});
afterAll(async () => {
  await Promise.all([apiB?.stop(), apiC?.stop()]);
});

describe("resendConfirmation rate limits", () => {
  it("lets exactly 5 of 50 concurrent resends by one user pass; the other 45 get RATE_LIMITED, HTTP 429 and Retry-After", async () => {
    const { brand, orderId } = await paidBrand();
    const ip = testClientIp();
    const results = await Promise.all(Array.from({ length: 50 }, () => resend(orderId, brand.owner, ip)));
    const t = tally(results);
    expect(t).toMatchObject({ passed: 5, limited: 45, other: 0 });
    for (const r of t.limitedResults) {
      expect(r.status).toBe(429);
      const retryAfter = r.errors![0].extensions!.retryAfter as number;
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.headers.get("retry-after")).toBe(String(retryAfter));
      expect(r.errors![0].extensions).toMatchObject({ code: "RATE_LIMITED", limit: { scope: "user", max: 5, window: "1m" } });
    }
  });

  it("lets exactly 60 of 65 resends by 13 users from one IP pass", async () => {
    const { brand, orderId } = await paidBrand();
    const users = await Promise.all(Array.from({ length: 13 }, () => member(brand, "COORGANIZER")));
    const ip = testClientIp();
    const results = await Promise.all(users.flatMap((u) => Array.from({ length: 5 }, () => resend(orderId, u, ip))));
    const t = tally(results);
    expect(t).toMatchObject({ passed: 60, limited: 5, other: 0 });
    for (const r of t.limitedResults) expect(r.errors![0].extensions).toMatchObject({ limit: { scope: "ip", max: 60 } });
  });

  it("holds across two API instances on one database", async () => {
    const { brand, orderId } = await paidBrand();
    const ip = testClientIp();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => resend(orderId, brand.owner, ip, i % 2 ? apiB.url : undefined)));
    expect(tally(results)).toMatchObject({ passed: 5, limited: 45, other: 0 });
  });

  it("keys the IP limit on the socket address when no proxy is trusted: a forged X-Forwarded-For does not reset it", async () => {
    const { brand, orderId } = await paidBrand();
    const users = await Promise.all(Array.from({ length: 13 }, () => member(brand, "COORGANIZER")));
    // Every call claims another address; instance C trusts no proxy, so all count as 127.0.0.1.
    const results = await Promise.all(users.flatMap((u) => Array.from({ length: 5 }, () => resend(orderId, u, testClientIp(), apiC.url))));
    expect(tally(results)).toMatchObject({ passed: 60, limited: 5, other: 0 });
  });
});

describe("logIn rate limits", () => {
  it("stops guessing after 10 attempts per email in 15 minutes, also for the right password", async () => {
    const account = await signUp("target");
    const ip = testClientIp();
    const attempt = (password: string) => gql(LogInDocument, { email: account.email, password }, { headers: { "x-forwarded-for": ip } });
    const wrong = await Promise.all(Array.from({ length: 12 }, () => attempt("wrong password guess")));
    expect(wrong.map((r) => r.errors?.[0]?.extensions?.code).sort()).toEqual([
      ...Array(2).fill("RATE_LIMITED"),
      ...Array(10).fill("UNAUTHENTICATED"),
    ]);
    const right = await attempt(PASSWORD);
    expect(right.status).toBe(429);
    expect(right.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: { scope: "email" } });
    // The email is compared case-insensitively: changing case buys no new attempts.
    const shouted = await gql(LogInDocument, { email: account.email.toUpperCase(), password: PASSWORD }, { headers: { "x-forwarded-for": ip } });
    expect(shouted.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });

  it("limits one IP to 30 attempts a minute across emails", async () => {
    const ip = testClientIp();
    const results = await Promise.all(
      Array.from({ length: 35 }, (_, i) => gql(LogInDocument, { email: `nobody-${i}@example.test`, password: "x" }, { headers: { "x-forwarded-for": ip } })),
    );
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code);
    expect(codes.filter((c) => c === "UNAUTHENTICATED")).toHaveLength(30);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(5);
  });
});

describe("account creation rate limits", () => {
  it("lets exactly 30 of 35 concurrent sign-ups from one IP through, and records no account for the refused ones", async () => {
    const ip = testClientIp();
    const tag = randomUUID().slice(0, 8);
    const results = await Promise.all(
      Array.from({ length: 35 }, (_, i) => gql(SignUpDocument, { input: { email: `flood-${tag}-${i}@example.test`, password: PASSWORD } }, { headers: { "x-forwarded-for": ip } })),
    );
    const refused = results.filter((r) => r.errors?.[0]?.extensions?.code === "RATE_LIMITED");
    expect(results.filter((r) => r.data?.signUp?.token)).toHaveLength(30);
    expect(refused).toHaveLength(5);
    expect(refused[0].status).toBe(429);
    expect(await count("select 1 from users where email like $1", [`flood-${tag}-%`])).toBe(30);
  });

  it("lets exactly 120 of 125 concurrent anonymous sessions from one IP through", async () => {
    const ip = testClientIp();
    const results = await Promise.all(Array.from({ length: 125 }, () => gql(StartAnonymousSessionDocument, {}, { headers: { "x-forwarded-for": ip } })));
    expect(results.filter((r) => r.data?.startAnonymousSession?.token)).toHaveLength(120);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === "RATE_LIMITED")).toHaveLength(5);
    // Another address is not affected.
    expect((await gql(StartAnonymousSessionDocument, {}, { headers: { "x-forwarded-for": testClientIp() } })).data?.startAnonymousSession?.token).toBeTruthy();
  });
});
