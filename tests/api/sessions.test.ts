/**
 * Ending sessions: logOutEverywhere, and sockets held to their token's terms (expiry, end).
 * Two API processes on one database, as two instances behind a load balancer.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AddBrandMemberDocument, LogInDocument, LogOutEverywhereDocument } from "../graphql/generated";
import { codes, db, gql, ok, testClientIp, type Auth } from "../helpers/api";
import { anonymous, apiKey, brandWithProducts, member, PASSWORD, placeOrder, setupAdmin, signUp } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { startSecondApi, TEST_AUTH_SECRET, type ApiProcess } from "../helpers/processes";
import { acknowledgedSocket, closedWithin, rawSocket, roundTrip } from "../helpers/ws";

let apiB: ApiProcess;
beforeAll(async () => {
  apiB = await startSecondApi(inject("databaseUrl"));
});
afterAll(async () => {
  await apiB?.stop();
});

const ME = "{ me { anonymous user { id } } }";
/** The caller's user id, or the error code its credentials get. */
async function whoIs(auth: Auth): Promise<string> {
  const r = await gql(ME, {}, auth);
  if (r.errors?.length) return `${r.status} ${codes(r).join(",")}`;
  return r.data.me.user?.id ?? (r.data.me.anonymous ? "anonymous" : "nobody");
}

const logIn = async (email: string) => (await ok(LogInDocument, { email, password: PASSWORD }, { headers: { "x-forwarded-for": testClientIp() } })).logIn.token;
const sessionVersion = async (userId: string) => (await db().query<{ v: number }>("select session_version as v from users where id = $1", [userId])).rows[0].v;

/** A socket acknowledged with this token. */
const openSocket = (token: string, base?: string) => acknowledgedSocket({ authorization: `Bearer ${token}` }, base);

describe("logOutEverywhere", () => {
  it("ends every token of the account on every instance; logging in again gives one that works", async () => {
    const account = await signUp("everywhere");
    const second = await logIn(account.email); // another device
    const other = await signUp("bystander");
    // Both tokens work on both instances (and are now in both instances' account caches).
    for (const api of [undefined, apiB.url]) {
      expect(await whoIs({ token: account.token, api })).toBe(account.userId);
      expect(await whoIs({ token: second, api })).toBe(account.userId);
    }

    const r = await ok(LogOutEverywhereDocument, {}, { token: second });
    expect(r.logOutEverywhere).toBe(true);
    expect(await sessionVersion(account.userId)).toBe(1);

    // This instance: at once. The other one: by notification (its account cache would also run out within 2 s).
    expect(await whoIs({ token: account.token })).toBe("401 UNAUTHENTICATED");
    expect(await whoIs({ token: second })).toBe("401 UNAUTHENTICATED");
    await eventually(async () => {
      expect(await whoIs({ token: account.token, api: apiB.url })).toBe("401 UNAUTHENTICATED");
      expect(await whoIs({ token: second, api: apiB.url })).toBe("401 UNAUTHENTICATED");
    });
    const err = (await gql(ME, {}, { token: second })).errors![0];
    expect(err.message).toBe("Invalid or expired token");

    // A new login works everywhere; another account was never touched.
    const fresh = await logIn(account.email);
    expect(await whoIs({ token: fresh })).toBe(account.userId);
    expect(await whoIs({ token: fresh, api: apiB.url })).toBe(account.userId);
    expect(await whoIs({ token: other.token })).toBe(other.userId);
    expect(await sessionVersion(other.userId)).toBe(0);

    // Ending them again ends the fresh token too.
    await ok(LogOutEverywhereDocument, {}, { token: fresh });
    expect(await whoIs({ token: fresh })).toBe("401 UNAUTHENTICATED");
    expect(await sessionVersion(account.userId)).toBe(2);
  });

  it("ends an anonymous session: its token no longer reaches the orders it placed", async () => {
    const brand = await brandWithProducts();
    const session = await anonymous();
    const order = await placeOrder(brand, session.token);
    const ORDER = `query ($id: ID!) { order(id: $id) { id } }`;
    expect((await ok(ORDER, { id: order.id }, { token: session.token })).order.id).toBe(order.id);
    await ok(LogOutEverywhereDocument, {}, { token: session.token });
    expect(codes(await gql(ORDER, { id: order.id }, { token: session.token }))).toEqual(["UNAUTHENTICATED"]);
    expect((await ok(ORDER, { id: order.id }, { token: brand.owner.token })).order.id).toBe(order.id); // the order itself is kept
  });

  it("is FORBIDDEN for a brand API key and UNAUTHENTICATED without credentials; the key keeps working", async () => {
    const brand = await brandWithProducts();
    const key = await apiKey(brand);
    expect(codes(await gql(LogOutEverywhereDocument, {}, { apiKey: key }))).toEqual(["FORBIDDEN"]);
    expect(codes(await gql(LogOutEverywhereDocument, {}))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await gql(ME, {}, { apiKey: key }))).toEqual([]);
  });

  it("under 10 concurrent calls with one token: each either ends the sessions or finds them ended, and the token is over", async () => {
    const account = await signUp("racing");
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(LogOutEverywhereDocument, {}, { token: account.token })));
    const outcomes = results.map((r) => (r.errors?.length ? codes(r).join(",") : String(r.data?.logOutEverywhere)));
    expect(outcomes.filter((o) => o !== "true" && o !== "UNAUTHENTICATED")).toEqual([]);
    const succeeded = outcomes.filter((o) => o === "true").length;
    expect(succeeded).toBeGreaterThanOrEqual(1);
    expect(await sessionVersion(account.userId)).toBe(succeeded); // one increment per call that succeeded, none lost
    expect(await whoIs({ token: account.token })).toBe("401 UNAUTHENTICATED");
  });
});

