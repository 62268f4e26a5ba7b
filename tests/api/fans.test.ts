import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../src/services/payment/signature";
import {
  ActivateFanDocument,
  BrandSecretsDocument,
  CreateFanDiscountDocument,
  FansDocument,
  GetFanDocument,
  RegisterFanDocument,
  RotateWebhookSecretDocument,
  UpdateBrandDocument,
  type FanFieldsFragment,
} from "../graphql/generated";
import { codes, count, db, gql, ok, uniqueEmail } from "../helpers/api";
import { apiKey, brandWithProducts, member, signUp, type BrandSetup } from "../helpers/fixtures";
import { startFakeShop } from "../helpers/fake-shop";
import { delivered, eventually } from "../helpers/mail";

let shop: Awaited<ReturnType<typeof startFakeShop>>;
beforeAll(async () => {
  shop = await startFakeShop();
});
afterAll(async () => shop?.close());

/** A brand whose shop is the fake one, with a discount. */
async function loyaltyBrand(discount: { verifyEmail?: boolean; fixedCode?: string } = {}) {
  const brand = await brandWithProducts();
  await ok(UpdateBrandDocument, { id: brand.brandId, input: { couponWebhookUrl: shop.url } }, { token: brand.owner.token });
  const { createDiscount } = await ok(
    CreateFanDiscountDocument,
    { input: { brandId: brand.brandId, name: "Fan club", description: "For our fans", type: "PERCENT", amount: 15, usageLimit: 2, ...discount } },
    { token: brand.owner.token },
  );
  return { brand, discountId: createDiscount.id };
}

const register = (discountId: string, email: string, extra: Record<string, string> = {}) =>
  gql(RegisterFanDocument, { input: { discountId, name: "Uni User", email, ...extra } });

async function fanByEmail(brand: BrandSetup, email: string): Promise<FanFieldsFragment> {
  const { fans } = await ok(FansDocument, { brandId: brand.brandId, first: 50 }, { token: brand.owner.token }); // a page with every delivery try costs 89 per fan
  const fan = fans.edges.map((e) => e.node).find((f) => f.email.toLowerCase() === email.toLowerCase());
  if (!fan) throw new Error(`no fan ${email}`);
  return fan;
}

/** The link in the real verification email the fake Postmark received. */
async function verificationLink(email: string): Promise<string> {
  const [mail] = await eventually(async () => {
    const m = (await delivered(email)).filter((x) => x.body.Tag === "fan-verification");
    expect(m).toHaveLength(1);
    return m;
  });
  const link = /https?:\/\/\S+\/fans\/[A-Za-z0-9_-]+/.exec(mail.body.TextBody)?.[0];
  expect(link).toBeTruthy();
  expect(mail.body.HtmlBody).toContain(`href="${link}"`);
  return link!;
}

const couponMails = async (email: string) => (await delivered(email)).filter((m) => m.body.Tag === "coupon");
const shopCalls = (email: string) => shop.requests.filter((r) => r.body?.data?.email === email);

