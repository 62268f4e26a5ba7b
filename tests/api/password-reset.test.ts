import { describe, expect, it } from "vitest";
import { apiUrl, codes, count, db, gql, ok, testClientIp, uniqueEmail } from "../helpers/api";
import { PASSWORD, signUp } from "../helpers/fixtures";
import { eventually, mailTo } from "../helpers/mail";
import { REQUEST_RESET, RESET_PASSWORD, requestResetToken, resetTokens } from "../helpers/password-reset";

// Issue #16: requestPasswordReset / resetPassword.

const NEW_PASSWORD = "a fresh and long password";
const ME = `query { me { user { id } } }`;
const LOG_IN = `mutation ($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`;
const fromNewAddress = () => ({ headers: { "x-forwarded-for": testClientIp() } });
const request = (email: string, auth = fromNewAddress()) => gql(REQUEST_RESET, { email }, auth);
const reset = (token: string, password = NEW_PASSWORD) => gql(RESET_PASSWORD, { token, password }, fromNewAddress());
const logIn = (email: string, password: string) => gql(LOG_IN, { email, password }, fromNewAddress());
/** What a refused token gets: always exactly this. */
const refusal = (r: Awaited<ReturnType<typeof reset>>) => ({
  status: r.status,
  errors: r.errors?.map((e) => ({ message: e.message, extensions: e.extensions })),
});

/** The rows one request leaves: the reset and its queued email (the same for any address). */
async function workFor(email: string) {
  const [resets, emails] = await Promise.all([
    count("select 1 from password_reset where email = $1", [email]),
    count("select 1 from email where recipient = $1 and kind = 'PASSWORD_RESET'", [email]),
  ]);
  return { resets, emails };
}

describe("requestPasswordReset", () => {
  it("answers the same, and does the same work, for an address with an account and one without", async () => {
    const accounts = await Promise.all(Array.from({ length: 5 }, () => signUp("reset-known")));
    const unknown = Array.from({ length: 5 }, () => uniqueEmail("reset-unknown"));
    const timings: Record<"known" | "unknown", number[]> = { known: [], unknown: [] };
    for (let i = 0; i < 5; i++) {
      for (const [kind, email] of [
        ["known", accounts[i].email],
        ["unknown", unknown[i]],
      ] as const) {
        const started = performance.now();
        const r = await request(email);
        timings[kind].push(performance.now() - started);
        expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { data: { requestPasswordReset: { ok: true } } } });
      }
    }
    // The same statements for both: one reset row, one email row (the job decides whether to send).
    const work = await Promise.all([...accounts.map((a) => workFor(a.email.toLowerCase())), ...unknown.map((e) => workFor(e.toLowerCase()))]);
    expect(work).toEqual(Array(10).fill({ resets: 1, emails: 1 }));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `requestPasswordReset ms, known: ${timings.known.map((t) => t.toFixed(1)).join(" ")} (median ${median(timings.known).toFixed(1)}); ` +
        `unknown: ${timings.unknown.map((t) => t.toFixed(1)).join(" ")} (median ${median(timings.unknown).toFixed(1)})`,
    );
    // Only the account's address gets mail; the other's email is dropped by the job, not sent.
    await eventually(async () => expect((await resetTokens(accounts[0].email)).length).toBe(1));
    await eventually(async () => {
      const { rows } = await db().query("select status from email where recipient = $1 and kind = 'PASSWORD_RESET'", [unknown[0].toLowerCase()]);
      expect(rows.map((r) => r.status)).toEqual(["FAILED"]);
    });
    expect(await mailTo(unknown[0])).toEqual([]);
  });

  it("stores only a hash of the emailed token, valid for 1 hour; a new request replaces the earlier link", async () => {
    const account = await signUp("reset-twice");
    const first = await requestResetToken(account.email);
    expect(first.length).toBeGreaterThanOrEqual(43); // 32 bytes, base64url
    const { rows } = await db().query("select token_hash, extract(epoch from expires_at - created_at) as ttl from password_reset where email = $1", [
      account.email.toLowerCase(),
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toContain(first);
    expect(Math.round(Number(rows[0].ttl))).toBe(3600);
    const second = await requestResetToken(account.email);
    expect(second).not.toBe(first);
    const refused = await reset(first);
    expect(codes(refused)).toEqual(["BAD_USER_INPUT"]);
    expect((await reset(second)).data?.resetPassword?.token).toBeTruthy();
  });

  it("is rate limited per address and per email, with the same answers for both kinds of address", async () => {
    const account = await signUp("reset-limit");
    const unknown = uniqueEmail("reset-limit-unknown");
    const outcome = async (email: string) => {
      const answers = await Promise.all(Array.from({ length: 5 }, () => request(email)));
      return answers
        .map((r) => [r.status, r.errors?.[0]?.extensions?.code ?? "ok", (r.errors?.[0]?.extensions?.limit as { scope?: string })?.scope ?? null])
        .sort();
    };
    const expected = [...Array(3).fill([200, "ok", null]), ...Array(2).fill([429, "RATE_LIMITED", "email"])].sort();
    expect(await outcome(account.email)).toEqual(expected);
    expect(await outcome(unknown)).toEqual(expected);
    // Per client address: 20 an hour whatever the emails, counted exactly under concurrency.
    const ip = fromNewAddress();
    const burst = await Promise.all(Array.from({ length: 25 }, () => request(uniqueEmail("reset-burst"), ip)));
    expect(burst.filter((r) => r.data?.requestPasswordReset?.ok === true)).toHaveLength(20);
    expect(burst.filter((r) => r.errors?.[0]?.extensions?.code === "RATE_LIMITED").map((r) => r.status)).toEqual(Array(5).fill(429));
  });
});

