import type { EntityManager } from "@mikro-orm/postgresql";
import { OrderStatus, type Order } from "../../entities";
import { AppError, ErrorCode } from "../../errors";
import { notifyAvailability } from "../../pubsub/availability";
import { releaseCoupon, retakeCoupon } from "../loyalty/coupons";
import { availableOf } from "./availability";

/*
 * Seats in quotas: taken by createOrder, turned into sold on PAID, released on CANCELLED and
 * EXPIRED (and, from issue #11, on REFUNDED). The code here writes hold records only
 * (order_quota_hold); a deferred constraint trigger (Migration20261205160000) applies each record's
 * change to its quota's counters at COMMIT, conditionally when it takes room (else the commit fails
 * with SOLD_OUT_STATE). So a hot quota row is locked during a commit only, never across a round trip
 * to this process, and no lock is wider than the quotas an order touches.
 *
 * Lock order, the same everywhere, so that overlapping orders never deadlock: an order's row, then
 * its coupon, then its quotas by ascending id. Row and coupon locks are taken at once (createOrder
 * reserves the coupon, transition() releases it, the expiry sweep locks all its coupons first:
 * lockForRelease); quota locks are taken at commit, in the order the hold changes were queued, and
 * every function here queues them by ascending quota id (one statement per quota where a statement
 * could touch several). The one early quota lock, retakeSeats (a late payment), comes after the
 * coupon too.
 */

/** The SQLSTATE of the trigger's "no room" at commit (never shown to clients: createOrder answers SOLD_OUT). */
export const SOLD_OUT_STATE = "OL001";

/** Postgres array literal of validated UUIDs, for `= any(?::uuid[])` through MikroORM's execute. */
const uuidArray = (ids: readonly string[]) => `{${ids.join(",")}}`;

/** The SOLD_OUT answer: which product is short and how many of it are left now. */
export function soldOut(productId: string, available: number): AppError {
  return new AppError(ErrorCode.SOLD_OUT, `Sold out: ${available} left of product ${productId}`, { productId, available });
}

/** The seats an order takes in each quota of its lines: the sum of the quantities of the quota's products there. */
export type SeatPlan = Map<string, { n: number; productId: string }>;

/**
 * Which quotas a new order takes seats in, and how many, read before its transaction. A plain,
 * non-locking read of their room also answers SOLD_OUT at once when a quota is already short: most
 * buyers of a sold-out sale then write nothing and open no transaction. Only a fast path: the
 * trigger decides at commit (soldOutAtCommit).
 */
export async function planSeats(em: EntityManager, lines: readonly { productId: string; quantity: number }[]): Promise<SeatPlan> {
  const limits: { quota_id: string; product_id: string; room: number }[] = await em.execute(
    `select qp.quota_id, qp.product_id, q.size - q.sold - q.held as room
       from quota_product qp join quota q on q.id = qp.quota_id where qp.product_id = any(?::uuid[]) order by qp.quota_id`,
    [uuidArray(lines.map((l) => l.productId))],
  );
  const quantity = new Map(lines.map((l) => [l.productId, l.quantity]));
  const plan: SeatPlan = new Map();
  for (const { quota_id, product_id } of limits) {
    const q = plan.get(quota_id) ?? { n: 0, productId: product_id };
    q.n += quantity.get(product_id) ?? 0;
    plan.set(quota_id, q);
  }
  const room = new Map(limits.map((l) => [l.quota_id, l.room]));
  for (const [quotaId, { n, productId }] of plan) {
    if (room.get(quotaId)! < n) throw soldOut(productId, Math.max(0, Math.min(...limits.filter((l) => l.product_id === productId).map((l) => l.room))));
  }
  return plan;
}

/**
 * Takes the planned seats of a new order (in `tx`, not yet committed), all or nothing: one HELD
 * hold per quota, inserted by ascending quota id; the trigger takes them at commit, or the commit
 * fails and createOrder answers SOLD_OUT. Tells availability subscribers on commit.
 */
export async function takeSeats(tx: EntityManager, order: Order, plan: SeatPlan): Promise<void> {
  if (!plan.size) return;
  await tx.flush(); // the order's row: the holds refer to it
  await notifyAvailability(tx, order.brand.id, [...plan.keys()]); // delivered on commit only
  const quotaIds = [...plan.keys()].sort();
  await tx.execute(
    `insert into order_quota_hold (order_id, quota_id, seats, state) values ${quotaIds.map(() => "(?, ?, ?, 'HELD')").join(", ")}`,
    quotaIds.flatMap((id) => [order.id, id, plan.get(id)!.n]),
  );
}

/**
 * When `error` is the trigger's "no room" at commit (the order was rolled back): the SOLD_OUT
 * answer, with the first of `productIds` in the short quota and its availability read now.
 */
export async function soldOutAtCommit(em: EntityManager, error: unknown, productIds: readonly string[]): Promise<AppError | null> {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  if (code !== SOLD_OUT_STATE || typeof detail !== "string") return null;
  const rows: { product_id: string }[] = await em.execute("select product_id from quota_product where quota_id = ? and product_id = any(?::uuid[])", [
    detail,
    uuidArray(productIds),
  ]);
  const inQuota = new Set(rows.map((r) => r.product_id));
  const productId = productIds.find((id) => inQuota.has(id)) ?? productIds[0];
  return soldOut(productId, (await availableOf(em, [productId])).get(productId) ?? 0);
}

/**
 * What a status change does to the order's seats, in its transaction (transition() calls it):
 * PENDING → PAID turns held into sold; PENDING → CANCELLED | EXPIRED releases them; → REFUNDED releases the sold ones. Each moves
 * only the order's records still in the expected state, so it happens at most once.
 */
