import { print } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { ActivateFanDocument, CreateFanDiscountDocument, RegisterFanDocument } from "../graphql/generated";
import { TEST_CLIENT_IP, codes, count, db, gql, graphqlUrl, ok, uniqueEmail } from "../helpers/api";
import { brandWithProducts } from "../helpers/fixtures";
import { delivered, eventually } from "../helpers/mail";

/**
 * Registering again while unverified (issue #12 item 9): a lost or expired link no longer locks
 * the address out. A fresh link replaces the old one, at most 3 verification emails an hour per
 * email and discount, and the answer is the same bytes whatever the state.
 */

let discountId: string;
beforeAll(async () => {
  const brand = await brandWithProducts();
  const { createDiscount } = await ok(
    CreateFanDiscountDocument,
    { input: { brandId: brand.brandId, name: "Verified fans", type: "PERCENT", amount: 10, usageLimit: 1, verifyEmail: true } },
    { token: brand.owner.token },
  );
  discountId = createDiscount.id;
});

/** registerFan as raw HTTP: the status and the exact bytes of the answer. */
async function register(email: string): Promise<{ status: number; text: string }> {
  const res = await fetch(graphqlUrl(), {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", "x-forwarded-for": TEST_CLIENT_IP },
    body: JSON.stringify({ query: print(RegisterFanDocument), variables: { input: { discountId, name: "Again Fan", email } } }),
  });
  return { status: res.status, text: await res.text() };
}

/** The tokens of the verification emails the fake Postmark accepted for this address, once there are `n`. */
async function verificationTokens(email: string, n: number): Promise<string[]> {
  const mails = await eventually(async () => {
    const m = (await delivered(email)).filter((x) => x.body.Tag === "fan-verification");
    expect(m.length).toBeGreaterThanOrEqual(n);
    return m;
  });
  return mails.map((m) => /\/fans\/([A-Za-z0-9_-]+)/.exec(m.body.TextBody)![1]);
}

const verificationRows = (email: string) =>
  count("select 1 from email e join fan f on f.id = e.fan_id where lower(f.email) = lower($1) and e.kind = 'FAN_VERIFICATION'", [email]);
const fanRow = async (email: string) =>
  (await db().query("select status, coupon_id from fan where discount_id = $1 and lower(email) = lower($2)", [discountId, email])).rows[0];
/** Waits until every email of this fan went out or was dropped (a replaced link is not sent). */
const settled = (email: string) =>
  eventually(async () =>
    expect(await count("select 1 from email e join fan f on f.id = e.fan_id where lower(f.email) = lower($1) and e.status = 'QUEUED'", [email])).toBe(0),
  );
const SAME = { status: 200, text: JSON.stringify({ data: { registerFan: { ok: true } } }) };

describe("registering again while unverified", () => {
  it("emails a fresh link after the first expired; the old one stops working and the new one issues the coupon", async () => {
    const email = uniqueEmail("expired-fan");
    expect(await register(email)).toEqual(SAME);
    const [first] = await verificationTokens(email, 1);
    // Seven days pass (moved in the database: no API moves time).
    await db().query("update fan set token_expires_at = now() - interval '1 minute' where discount_id = $1 and lower(email) = lower($2)", [discountId, email]);
    expect((await fetch(`${graphqlUrl().replace(/\/graphql$/, "")}/fans/${first}`)).status).toBe(410);

    expect(await register(email.toUpperCase())).toEqual(SAME);
    const [, second] = await verificationTokens(email, 2);
    expect(second).not.toBe(first);
    expect(codes(await gql(ActivateFanDocument, { token: first }))).toEqual(["NOT_FOUND"]); // replaced
    expect((await ok(ActivateFanDocument, { token: second })).activateFan).toEqual({ ok: true });
    const fan = await fanRow(email);
    expect(fan.status).toBe("ACTIVE");
    expect(fan.coupon_id).toBeTruthy();
    await eventually(async () => expect((await delivered(email)).filter((m) => m.body.Tag === "coupon")).toHaveLength(1));
    expect(await count("select 1 from fan where discount_id = $1 and lower(email) = lower($2)", [discountId, email])).toBe(1);
  });

  it("sends at most 3 verification emails an hour under 5 concurrent registrations, all answered alike; one link works", async () => {
    const email = uniqueEmail("eager-fan");
    const answers = await Promise.all(Array.from({ length: 5 }, () => register(email)));
    expect(answers).toEqual(Array(5).fill(SAME));
    expect(await verificationRows(email)).toBe(3);
    // The 6th call in the hour is over registerFan's own per-email limit (5 an hour), whatever the state.
    expect((await register(email)).status).toBe(429);

    await settled(email);
    const tokens = await verificationTokens(email, 1);
    const outcomes = await Promise.all(tokens.map(async (token) => codes(await gql(ActivateFanDocument, { token }))[0] ?? "ok"));
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o !== "ok").every((o) => o === "NOT_FOUND")).toBe(true);
  });

  it("answers the same bytes for a new, a pending, a capped and an active fan", async () => {
    const email = uniqueEmail("same-fan");
    const answers = [await register(email), await register(email), await register(email), await register(email)]; // new, pending, pending, capped
    expect(await verificationRows(email)).toBe(3);
    await settled(email);
    const tokens = await verificationTokens(email, 1);
    await Promise.all(tokens.map((token) => gql(ActivateFanDocument, { token })));
    expect((await fanRow(email)).status).toBe("ACTIVE");
    answers.push(await register(email)); // active
    expect(answers).toEqual(Array(5).fill(SAME));
    expect(await verificationRows(email)).toBe(3);
  });
});
