import { LockMode, ref } from "@mikro-orm/core";
import { UniqueConstraintViolationException } from "@mikro-orm/postgresql";
import { Coupon, Discount, DiscountType } from "../../entities";
import { InputCheck, badInput } from "../../errors";
import { MAX_UNIT_PRICE } from "../brand/brands";
import { Permission } from "../access/permissions";
import { accessible, requireAccess, requireBrand } from "../access/require";
import type { ServiceContext } from "../context";
import { decodeCursor, isUuid, keysetPage, pageSize, type Connection } from "../pagination";
import { intRange, isCleanText, text } from "../validation";

export const FIXED_CODE = /^[A-Z0-9-]{4,32}$/;
export const MAX_USAGE_LIMIT = 1_000_000;

export interface DiscountFields {
  name?: string | null;
  description?: string | null;
  amount?: number | null;
  freeShipping?: boolean | null;
  expiresAt?: Date | null;
  usageLimit?: number | null;
  verifyEmail?: boolean | null;
}

/** Checks the fields being set (all for create, the given ones for update), naming each bad one. */
function checkFields(check: InputCheck, type: DiscountType, f: DiscountFields, creating: boolean) {
  if (creating || f.name !== undefined) text(check, "input.name", f.name, 200);
  if (f.description != null && f.description !== "") text(check, "input.description", f.description, 2000);
  if (creating || f.amount !== undefined) {
    if (type === DiscountType.PERCENT) intRange(check, "input.amount", f.amount as number, 1, 100);
    else intRange(check, "input.amount", f.amount as number, 1, MAX_UNIT_PRICE);
  }
  if (f.expiresAt != null) {
    check.check(
      f.expiresAt instanceof Date && !Number.isNaN(f.expiresAt.getTime()) && f.expiresAt.getTime() > Date.now(),
      "input.expiresAt",
      "must be in the future",
    );
  }
  if (creating || f.usageLimit !== undefined) {
    check.check(f.usageLimit != null, "input.usageLimit", "must be given") && intRange(check, "input.usageLimit", f.usageLimit as number, 1, MAX_USAGE_LIMIT);
  }
  if (!creating) {
    for (const k of ["freeShipping", "verifyEmail"] as const) check.check(f[k] !== null, `input.${k}`, "cannot be null");
  }
}

/** `fixedCode` as stored: upper case, 4..32 of [A-Z0-9-]. */
export function normalizeCode(raw: string): string {
  return raw.trim().toUpperCase();
}

/** ORGANIZER+ of the brand (or its key). A fixed code is unique per brand, ignoring case. */
export async function createDiscount(
  ctx: ServiceContext,
  input: DiscountFields & { brandId: string; type: DiscountType; fixedCode?: string | null },
): Promise<Discount> {
  const brand = await requireBrand(ctx, Permission.BRAND_DISCOUNTS_MANAGE, input.brandId, { field: "input.brandId" });
  const check = new InputCheck();
  check.check(Object.values(DiscountType).includes(input.type), "input.type", "must be PERCENT or FIXED_AMOUNT");
  checkFields(check, input.type, input, true);
  const fixedCode = input.fixedCode == null || input.fixedCode.trim() === "" ? null : normalizeCode(input.fixedCode);
  if (fixedCode !== null) check.check(FIXED_CODE.test(fixedCode) && isCleanText(fixedCode), "input.fixedCode", "must be 4 to 32 of A-Z, 0-9 and -");
  check.throwIfAny();

  const discount = new Discount(ref(brand), input.name!.trim(), input.type, input.amount!);
  discount.description = input.description?.trim() || null;
  discount.freeShipping = input.freeShipping ?? false;
  discount.expiresAt = input.expiresAt ?? null;
  discount.usageLimit = input.usageLimit ?? 1;
  discount.verifyEmail = input.verifyEmail ?? false;
  discount.fixedCode = fixedCode;
  try {
    return await ctx.em.transactional(async (tx) => {
      tx.persist(discount);
      // The shared code is a coupon from the start: anyone may redeem it, fans receive it.
      if (fixedCode) tx.persist(new Coupon(ref(brand), ref(discount), fixedCode));
      return discount;
    });
  } catch (e) {
    if (e instanceof UniqueConstraintViolationException) throw badInput("input.fixedCode", "is already a code of this brand");
    throw e;
  }
}

/** A live discount of a brand the caller manages (ORGANIZER+ or the key); others get NOT_FOUND. */
async function managedDiscount(ctx: ServiceContext, id: string, lock = false): Promise<Discount> {
  const discount = isUuid(id) ? await ctx.em.findOne(Discount, { id, deletedAt: null }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) : null;
  return accessible(ctx.viewer, Permission.DISCOUNT_MANAGE, discount, (d) => ({ brandId: d.brand.id }));
}

export function getDiscount(ctx: ServiceContext, id: string): Promise<Discount> {
  return managedDiscount(ctx, id);
}

export async function updateDiscount(ctx: ServiceContext, id: string, input: DiscountFields): Promise<Discount> {
  return ctx.em.transactional(async (tx) => {
    const discount = await managedDiscount({ ...ctx, em: tx }, id, true);
    const check = new InputCheck();
    checkFields(check, discount.type, input, false);
    check.throwIfAny();
    if (input.name != null) discount.name = input.name.trim();
    if (input.description !== undefined) discount.description = input.description?.trim() || null;
    if (input.amount != null) discount.amount = input.amount;
    if (input.freeShipping != null) discount.freeShipping = input.freeShipping;
    if (input.expiresAt !== undefined) discount.expiresAt = input.expiresAt;
    if (input.usageLimit != null) discount.usageLimit = input.usageLimit;
    if (input.verifyEmail != null) discount.verifyEmail = input.verifyEmail;
    discount.updatedAt = new Date();
    return discount;
  });
}

/** Soft delete: its codes stop working at once; the discount, fans, coupons and orders keep their history. */
export async function deleteDiscount(ctx: ServiceContext, id: string): Promise<boolean> {
  return ctx.em.transactional(async (tx) => {
    const discount = await managedDiscount({ ...ctx, em: tx }, id, true);
    discount.deletedAt = new Date();
    return true;
  });
}

export async function listDiscounts(
  ctx: ServiceContext,
  args: { brandId: string; first?: number | null; after?: string | null },
): Promise<Connection<Discount>> {
  const first = pageSize(args.first);
  const cursor = args.after ? decodeCursor(args.after) : null;
  const [brandId] = await requireAccess(ctx, Permission.BRAND_DISCOUNTS_MANAGE, [args.brandId]);
  return keysetPage(ctx.em, Discount, { brand: brandId, deletedAt: null }, first, cursor);
}
