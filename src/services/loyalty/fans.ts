import type { EntityManager } from "@mikro-orm/postgresql";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { Brand, Discount, EmailKind, Fan, FanStatus } from "../../entities";
import { AppError, ErrorCode, InputCheck, failedPrecondition, notFound } from "../../errors";
import { sha256 } from "../auth/tokens";
import { Permission } from "../access/permissions";
import { accessible, requireAccess } from "../access/require";
import { queueEmail } from "../../email/queue";
import type { ServiceContext } from "../context";
import { decodeCursor, isUuid, keysetPage, pageSize, type Connection } from "../pagination";
import { email as checkEmail, text } from "../validation";
import { LIVE_DISCOUNT, findDiscount, issueCoupon } from "./coupons";

export const VERIFICATION_TTL_MS = 7 * 24 * 60 * 60_000; // 7 days
/** Verification emails one fan (one email and discount) gets per hour, re-registrations included. */
export const VERIFICATION_EMAILS_PER_HOUR = 3;

/**
 * The verification token is HMAC(AUTH_SECRET, 128 random bits). Only SHA-256(token) is stored on
 * the fan; the email job rebuilds the token from the random part it carries, so neither the
 * database nor the job queue alone holds a usable token.
 */
export function verificationToken(secret: string, nonce: string): string {
  return createHmac("sha256", secret).update(`fan-verification:${nonce}`).digest("base64url");
}

export interface RegisterFanInput {
  discountId: string;
  name: string;
  email: string;
  facebookHandle?: string | null;
}

/**
 * Public (or the brand's key). Answers the same whether or not the email was already registered
 * for this discount, and never creates a second fan for one email and discount. Without email
 * verification the coupon is issued at once; with it, a single-use link is emailed.
 */
export async function registerFan(ctx: ServiceContext, input: RegisterFanInput): Promise<{ ok: true }> {
  const check = new InputCheck();
  const name = text(check, "input.name", input.name, 200);
  const email = checkEmail(check, "input.email", input.email);
  const handle = input.facebookHandle == null || input.facebookHandle.trim() === "" ? null : text(check, "input.facebookHandle", input.facebookHandle, 100);
  check.check(isUuid(input.discountId), "input.discountId", "no such discount");
  check.throwIfAny();

  await ctx.em.transactional(async (tx) => {
    const found = await findDiscount(tx, input.discountId);
    const keyForOtherBrand = ctx.viewer.kind === "apiKey" && found && ctx.viewer.brandId !== found.discount.brand.id;
    if (!found || keyForOtherBrand) throw new AppError(ErrorCode.NOT_FOUND, "input.discountId: no such discount", { field: "input.discountId" });
    const { discount, live } = found;
    if (!live) throw failedPrecondition("This discount has ended");

    const id = randomUUID();
    const inserted = await tx.execute(
      `insert into fan (id, created_at, brand_id, discount_id, name, email, facebook_handle, status)
       values (?, now(), ?, ?, ?, ?, ?, ?) on conflict (discount_id, lower(email)) do nothing returning id`,
      [id, discount.brand.id, discount.id, name, email, handle, discount.verifyEmail ? FanStatus.PENDING_VERIFICATION : FanStatus.ACTIVE],
    );
    // Already registered: a fan still waiting for verification gets a fresh link (a lost or expired
    // one would otherwise lock the address out); anything else changes nothing. Same answer.
    if (!inserted.length) return resendVerification(ctx, tx, discount.id, email);
    const fan = await tx.findOneOrFail(Fan, id);
    if (discount.verifyEmail) {
      await sendVerification(ctx, tx, fan);
    } else {
      await issueCoupon(tx, fan, discount, await tx.findOneOrFail(Brand, discount.brand.id));
    }
  });
  return { ok: true };
}