describe("registering a fan without email verification", () => {
  it("issues a unique coupon at once, emails it and pushes a signed coupon.issued to the shop", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const email = uniqueEmail("fan");
    const r = await register(discountId, email, { facebookHandle: "unifan" });
    expect(r.data).toEqual({ registerFan: { ok: true } });

    const [mail] = await eventually(async () => {
      const m = await couponMails(email);
      expect(m).toHaveLength(1);
      return m;
    });
    const fan = await fanByEmail(brand, email);
    expect(fan).toMatchObject({
      status: "ACTIVE",
      verifiedAt: null,
      facebookHandle: "unifan",
      coupon: { uses: 0, usageLimit: 2, discount: { id: discountId } },
    });
    expect(fan.coupon!.code).toMatch(/^[2-9A-HJKMNP-Z]{10}$/);
    expect(mail.body.TextBody).toContain(fan.coupon!.code);

    const [call] = await eventually(async () => {
      const c = shopCalls(email);
      expect(c).toHaveLength(1);
      return c;
    });
    expect(call.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: "coupon.issued",
      createdAt: expect.any(String),
      data: {
        fanName: "Uni User",
        email,
        facebookHandle: "unifan",
        discountName: "Fan club",
        couponCode: fan.coupon!.code,
        discountType: "PERCENT",
        discountAmount: 15,
        description: "For our fans",
        usageLimit: 2,
        freeShipping: false,
        expiresAt: null,
      },
    });
    const { brand: secrets } = await ok(BrandSecretsDocument, { id: brand.brandId }, { token: brand.owner.token });
    const signature = call.headers["orderline-signature"] as string;
    expect(verifySignature(secrets!.webhookSecret!, signature, call.raw)).toMatchObject({ ok: true });
    expect(verifySignature("whsec_not_the_brand_secret_000000000000", signature, call.raw)).toMatchObject({ ok: false });

    await eventually(async () => expect((await fanByEmail(brand, email)).couponDeliveries[0]).toMatchObject({ status: "DELIVERED", attempts: 1 }));
  });

  it("answers the same for a known email and never creates a second fan, even with another case", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const email = uniqueEmail("twice");
    const answers = [await register(discountId, email), await register(discountId, email.toUpperCase()), await register(discountId, email)];
    for (const a of answers) expect(a.body).toEqual({ data: { registerFan: { ok: true } } });
    expect(await count("select 1 from fan where lower(email) = lower($1)", [email])).toBe(1);
    // The mail and the shop call are separate jobs: wait for both, then make sure neither repeats.
    await eventually(async () => {
      expect(await couponMails(email)).toHaveLength(1);
      expect(shopCalls(email)).toHaveLength(1);
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await couponMails(email)).toHaveLength(1);
    expect(shopCalls(email)).toHaveLength(1);
    void brand;
  });

  it("gives every fan of a fixed-code discount the shared code", async () => {
    const code = `FANS-${Date.now().toString(36).toUpperCase()}`;
    const { brand, discountId } = await loyaltyBrand({ fixedCode: code });
    const [a, b] = [uniqueEmail("a"), uniqueEmail("b")];
    await register(discountId, a);
    await register(discountId, b);
    expect((await fanByEmail(brand, a)).coupon!.code).toBe(code);
    expect((await fanByEmail(brand, b)).coupon!.code).toBe(code);
    await eventually(async () => expect((await couponMails(b))[0]?.body.TextBody).toContain(code));
  });
});

describe("registering a fan with email verification", () => {
  it("emails a link; following it activates the fan, issues the coupon and answers a page; the link works once", async () => {
    const { brand, discountId } = await loyaltyBrand({ verifyEmail: true });
    const email = uniqueEmail("verify");
    expect((await register(discountId, email)).data).toEqual({ registerFan: { ok: true } });
    expect(await fanByEmail(brand, email)).toMatchObject({ status: "PENDING_VERIFICATION", coupon: null });
    const link = await verificationLink(email);
    const token = link.split("/fans/")[1];
    const stored = await db().query("select token_hash from fan where lower(email) = lower($1)", [email]);
    expect(stored.rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.rows[0].token_hash).not.toContain(token); // only a hash is kept
    expect(Buffer.from(token, "base64url").length).toBeGreaterThanOrEqual(16); // ≥ 128 bits

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Email confirmed");
    const fan = await fanByEmail(brand, email);
    expect(fan.status).toBe("ACTIVE");
    expect(fan.verifiedAt).toBeTruthy();
    await eventually(async () => expect(await couponMails(email)).toHaveLength(1));
    await eventually(async () => expect(shopCalls(email)).toHaveLength(1));

    const again = await fetch(link);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("already been used");
    expect(codes(await gql(ActivateFanDocument, { token }))).toEqual(["FAILED_PRECONDITION"]);
    await new Promise((r) => setTimeout(r, 400));
    expect(await couponMails(email)).toHaveLength(1);
  });

  it("activates once under two concurrent clicks", async () => {
    const { brand, discountId } = await loyaltyBrand({ verifyEmail: true });
    const email = uniqueEmail("double");
    await register(discountId, email);
    const link = await verificationLink(email);
    const statuses = (await Promise.all([fetch(link), fetch(link), fetch(link)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 410, 410]);
    await eventually(async () => expect(await couponMails(email)).toHaveLength(1));
    await eventually(async () => expect(shopCalls(email)).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 400));
    expect(await couponMails(email)).toHaveLength(1);
    expect(await count("select 1 from webhook_delivery d join fan f on f.id = d.fan_id where lower(f.email) = lower($1)", [email])).toBe(1);
    void brand;
  });

  it("activates through the activateFan mutation too, and refuses unknown and expired tokens with a 4xx", async () => {
    const { brand, discountId } = await loyaltyBrand({ verifyEmail: true });
    const email = uniqueEmail("spa");
    await register(discountId, email);
    const token = (await verificationLink(email)).split("/fans/")[1];
    expect((await ok(ActivateFanDocument, { token })).activateFan).toEqual({ ok: true });
    expect((await fanByEmail(brand, email)).status).toBe("ACTIVE");

    expect(codes(await gql(ActivateFanDocument, { token: "x".repeat(43) }))).toEqual(["NOT_FOUND"]);
    const unknown = await fetch(`${new URL((await verificationLink(email)).replace(/\/fans\/.*/, "")).origin}/fans/${"y".repeat(43)}`);
    expect(unknown.status).toBe(404);

    // Seven days pass (moved in the database: no API moves time).
    const late = uniqueEmail("late");
    await register(discountId, late);
    const lateLink = await verificationLink(late);
    await db().query("update fan set token_expires_at = now() - interval '1 minute' where lower(email) = lower($1)", [late]);
    const expired = await fetch(lateLink);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain("expired");
    expect(codes(await gql(ActivateFanDocument, { token: lateLink.split("/fans/")[1] }))).toEqual(["FAILED_PRECONDITION"]);
    expect((await fanByEmail(brand, late)).status).toBe("PENDING_VERIFICATION");
  });
});

