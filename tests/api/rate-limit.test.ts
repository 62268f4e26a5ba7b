import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomUUID } from "node:crypto";
import { LogInDocument, ResendConfirmationDocument, SignUpDocument, StartAnonymousSessionDocument } from "../graphql/generated";
import { count, gql, sameNetwork, testClientIp, type GraphQLResult } from "../helpers/api";
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
  const logIn = (email: string, password: string, ip: string) => gql(LogInDocument, { email, password }, { headers: { "x-forwarded-for": ip } });
  const codesOf = (results: GraphQLResult<unknown>[]) => results.map((r) => r.errors?.[0]?.extensions?.code ?? "OK");
  const countOf = (results: GraphQLResult<unknown>[], code: string) => codesOf(results).filter((c) => c === code).length;

  it("lets exactly 10 of 25 concurrent wrong passwords from one address be tried; that address is then refused, also with the right password", async () => {
    const account = await signUp("target");
    const ip = testClientIp();
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => logIn(i % 2 ? account.email : account.email.toUpperCase(), "wrong password guess", ip)),
    );
    expect(countOf(results, "UNAUTHENTICATED")).toBe(10);
    expect(countOf(results, "RATE_LIMITED")).toBe(15);
    for (const r of results.filter((r) => r.status === 429)) {
      expect(r.errors![0].extensions).toMatchObject({ code: "RATE_LIMITED", limit: { scope: "ip+email", max: 10, window: "15m" } });
    }
    const right = await logIn(account.email, PASSWORD, ip);
    expect(right.status).toBe(429);
    expect(right.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: { scope: "ip+email" } });
    // Another address in the same /64 is the same client.
    expect(codesOf([await logIn(account.email, PASSWORD, sameNetwork(ip))])).toEqual(["RATE_LIMITED"]);
  });

  it("does not lock the owner out: after an attacker's 50 failures from ten addresses, the right password from another address gets in", async () => {
    const account = await signUp("owner-of-it");
    const attackers = Array.from({ length: 10 }, () => testClientIp());
    // Five addresses at a time (each scrypt check costs real CPU): 5 concurrent guesses from each.
    const results: GraphQLResult<unknown>[] = [];
    for (const batch of [attackers.slice(0, 5), attackers.slice(5)]) {
      results.push(...(await Promise.all(batch.flatMap((ip) => Array.from({ length: 5 }, () => logIn(account.email, "wrong password guess", ip))))));
    }
    expect(countOf(results, "UNAUTHENTICATED")).toBe(50);
    // The email's ceiling (50 an hour) is reached: the attacker's addresses are refused although
    // each has 5 of its 10 guesses left ...
    const again = await Promise.all(attackers.map((ip) => logIn(account.email, PASSWORD, ip)));
    for (const r of again) expect(r.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: { scope: "email", max: 50, window: "1h" } });
    // ... a clean address gets one guess, and is then refused as well ...
    const guesser = testClientIp();
    expect(codesOf([await logIn(account.email, "another guess", guesser)])).toEqual(["UNAUTHENTICATED"]);
    expect(codesOf([await logIn(account.email, PASSWORD, guesser)])).toEqual(["RATE_LIMITED"]);
    // ... and the owner, on another address, gets in.
    const owner = await logIn(account.email, PASSWORD, testClientIp());
    expect(owner.errors).toBeUndefined();
    expect(owner.data?.logIn?.user?.id).toBe(account.userId);
  });

  it("counts only failures: 11 right passwords leave the address all 10 wrong ones", async () => {
    const account = await signUp("typo");
    const ip = testClientIp();
    for (let i = 0; i < 11; i++) expect(codesOf([await logIn(account.email, PASSWORD, ip)])).toEqual(["OK"]);
    const wrong = await Promise.all(Array.from({ length: 11 }, () => logIn(account.email, "wrong password guess", ip)));
    expect(countOf(wrong, "UNAUTHENTICATED")).toBe(10);
    expect(countOf(wrong, "RATE_LIMITED")).toBe(1);
  });

  it("gives an unknown email and a wrong password the same answer", async () => {
    const account = await signUp("known");
    const [unknown, wrong] = await Promise.all([logIn(`nobody-${randomUUID()}@example.test`, "x", testClientIp()), logIn(account.email, "x", testClientIp())]);
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
    expect(codesOf([unknown])).toEqual(["UNAUTHENTICATED"]);
  });

  it("limits one address to 20 failures per 10 minutes across emails, and 30 attempts a minute", async () => {
    const ip = testClientIp();
    const results = await Promise.all(Array.from({ length: 35 }, (_, i) => logIn(`nobody-${i}@example.test`, "x", ip)));
    expect(countOf(results, "UNAUTHENTICATED")).toBe(20);
    expect(countOf(results, "RATE_LIMITED")).toBe(15);
    const scopes = results
      .filter((r) => r.status === 429)
      .map((r) => `${(r.errors![0].extensions!.limit as any).scope} ${(r.errors![0].extensions!.limit as any).max}`);
    expect(scopes.filter((s) => s === "ip 30")).toHaveLength(5);
    expect(scopes.filter((s) => s === "ip 20")).toHaveLength(10);
  });
});

describe("account creation rate limits", () => {
  it("lets exactly 30 of 35 concurrent sign-ups from one IP through, and records no account for the refused ones", async () => {
    const ip = testClientIp();
    const tag = randomUUID().slice(0, 8);
    const results = await Promise.all(
      Array.from({ length: 35 }, (_, i) =>
        gql(SignUpDocument, { input: { email: `flood-${tag}-${i}@example.test`, password: PASSWORD } }, { headers: { "x-forwarded-for": ip } }),
      ),
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

  it("counts an IPv6 client by its /64: 125 sessions from two addresses of one /64 share one budget of 120", async () => {
    const ip = testClientIp();
    const neighbour = sameNetwork(ip);
    const results = await Promise.all(
      Array.from({ length: 125 }, (_, i) => gql(StartAnonymousSessionDocument, {}, { headers: { "x-forwarded-for": i % 2 ? ip : neighbour } })),
    );
    expect(results.filter((r) => r.data?.startAnonymousSession?.token)).toHaveLength(120);
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === "RATE_LIMITED");
    expect(limited).toHaveLength(5);
    for (const r of limited) expect(r.errors![0].extensions).toMatchObject({ limit: { scope: "ip", max: 120 } });
  });

  it("counts an IPv4 client by its whole address: the next address has a budget of its own", async () => {
    const a = `198.51.100.${1 + Math.floor(Math.random() * 127)}`;
    const next = a.replace(/\d+$/, (n) => String(Number(n) + 127));
    const results = await Promise.all(Array.from({ length: 125 }, () => gql(StartAnonymousSessionDocument, {}, { headers: { "x-forwarded-for": a } })));
    expect(results.filter((r) => r.data?.startAnonymousSession?.token)).toHaveLength(120);
    expect((await gql(StartAnonymousSessionDocument, {}, { headers: { "x-forwarded-for": `::ffff:${a}` } })).errors?.[0]?.extensions?.code).toBe(
      "RATE_LIMITED",
    );
    expect((await gql(StartAnonymousSessionDocument, {}, { headers: { "x-forwarded-for": next } })).data?.startAnonymousSession?.token).toBeTruthy();
  });
});