/** A new single-use link (7 days) replaces the fan's previous one, which stops working. */
async function sendVerification(ctx: ServiceContext, tx: EntityManager, fan: Fan): Promise<void> {
  const nonce = randomBytes(16).toString("base64url");
  fan.tokenHash = sha256(verificationToken(ctx.config.authSecret, nonce));
  fan.tokenExpiresAt = new Date(Date.now() + VERIFICATION_TTL_MS);
  await queueEmail(tx, { fan }, EmailKind.FAN_VERIFICATION, fan.email, { nonce });
}

/**
 * Registering again while unverified: a fresh link, at most VERIFICATION_EMAILS_PER_HOUR
 * verification emails per fan (the first one included); past that nothing is sent and the answer
 * stays the same. The fan's row lock makes the count exact under concurrent calls.
 */
async function resendVerification(ctx: ServiceContext, tx: EntityManager, discountId: string, email: string): Promise<void> {
  const [pending]: { id: string }[] = await tx.execute(
    "select id from fan where discount_id = ? and lower(email) = lower(?) and status = 'PENDING_VERIFICATION' for update",
    [discountId, email],
  );
  if (!pending) return;
  const [{ sent }]: { sent: number }[] = await tx.execute(
    "select count(*)::int as sent from email where fan_id = ? and kind = 'FAN_VERIFICATION' and created_at > now() - interval '1 hour'",
    [pending.id],
  );
  if (sent >= VERIFICATION_EMAILS_PER_HOUR) return;
  await sendVerification(ctx, tx, await tx.findOneOrFail(Fan, pending.id));
}

export type Activation = "activated" | "invalid" | "used" | "expired";

/**
 * Activates the fan a verification token belongs to and issues their coupon. The token is used up
 * by one atomic UPDATE, so two concurrent clicks activate once.
 */
export async function activateFan(em: EntityManager, token: string): Promise<Activation> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token ?? "")) return "invalid";
  const hash = sha256(token);
  return em.fork().transactional(async (tx) => {
    const rows: { id: string }[] = await tx.execute(
      `update fan f set status = 'ACTIVE', verified_at = now(), token_used_at = now()
         from discount d
        where f.token_hash = ? and f.token_used_at is null and f.token_expires_at > now()
          and d.id = f.discount_id and ${LIVE_DISCOUNT}
        returning f.id`,
      [hash],
    );
    if (!rows.length) {
      const found: { used: boolean }[] = await tx.execute("select token_used_at is not null as used from fan where token_hash = ?", [hash]);
      if (!found.length) return "invalid";
      return found[0].used ? "used" : "expired";
    }
    const fan = await tx.findOneOrFail(Fan, rows[0].id);
    const discount = await tx.findOneOrFail(Discount, fan.discount.id);
    await issueCoupon(tx, fan, discount, await tx.findOneOrFail(Brand, fan.brand.id));
    return "activated";
  });
}

/** `activateFan(token)` for SPAs: the same as following the link, with coded errors. */
export async function activateFanMutation(ctx: ServiceContext, token: string): Promise<{ ok: true }> {
  const outcome = await activateFan(ctx.em, token);
  if (outcome === "invalid") throw notFound("This verification link is not valid");
  if (outcome === "used") throw failedPrecondition("This verification link has already been used");
  if (outcome === "expired") throw failedPrecondition("This verification link has expired");
  return { ok: true };
}

export async function getFan(ctx: ServiceContext, id: string): Promise<Fan> {
  const fan = isUuid(id) ? await ctx.em.findOne(Fan, id) : null;
  return accessible(ctx.viewer, Permission.FAN_READ, fan, (f) => ({ brandId: f.brand.id }));
}

export async function listFans(ctx: ServiceContext, args: { brandId: string; first?: number | null; after?: string | null }): Promise<Connection<Fan>> {
  const first = pageSize(args.first);
  const cursor = args.after ? decodeCursor(args.after) : null;
  const [brandId] = await requireAccess(ctx, Permission.BRAND_FANS_READ, [args.brandId]);
  return keysetPage(ctx.em, Fan, { brand: brandId }, first, cursor);
}
