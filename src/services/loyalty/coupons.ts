import { ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { randomUUID } from "node:crypto";
import { Brand, Coupon, Discount, DiscountType, EmailKind, Fan, FanStatus, OrderStatus, WebhookKind, type Order } from "../../entities";
import { badInput } from "../../errors";
import { queueEmail } from "../../email/queue";
import { queueDelivery } from "../../webhooks/delivery";
import { randomCode } from "../order/number";
import type { DiscountRule } from "../order/totals";
import { COUPON_HOLDS_PER_BUYER } from "../../rate-limit/rules";

/*
 * A coupon's life: issued to a fan (issueCoupon), one use reserved by an order (reserveCoupon, with
 * the per-buyer hold and the refusal reasons), given back when that order ends unpaid
 * (releaseCoupon). Whether a discount can be used at all is LIVE_DISCOUNT, the one place that says it.
 */

/**
 * "The discount is live now": not deleted, not expired. SQL over the discount's alias `d`, read by
 * the atomic reservation, fan activation and registration alike (the database's clock for all).
 */
export const LIVE_DISCOUNT = "(d.deleted_at is null and (d.expires_at is null or d.expires_at > now()))";

/**
 * A discount that is not deleted (null otherwise) and whether it is live, in one statement
 * (registerFan: NOT_FOUND for a deleted one, "has ended" for an expired one).
 */
export async function findDiscount(tx: EntityManager, id: string): Promise<{ discount: Discount; live: boolean } | null> {
  const [row]: ({ live: boolean } & Record<string, unknown>)[] = await tx.execute(
    `select d.*, ${LIVE_DISCOUNT} as live from discount d where d.id = ? and d.deleted_at is null`,
    [id],
  );
  if (!row) return null;
  const { live, ...columns } = row;
  return { discount: tx.map(Discount, columns), live };
}

/** Unique codes: 10 characters of the unambiguous alphabet (31^10 ≈ 8·10^14), cryptographically random. */
export const COUPON_CODE_LENGTH = 10;
const CODE_SHAPE = /^[A-Z0-9-]{1,32}$/;

/**
 * Gives an activated fan their coupon (the discount's shared code, or a new unique one), emails it
 * and queues its delivery to the brand's shop, all in the caller's transaction.
 */
export async function issueCoupon(tx: EntityManager, fan: Fan, discount: Discount, brand: Brand): Promise<Coupon> {
  const coupon = discount.fixedCode
    ? await tx.findOneOrFail(Coupon, { brand: brand.id, code: discount.fixedCode })
    : await newUniqueCoupon(tx, brand, discount);
  fan.coupon = ref(coupon);
  fan.status = FanStatus.ACTIVE;
  await queueEmail(tx, { fan }, EmailKind.COUPON, fan.email);
  if (brand.couponWebhookUrl) await queueCouponDelivery(tx, fan, discount, brand, coupon);
  return coupon;
}

async function newUniqueCoupon(tx: EntityManager, brand: Brand, discount: Discount): Promise<Coupon> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = randomUUID();
    const code = randomCode(COUPON_CODE_LENGTH);
    // ON CONFLICT keeps the transaction usable if a code ever repeats: draw another.
    const rows = await tx.execute(
      `insert into coupon (id, created_at, brand_id, discount_id, code, uses) values (?, now(), ?, ?, ?, 0)
       on conflict ("brand_id", "code") do nothing returning id`,
      [id, brand.id, discount.id, code],
    );
    if (rows.length) return tx.findOneOrFail(Coupon, id);
  }
  throw new Error("could not draw a unique coupon code");
}

/** The shop's copy of an issued coupon (a COUPON webhook delivery, src/webhooks/delivery.ts). */
async function queueCouponDelivery(tx: EntityManager, fan: Fan, discount: Discount, brand: Brand, coupon: Coupon) {
  const body = {
    id: randomUUID(),
    type: "coupon.issued",
    createdAt: new Date().toISOString(),
    data: {
      fanName: fan.name,
      email: fan.email,
      facebookHandle: fan.facebookHandle,
      discountName: discount.name,
      couponCode: coupon.code,
      discountType: discount.type,
      discountAmount: discount.amount,
      description: discount.description,
      usageLimit: discount.usageLimit,
      freeShipping: discount.freeShipping,
      expiresAt: discount.expiresAt?.toISOString() ?? null,
    },
  };
  await queueDelivery(tx, brand, WebhookKind.COUPON, body, { fan: ref(fan), order: null });
}