describe("resetPassword", () => {
  it("sets the password, ends every session of the account and returns a fresh token; the link works once", async () => {
    const account = await signUp("reset-me");
    const other = (await logIn(account.email, PASSWORD)).data!.logIn.token; // a second session
    const token = await requestResetToken(account.email);
    const page = await fetch(`${apiUrl()}/password-reset/${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('type="password"');

    const r = await reset(token);
    expect(r.data?.resetPassword.user).toEqual({ id: account.userId, email: account.email });
    const fresh = r.data!.resetPassword.token;
    for (const old of [account.token, other]) {
      const me = await gql(ME, {}, { token: old });
      expect([me.status, codes(me)]).toEqual([401, ["UNAUTHENTICATED"]]);
    }
    expect((await ok(ME, {}, { token: fresh })).me.user.id).toBe(account.userId);
    expect(codes(await logIn(account.email, PASSWORD))).toEqual(["UNAUTHENTICATED"]);
    expect((await logIn(account.email, NEW_PASSWORD)).data?.logIn.token).toBeTruthy();

    const again = await reset(token, "yet another long password");
    expect(refusal(again)).toEqual(refusal(await reset("x".repeat(43))));
    expect(again.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "token" });
    expect(codes(await logIn(account.email, "yet another long password"))).toEqual(["UNAUTHENTICATED"]);
  });

  it("succeeds exactly once for 10 concurrent calls with one token", async () => {
    const account = await signUp("reset-race");
    const token = await requestResetToken(account.email);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => reset(token, `concurrent password ${i}`)));
    const winners = results.filter((r) => r.data?.resetPassword?.token);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => codes(r)[0] === "BAD_USER_INPUT" && r.errors![0].extensions?.field === "token")).toHaveLength(9);
    const i = results.indexOf(winners[0]);
    expect((await logIn(account.email, `concurrent password ${i}`)).data?.logIn.token).toBeTruthy();
    expect(await count("select 1 from password_reset where email = $1 and used_at is not null", [account.email.toLowerCase()])).toBe(1);
  });

  it("refuses an expired token with the same answer as an unknown one, and changes nothing", async () => {
    const account = await signUp("reset-expired");
    const token = await requestResetToken(account.email);
    await db().query("update password_reset set expires_at = now() - interval '1 second' where email = $1", [account.email.toLowerCase()]);
    const r = await reset(token);
    expect(refusal(r)).toEqual(refusal(await reset("y".repeat(43))));
    expect(r.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "token" });
    expect((await ok(ME, {}, { token: account.token })).me.user.id).toBe(account.userId); // sessions untouched
    expect((await logIn(account.email, PASSWORD)).data?.logIn.token).toBeTruthy();
  });

  it("validates the password like sign-up without using the token up", async () => {
    const account = await signUp("reset-short");
    const token = await requestResetToken(account.email);
    const short = await reset(token, "short");
    expect(short.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "password" });
    expect((await reset(token)).data?.resetPassword.token).toBeTruthy();
    const bad = await fetch(`${apiUrl()}/password-reset/not-a-token`);
    expect(bad.status).toBe(404);
  });
});
