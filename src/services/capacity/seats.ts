import type { EntityManager } from "@mikro-orm/postgresql";
import { OrderStatus, type Order } from "../../entities";
import { AppError, ErrorCode } from "../../errors";
import { notifyAvailability } from "../../pubsub/availability";
import { releaseCoupon, retakeCoupon } from "../loyalty/coupons";
import { availableOf } from "./availability";

/*
 * Seats in quotas: taken by createOrder, turned into sold on PAID, released on CANCELLED and
 * EXPIRED (and, from issue #11, on REFUNDED). Every change is one conditional UPDATE per quota row,
 * in the caller's transaction, so no lock is wider than the quotas an order touches.
 *
 * Lock order, the same everywhere, so that overlapping orders never deadlock: an order's row, then
 * its coupon, then its quotas by ascending id. createOrder reserves the coupon before it takes
 * seats; transition() releases the coupon before the seats; the expiry sweep, which ends many
 * orders in one transaction, first locks all their coupons and then all their quotas, each sorted
 * (lockForRelease), before it releases anything.
 */

/** Postgres array literal of validated UUIDs, for `= any(?::uuid[])` through MikroORM's execute. */
const uuidArray = (ids: readonly string[]) => `{${ids.join(",")}}`;

/** The SOLD_OUT answer: which product is short and how many of it are left now. */
export function soldOut(productId: string, available: number): AppError {
  return new AppError(ErrorCode.SOLD_OUT, `Sold out: ${available} left of product ${productId}`, { productId, available });
}

/**
 * Takes the seats of a new order (already persisted in `tx`, not yet committed) in every quota of
 * every line, all or nothing: per quota, the sum of the quantities of its products, with
 * `held = held + n where size - sold - held >= n`, quotas by ascending id. A quota short of room
 * throws SOLD_OUT and the caller's transaction rolls back (no order, no hold, no coupon use).
 * Records each take in order_quota_hold, and tells availability subscribers on commit.
 */
export async function takeSeats(tx: EntityManager, order: Order): Promise<void> {
  const productIds = order.lines.map((l) => l.productId);
  const limits: { quota_id: string; product_id: string }[] = await tx.execute(
    "select quota_id, product_id from quota_product where product_id = any(?::uuid[]) order by quota_id",
    [uuidArray(productIds)],
  );
  if (!limits.length) return;
  const quantity = new Map(order.lines.map((l) => [l.productId, l.quantity]));
  const seats = new Map<string, { n: number; productId: string }>();
  for (const { quota_id, product_id } of limits) {
    const q = seats.get(quota_id) ?? { n: 0, productId: product_id };
    q.n += quantity.get(product_id) ?? 0;
    seats.set(quota_id, q);
  }
  // The order's row first (the holds refer to it); its insert does not lock any quota.
  await tx.flush();
  for (const quotaId of [...seats.keys()].sort()) {
    const { n, productId } = seats.get(quotaId)!;
    const taken: unknown[] = await tx.execute(
      `with q as (update quota set held = held + ?, updated_at = now() where id = ? and size - sold - held >= ? returning id)
       insert into order_quota_hold (order_id, quota_id, seats, state) select ?, id, ?, 'HELD' from q returning quota_id`,
      [n, quotaId, n, order.id, n],
    );
    if (!taken.length) throw soldOut(productId, (await availableOf(tx, [productId])).get(productId) ?? 0);
  }
  await notifyAvailability(tx, order.brand.id, [...seats.keys()]);
}

/**
 * What a status change does to the order's seats, in its transaction (transition() calls it):
 * PENDING → PAID turns held into sold; PENDING → CANCELLED | EXPIRED releases them. Each moves
 * only the order's records still in the expected state, so it happens at most once.
 */
export async function seatsOnTransition(em: EntityManager, order: Order, from: OrderStatus, to: OrderStatus): Promise<void> {
  if (from !== OrderStatus.PENDING) return; // EXPIRED/CANCELLED → PAID took its seats before (retakeSeats)
  if (to === OrderStatus.PAID) await moveSeats(em, order, "HELD", "SOLD");
  if (to === OrderStatus.CANCELLED || to === OrderStatus.EXPIRED) await moveSeats(em, order, "HELD", "RELEASED");
}

