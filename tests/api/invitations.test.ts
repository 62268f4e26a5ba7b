import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AcceptBrandInvitationDocument,
  AddBrandMemberDocument,
  BrandInvitationsDocument,
  BrandMembersDocument,
  InviteBrandMemberDocument,
  LeaveBrandDocument,
} from "../graphql/generated";
import { apiUrl, codes, count, db, gql, ok, testClientIp, uniqueEmail, type GraphQLResult } from "../helpers/api";
import { brandWithProducts, member, setupAdmin, signUp, type Account, type BrandSetup } from "../helpers/fixtures";
import { delivered, eventually } from "../helpers/mail";

/** Brand invitations (issue #12 item 8): inviteBrandMember, acceptBrandInvitation, leaveBrand. */

type Role = "OWNER" | "ORGANIZER" | "COORGANIZER";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const invite = (who: Account, brandId: string, email: string, role: Role = "COORGANIZER") =>
  gql(InviteBrandMemberDocument, { brandId, email, role }, { token: who.token });
const accept = (who: Account, token: string) => gql(AcceptBrandInvitationDocument, { token }, { token: who.token });
const leave = (who: Account, brandId: string) => gql(LeaveBrandDocument, { brandId }, { token: who.token });
const membership = (brandId: string, userId: string) =>
  db()
    .query("select role from brand_member where brand_id = $1 and user_id = $2", [brandId, userId])
    .then((r) => r.rows.map((x) => x.role));

/** The tokens of every invitation email this address got, oldest first, once there are `n`. */
async function invitationTokens(email: string, n = 1): Promise<string[]> {
  const mails = await eventually(async () => {
    const m = (await delivered(email)).filter((x) => x.body.Tag === "brand-invitation");
    expect(m.length).toBeGreaterThanOrEqual(n);
    return m;
  });
  return mails.map((m) => {
    const link = /(https?:\/\/\S+)\/invitations\/([A-Za-z0-9_-]+)/.exec(m.body.TextBody);
    expect(new URL(link![1]).port).toBe(new URL(apiUrl()).port); // PUBLIC_URL (http://localhost:<port> by default)
    expect(m.body.HtmlBody).toContain(`href="${link![0]}"`);
    return link![2];
  });
}
const lastToken = async (email: string, n = 1) => (await invitationTokens(email, n)).at(-1)!;

function expectCode(r: GraphQLResult<unknown>, code: string, field?: string) {
  expect(codes(r), JSON.stringify(r.body)).toEqual([code]);
  if (field) expect(r.errors![0].extensions?.field).toBe(field);
}

let X: BrandSetup;
let organizer: Account, coorganizer: Account;
beforeAll(async () => {
  X = await brandWithProducts();
  [organizer, coorganizer] = await Promise.all([member(X, "ORGANIZER"), member(X, "COORGANIZER")]);
});