describe("the shop webhook", () => {
  it("is retried after 500s until the shop accepts it, every try recorded and signed over the same body", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const email = uniqueEmail("retry");
    shop.answer(email, 500, 503);
    await register(discountId, email);
    const fan = await eventually(async () => {
      const f = await fanByEmail(brand, email);
      expect(f.couponDeliveries[0]?.status).toBe("DELIVERED");
      return f;
    }, 20_000);
    const d = fan.couponDeliveries[0];
    expect(d.attempts).toBe(3);
    expect(d.tries.map((t) => t.statusCode)).toEqual([500, 503, 200]);
    expect(d.tries.map((t) => t.error)).toEqual(["HTTP 500", "HTTP 503", null]);
    const calls = shopCalls(email);
    expect(calls.map((c) => c.answeredWith)).toEqual([500, 503, 200]);
    expect(new Set(calls.map((c) => c.raw.toString())).size).toBe(1); // the same event, the same bytes
  });

  it("is signed with the new secret after rotateWebhookSecret", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const { rotateWebhookSecret } = await ok(RotateWebhookSecretDocument, { brandId: brand.brandId }, { token: brand.owner.token });
    expect(rotateWebhookSecret.webhookSecret).not.toBe(brand.webhookSecret);
    const email = uniqueEmail("rotated");
    await register(discountId, email);
    const [call] = await eventually(async () => {
      const c = shopCalls(email);
      expect(c).toHaveLength(1);
      return c;
    });
    const sig = call.headers["orderline-signature"] as string;
    expect(verifySignature(rotateWebhookSecret.webhookSecret!, sig, call.raw)).toMatchObject({ ok: true });
    expect(verifySignature(brand.webhookSecret, sig, call.raw)).toMatchObject({ ok: false });
    const organizer = await member(brand, "ORGANIZER");
    expect(codes(await gql(RotateWebhookSecretDocument, { brandId: brand.brandId }, { token: organizer.token }))).toEqual(["FORBIDDEN"]);
  });
});

