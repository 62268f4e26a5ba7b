import { ref } from "@mikro-orm/core";
import { createHmac, randomBytes } from "node:crypto";
import { Brand, BrandInvitation, BrandMember, BrandRole, EmailKind, User } from "../../entities";
import { AppError, ErrorCode, InputCheck, badInput, failedPrecondition, forbidden } from "../../errors";
import { dispatchRolesChanged, notifyRolesChanged } from "../../pubsub/sessions";
import { enforceLimits } from "../../rate-limit/limiter";
import { requireAccount } from "../auth/accounts";
import { sha256 } from "../auth/tokens";
import { forgetAccount } from "../auth/viewer";
import { atLeast } from "../access/ladder";
import { Permission } from "../access/permissions";
import { assertAccess, requireAccess, requireBrand } from "../access/require";
import { queueEmail } from "../../email/queue";
import type { ServiceContext } from "../context";
import { email as checkEmail } from "../validation";
import { refuseNewMember } from "./brands";

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000; // 7 days
/** Invitations sent per day: by one account, and to one brand (by all its members together). */
export const INVITES_PER_CALLER_PER_DAY = 50;
export const INVITES_PER_BRAND_PER_DAY = 100;
/** Pending (unaccepted, unexpired) invitations of one brand; also bounds Brand.invitations. */
export const MAX_PENDING_INVITATIONS = 100;

/**
 * The emailed token is HMAC(AUTH_SECRET, 32 random bytes). Only SHA-256(token) is stored on the
 * invitation; the email job rebuilds the token from the random part, so neither the database nor
 * the job queue alone holds a usable link (as for fans' verification links).
 */
export function invitationToken(secret: string, nonce: string): string {
  return createHmac("sha256", secret).update(`brand-invitation:${nonce}`).digest("base64url");
}

/**
 * OWNER/ORGANIZER of the brand. Never looks the address up among accounts or members: the answer,
 * and the work done, are the same whoever the address belongs to. Re-inviting an address replaces
 * its pending invitation (the earlier link stops working).
 */
export async function inviteBrandMember(ctx: ServiceContext, brandId: string, emailRaw: string, role: BrandRole): Promise<{ ok: true }> {
  const userId = requireAccount(ctx);
  const check = new InputCheck();
  const email = checkEmail(check, "email", emailRaw).toLowerCase();
  check.check(Object.values(BrandRole).includes(role), "role", "must be OWNER, ORGANIZER or COORGANIZER");
  check.throwIfAny();
  // An ORGANIZER invites ORGANIZERs and COORGANIZERs; only an OWNER invites OWNERs.
  const brand = await requireBrand(ctx, Permission.BRAND_MEMBER_INVITE, brandId);
  if (role === BrandRole.OWNER) assertAccess(ctx.viewer, Permission.BRAND_OWNER_INVITE, { brandId: brand.id });
  // Counted here, after the role check, so that outsiders cannot spend a brand's daily budget.
  await enforceLimits(ctx.em, "inviteBrandMember", [
    { scope: "user", identity: `user:${userId}`, max: INVITES_PER_CALLER_PER_DAY * ctx.config.rateLimitScale, window: "1d" },
    { scope: "brand", identity: `brand:${brand.id}`, max: INVITES_PER_BRAND_PER_DAY * ctx.config.rateLimitScale, window: "1d" },
  ]);
  await ctx.em.transactional(async (tx) => {
    // Membership changes of one brand take turns (the brand row lock): the pending count below
    // stays true until commit.
    await tx.execute("select 1 from brand where id = ? for update", [brand.id]);
    await tx.execute("delete from brand_invitation where brand_id = ? and email = ? and accepted_at is null", [brand.id, email]);
    const [{ pending }]: { pending: number }[] = await tx.execute(
      "select count(*)::int as pending from brand_invitation where brand_id = ? and accepted_at is null and expires_at > now()",
      [brand.id],
    );
    if (pending >= MAX_PENDING_INVITATIONS) {
      throw failedPrecondition(`A brand can have at most ${MAX_PENDING_INVITATIONS} pending invitations; wait until some are accepted or expire`);
    }
    const nonce = randomBytes(32).toString("base64url");
    const invitation = new BrandInvitation({
      brand: ref(brand),
      email,
      role,
      tokenHash: sha256(invitationToken(ctx.config.authSecret, nonce)),
      invitedBy: tx.getReference(User, userId, { wrapped: true }),
      expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
    });
    tx.persist(invitation);
    await queueEmail(tx, {}, EmailKind.BRAND_INVITATION, email, { invitationId: invitation.id, nonce });
  });
  return { ok: true };
}

