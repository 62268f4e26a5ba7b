import type { EntityManager } from "@mikro-orm/postgresql";
import type { Sql } from "../../db/sql";
import { OrderStatus } from "../../entities";

/**
 * Every SQL read and write of tickets. A ticket's status is its order's (VOID unless the order is
 * PAID or FULFILLED), so these statements read the order's status with the ticket rows (listed in
 * tests/unit/order-repository.test.ts). "Admits" is spelled once, here: the order is PAID or
 * FULFILLED; every other status (CANCELLED, a later REFUNDED, ...) voids its tickets.
 */
const ADMITTING = [OrderStatus.PAID, OrderStatus.FULFILLED];
const ADMITS = `o.status in (${ADMITTING.map((s) => `'${s}'`).join(", ")})`;

/** Derived: VOID while the order does not admit, CHECKED_IN once scanned, else VALID. */
export enum TicketStatus {
  VALID = "VALID",
  CHECKED_IN = "CHECKED_IN",
  VOID = "VOID",
}

export interface TicketView {
  id: string;
  brandId: string;
  orderId: string;
  /** The order's customer (null for an order placed by a brand key): who may read the code. */
  customerId: string | null;
  productId: string;
  index: number;
  holderName: string;
  holderEmail: string;
  code: string;
  checkedInAt: Date | null;
  status: TicketStatus;
}

const COLUMNS = `t.id, t.brand_id as "brandId", t.order_id as "orderId", o.customer_id as "customerId", t.product_id as "productId",
  t."index", t.holder_name as "holderName", t.holder_email as "holderEmail", t.code, t.checked_in_at as "checkedInAt", ${ADMITS} as admits`;
const FROM = "from ticket t join orders o on o.id = t.order_id";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function view(r: Record<string, any>): TicketView {
  const checkedInAt = r.checkedInAt ? new Date(r.checkedInAt) : null;
  const status = !r.admits ? TicketStatus.VOID : checkedInAt ? TicketStatus.CHECKED_IN : TicketStatus.VALID;
  return {
    id: r.id,
    brandId: r.brandId,
    orderId: r.orderId,
    customerId: r.customerId,
    productId: r.productId,
    index: r.index,
    holderName: r.holderName,
    holderEmail: r.holderEmail,
    code: r.code,
    checkedInAt,
    status,
  };
}

/** The tickets of some orders, each order's in ticket order. */
export async function ticketsByOrderIds(sql: Sql, orderIds: readonly string[]): Promise<TicketView[]> {
  if (!orderIds.length) return [];
  const { rows } = await sql.query(`select ${COLUMNS} ${FROM} where t.order_id = any($1::uuid[]) order by t.order_id, t."index"`, [orderIds]);
  return rows.map(view);
}

export async function ticketById(sql: Sql, id: string): Promise<TicketView | null> {
  const { rows } = await sql.query(`select ${COLUMNS} ${FROM} where t.id = $1`, [id]);
  return rows.length ? view(rows[0]) : null;
}

/** A brand's ticket by its code (null: no such code in this brand). */
export async function ticketByCode(sql: Sql, brandId: string, code: string): Promise<TicketView | null> {
  const { rows } = await sql.query(`select ${COLUMNS} ${FROM} where t.code = $1 and t.brand_id = $2`, [code, brandId]);
  return rows.length ? view(rows[0]) : null;
}

/**
 * The check-in itself: ONE conditional UPDATE. Of concurrent scans of one code (on any instance),
 * the first sets checked_in_at and the others, waiting on its row lock, find it set and match
 * nothing. In the same statement, `pg_notify` tells every instance once it commits. Returns the
 * ticket's id and time, or null when nothing was checked in (unknown, void or already in).
 */
export async function checkInByCode(em: EntityManager, channel: string, brandId: string, code: string): Promise<{ id: string; checkedInAt: Date } | null> {
  const rows: { id: string; checked_in_at: string | Date }[] = await em.execute(
    `with hit as (
       update ticket t set checked_in_at = clock_timestamp() from orders o
        where t.code = ? and t.brand_id = ? and t.checked_in_at is null and o.id = t.order_id and ${ADMITS}
       returning t.id, t.brand_id, t.checked_in_at)
     select id, checked_in_at, pg_notify(?, json_build_object('ticketId', id, 'brandId', brand_id, 'at', checked_in_at)::text) from hit`,
    [code, brandId, channel],
  );
  return rows.length ? { id: rows[0].id, checkedInAt: new Date(rows[0].checked_in_at) } : null;
}

/** checkInStats: the tickets of a brand's admitting orders, and how many of them are in. */
export async function checkInCounts(sql: Sql, brandId: string): Promise<{ tickets: number; checkedIn: number }> {
  const { rows } = await sql.query(`select count(*)::int as tickets, count(t.checked_in_at)::int as "checkedIn" ${FROM} where t.brand_id = $1 and ${ADMITS}`, [
    brandId,
  ]);
  return rows[0] as { tickets: number; checkedIn: number };
}

/** Admitting orders that have no tickets yet (the start-up backfill; a write path). */
export async function ordersWithoutTickets(em: EntityManager, limit: number): Promise<string[]> {
  const rows: { id: string }[] = await em.execute(
    `select o.id from orders o where ${ADMITS} and not exists (select 1 from ticket t where t.order_id = o.id) limit ?`,
    [limit],
  );
  return rows.map((r) => r.id);
}