describe("removing or changing the shop's URL (issue #12, item 10)", () => {
  /** The delivery's job in graphile-worker's queue (a scheduled retry), if any. */
  const queuedJobs = (deliveryId: string) => count("select 1 from graphile_worker._private_jobs where key = $1", [`delivery:${deliveryId}`]);

  it("cancels the pending delivery of a failing shop when the URL is removed, and nothing more is POSTed", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const email = uniqueEmail("cancelled");
    shop.answer(email, ...Array<number>(40).fill(503)); // down for every try this test can see
    await register(discountId, email);
    await eventually(async () => expect(shopCalls(email).length).toBeGreaterThanOrEqual(2)); // failing, and retried

    await ok(UpdateBrandDocument, { id: brand.brandId, input: { couponWebhookUrl: "" } }, { token: brand.owner.token });
    // CANCELLED in updateBrand's transaction, or (a try under way at that moment) by its job right after.
    const fan = await eventually(async () => {
      const f = await fanByEmail(brand, email);
      expect(f.couponDeliveries[0].status).toBe("CANCELLED");
      return f;
    });
    const delivery = fan.couponDeliveries[0];
    // A retry scheduled before the removal runs, finds the delivery CANCELLED and sends nothing.
    await eventually(async () => expect(await queuedJobs(delivery.id)).toBe(0), 20_000);
    const calls = shopCalls(email).length;
    expect(delivery.attempts).toBe(calls); // every POST the shop got is a recorded try, and no try is missing
    expect((await fanByEmail(brand, email)).couponDeliveries[0]).toMatchObject({ status: "CANCELLED", attempts: calls });
  });

  it("sends pending deliveries to the new URL when it changes", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const next = await startFakeShop();
    try {
      const email = uniqueEmail("moved");
      shop.answer(email, ...Array<number>(40).fill(503));
      await register(discountId, email);
      await eventually(async () => expect(shopCalls(email).length).toBeGreaterThanOrEqual(1));
      await ok(UpdateBrandDocument, { id: brand.brandId, input: { couponWebhookUrl: next.url } }, { token: brand.owner.token });
      const fan = await eventually(async () => {
        const f = await fanByEmail(brand, email);
        expect(f.couponDeliveries[0].status).toBe("DELIVERED");
        return f;
      }, 20_000);
      expect(fan.couponDeliveries[0].url).toBe(next.url);
      const moved = next.requests.filter((r) => r.body?.data?.email === email);
      expect(moved.map((r) => r.answeredWith)).toEqual([200]);
      expect(moved[0].raw.toString()).toBe(shopCalls(email)[0].raw.toString()); // the same frozen event
    } finally {
      await next.close();
    }
  });
});

describe("reading fans", () => {
  it("is for ORGANIZER+ and the brand's key; a COORGANIZER is refused, outsiders get NOT_FOUND", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const email = uniqueEmail("private");
    await register(discountId, email);
    const fan = await fanByEmail(brand, email);
    const key = await apiKey(brand);
    const organizer = await member(brand, "ORGANIZER");
    const coorganizer = await member(brand, "COORGANIZER");
    const stranger = await signUp("stranger");

    expect((await ok(GetFanDocument, { id: fan.id }, { token: organizer.token })).fan!.email).toBe(email);
    expect((await ok(GetFanDocument, { id: fan.id }, { apiKey: key })).fan!.email).toBe(email);
    expect(codes(await gql(GetFanDocument, { id: fan.id }, { token: coorganizer.token }))).toEqual(["FORBIDDEN"]);
    expect(codes(await gql(FansDocument, { brandId: brand.brandId }, { token: coorganizer.token }))).toEqual(["FORBIDDEN"]);
    expect(codes(await gql(GetFanDocument, { id: fan.id }, { token: stranger.token }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(FansDocument, { brandId: brand.brandId }, { token: stranger.token }))).toEqual(["NOT_FOUND"]);
  });

  it("lets the brand's key register fans for its own discounts only", async () => {
    const { brand, discountId } = await loyaltyBrand();
    const other = await loyaltyBrand();
    const key = await apiKey(brand);
    const email = uniqueEmail("viakey");
    expect((await gql(RegisterFanDocument, { input: { discountId, name: "Key Fan", email } }, { apiKey: key })).data).toEqual({ registerFan: { ok: true } });
    const refused = await gql(RegisterFanDocument, { input: { discountId: other.discountId, name: "Key Fan", email } }, { apiKey: key });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: "NOT_FOUND", field: "input.discountId" });
    expect(await count("select 1 from fan where lower(email) = lower($1)", [email])).toBe(1);
  });

  it("validates registration input, naming the field, and stores nothing", async () => {
    const { discountId } = await loyaltyBrand();
    const before = await count("select 1 from fan");
    const cases: [Record<string, unknown>, string][] = [
      [{ discountId, name: "", email: uniqueEmail() }, "input.name"],
      [{ discountId, name: "N", email: "not-an-email" }, "input.email"],
      [{ discountId, name: "N", email: uniqueEmail(), facebookHandle: "x".repeat(101) }, "input.facebookHandle"],
      [{ discountId: "nope", name: "N", email: uniqueEmail() }, "input.discountId"],
    ];
    for (const [input, field] of cases) {
      const r = await gql(RegisterFanDocument, { input: input as never });
      expect(r.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
    expect(await count("select 1 from fan")).toBe(before);
  });
});