/** One answer for every token that cannot be used: unknown, used, replaced or expired. */
const invalidInvitation = () => badInput("token", "invalid or expired invitation");

/**
 * The signed-in account whose email the invitation was sent to makes the membership, once: the
 * invitation is used up by a conditional UPDATE under the brand's row lock, so concurrent accepts
 * give one membership. An existing member keeps the higher of its role and the invited one.
 */
export async function acceptBrandInvitation(ctx: ServiceContext, token: string): Promise<BrandMember> {
  const userId = requireAccount(ctx);
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token ?? "")) throw invalidInvitation();
  const hash = sha256(token);
  const { member, changed } = await ctx.em.transactional(async (tx) => {
    const [found]: { id: string; brand_id: string; email: string; role: BrandRole }[] = await tx.execute(
      "select id, brand_id, email, role from brand_invitation where token_hash = ? and accepted_at is null and expires_at > now()",
      [hash],
    );
    if (!found) throw invalidInvitation();
    const user = await tx.findOneOrFail(User, userId);
    if ((user.email ?? "").toLowerCase() !== found.email) {
      throw forbidden("This invitation is for another email address: sign in with that address to accept it");
    }
    await tx.execute("select 1 from brand where id = ? for update", [found.brand_id]);
    const used: unknown[] = await tx.execute(
      "update brand_invitation set accepted_at = now() where id = ? and accepted_at is null and expires_at > now() returning id",
      [found.id],
    );
    if (!used.length) throw invalidInvitation(); // accepted or replaced while this call waited for the lock
    let member = await tx.findOne(BrandMember, { brand: found.brand_id, user: userId });
    if (!member) {
      await refuseNewMember(tx, found.brand_id, userId);
      member = new BrandMember(tx.getReference(Brand, found.brand_id, { wrapped: true }), ref(user), found.role);
      tx.persist(member);
      return { member, changed: false };
    }
    if (atLeast(member.role, found.role)) return { member, changed: false };
    member.role = found.role;
    await notifyRolesChanged(tx, userId); // open sockets were authorised under the old role
    return { member, changed: true };
  });
  if (changed) dispatchRolesChanged(userId);
  else forgetAccount(userId);
  // The rest of this request (e.g. the selection on the brand) sees the new role.
  if (ctx.viewer.kind === "user") ctx.viewer.brandRoles.set(member.brand.id, member.role);
  return member;
}

/**
 * The caller leaves the brand. Outsiders get NOT_FOUND as for any brand operation (an ADMIN who
 * is not a member, too). The last OWNER cannot leave: the owner count is read under the brand's
 * row lock, so two owners leaving at once cannot leave the brand without one.
 */
export async function leaveBrand(ctx: ServiceContext, brandId: string): Promise<{ ok: true }> {
  const userId = requireAccount(ctx);
  const [id] = await requireAccess(ctx, Permission.BRAND_LEAVE, [brandId]);
  await ctx.em.transactional(async (tx) => {
    await tx.execute("select 1 from brand where id = ? for update", [id]);
    const [mine]: { role: BrandRole }[] = await tx.execute("select role from brand_member where brand_id = ? and user_id = ?", [id, userId]);
    if (!mine) throw new AppError(ErrorCode.NOT_FOUND, "brandId: you are not a member of this brand", { field: "brandId" });
    if (mine.role === BrandRole.OWNER) {
      const [{ owners }]: { owners: number }[] = await tx.execute("select count(*)::int as owners from brand_member where brand_id = ? and role = 'OWNER'", [
        id,
      ]);
      if (owners <= 1) throw failedPrecondition("A brand needs at least one OWNER: make someone else OWNER before you leave");
    }
    await tx.execute("delete from brand_member where brand_id = ? and user_id = ?", [id, userId]);
    await notifyRolesChanged(tx, userId); // every instance drops the role and reconnects the sockets
  });
  dispatchRolesChanged(userId);
  if (ctx.viewer.kind === "user") ctx.viewer.brandRoles.delete(id);
  return { ok: true };
}

/** Brand.invitations (ORGANIZER+ by @auth): pending ones, oldest first; the pending cap bounds the list. */
export function pendingInvitations(ctx: ServiceContext, brand: Brand): Promise<BrandInvitation[]> {
  return ctx.em.find(
    BrandInvitation,
    { brand: brand.id, acceptedAt: null, expiresAt: { $gt: new Date() } },
    { orderBy: [{ createdAt: "asc" }, { id: "asc" }], limit: MAX_PENDING_INVITATIONS },
  );
}
