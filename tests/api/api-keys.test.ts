/**
 * Brand API keys after creation: listing them (Brand.apiKeys) and revoking one (revokeApiKey),
 * across two API processes on one database.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { BrandApiKeysDocument, CreateApiKeyDocument, RevokeApiKeyDocument } from "../graphql/generated";
import { codes, db, gql, ok, type Auth } from "../helpers/api";
import { brandWithProducts, member, promoteToAdmin, signUp } from "../helpers/fixtures";
import { startSecondApi, type ApiProcess } from "../helpers/processes";
import { acknowledgedSocket, closedWithin, roundTrip } from "../helpers/ws";
import { FakeSocket } from "../helpers/fake-socket";
import { eventually } from "../helpers/mail";
import { sessionsMark, sweepRevokedKeys, trackSession } from "../../src/http/ws-sessions";

let apiB: ApiProcess;
beforeAll(async () => {
  apiB = await startSecondApi(inject("databaseUrl"));
});
afterAll(async () => {
  await apiB?.stop();
});

const BRANDS = "{ brands { id } }";
/** What a key gets for a brand-scoped read: "ok" or the error code. */
async function keyWorks(secret: string, api?: string): Promise<string> {
  const r = await gql(BRANDS, {}, { apiKey: secret, api });
  return r.errors?.length ? `${r.status} ${codes(r).join(",")}` : "ok";
}
const keyId = (secret: string) => secret.split("_")[1];
const openKeySocket = (secret: string, base?: string) => acknowledgedSocket({ apiKey: secret }, base);

describe("Brand.apiKeys", () => {
  it("lists the brand's keys, oldest first, with their creator and revocation, to the OWNER only", async () => {
    const brand = await brandWithProducts();
    const owner: Auth = { token: brand.owner.token };
    const first = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, owner)).createApiKey;
    const second = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, owner)).createApiKey;
    await ok(RevokeApiKeyDocument, { id: first.id }, owner);

    const { brand: listed } = await ok(BrandApiKeysDocument, { id: brand.brandId }, owner);
    expect(listed!.apiKeys.map((k) => [k.id, k.revokedAt !== null ? "revoked" : "works", k.createdBy?.email])).toEqual([
      [first.id, "revoked", brand.owner.email],
      [second.id, "works", brand.owner.email],
    ]);
    expect(JSON.stringify(listed)).not.toContain("olk_"); // never a secret

    // Below OWNER, the brand's own key (ORGANIZER) and outsiders: FORBIDDEN on the field.
    const organizer = await member(brand, "ORGANIZER");
    const outsider = await signUp("outsider");
    for (const auth of [{ token: organizer.token }, { apiKey: second.secret }, { token: outsider.token }, {}] as Auth[]) {
      const r = await gql(BrandApiKeysDocument, { id: brand.brandId }, auth);
      expect(r.errors?.map((e) => [e.extensions?.code, e.path?.join(".")])).toEqual([["FORBIDDEN", "brand.apiKeys"]]);
    }
  });

  it("shows a key an ADMIN created to ADMINs with its creator, to the OWNER without one", async () => {
    const brand = await brandWithProducts();
    const admin = await signUp("keys-admin");
    await promoteToAdmin(admin);
    const key = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, { token: admin.token })).createApiKey;
    const asAdmin = (await ok(BrandApiKeysDocument, { id: brand.brandId }, { token: admin.token })).brand!.apiKeys;
    expect(asAdmin.map((k) => [k.id, k.createdBy?.id])).toEqual([[key.id, admin.userId]]);
    const asOwner = (await ok(BrandApiKeysDocument, { id: brand.brandId }, { token: brand.owner.token })).brand!.apiKeys;
    expect(asOwner.map((k) => [k.id, k.createdBy])).toEqual([[key.id, null]]);
  });
});

