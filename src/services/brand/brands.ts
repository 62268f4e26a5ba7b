import { ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { randomBytes } from "node:crypto";
import { ApiKey, Brand, BrandMember, BrandRole, Product, User, WebhookKind } from "../../entities";
import { AppError, ErrorCode, InputCheck, failedPrecondition } from "../../errors";
import { findAccountByEmail, requireAccount } from "../auth/accounts";
import { newApiKeySecret } from "../auth/tokens";
import { dispatchRolesChanged, dispatchSessionsEnded, notifyRolesChanged, notifySessionsEnded } from "../../pubsub/sessions";
import { forgetAccount } from "../auth/viewer";
import { Permission } from "../access/permissions";
import { accessible, requireAccess, requireBrand } from "../access/require";
import type { ServiceContext } from "../context";
import { isUuid } from "../pagination";
import { isRefusedHost } from "../../webhooks/outbound";
import { cancelPendingDeliveries } from "../../webhooks/delivery";
import { checkInvoicePrefix, defaultInvoicePrefix } from "../invoice/numbers";
import { MAX_TAX_RATE } from "../order/tax";
import { currency as checkCurrency, email as checkEmail, httpUrl, intRange, text } from "../validation";

export const MAX_UNIT_PRICE = 100_000_000; // minor units: 1,000,000.00 in a 2-digit currency

// Bounds of the lists a brand and an account answer with (src/http/list-bounds.ts charges them).
/** Brands one account may belong to (createBrand and addBrandMember refuse more); ADMIN sees the newest this many. */
export const MAX_BRANDS_PER_ACCOUNT = 100;
/** Members of one brand (addBrandMember refuses more). */
export const MAX_MEMBERS_PER_BRAND = 100;
/** Products of one brand (createProduct refuses more): an order of every product still fits its 100 lines. */
export const MAX_PRODUCTS_PER_BRAND = 100;
/** Brand.apiKeys answers the newest this many (keys are never deleted; revoked ones stay listed). */
export const MAX_API_KEYS_SHOWN = 50;

/** Brands the caller works for: all for ADMIN, its own for a brand key, memberships for a user. */
export async function listBrands(ctx: ServiceContext): Promise<Brand[]> {
  const v = ctx.viewer;
  if (v.kind === "user" && v.isAdmin) {
    const newest = await ctx.em.find(Brand, {}, { orderBy: { createdAt: "desc", id: "desc" }, limit: MAX_BRANDS_PER_ACCOUNT });
    return newest.reverse();
  }
  if (v.kind === "apiKey") return ctx.em.find(Brand, { id: v.brandId });
  if (v.kind === "user" && v.brandRoles.size) {
    return ctx.em.find(Brand, { id: { $in: [...v.brandRoles.keys()] } }, { orderBy: { createdAt: "asc" }, limit: MAX_BRANDS_PER_ACCOUNT });
  }
  return [];
}

/** Brands are public (name, currency, products) so shops can show them; protected fields carry @auth. */
export async function getBrand(ctx: ServiceContext, id: string): Promise<Brand | null> {
  return isUuid(id) ? ctx.em.findOne(Brand, id) : null;
}

export async function createBrand(
  ctx: ServiceContext,
  input: { name: string; currency: string; couponWebhookUrl?: string | null; orderWebhookUrl?: string | null; invoicePrefix?: string | null },
): Promise<Brand> {
  const userId = requireAccount(ctx);
  const check = new InputCheck();
  const name = text(check, "input.name", input.name, 200);
  const currency = checkCurrency(check, "input.currency", input.currency);
  const couponWebhookUrl = webhookUrl(ctx, check, "input.couponWebhookUrl", input.couponWebhookUrl);
  const orderWebhookUrl = webhookUrl(ctx, check, "input.orderWebhookUrl", input.orderWebhookUrl);
  const invoicePrefix = input.invoicePrefix != null ? checkInvoicePrefix(check, "input.invoicePrefix", input.invoicePrefix) : defaultInvoicePrefix(name);
  check.throwIfAny();
  const em = ctx.em;
  return em
    .transactional(async (tx) => {
      await refuseMoreBrands(tx, userId);
      const brand = new Brand(name, currency, newWebhookSecret());
      brand.couponWebhookUrl = couponWebhookUrl;
      brand.orderWebhookUrl = orderWebhookUrl;
      brand.invoicePrefix = invoicePrefix;
      tx.persist(brand);
      tx.persist(new BrandMember(ref(brand), tx.getReference(User, userId, { wrapped: true }), BrandRole.OWNER));
      return brand;
    })
    .then((brand) => {
      // The rest of this request (e.g. the selection on the new brand) sees the caller as its OWNER.
      if (ctx.viewer.kind === "user") {
        ctx.viewer.brandRoles.set(brand.id, BrandRole.OWNER);
        forgetAccount(ctx.viewer.userId);
      }
      return brand;
    });
}

/**
 * Adds (or changes the role of) a member by email, without an invitation: platform ADMIN only
 * (brand members invite instead, see invitations.ts), since it tells whether an account exists.
 * Brand members get FORBIDDEN, outsiders NOT_FOUND (Permission.BRAND_MEMBER_ADD).
 */
export async function addBrandMember(ctx: ServiceContext, brandId: string, emailRaw: string, role: BrandRole): Promise<BrandMember> {
  requireAccount(ctx);
  const check = new InputCheck();
  const email = checkEmail(check, "email", emailRaw);
  check.check(Object.values(BrandRole).includes(role), "role", "must be OWNER, ORGANIZER or COORGANIZER");
  check.throwIfAny();
  const brand = await requireBrand(ctx, Permission.BRAND_MEMBER_ADD, brandId);
  return ctx.em
    .transactional(async (tx) => {
      const user = await findAccountByEmail(tx, email);
      if (!user) throw new AppError(ErrorCode.NOT_FOUND, "email: no account with this email", { field: "email" });
      // Membership changes of one brand take turns (the brand row lock): concurrent adds of one
      // person cannot both insert, and the owner count below stays true until commit.
      await tx.execute("select 1 from brand where id = ? for update", [brand.id]);
      let member = await tx.findOne(BrandMember, { brand: brand.id, user: user.id });
      let changed = false;
      if (member) {
        if (member.role === BrandRole.OWNER && role !== BrandRole.OWNER) {
          const owners = await tx.count(BrandMember, { brand: brand.id, role: BrandRole.OWNER });
          if (owners <= 1) throw failedPrecondition("A brand needs at least one OWNER: make someone else OWNER first");
        }
        changed = member.role !== role;
        member.role = role;
        // Every instance drops the cached account and reconnects its sockets (open subscriptions
        // were authorised under the old role).
        if (changed) await notifyRolesChanged(tx, user.id);
      } else {
        await refuseNewMember(tx, brand.id, user.id);
        member = new BrandMember(ref(brand), ref(user), role);
        tx.persist(member);
      }
      return { member, changed };
    })
    .then(({ member, changed }) => {
      // After commit: the next request here reads the new role; a changed one also reconnects the
      // member's sockets here at once, without waiting for this instance's own notification.
      if (changed) dispatchRolesChanged(member.user.id);
      else forgetAccount(member.user.id);
      return member;
    });
}

/**
 * Refuses a new membership beyond a brand's MAX_MEMBERS_PER_BRAND or an account's
 * MAX_BRANDS_PER_ACCOUNT (addBrandMember, acceptBrandInvitation). The caller holds the brand's row
 * lock, so the member count stays true until commit.
 */
export async function refuseNewMember(tx: EntityManager, brandId: string, userId: string): Promise<void> {
  const members = await tx.count(BrandMember, { brand: brandId });
  if (members >= MAX_MEMBERS_PER_BRAND) throw failedPrecondition(`A brand has at most ${MAX_MEMBERS_PER_BRAND} members`);
  await refuseMoreBrands(tx, userId);
}

/**
 * Refuses an account's brand beyond MAX_BRANDS_PER_ACCOUNT. Holds the account's row lock until
 * commit, so concurrent createBrand/addBrandMember for one account take turns and cannot pass it.
 */
async function refuseMoreBrands(tx: EntityManager, userId: string): Promise<void> {
  await tx.execute("select 1 from users where id = ? for update", [userId]);
  const brands = await tx.count(BrandMember, { user: userId });
  if (brands >= MAX_BRANDS_PER_ACCOUNT) throw failedPrecondition(`An account belongs to at most ${MAX_BRANDS_PER_ACCOUNT} brands`);
}

/**
 * A webhook URL (coupon or order): http(s), and not a private or local address that
 * WEBHOOK_ALLOW_PRIVATE refuses (the delivery checks the resolved address again, see src/webhooks/outbound.ts).
 */
function webhookUrl(ctx: ServiceContext, check: InputCheck, field: string, value: string | null | undefined): string | null {
  const url = httpUrl(check, field, value);
  if (url && check.ok && isRefusedHost(new URL(url).hostname, ctx.config.webhookAllowPrivate)) {
    check.add(field, "must be a public address (private, loopback and link-local addresses are refused)");
  }
  return url;
}

/** ORGANIZER+: rename, or set / remove ("") the coupon or order webhook URL; OWNER: the invoice prefix. */
export async function updateBrand(
  ctx: ServiceContext,
  id: string,
  input: { name?: string | null; couponWebhookUrl?: string | null; orderWebhookUrl?: string | null; invoicePrefix?: string | null },
): Promise<Brand> {
  const [brandId] = await requireAccess(ctx, Permission.BRAND_UPDATE, [id], { field: "id" });
  // Invoice numbers are legal records: only an OWNER changes how the next ones are printed.
  if (input.invoicePrefix != null) await requireAccess(ctx, Permission.BRAND_INVOICE_PREFIX_UPDATE, [brandId], { field: "input.invoicePrefix" });
  const check = new InputCheck();
  const name = input.name != null ? text(check, "input.name", input.name, 200) : undefined;
  const url = input.couponWebhookUrl !== undefined ? webhookUrl(ctx, check, "input.couponWebhookUrl", input.couponWebhookUrl) : undefined;
  const orderUrl = input.orderWebhookUrl !== undefined ? webhookUrl(ctx, check, "input.orderWebhookUrl", input.orderWebhookUrl) : undefined;
  const invoicePrefix = input.invoicePrefix != null ? checkInvoicePrefix(check, "input.invoicePrefix", input.invoicePrefix) : undefined;
  check.throwIfAny();
  return ctx.em.transactional(async (tx) => {
    const b = await tx.findOneOrFail(Brand, brandId);
    if (name !== undefined) b.name = name;
    if (invoicePrefix !== undefined) b.invoicePrefix = invoicePrefix; // numbers already issued keep theirs
    if (url !== undefined) b.couponWebhookUrl = url;
    if (orderUrl !== undefined) b.orderWebhookUrl = orderUrl;
    // Removing a URL stops its pending deliveries (fans' or buyers' personal data) in the same
    // transaction; a changed URL needs nothing here: each try reads the brand's current URL.
    if (url === null) await cancelPendingDeliveries(tx, b.id, WebhookKind.COUPON);
    if (orderUrl === null) await cancelPendingDeliveries(tx, b.id, WebhookKind.ORDER);
    return b;
  });
}

/** OWNER: a new secret for the Orderline-Signature of coupon and order webhooks (the old one stops at once). */
export async function rotateWebhookSecret(ctx: ServiceContext, id: string): Promise<Brand> {
  const [brandId] = await requireAccess(ctx, Permission.BRAND_WEBHOOK_SECRET_ROTATE, [id], { field: "id" });
  return ctx.em.transactional(async (tx) => {
    const b = await tx.findOneOrFail(Brand, brandId);
    b.webhookSecret = newWebhookSecret();
    return b;
  });
}

/** Creates a brand API key (OWNER). The secret is returned once; only its hash is stored. */
export async function createApiKey(ctx: ServiceContext, brandId: string): Promise<{ id: string; secret: string }> {
  const userId = requireAccount(ctx);
  const brand = await requireBrand(ctx, Permission.API_KEY_CREATE, brandId);
  const em = ctx.em;
  const key = new ApiKey(ref(brand), em.getReference(User, userId, { wrapped: true }), "");
  const { key: secret, secretHash } = newApiKeySecret(key.id);
  key.secretHash = secretHash;
  await em.persistAndFlush(key);
  return { id: key.id, secret };
}

/** A brand's keys, oldest first, revoked ones included (through the collection dataloader). */
export async function brandApiKeys(brand: Brand): Promise<ApiKey[]> {
  return (await brand.apiKeys.load({ dataloader: true })).getItems().slice(-MAX_API_KEYS_SHOWN);
}

/** Who created a key: a platform ADMIN who did stays anonymous to anyone but another ADMIN. */
export async function apiKeyCreator(ctx: ServiceContext, key: ApiKey): Promise<User | null> {
  const user = await key.createdBy.load({ dataloader: true });
  if (!user?.isAdmin) return user;
  return ctx.viewer.kind === "user" && ctx.viewer.isAdmin ? user : null;
}

/**
 * Revokes a key (OWNER of its brand, with an account): it stops working at once on every instance
 * (keys are not cached) and sockets opened with it close with 4403. Revoking a revoked key changes
 * nothing and answers the key as it is; concurrent calls set one revokedAt.
 */
export async function revokeApiKey(ctx: ServiceContext, id: string): Promise<ApiKey> {
  requireAccount(ctx);
  const found = isUuid(id) ? await ctx.em.findOne(ApiKey, id) : null;
  const key = accessible(ctx.viewer, Permission.API_KEY_REVOKE, found, (k) => ({ brandId: k.brand.id }));
  const revoked = await ctx.em.transactional(async (tx) => {
    const rows: unknown[] = await tx.execute("update api_key set revoked_at = ? where id = ? and revoked_at is null returning id", [new Date(), key.id]);
    if (rows.length) await notifySessionsEnded(tx, key.id);
    return rows.length > 0;
  });
  if (revoked) dispatchSessionsEnded(key.id); // this instance's sockets at once
  await ctx.em.refresh(key);
  return key;
}

export async function createProduct(
  ctx: ServiceContext,
  input: { brandId: string; name: string; unitPrice: number; taxRate?: number | null },
): Promise<Product> {
  const brand = await requireBrand(ctx, Permission.PRODUCT_CREATE, input.brandId, { field: "input.brandId" });
  const check = new InputCheck();
  const name = text(check, "input.name", input.name, 200);
  intRange(check, "input.unitPrice", input.unitPrice, 0, MAX_UNIT_PRICE);
  const taxRate = intRange(check, "input.taxRate", input.taxRate ?? 0, 0, MAX_TAX_RATE);
  check.throwIfAny();
  return ctx.em.transactional(async (tx) => {
    // The brand's row lock: concurrent creations take turns, so the count holds until commit.
    await tx.execute("select 1 from brand where id = ? for update", [brand.id]);
    const products = await tx.count(Product, { brand: brand.id });
    if (products >= MAX_PRODUCTS_PER_BRAND) throw failedPrecondition(`A brand has at most ${MAX_PRODUCTS_PER_BRAND} products`);
    const product = new Product(ref(brand), name, input.unitPrice, brand.currency);
    product.taxRate = taxRate;
    tx.persist(product);
    return product;
  });
}

/** Loaded through the collection dataloader: one query for all brands of a response. */
export async function brandProducts(brand: Brand): Promise<Product[]> {
  // At most MAX_PRODUCTS_PER_BRAND by createProduct; the slice keeps the answer's bound if older data has more.
  return (await brand.products.load({ dataloader: true })).getItems().slice(0, MAX_PRODUCTS_PER_BRAND);
}

export async function brandMembers(brand: Brand): Promise<BrandMember[]> {
  return (await brand.members.load({ dataloader: true })).getItems().slice(0, MAX_MEMBERS_PER_BRAND);
}

/** A user's memberships, visible to the user themself and to ADMIN. */
export function userMemberships(ctx: ServiceContext, userId: string): Promise<BrandMember[]> {
  const v = ctx.viewer;
  if (!(v.kind === "user" && (v.userId === userId || v.isAdmin))) return Promise.resolve([]);
  return ctx.em.find(BrandMember, { user: userId }, { orderBy: { createdAt: "asc" }, limit: MAX_BRANDS_PER_ACCOUNT });
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}
