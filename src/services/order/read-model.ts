import type { Sql } from "../../db/sql";
import type { Order, OrderLineData, OrderStatus, PaymentAttempt, PaymentAttemptStatus, PersonData } from "../../entities";
import type { Cursor } from "../pagination";

/**
 * What the GraphQL Order type is resolved from: a plain row, read with hand-written SQL (no ORM
 * hydration on the hot read path) or copied from an entity a mutation just wrote.
 */
export interface OrderView {
  id: string;
  number: string;
  brandId: string;
  customerId: string | null;
  status: OrderStatus;
  seq: number;
  buyerName: string;
  buyerEmail: string;
  attendees: PersonData[];
  /** The lines as shown: the paid snapshot's once paid, otherwise as priced at creation. */
  lines: OrderLineData[];
  subtotal: number;
  discountTotal: number;
  total: number;
  currency: string;
  couponCode: string | null;
  createdAt: Date;
  expiresAt: Date;
  paidAt: Date | null;
  fulfilledAt: Date | null;
  /** Read in the same statement as the order when the query asked for them (see OrderIncludes). */
  attempts?: AttemptView[];
  events?: EventView[];
}

export interface AttemptView {
  id: string;
  orderId: string;
  externalId: string;
  status: PaymentAttemptStatus;
  amount: number;
  currency: string;
  flagged: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface EventView {
  orderId: string;
  at: Date;
  from: OrderStatus | null;
  to: OrderStatus;
  actor: string | null;
}

const ORDER_COLUMNS = `id, number, brand_id, customer_id, status, seq, buyer_name, buyer_email, attendees,
  coalesce(snapshot -> 'lines', lines) as lines, subtotal, discount_total, total, currency, coupon_code, created_at, expires_at, paid_at, fulfilled_at`;

// A row of the hand-written SQL below: its columns are named by the queries, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Row = Record<string, any>;
/** A value in a row, or in a json array the SQL built. */
type Cell = Row[string];

/** MikroORM's pg type parser leaves timestamptz as text ("2026-11-21 22:00:31.50491+00"). */
const date = (v: string | Date) => (v instanceof Date ? v : new Date(v));
const dateOrNull = (v: string | Date | null) => (v == null ? null : date(v));

function orderFromRow(r: Row): OrderView {
  return {
    id: r.id,
    number: r.number,
    brandId: r.brand_id,
    customerId: r.customer_id,
    status: r.status,
    seq: r.seq,
    buyerName: r.buyer_name,
    buyerEmail: r.buyer_email,
    attendees: r.attendees,
    lines: r.lines,
    subtotal: r.subtotal,
    discountTotal: r.discount_total,
    total: r.total,
    currency: r.currency,
    couponCode: r.coupon_code,
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
    paidAt: dateOrNull(r.paid_at),
    fulfilledAt: dateOrNull(r.fulfilled_at),
  };
}

/** The view of an order entity a mutation has just written. */
export function orderView(o: Order): OrderView {
  return {
    id: o.id,
    number: o.number,
    brandId: o.brand.id,
    customerId: o.customer?.id ?? null,
    status: o.status,
    seq: o.seq,
    buyerName: o.buyerName,
    buyerEmail: o.buyerEmail,
    attendees: o.attendees,
    lines: o.snapshot?.lines ?? o.lines,
    subtotal: o.subtotal,
    discountTotal: o.discountTotal,
    total: o.total,
    currency: o.currency,
    couponCode: o.couponCode,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
    paidAt: o.paidAt,
    fulfilledAt: o.fulfilledAt,
  };
}

export function attemptView(a: PaymentAttempt): AttemptView {
  return {
    id: a.id,
    orderId: a.order.id,
    externalId: a.externalId,
    status: a.status,
    amount: a.amount,
    currency: a.currency,
    flagged: a.flagged,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

/** What to fetch together with orders, in the same statement (planned from the query's selection). */
export interface OrderIncludes {
  attempts?: boolean;
  events?: boolean;
}

// Attempts / events as JSON arrays of arrays (positional: smaller to send and to parse than objects).
const ATTEMPTS_JSON = `(select coalesce(json_agg(json_build_array(a.id, a.external_id, a.status, a.amount, a.currency, a.flagged,
    a.created_at, a.updated_at) order by a.created_at, a.id), '[]') from payment_attempt a where a.order_id = o.id) as attempts_json`;
const EVENTS_JSON = `(select coalesce(json_agg(json_build_array(e."at", e."from", e."to", e.actor) order by e."at", e.id), '[]')
    from order_event e where e.order_id = o.id) as events_json`;

function extraColumns(inc: OrderIncludes): string {
  return `${inc.attempts ? `, ${ATTEMPTS_JSON}` : ""}${inc.events ? `, ${EVENTS_JSON}` : ""}`;
}

function withIncludes(r: Row, inc: OrderIncludes): OrderView {
  const order = orderFromRow(r);
  if (inc.attempts) order.attempts = (r.attempts_json as unknown[][]).map((a) => attemptFromJson(order.id, a));
  if (inc.events) order.events = (r.events_json as unknown[][]).map((e) => eventFromJson(order.id, e));
  return order;
}

function attemptFromJson(orderId: string, a: Cell[]): AttemptView {
  return {
    id: a[0],
    orderId,
    externalId: a[1],
    status: a[2],
    amount: a[3],
    currency: a[4],
    flagged: a[5],
    createdAt: new Date(a[6]),
    updatedAt: new Date(a[7]),
  };
}

function eventFromJson(orderId: string, e: Cell[]): EventView {
  return { orderId, at: new Date(e[0]), from: e[1], to: e[2], actor: e[3] };
}

export async function ordersByIds(sql: Sql, ids: readonly string[], inc: OrderIncludes = {}): Promise<OrderView[]> {
  if (!ids.length) return [];
  const { rows } = await sql.query(`select ${ORDER_COLUMNS}${extraColumns(inc)} from orders o where id = any($1::uuid[])`, [ids]);
  return rows.map((r) => withIncludes(r, inc));
}

/**
 * One page of orders, newest first by (created_at, id), after `cursor`, with the total count of the
 * filter (an uncorrelated subquery, computed once): one statement whatever the page size (a second
 * one only for the count of an empty page). `filter` is `brand_id` or `customer_id` equality and an
 * optional status list.
 */
export async function orderPage(
  sql: Sql,
  filter: { brandId?: string; customerId?: string; statuses?: readonly OrderStatus[] | null },
  first: number,
  cursor: Cursor | null,
  inc: OrderIncludes = {},
): Promise<{ rows: OrderView[]; totalCount: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  if (filter.brandId) where.push(`brand_id = ${param(filter.brandId)}`);
  if (filter.customerId) where.push(`customer_id = ${param(filter.customerId)}`);
  if (filter.statuses?.length) where.push(`status = any(${param(filter.statuses)}::order_status[])`);
  const base = where.join(" and ");
  const page = cursor ? `${base} and (created_at, id) < (${param(cursor.createdAt)}, ${param(cursor.id)})` : base;
  const limit = param(first + 1);
  const { rows } = await sql.query(
    `select ${ORDER_COLUMNS}, (select count(*)::int from orders where ${base}) as total_count${extraColumns(inc)}
       from orders o where ${page} order by created_at desc, id desc limit ${limit}`,
    params,
  );
  if (rows.length) return { rows: rows.map((r) => withIncludes(r, inc)), totalCount: rows[0].total_count };
  const count = await sql.query(`select count(*)::int as n from orders where ${base}`, params.slice(0, where.length)); // one parameter per filter
  return { rows: [], totalCount: count.rows[0].n };
}

export async function attemptsByOrderIds(sql: Sql, orderIds: readonly string[]): Promise<AttemptView[]> {
  if (!orderIds.length) return [];
  const { rows } = await sql.query(
    `select id, order_id, external_id, status, amount, currency, flagged, created_at, updated_at
       from payment_attempt where order_id = any($1::uuid[]) order by created_at, id`,
    [orderIds],
  );
  return rows.map(attemptFromRow);
}

function attemptFromRow(r: Row): AttemptView {
  return {
    id: r.id,
    orderId: r.order_id,
    externalId: r.external_id,
    status: r.status,
    amount: r.amount,
    currency: r.currency,
    flagged: r.flagged,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

export async function attemptById(sql: Sql, id: string): Promise<AttemptView | null> {
  const { rows } = await sql.query(
    "select id, order_id, external_id, status, amount, currency, flagged, created_at, updated_at from payment_attempt where id = $1",
    [id],
  );
  return rows[0] ? attemptFromRow(rows[0]) : null;
}

export async function eventsByOrderIds(sql: Sql, orderIds: readonly string[]): Promise<EventView[]> {
  if (!orderIds.length) return [];
  const { rows } = await sql.query(`select order_id, "at", "from", "to", actor from order_event where order_id = any($1::uuid[]) order by "at", id`, [
    orderIds,
  ]);
  return rows.map(eventFromRow);
}

function eventFromRow(r: Row): EventView {
  return { orderId: r.order_id, at: date(r.at), from: r.from, to: r.to, actor: r.actor };
}