/** Why a code was refused: `unusable` (unknown, deleted, expired, used up, malformed) or `held` (see reserveCoupon). */
export type CouponRefusal = { refused: "unusable"; reason: string } | { refused: "held"; held: number };

/** What a customer is told about any unusable code: one message, so codes cannot be probed by their answers. */
export const UNUSABLE_CODE = "cannot be used (unknown, expired or used up)";

/**
 * Reserves one use of a code for an order being created, in its transaction: one atomic
 * conditional UPDATE, so concurrent checkouts can never take more than the usage limit. With a
 * `holder` (the buyer), refuses when that buyer already holds COUPON_HOLDS_PER_BUYER uses of the
 * code in PENDING orders: the check runs under a transaction lock on (brand, code, buyer), so
 * concurrent orders of one buyer are counted one after the other and exactly.
 */
export async function reserveCoupon(
  tx: EntityManager,
  brandId: string,
  raw: string,
  holder: string | null,
): Promise<{ coupon: Coupon; rule: DiscountRule; code: string } | CouponRefusal> {
  const code = raw.trim().toUpperCase();
  if (!CODE_SHAPE.test(code)) return { refused: "unusable", reason: "is not a valid coupon code" };
  if (holder) {
    await tx.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [`coupon-hold|${brandId}|${code}|${holder}`]);
    const [{ n }]: { n: number }[] = await tx.execute(
      "select count(*)::int as n from orders where customer_id = ? and brand_id = ? and coupon_code = ? and status = 'PENDING'",
      [holder, brandId, code],
    );
    if (n >= COUPON_HOLDS_PER_BUYER) return { refused: "held", held: n };
  }
  const rows: { id: string; type: DiscountType; amount: number }[] = await tx.execute(
    `update coupon c set uses = c.uses + 1
       from discount d
      where c.brand_id = ? and c.code = ? and d.id = c.discount_id
        and ${LIVE_DISCOUNT}
        and c.uses < d.usage_limit
      returning c.id, d.type, d.amount`,
    [brandId, code],
  );
  if (!rows.length) return { refused: "unusable", reason: await whyRefused(tx, brandId, code) };
  return { coupon: tx.getReference(Coupon, rows[0].id), rule: { type: rows[0].type, amount: rows[0].amount }, code };
}

/**
 * The BAD_USER_INPUT on `input.couponCode` for a refusal. `explain`: the caller is staff of the
 * order's brand (COORGANIZER+, its key, ADMIN) and is told why; anyone else gets UNUSABLE_CODE.
 */
export function couponRefusedError(refusal: CouponRefusal, explain: boolean) {
  if (refusal.refused === "held") {
    return badInput("input.couponCode", "is already held by your unpaid order: pay or cancel that order first");
  }
  return badInput("input.couponCode", explain ? refusal.reason : UNUSABLE_CODE);
}

async function whyRefused(tx: EntityManager, brandId: string, code: string): Promise<string> {
  const rows: { deleted: boolean; live: boolean }[] = await tx.execute(
    `select d.deleted_at is not null as deleted, ${LIVE_DISCOUNT} as live
       from coupon c join discount d on d.id = c.discount_id where c.brand_id = ? and c.code = ?`,
    [brandId, code],
  );
  if (!rows.length || rows[0].deleted) return "is not a valid coupon code for this brand";
  if (!rows[0].live) return "has expired"; // not deleted, so ended by its expiry
  return "has no uses left";
}

/** An unpaid order that ends this way gives back the use it reserved; a paid one keeps it. */
const RELEASED_WHEN: readonly OrderStatus[] = [OrderStatus.CANCELLED, OrderStatus.EXPIRED];

/** Gives back the use an order reserved when its new status `to` ends it unpaid. Every status change calls it (order/status.ts). */
export async function releaseCoupon(tx: EntityManager, order: Order, to: OrderStatus): Promise<void> {
  if (!order.coupon || !RELEASED_WHEN.includes(to)) return;
  await tx.execute("update coupon set uses = uses - 1 where id = ? and uses > 0", [order.coupon.id]);
}

/**
 * A late payment for an order that had given its use back (CANCELLED, EXPIRED): takes the use
 * again if the coupon still has one (the buyer paid the discounted price), else false.
 */
export async function retakeCoupon(tx: EntityManager, order: Order): Promise<boolean> {
  if (!order.coupon) return true;
  const rows: unknown[] = await tx.execute(
    "update coupon c set uses = c.uses + 1 from discount d where c.id = ? and d.id = c.discount_id and c.uses < d.usage_limit returning c.id",
    [order.coupon.id],
  );
  return rows.length > 0;
}
