import { LockMode, raw } from "@mikro-orm/core";
import { UniqueConstraintViolationException, type EntityManager } from "@mikro-orm/postgresql";
import { User } from "../../entities";
import { AppError, ErrorCode, InputCheck, forbidden, unauthenticated } from "../../errors";
import type { ServiceContext } from "../context";
import { email as checkEmail, isCleanText, text } from "../validation";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./password";
import { dispatchSessionsEnded, notifySessionsEnded } from "../../pubsub/sessions";
import { signToken } from "./tokens";
import { forgetAccount } from "./viewer";
import { forgive, reserveLogIn } from "../../rate-limit/guards";

export interface AuthResult {
  token: string;
  user: User | null;
}

const MIN_PASSWORD = 10;
const MAX_PASSWORD = 200;

/** The password rule of sign-up and resetPassword. */
export function checkPassword(check: InputCheck, field: string, password: unknown): void {
  check.check(
    typeof password === "string" && password.length >= MIN_PASSWORD && password.length <= MAX_PASSWORD,
    field,
    `must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`,
  );
}

/**
 * Creates an account. Called with an anonymous session's token, the session itself becomes the
 * account, so the orders it placed stay with it.
 */
export async function signUp(ctx: ServiceContext, input: { email: string; password: string; name?: string | null }): Promise<AuthResult> {
  const check = new InputCheck();
  const email = checkEmail(check, "input.email", input.email);
  checkPassword(check, "input.password", input.password);
  const name = input.name == null || input.name.trim() === "" ? null : text(check, "input.name", input.name, 200);
  if (ctx.viewer.kind === "user") check.add("input", "you are already signed in");
  if (ctx.viewer.kind === "apiKey") check.add("input", "a brand API key cannot sign up");
  check.throwIfAny();

  const passwordHash = await hashPassword(input.password);
  const em = ctx.em;
  let user: User;
  try {
    user = await em.transactional(async (tx) => {
      let u: User;
      if (ctx.viewer.kind === "anonymous") {
        // The session's own row, locked: two concurrent sign-ups with one session token cannot both
        // succeed (the second finds it already an account).
        const session = await tx.findOne(User, { id: ctx.viewer.userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!session?.anonymous) throw unauthenticated("This anonymous session has already signed up; log in instead");
        u = session;
      } else {
        u = tx.create(User, {});
      }
      u.email = email;
      u.name = name;
      u.passwordHash = passwordHash;
      u.anonymous = false;
      tx.persist(u);
      return u;
    });
    forgetAccount(user.id); // an anonymous session's token stops working at once
  } catch (e) {
    if (e instanceof UniqueConstraintViolationException) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, "input.email: is already registered", { field: "input.email" });
    }
    throw e;
  }
  return { token: await signToken(ctx.config.authSecret, { sub: user.id, kind: "user", sv: user.sessionVersion }), user };
}

/**
 * A wrong password and an unknown email give the same UNAUTHENTICATED error, in about the same time.
 * Only failures count against the guessing budgets (rate-limit/guards.ts): the attempt is reserved
 * before the password is checked and given back when it was right.
 */
export async function logIn(ctx: ServiceContext, emailRaw: string, password: string): Promise<AuthResult> {
  const email = (emailRaw ?? "").trim();
  const attempt = await reserveLogIn(ctx.em, ctx.clientIp ?? "unknown", email);
  // An email no account can have (empty, or with a NUL the database would refuse) is simply unknown.
  const user = email && isCleanText(email) ? await findAccountByEmail(ctx.em, email, true) : null;
  const ok = await verifyPassword(String(password ?? ""), user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !user.passwordHash || !ok) throw new AppError(ErrorCode.UNAUTHENTICATED, "Wrong email or password");
  await forgive(ctx.em, attempt);
  return { token: await signToken(ctx.config.authSecret, { sub: user.id, kind: "user", sv: user.sessionVersion }), user };
}

/** A customer who has not signed up: a token whose orders can be claimed later by signing up with it. */
export async function startAnonymousSession(ctx: ServiceContext): Promise<AuthResult> {
  const em = ctx.em;
  const user = em.create(User, { anonymous: true });
  await em.persistAndFlush(user);
  return { token: await signToken(ctx.config.authSecret, { sub: user.id, kind: "anonymous", sv: user.sessionVersion }), user: null };
}

/**
 * Ends every session of the caller's account or anonymous session: each token issued so far stops
 * working, on every instance at once (by notification; within the 2 s account cache at worst), and
 * sockets opened with them close with 4403. Logging in again gives a new token. Not for API keys.
 */
export async function logOutEverywhere(ctx: ServiceContext): Promise<boolean> {
  if (ctx.viewer.kind === "apiKey") throw forbidden("A brand API key has no session to end");
  if (ctx.viewer.kind === "none") throw unauthenticated("Sign in first");
  const userId = ctx.viewer.userId;
  await ctx.em.transactional(async (tx) => {
    await tx.execute("update users set session_version = session_version + 1 where id = ?", [userId]);
    await notifySessionsEnded(tx, userId);
  });
  // This instance at once (cache and sockets), without waiting for its own notification; the
  // handlers run again when it arrives, harmlessly.
  dispatchSessionsEnded(userId);
  return true;
}

/** The account with this email, compared case-insensitively (the unique index is on lower(email)). */
export function findAccountByEmail(em: EntityManager, email: string, withPassword = false): Promise<User | null> {
  return em.findOne(User, { [raw("lower(email)")]: email.toLowerCase(), anonymous: false }, withPassword ? { populate: ["passwordHash"] } : {});
}

export async function currentUser(ctx: ServiceContext): Promise<User | null> {
  if (ctx.viewer.kind !== "user") return null;
  return ctx.em.findOne(User, ctx.viewer.userId);
}

export function requireAccount(ctx: ServiceContext): string {
  if (ctx.viewer.kind !== "user") throw unauthenticated("Sign in with an account first");
  return ctx.viewer.userId;
}

/** The `me` answer. */
export async function viewerInfo(ctx: ServiceContext): Promise<{ user: User | null; anonymous: boolean; apiKeyBrandId: string | null }> {
  return {
    user: await currentUser(ctx),
    anonymous: ctx.viewer.kind === "anonymous",
    apiKeyBrandId: ctx.viewer.kind === "apiKey" ? ctx.viewer.brandId : null,
  };
}
