import { LockMode, ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { Product, Quota, QuotaProduct, Role } from "../../entities";
import { InputCheck, badInput, failedPrecondition, forbidden, notFound } from "../../errors";
import { notifyAvailability } from "../../pubsub/availability";
import { hasRole, roleOver } from "../auth/viewer";
import { MAX_PRODUCTS_PER_BRAND, brandWithRole } from "../brand/brands";
import type { ServiceContext } from "../context";
import { decodeCursor, isUuid, keysetPage, pageSize, type Connection } from "../pagination";
import { intRange, text } from "../validation";

/** Seats of one quota: a stadium, with room to spare. */
export const MAX_QUOTA_SIZE = 1_000_000;
/**
 * Quotas of one brand (createQuota refuses more): an order then takes at most this many quota rows,
 * one conditional UPDATE each, and a product's availability is a minimum over at most this many.
 */
export const MAX_QUOTAS_PER_BRAND = 100;

export interface QuotaFields {
  name?: string | null;
  size?: number | null;
  productIds?: string[] | null;
}

/** Checks the given fields (all of them when creating), naming each bad one. */
function checkFields(check: InputCheck, f: QuotaFields, creating: boolean): void {
  if (creating || f.name !== undefined) text(check, "input.name", f.name, 200);
  if (creating || f.size !== undefined) {
    if (check.check(f.size != null, "input.size", "must be given")) intRange(check, "input.size", f.size as number, 0, MAX_QUOTA_SIZE);
  }
  if (creating || f.productIds !== undefined) {
    const ids = f.productIds ?? [];
    if (check.check(f.productIds != null, "input.productIds", "must be given")) {
      check.check(ids.length <= MAX_PRODUCTS_PER_BRAND, "input.productIds", `must have at most ${MAX_PRODUCTS_PER_BRAND} products`) &&
        check.check(ids.every(isUuid), "input.productIds", "no such product in this brand");
    }
  }
}

/** Replaces a quota's products with `ids` (deduplicated), which must all be the brand's: BAD_USER_INPUT on input.productIds otherwise. */
async function setProducts(tx: EntityManager, quota: Quota, ids: string[]): Promise<void> {
  const wanted = [...new Set(ids.map((id) => id.toLowerCase()))];
  const found = wanted.length ? await tx.count(Product, { id: { $in: wanted }, brand: quota.brand.id }) : 0;
  if (found !== wanted.length) throw badInput("input.productIds", "no such product in this brand");
  await tx.nativeDelete(QuotaProduct, { quota: quota.id });
  for (const id of wanted) tx.persist(new QuotaProduct(ref(quota), tx.getReference(Product, id, { wrapped: true })));
}

/** ORGANIZER+ of the brand or its key. At most MAX_QUOTAS_PER_BRAND per brand. */
export async function createQuota(ctx: ServiceContext, input: QuotaFields & { brandId: string }): Promise<Quota> {
  const brand = await brandWithRole(ctx, input.brandId, Role.ORGANIZER, { field: "input.brandId" });
  const check = new InputCheck();
  checkFields(check, input, true);
  check.throwIfAny();
  return ctx.em.transactional(async (tx) => {
    // The brand's row lock: concurrent creations take turns, so the count holds until commit.
    await tx.execute("select 1 from brand where id = ? for update", [brand.id]);
    if ((await tx.count(Quota, { brand: brand.id })) >= MAX_QUOTAS_PER_BRAND) {
      throw failedPrecondition(`A brand has at most ${MAX_QUOTAS_PER_BRAND} quotas`);
    }
    const quota = new Quota(ref(brand), input.name!.trim(), input.size!);
    tx.persist(quota);
    await tx.flush();
    await setProducts(tx, quota, input.productIds ?? []);
    await notifyAvailability(tx, brand.id, [quota.id]);
    return quota;
  });
}

/** A quota of a brand the caller manages (ORGANIZER+ or its key); NOT_FOUND for anyone else. */
async function managedQuota(ctx: ServiceContext, em: EntityManager, id: string, lock = false): Promise<Quota> {
  const quota = isUuid(id) ? await em.findOne(Quota, id, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) : null;
  if (!quota || roleOver(ctx.viewer, { brandId: quota.brand.id }) === null) throw notFound("Quota not found");
  if (!hasRole(ctx.viewer, { brandId: quota.brand.id }, Role.ORGANIZER)) throw forbidden("Quotas need ORGANIZER or higher in the brand");
  return quota;
}

export function getQuota(ctx: ServiceContext, id: string): Promise<Quota> {
  return managedQuota(ctx, ctx.em, id);
}

/**
 * Renames, resizes or changes the products of a quota. The quota's row is locked while it checks,
 * so a size below sold + held is refused (BAD_USER_INPUT on input.size) exactly, also while
 * orders are being placed; the check constraint would refuse it anyway.
 */
export async function updateQuota(ctx: ServiceContext, id: string, input: QuotaFields): Promise<Quota> {
  const check = new InputCheck();
  checkFields(check, input, false);
  check.throwIfAny();
  return ctx.em.transactional(async (tx) => {
    const quota = await managedQuota(ctx, tx, id, true);
    if (input.size != null && input.size < quota.sold + quota.held) {
      throw badInput("input.size", `must be at least sold + held (${quota.sold + quota.held})`);
    }
    if (input.name != null) quota.name = input.name.trim();
    if (input.size != null) quota.size = input.size;
    quota.updatedAt = new Date();
    if (input.productIds != null) await setProducts(tx, quota, input.productIds);
    await notifyAvailability(tx, quota.brand.id, [quota.id]);
    return quota;
  });
}

export async function listQuotas(ctx: ServiceContext, args: { brandId: string; first?: number | null; after?: string | null }): Promise<Connection<Quota>> {
  const first = pageSize(args.first);
  const cursor = args.after ? decodeCursor(args.after) : null;
  const brand = await brandWithRole(ctx, args.brandId, Role.ORGANIZER);
  return keysetPage(ctx.em, Quota, { brand: brand.id }, first, cursor);
}

/** Room left: size - sold - held, never below 0. */
export const quotaAvailable = (quota: Pick<Quota, "size" | "sold" | "held">) => Math.max(0, quota.size - quota.sold - quota.held);

/** The products a quota limits, oldest first (at most a brand's 100 products); batched per request. */
export function quotaProducts(ctx: ServiceContext, quota: Quota): Promise<Product[]> {
  return ctx.loaders.productsOfQuota.load(quota.id);
}

/** Product.available: null when no quota limits it; one query for a whole page of products. */
export async function productAvailable(ctx: ServiceContext, product: Pick<Product, "id">): Promise<number | null> {
  return ctx.loaders.productAvailable.load(product.id);
}