describe("sockets and their token", () => {
  it("close with 4403 on every instance when their session ends; other accounts' sockets stay open", async () => {
    const account = await signUp("socket-end");
    const second = await logIn(account.email);
    const other = await signUp("socket-other");
    const here = await openSocket(account.token);
    const there = await openSocket(second, apiB.url);
    const bystander = await openSocket(other.token, apiB.url);

    await ok(LogOutEverywhereDocument, {}, { token: account.token });
    expect(await closedWithin(here)).toEqual({ code: 4403, reason: "Session ended" });
    expect(await closedWithin(there)).toEqual({ code: 4403, reason: "Session ended" });
    // apiB has handled the notification (it closed `there`): its cached account is gone too, well
    // within the 2 s the cache alone would keep it.
    expect(await whoIs({ token: second, api: apiB.url })).toBe("401 UNAUTHENTICATED");
    await roundTrip(bystander);
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);
    // The ended token cannot open a new one.
    const again = rawSocket();
    await again.opened;
    again.ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${second}` } }));
    expect(await closedWithin(again)).toMatchObject({ code: 4403 });
    bystander.ws.close();
  });

  it("close with 4403 when the token they were opened with expires", async () => {
    const account = await signUp("socket-expiry");
    const expiresAt = Math.floor(Date.now() / 1000) + 4; // 3 to 4 s: time to sign up and connect on a busy machine
    const shortLived = await new SignJWT({ kind: "user", sv: 0 })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(account.userId)
      .setIssuer("orderline")
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(new TextEncoder().encode(TEST_AUTH_SECRET));
    const s = await openSocket(shortLived);
    expect(await closedWithin(s)).toEqual({ code: 4403, reason: "Token expired" });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000); // not before it expired
  });
});

describe("a changed brand role", () => {
  const WEBHOOK_URL = "query ($id: ID!) { brand(id: $id) { couponWebhookUrl } }"; // couponWebhookUrl needs ORGANIZER
  const webhookUrlCode = async (token: string, brandId: string, api?: string) =>
    codes(await gql(WEBHOOK_URL, { id: brandId }, { token, api })).join(",") || "ok";

  it("reconnects the member's sockets on every instance (close 4000) and applies at once there; an unchanged role changes nothing", async () => {
    const brand = await brandWithProducts();
    const organizer = await member(brand, "ORGANIZER");
    expect([await webhookUrlCode(organizer.token, brand.brandId), await webhookUrlCode(organizer.token, brand.brandId, apiB.url)]).toEqual(["ok", "ok"]);
    const here = await openSocket(organizer.token);
    const there = await openSocket(organizer.token, apiB.url);
    const owners = await openSocket(brand.owner.token, apiB.url);

    // The same role again: nothing to reconnect.
    const admin = await setupAdmin(); // addBrandMember is platform-ADMIN only
    await ok(AddBrandMemberDocument, { brandId: brand.brandId, email: organizer.email, role: "ORGANIZER" }, { token: admin.token });
    await roundTrip(there);
    expect(there.ws.readyState).toBe(there.ws.OPEN);

    await ok(AddBrandMemberDocument, { brandId: brand.brandId, email: organizer.email, role: "COORGANIZER" }, { token: admin.token });
    expect(await closedWithin(here)).toEqual({ code: 4000, reason: "Permissions changed: reconnect" });
    expect(await closedWithin(there)).toEqual({ code: 4000, reason: "Permissions changed: reconnect" });
    // apiB heard it (it closed `there`), so its cached account is gone: the lower role applies now.
    expect(await webhookUrlCode(organizer.token, brand.brandId, apiB.url)).toBe("FORBIDDEN");
    expect(await webhookUrlCode(organizer.token, brand.brandId)).toBe("FORBIDDEN");
    // The token itself is still good: the socket reconnects.
    const again = await openSocket(organizer.token, apiB.url);
    await roundTrip(owners);
    expect(owners.ws.readyState).toBe(owners.ws.OPEN);
    for (const s of [again, owners]) s.ws.close();
  });
});