describe("revokeApiKey", () => {
  it("stops the key at once on every instance and closes its sockets with 4403; the brand's other keys keep working", async () => {
    const brand = await brandWithProducts();
    const owner: Auth = { token: brand.owner.token };
    const revoked = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, owner)).createApiKey;
    const kept = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, owner)).createApiKey;
    expect([await keyWorks(revoked.secret), await keyWorks(revoked.secret, apiB.url)]).toEqual(["ok", "ok"]);

    const here = await openKeySocket(revoked.secret);
    const there = await openKeySocket(revoked.secret, apiB.url);
    const other = await openKeySocket(kept.secret, apiB.url);

    const { revokeApiKey } = await ok(RevokeApiKeyDocument, { id: revoked.id }, owner);
    expect(revokeApiKey).toMatchObject({ id: revoked.id, createdBy: { id: brand.owner.userId } });
    expect(Date.parse(revokeApiKey.revokedAt!)).toBeGreaterThan(Date.now() - 60_000);

    // Keys are not cached: refused on both instances right away.
    expect([await keyWorks(revoked.secret), await keyWorks(revoked.secret, apiB.url)]).toEqual(["401 UNAUTHENTICATED", "401 UNAUTHENTICATED"]);
    expect([await keyWorks(kept.secret), await keyWorks(kept.secret, apiB.url)]).toEqual(["ok", "ok"]);
    expect(await closedWithin(here)).toEqual({ code: 4403, reason: "API key revoked" });
    expect(await closedWithin(there)).toEqual({ code: 4403, reason: "API key revoked" });
    await roundTrip(other);
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    other.ws.close();
  });

  it("under 10 concurrent calls sets one revokedAt; revoking again changes nothing", async () => {
    const brand = await brandWithProducts();
    const owner: Auth = { token: brand.owner.token };
    const key = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, owner)).createApiKey;
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(RevokeApiKeyDocument, { id: key.id }, owner)));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const stamps = new Set(results.map((r) => r.data!.revokeApiKey.revokedAt));
    expect(stamps.size).toBe(1);
    const again = await ok(RevokeApiKeyDocument, { id: key.id }, owner);
    expect(again.revokeApiKey.revokedAt).toBe([...stamps][0]);
    const { rows } = await db().query<{ revoked_at: Date }>("select revoked_at from api_key where id = $1", [key.id]);
    expect(rows[0].revoked_at.toISOString()).toBe([...stamps][0]);
  });

  it("answers NOT_FOUND for unknown ids and other brands' owners, FORBIDDEN below OWNER, UNAUTHENTICATED for a key; the key stays", async () => {
    const brand = await brandWithProducts();
    const stranger = await brandWithProducts();
    const key = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, { token: brand.owner.token })).createApiKey;
    const organizer = await member(brand, "ORGANIZER");
    const code = async (id: string, auth: Auth) => codes(await gql(RevokeApiKeyDocument, { id }, auth));
    expect(await code("00000000-0000-4000-8000-000000000000", { token: brand.owner.token })).toEqual(["NOT_FOUND"]);
    expect(await code("not-an-id", { token: brand.owner.token })).toEqual(["NOT_FOUND"]);
    expect(await code(key.id, { token: stranger.owner.token })).toEqual(["NOT_FOUND"]);
    expect(await code(key.id, { token: organizer.token })).toEqual(["FORBIDDEN"]);
    expect(await code(key.id, { apiKey: key.secret })).toEqual(["UNAUTHENTICATED"]);
    expect(await keyWorks(key.secret)).toBe("ok");
    expect(keyId(key.secret)).toBe(key.id); // the id is in the secret (the permission matrix relies on it)
  });
});

describe("an instance that missed a revocation", () => {
  it("closes the key's sockets at its next sweep (keys do not expire)", async () => {
    const brand = await brandWithProducts();
    const key = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, { token: brand.owner.token })).createApiKey;
    const kept = (await ok(CreateApiKeyDocument, { brandId: brand.brandId }, { token: brand.owner.token })).createApiKey;
    // This test process stands in for an instance: it tracks two key sockets and never hears a notification.
    const [revokedSocket, keptSocket] = [new FakeSocket(), new FakeSocket()];
    trackSession(revokedSocket.ws, { kind: "apiKey", keyId: key.id, brandId: brand.brandId }, sessionsMark());
    trackSession(keptSocket.ws, { kind: "apiKey", keyId: kept.id, brandId: brand.brandId }, sessionsMark());
    const errors: unknown[] = [];
    const stop = sweepRevokedKeys(db(), 50, (e) => errors.push(e));
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(revokedSocket.closes).toEqual([]); // swept, still valid
      await db().query("update api_key set revoked_at = now() where id = $1", [key.id]); // revoked without a notification
      await eventually(async () => expect(revokedSocket.closes).toEqual([[4403, "API key revoked"]]));
      expect(keptSocket.closes).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      stop();
      keptSocket.close(1000, "done");
    }
  });
});
