import { ok, testClientIp } from "./api";
import { delivered, eventually } from "./mail";

export const REQUEST_RESET = `mutation ($email: String!) { requestPasswordReset(email: $email) { ok } }`;
export const RESET_PASSWORD = `mutation ($token: String!, $password: String!) { resetPassword(token: $token, password: $password) { token user { id email } } }`;

/** The tokens of every password reset link delivered to `email` so far, oldest first. */
export async function resetTokens(email: string): Promise<string[]> {
  return (await delivered(email))
    .filter((m) => m.body.Tag === "password-reset")
    .map((m) => /\/password-reset\/([A-Za-z0-9_-]+)/.exec(m.body.TextBody)?.[1])
    .filter((t): t is string => !!t);
}

/** Requests a reset for `email` (from a fresh client address) and waits for its link: the newest token. */
export async function requestResetToken(email: string): Promise<string> {
  const before = (await resetTokens(email)).length;
  await ok(REQUEST_RESET, { email }, { headers: { "x-forwarded-for": testClientIp() } });
  return eventually(async () => {
    const tokens = await resetTokens(email);
    if (tokens.length <= before) throw new Error(`no new password reset email to ${email} yet`);
    return tokens[tokens.length - 1];
  });
}