describe("inviteBrandMember", () => {
  it("answers the same for an unknown address, an account and a member, stores only a hash and emails a link", async () => {
    const account = await signUp("invitee");
    const unknown = uniqueEmail("unknown").toUpperCase(); // stored and sent lowercased
    const answers = [
      await invite(X.owner, X.brandId, unknown),
      await invite(X.owner, X.brandId, account.email),
      await invite(X.owner, X.brandId, coorganizer.email),
    ];
    for (const r of answers) expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { data: { inviteBrandMember: { ok: true } } } });

    const { rows } = await db().query("select * from brand_invitation where brand_id = $1 and email = $2", [X.brandId, unknown.toLowerCase()]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ role: "COORGANIZER", invited_by_id: X.owner.userId, accepted_at: null });
    const days = (rows[0].expires_at.getTime() - rows[0].created_at.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(7, 3);
    const token = await lastToken(unknown.toLowerCase());
    expect(rows[0].token_hash).toBe(sha256(token));
    // The token itself is nowhere in the database.
    expect(await count("select 1 from brand_invitation i where i::text like $1", [`%${token}%`])).toBe(0);
    expect(await count("select 1 from email e where e::text like $1", [`%${token}%`])).toBe(0);
    expect(await count("select 1 from graphile_worker._private_jobs j where j::text like $1", [`%${token}%`])).toBe(0);
  });

  it("is for OWNER and ORGANIZER (only an OWNER invites OWNERs); others get FORBIDDEN or NOT_FOUND and nothing is stored", async () => {
    const email = uniqueEmail("refused");
    const stranger = await signUp("stranger");
    expectCode(await invite(coorganizer, X.brandId, email), "FORBIDDEN");
    expectCode(await invite(organizer, X.brandId, email, "OWNER"), "FORBIDDEN");
    expectCode(await invite(stranger, X.brandId, email), "NOT_FOUND", "brandId");
    expectCode(await invite(X.owner, X.brandId, "not an email"), "BAD_USER_INPUT", "email");
    expectCode(await gql(InviteBrandMemberDocument, { brandId: X.brandId, email, role: "COORGANIZER" }), "UNAUTHENTICATED");
    expect(await count("select 1 from brand_invitation where email = $1", [email])).toBe(0);
    expect((await ok(InviteBrandMemberDocument, { brandId: X.brandId, email, role: "ORGANIZER" }, { token: organizer.token })).inviteBrandMember.ok).toBe(true);
  });

  it("replaces the pending invitation of an address: the earlier link stops working, Brand.invitations lists one", async () => {
    const invitee = await signUp("reinvited");
    await ok(InviteBrandMemberDocument, { brandId: X.brandId, email: invitee.email, role: "COORGANIZER" }, { token: X.owner.token });
    const first = await lastToken(invitee.email, 1);
    await ok(InviteBrandMemberDocument, { brandId: X.brandId, email: invitee.email, role: "ORGANIZER" }, { token: X.owner.token });
    const second = await lastToken(invitee.email, 2);
    expect(second).not.toBe(first);
    const { brand } = await ok(BrandInvitationsDocument, { id: X.brandId }, { token: organizer.token });
    expect(brand!.invitations.filter((i) => i.email === invitee.email)).toMatchObject([{ role: "ORGANIZER", brand: { id: X.brandId } }]);
    expectCode(await gql(BrandInvitationsDocument, { id: X.brandId }, { token: coorganizer.token }), "FORBIDDEN");

    expectCode(await accept(invitee, first), "BAD_USER_INPUT", "token");
    expect((await ok(AcceptBrandInvitationDocument, { token: second }, { token: invitee.token })).acceptBrandInvitation).toMatchObject({
      role: "ORGANIZER",
      brand: { id: X.brandId },
    });
  });

  it("is limited to 50 a day per caller and 100 a day per brand (concurrent calls counted exactly), and 100 pending per brand", async () => {
    const brand = await brandWithProducts();
    const [a, b] = await Promise.all([member(brand, "ORGANIZER"), member(brand, "ORGANIZER")]);
    const burst = (who: Account, n: number) => Promise.all(Array.from({ length: n }, () => invite(who, brand.brandId, uniqueEmail("burst"))));
    const byCaller = await burst(brand.owner, 55);
    expect(byCaller.filter((r) => !r.errors).length).toBe(50);
    const refused = byCaller.filter((r) => r.errors);
    expect(refused.map((r) => [r.status, r.errors![0].extensions?.code, (r.errors![0].extensions?.limit as { scope: string }).scope])).toEqual(
      Array(5).fill([429, "RATE_LIMITED", "user"]),
    );
    const byBrand = [...(await burst(a, 30)), ...(await burst(b, 30))]; // 50 + 60 > 100 for the brand
    expect(byBrand.filter((r) => !r.errors).length).toBe(50);
    expect(byBrand.filter((r) => r.errors).every((r) => r.errors![0].extensions?.code === "RATE_LIMITED")).toBe(true);
    expect(await count("select 1 from brand_invitation where brand_id = $1", [brand.brandId])).toBe(100);

    // The pending cap, on a brand with 100 pending invitations already (made in the database: the
    // daily limit keeps a brand from reaching the cap in one day).
    const full = await brandWithProducts();
    await db().query(
      `insert into brand_invitation (id, created_at, brand_id, email, role, token_hash, invited_by_id, expires_at)
       select gen_random_uuid(), now(), $1, 'p' || g || '@example.test', 'COORGANIZER', md5(random()::text) || md5(random()::text), $2, now() + interval '1 day'
         from generate_series(1, 100) g`,
      [full.brandId, full.owner.userId],
    );
    expectCode(await invite(full.owner, full.brandId, uniqueEmail("over-cap")), "FAILED_PRECONDITION");
    expect(await count("select 1 from brand_invitation where brand_id = $1", [full.brandId])).toBe(100);
  });
});

