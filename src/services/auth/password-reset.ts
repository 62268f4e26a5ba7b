import type { EntityManager } from "@mikro-orm/postgresql";
import { createHmac, randomBytes } from "node:crypto";
import { EmailKind, User } from "../../entities";
import { InputCheck, badInput } from "../../errors";
import { queueEmail } from "../../email/queue";
import { dispatchSessionsEnded, notifySessionsEnded } from "../../pubsub/sessions";
import type { ServiceContext } from "../context";
import { email as checkEmail } from "../validation";
import { checkPassword, type AuthResult } from "./accounts";
import { hashPassword } from "./password";
import { sha256, signToken } from "./tokens";
import { forgetAccount } from "./viewer";
import { hourly } from "../../jobs/sweeper";

export const PASSWORD_RESET_TTL_MS = 60 * 60_000; // 1 hour

/**
 * The emailed token is HMAC(AUTH_SECRET, 32 random bytes), as for invitations: only SHA-256(token)
 * is stored, and only the email job holds the random part, so neither the database nor the job
 * queue alone holds a usable link.
 */
export function passwordResetToken(secret: string, nonce: string): string {
  return createHmac("sha256", secret).update(`password-reset:${nonce}`).digest("base64url");
}

/**
 * Always `ok: true`, after the same work whoever the address belongs to: the request never looks
 * the address up among accounts. It replaces the address's unused reset (the earlier link stops
 * working), stores the new one and queues the email, in one transaction. The email job looks the
 * account up and sends nothing when there is none (src/services/auth/password-reset-email.ts).
 */
export async function requestPasswordReset(ctx: ServiceContext, emailRaw: string): Promise<{ ok: true }> {
  const check = new InputCheck();
  const email = checkEmail(check, "email", emailRaw).toLowerCase();
  check.throwIfAny();
  const nonce = randomBytes(32).toString("base64url");
  const tokenHash = sha256(passwordResetToken(ctx.config.authSecret, nonce));
  await ctx.em.transactional(async (tx) => {
    await tx.execute("delete from password_reset where email = ? and used_at is null", [email]);
    const [{ id }]: { id: string }[] = await tx.execute(
      "insert into password_reset (id, created_at, email, token_hash, expires_at) values (gen_random_uuid(), now(), ?, ?, ?) returning id",
      [email, tokenHash, new Date(Date.now() + PASSWORD_RESET_TTL_MS)],
    );
    await queueEmail(tx, {}, EmailKind.PASSWORD_RESET, email, { resetId: id, nonce });
  });
  return { ok: true };
}

/** One answer for every token that cannot be used: unknown, used, replaced, expired, or its account gone. */
const invalidToken = () => badInput("token", "invalid or expired password reset link");
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,100}$/;
const LIVE = "token_hash = ? and used_at is null and expires_at > now()";

/**
 * Sets the account's password from an emailed link, once: the reset is used up by one conditional
 * UPDATE, so of concurrent calls with one token exactly one succeeds. Every session of the account
 * ends (its session version moves on: every token issued before stops working on every instance,
 * and its sockets close); the answer carries a fresh token.
 */
export async function resetPassword(ctx: ServiceContext, token: string, password: string): Promise<AuthResult> {
  const check = new InputCheck();
  checkPassword(check, "password", password);
  check.throwIfAny();
  if (!TOKEN_SHAPE.test(token ?? "")) throw invalidToken();
  const hash = sha256(token);
  // A cheap look first: a wrong token costs no password hashing.
  const [live]: unknown[] = await ctx.em.execute(`select 1 from password_reset where ${LIVE}`, [hash]);
  if (!live) throw invalidToken();
  const passwordHash = await hashPassword(password); // outside the transaction: no lock held while hashing
  const account = await ctx.em.transactional(async (tx) => {
    const used: { email: string }[] = await tx.execute(`update password_reset set used_at = now() where ${LIVE} returning email`, [hash]);
    if (!used.length) throw invalidToken(); // used by a concurrent call, or expired meanwhile
    const [user]: { id: string; session_version: number }[] = await tx.execute(
      `update users set password_hash = ?, session_version = session_version + 1
        where lower(email) = ? and not anonymous returning id, session_version`,
      [passwordHash, used[0].email],
    );
    if (!user) throw invalidToken(); // no account has this address (any more): nothing was changed
    await notifySessionsEnded(tx, user.id); // every instance drops the account and closes its sockets
    return user;
  });
  dispatchSessionsEnded(account.id); // this instance at once
  forgetAccount(account.id);
  const user = await ctx.em.findOne(User, account.id, { refresh: true });
  return { token: await signToken(ctx.config.authSecret, { sub: account.id, kind: "user", sv: account.session_version }), user };
}

/**
 * Deletes resets that expired more than a day ago, used or not, whether or not the address has an
 * account (requestPasswordReset stores one for any address): their links stopped working long ago.
 */
export async function prunePasswordResets(em: EntityManager): Promise<number> {
  const rows = await em.execute("delete from password_reset where expires_at < now() - interval '1 day' returning id");
  return rows.length;
}

export const passwordResetPruning = hourly("password-reset pruning", prunePasswordResets);