/** A refunded order's seats go back on sale (issue #11 calls it when an order becomes REFUNDED). */
export async function releaseSold(em: EntityManager, order: Order): Promise<void> {
  await moveSeats(em, order, "SOLD", "RELEASED");
}

type HoldState = "HELD" | "SOLD" | "RELEASED";
const COUNTER: Record<HoldState, string | null> = { HELD: "held", SOLD: "sold", RELEASED: null };

/** Moves an order's seats from one state to another: its hold records, then each quota's counters, by quota id. */
async function moveSeats(em: EntityManager, order: Order, from: HoldState, to: HoldState): Promise<void> {
  const moved: { quota_id: string; seats: number }[] = await em.execute(
    "update order_quota_hold set state = ? where order_id = ? and state = ? returning quota_id, seats",
    [to, order.id, from],
  );
  if (!moved.length) return;
  moved.sort((a, b) => (a.quota_id < b.quota_id ? -1 : 1));
  const dec = COUNTER[from];
  const inc = COUNTER[to];
  const set = [dec && `${dec} = ${dec} - ?`, inc && `${inc} = ${inc} + ?`].filter(Boolean).join(", ");
  for (const m of moved) {
    const params = [dec && m.seats, inc && m.seats].filter((p) => p !== null);
    await em.execute(`update quota set ${set}, updated_at = now() where id = ?`, [...params, m.quota_id]);
  }
  // held → sold leaves size - sold - held as it was: nothing to tell storefronts.
  if (from === "RELEASED" || to === "RELEASED") {
    await notifyAvailability(
      em,
      order.brand.id,
      moved.map((m) => m.quota_id),
    );
  }
}

/**
 * A late payment for an EXPIRED or CANCELLED order: takes its released seats again, now as sold,
 * with the same conditional UPDATEs (quotas by id). All or nothing: when one quota lacks room, the
 * seats already taken here are given back and it answers false (the order stays as it is).
 */
export async function retakeSeats(em: EntityManager, order: Order): Promise<boolean> {
  const released: { quota_id: string; seats: number }[] = await em.execute(
    "select quota_id, seats from order_quota_hold where order_id = ? and state = 'RELEASED' order by quota_id",
    [order.id],
  );
  const done: { quota_id: string; seats: number }[] = [];
  for (const r of released) {
    const rows: unknown[] = await em.execute("update quota set sold = sold + ?, updated_at = now() where id = ? and size - sold - held >= ? returning id", [
      r.seats,
      r.quota_id,
      r.seats,
    ]);
    if (!rows.length) {
      for (const d of done) await em.execute("update quota set sold = sold - ?, updated_at = now() where id = ?", [d.seats, d.quota_id]);
      return false;
    }
    done.push(r);
  }
  if (!done.length) return true;
  await em.execute("update order_quota_hold set state = 'SOLD' where order_id = ? and state = 'RELEASED'", [order.id]);
  await notifyAvailability(
    em,
    order.brand.id,
    done.map((d) => d.quota_id),
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
  await releaseCoupon(em, order);
  return false;
}

/**
 * For a transaction that ends several orders (the expiry sweep): locks their coupons, then their
 * held quotas, each by ascending id, before any of them is released; the releases then wait for
 * nothing, and the lock order stays that of createOrder (coupon, then quotas by id).
 */
export async function lockForRelease(em: EntityManager, orderIds: string[]): Promise<void> {
  if (!orderIds.length) return;
  const ids = uuidArray(orderIds);
  await em.execute("select id from coupon where id in (select coupon_id from orders where id = any(?::uuid[])) order by id for no key update", [ids]);
  await em.execute(
    "select id from quota where id in (select quota_id from order_quota_hold where order_id = any(?::uuid[]) and state = 'HELD') order by id for no key update",
    [ids],
  );
}