describe("acceptBrandInvitation", () => {
  it("makes the membership for the invited account only, once; 10 concurrent accepts give one row", async () => {
    const [invitee, other] = await Promise.all([signUp("accepter"), signUp("other")]);
    await ok(InviteBrandMemberDocument, { brandId: X.brandId, email: invitee.email.toUpperCase(), role: "COORGANIZER" }, { token: X.owner.token });
    const token = await lastToken(invitee.email);
    expectCode(await accept(other, token), "FORBIDDEN");
    expectCode(await gql(AcceptBrandInvitationDocument, { token }), "UNAUTHENTICATED");
    expect(await membership(X.brandId, other.userId)).toEqual([]);

    const results = await Promise.all(Array.from({ length: 10 }, () => accept(invitee, token)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    const won = results.find((r) => !r.errors)!;
    expect(won.data).toEqual({
      acceptBrandInvitation: { role: "COORGANIZER", user: { id: invitee.userId, email: invitee.email }, brand: { id: X.brandId, name: expect.any(String) } },
    });
    for (const r of results.filter((r) => r.errors)) expectCode(r, "BAD_USER_INPUT", "token");
    expect(await membership(X.brandId, invitee.userId)).toEqual(["COORGANIZER"]);
    // The new member sees the brand's members at once.
    expect((await ok(BrandMembersDocument, { id: X.brandId }, { token: invitee.token })).brand!.members.length).toBeGreaterThan(2);
  });

  it("answers an expired, an unknown and a malformed token with the error a used one gets", async () => {
    const invitee = await signUp("expiring");
    await invite(X.owner, X.brandId, invitee.email);
    const token = await lastToken(invitee.email);
    await db().query("update brand_invitation set expires_at = now() - interval '1 second' where token_hash = $1", [sha256(token)]);
    const expired = await accept(invitee, token);
    const unknown = await accept(invitee, "A".repeat(43));
    const malformed = await accept(invitee, "x");
    for (const r of [expired, unknown, malformed]) expectCode(r, "BAD_USER_INPUT", "token");
    expect(new Set([expired, unknown, malformed].map((r) => r.errors![0].message))).toEqual(new Set(["token: invalid or expired invitation"]));
    expect(await membership(X.brandId, invitee.userId)).toEqual([]);
  });

  it("keeps an existing member's higher role and raises a lower one, never adding a second row", async () => {
    const brand = await brandWithProducts();
    const [org, coorg] = await Promise.all([member(brand, "ORGANIZER"), member(brand, "COORGANIZER")]);
    await Promise.all([invite(brand.owner, brand.brandId, org.email, "COORGANIZER"), invite(brand.owner, brand.brandId, coorg.email, "ORGANIZER")]);
    const [orgToken, coorgToken] = await Promise.all([lastToken(org.email), lastToken(coorg.email)]);
    expect((await ok(AcceptBrandInvitationDocument, { token: orgToken }, { token: org.token })).acceptBrandInvitation.role).toBe("ORGANIZER");
    expect((await ok(AcceptBrandInvitationDocument, { token: coorgToken }, { token: coorg.token })).acceptBrandInvitation.role).toBe("ORGANIZER");
    expect(await membership(brand.brandId, org.userId)).toEqual(["ORGANIZER"]);
    expect(await membership(brand.brandId, coorg.userId)).toEqual(["ORGANIZER"]);
  });
});

describe("the invitation link", () => {
  it("opens a page that says how to accept, without reading the database; a malformed link is 404", async () => {
    const email = uniqueEmail("page");
    await invite(X.owner, X.brandId, email);
    const token = await lastToken(email);
    const res = await fetch(`${apiUrl()}/invitations/${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await res.text();
    expect(html).toContain(`acceptBrandInvitation(token: &quot;${token}&quot;)`);
    expect((await fetch(`${apiUrl()}/invitations/%3Cscript%3E`)).status).toBe(404);
  });
});

describe("leaveBrand and addBrandMember", () => {
  it("lets a member leave; outsiders and non-members get NOT_FOUND; the last OWNER cannot leave", async () => {
    const brand = await brandWithProducts();
    const [coorg, stranger, admin] = await Promise.all([member(brand, "COORGANIZER"), signUp("stranger"), setupAdmin()]);
    expect((await ok(LeaveBrandDocument, { brandId: brand.brandId }, { token: coorg.token })).leaveBrand.ok).toBe(true);
    expect(await membership(brand.brandId, coorg.userId)).toEqual([]);
    // Gone at once: the brand's members are no longer the former member's to read.
    expectCode(await gql(BrandMembersDocument, { id: brand.brandId }, { token: coorg.token }), "FORBIDDEN");
    expectCode(await leave(coorg, brand.brandId), "NOT_FOUND", "brandId");
    expectCode(await leave(stranger, brand.brandId), "NOT_FOUND", "brandId");
    expectCode(await leave(admin, brand.brandId), "NOT_FOUND", "brandId");
    expectCode(await leave(brand.owner, brand.brandId), "FAILED_PRECONDITION");
    expect(await membership(brand.brandId, brand.owner.userId)).toEqual(["OWNER"]);
  });

  it("keeps exactly one OWNER when all five owners leave at once", async () => {
    const brand = await brandWithProducts();
    const owners = [brand.owner, ...(await Promise.all(Array.from({ length: 4 }, () => member(brand, "OWNER"))))];
    const results = await Promise.all(owners.map((o) => leave(o, brand.brandId)));
    expect(results.map((r) => codes(r)[0] ?? "ok").sort()).toEqual(["FAILED_PRECONDITION", "ok", "ok", "ok", "ok"]);
    expect(await count("select 1 from brand_member where brand_id = $1 and role = 'OWNER'", [brand.brandId])).toBe(1);
  });

  it("addBrandMember is for platform ADMINs only, and answers an OWNER the same for any email", async () => {
    const account = await signUp("direct");
    const asOwner = (email: string) =>
      gql(AddBrandMemberDocument, { brandId: X.brandId, email, role: "COORGANIZER" }, { token: X.owner.token, headers: { "x-forwarded-for": testClientIp() } });
    const [known, unknown] = [await asOwner(account.email), await asOwner(uniqueEmail("nobody"))];
    expectCode(known, "FORBIDDEN");
    expect(unknown.body).toEqual(known.body);
    expect(await membership(X.brandId, account.userId)).toEqual([]);
  });
});