export async function seatsOnTransition(em: EntityManager, order: Order, from: OrderStatus, to: OrderStatus): Promise<void> {
  if (to === OrderStatus.REFUNDED) return releaseSold(em, order); // PAID | FULFILLED → REFUNDED: back on sale
  if (from !== OrderStatus.PENDING) return; // EXPIRED/CANCELLED → PAID took its seats before (retakeSeats)
  if (to === OrderStatus.PAID) await moveSeats(em, order, "HELD", "SOLD");
  if (to === OrderStatus.CANCELLED || to === OrderStatus.EXPIRED) await moveSeats(em, order, "HELD", "RELEASED");
}

/** A refunded order's seats go back on sale (issue #11 calls it when an order becomes REFUNDED). */
export async function releaseSold(em: EntityManager, order: Order): Promise<void> {
  await moveSeats(em, order, "SOLD", "RELEASED");
}

type HoldState = "HELD" | "SOLD" | "RELEASED";

/**
 * Moves an order's hold records from one state to another (the caller holds the order's row),
 * one statement per quota by ascending id, so that the trigger locks the quotas in that order.
 */
async function moveSeats(em: EntityManager, order: Order, from: HoldState, to: HoldState): Promise<void> {
  const holds: { quota_id: string }[] = await em.execute("select quota_id from order_quota_hold where order_id = ? and state = ? order by quota_id", [
    order.id,
    from,
  ]);
  const moved: string[] = [];
  for (const { quota_id } of holds) {
    const rows: unknown[] = await em.execute("update order_quota_hold set state = ? where order_id = ? and quota_id = ? and state = ? returning quota_id", [
      to,
      order.id,
      quota_id,
      from,
    ]);
    if (rows.length) moved.push(quota_id);
  }
  // held → sold leaves size - sold - held as it was: nothing to tell storefronts.
  if (moved.length && (from === "RELEASED" || to === "RELEASED")) await notifyAvailability(em, order.brand.id, moved);
}

/**
 * A late payment for an EXPIRED or CANCELLED order: takes its released seats again, now as sold,
 * all or nothing, deciding here rather than at commit (the webhook must not fail then). The
 * transaction's queued hold changes are applied now (SET CONSTRAINTS … IMMEDIATE, e.g. the release
 * of an order that expired in this transaction), the quotas are locked by ascending id and their
 * room checked; false when one is short (nothing changed), otherwise the records become SOLD and
 * the trigger, now immediate, takes the seats at once. Late payments are rare: an early lock is fine.
 */
export async function retakeSeats(em: EntityManager, order: Order): Promise<boolean> {
  await em.execute(`set constraints "order_quota_hold_counts" immediate`);
  const released: { quota_id: string; seats: number; room: number }[] = await em.execute(
    `select h.quota_id, h.seats, q.size - q.sold - q.held as room from order_quota_hold h join quota q on q.id = h.quota_id
      where h.order_id = ? and h.state = 'RELEASED' order by h.quota_id for no key update of q`,
    [order.id],
  );
  if (!released.length) return true;
  if (released.some((r) => r.room < r.seats)) return false;
  await em.execute("update order_quota_hold set state = 'SOLD' where order_id = ? and state = 'RELEASED'", [order.id]);
  await notifyAvailability(
    em,
    order.brand.id,
    released.map((r) => r.quota_id),
  );
  return true;
}

/**
 * Whether a late payment for an EXPIRED or CANCELLED order can be honoured: everything it had
 * given back is taken again, its coupon use (if any) and then its seats (as sold), all or nothing.
 * The caller then marks it PAID; on false nothing has changed and the payment stays flagged.
 */
export async function retakeForLatePayment(em: EntityManager, order: Order): Promise<boolean> {
  if (!(await retakeCoupon(em, order))) return false;
  if (await retakeSeats(em, order)) return true;
  await releaseCoupon(em, order, order.status); // still EXPIRED or CANCELLED: gives back the use just retaken
  return false;
}

/**
 * For a transaction that ends several orders (the expiry sweep): locks their coupons by ascending
 * id before any of them is released (the lock order of createOrder: coupon, then quotas at commit).
 */
export async function lockForRelease(em: EntityManager, orderIds: string[]): Promise<void> {
  if (!orderIds.length) return;
  await em.execute("select id from coupon where id in (select coupon_id from orders where id = any(?::uuid[])) order by id for no key update", [
    uuidArray(orderIds),
  ]);
}

/**
 * Releases the held seats of several orders (the expiry sweep's batch, whose rows the caller
 * locked), one statement per quota over all of them, by ascending quota id: the trigger then locks
 * the quotas in that order at commit. Their transitions afterwards find nothing HELD to move.
 */
export async function releaseHeldSeats(em: EntityManager, orders: readonly Order[]): Promise<void> {
  if (!orders.length) return;
  const ids = uuidArray(orders.map((o) => o.id));
  const quotas: { quota_id: string }[] = await em.execute(
    "select distinct quota_id from order_quota_hold where order_id = any(?::uuid[]) and state = 'HELD' order by quota_id",
    [ids],
  );
  const brandOf = new Map(orders.map((o) => [o.id, o.brand.id]));
  const changed = new Map<string, Set<string>>(); // brand → quotas
  for (const { quota_id } of quotas) {
    const rows: { order_id: string }[] = await em.execute(
      "update order_quota_hold set state = 'RELEASED' where order_id = any(?::uuid[]) and quota_id = ? and state = 'HELD' returning order_id",
      [ids, quota_id],
    );
    for (const { order_id } of rows) {
      const brand = brandOf.get(order_id)!;
      changed.set(brand, (changed.get(brand) ?? new Set()).add(quota_id));
    }
  }
  for (const [brandId, quotaIds] of changed) await notifyAvailability(em, brandId, [...quotaIds]);
}
