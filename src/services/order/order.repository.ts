import type { Sql } from "../../db/sql";
import type { Order, OrderLineData, OrderStatus, PaymentAttempt, PaymentAttemptStatus, PersonData } from "../../entities";
import { sqlKeysetPage, sqlKeysetRows, type Connection, type Cursor } from "../pagination";

/**
 * The one home for reading orders, their payment attempts and their events for the API, and the
 * one mapping to what the GraphQL types read (OrderView, AttemptView, EventView).
 *
 * Reads are hand-written SQL on the read pool (no ORM hydration on the hot path): each query
 * selects the columns of the field tables below aliased to the view's names, so a row IS the
 * view. A mutation writes through the entity and returns `orderView(entity)` / `attemptView`,
 * built from the same tables: resolvers, AUTH_SUBJECTS and subscriptions see one shape.
 *
 * To add an order field:
 *   1. the entity (src/entities/order.entity.ts) and a new migration (src/migrations);
 *   2. here: the OrderView property and its row in ORDER_FIELDS (its SQL, its value on the entity);
 *   3. the GraphQL type (src/schema/types/order.ts), then `npm run schema` and `npm run codegen`.
 *
 * The SQL needs a pool whose timestamptz values are Dates (pg's default parser, readPoolTypes).
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
  /** Σ of the lines' tax (services/order/tax.ts). */
  taxTotal: number;
  currency: string;
  couponCode: string | null;
  createdAt: Date;
  expiresAt: Date;
  paidAt: Date | null;
  fulfilledAt: Date | null;
  /** SUCCEEDED refunds of the payment that paid it (issue #11), and when it became REFUNDED. */
  refundedTotal: number;
  refundedAt: Date | null;
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

/** What to fetch together with orders, in the same statement (planned from the query's selection). */
export interface OrderIncludes {
  attempts?: boolean;
  events?: boolean;
}

/**
 * Each field of a view: the SQL that reads it (a column of the table or an expression over it),
 * whether it is a timestamp (JSON carries those as text), and its value on the entity a mutation
 * wrote. A missing field is a compile error.
 */
type Columns<V> = { [K in keyof V]-?: { sql: string; date?: true } };
type Fields<V, E> = { [K in keyof V]-?: { sql: string; date?: true; of: (e: E) => V[K] } };

const ORDER_FIELDS: Fields<Omit<OrderView, "attempts" | "events">, Order> = {
  id: { sql: "id", of: (o) => o.id },
  number: { sql: "number", of: (o) => o.number },
  brandId: { sql: "brand_id", of: (o) => o.brand.id },
  customerId: { sql: "customer_id", of: (o) => o.customer?.id ?? null },
  status: { sql: "status", of: (o) => o.status },
  seq: { sql: "seq", of: (o) => o.seq },
  buyerName: { sql: "buyer_name", of: (o) => o.buyerName },
  buyerEmail: { sql: "buyer_email", of: (o) => o.buyerEmail },
  attendees: { sql: "attendees", of: (o) => o.attendees },
  lines: { sql: "coalesce(snapshot -> 'lines', lines)", of: (o) => o.snapshot?.lines ?? o.lines },
  subtotal: { sql: "subtotal", of: (o) => o.subtotal },
  discountTotal: { sql: "discount_total", of: (o) => o.discountTotal },
  total: { sql: "total", of: (o) => o.total },
  taxTotal: { sql: "tax_total", of: (o) => o.taxTotal },
  currency: { sql: "currency", of: (o) => o.currency },
  couponCode: { sql: "coupon_code", of: (o) => o.couponCode },
  createdAt: { sql: "created_at", date: true, of: (o) => o.createdAt },
  expiresAt: { sql: "expires_at", date: true, of: (o) => o.expiresAt },
  paidAt: { sql: "paid_at", date: true, of: (o) => o.paidAt },
  fulfilledAt: { sql: "fulfilled_at", date: true, of: (o) => o.fulfilledAt },
  refundedTotal: { sql: "refunded_total", of: (o) => o.refundedTotal },
  refundedAt: { sql: "refunded_at", date: true, of: (o) => o.refundedAt },
};

const ATTEMPT_FIELDS: Fields<AttemptView, PaymentAttempt> = {
  id: { sql: "id", of: (a) => a.id },
  orderId: { sql: "order_id", of: (a) => a.order.id },
  externalId: { sql: "external_id", of: (a) => a.externalId },
  status: { sql: "status", of: (a) => a.status },
  amount: { sql: "amount", of: (a) => a.amount },
  currency: { sql: "currency", of: (a) => a.currency },
  flagged: { sql: "flagged", of: (a) => a.flagged },
  createdAt: { sql: "created_at", date: true, of: (a) => a.createdAt },
  updatedAt: { sql: "updated_at", date: true, of: (a) => a.updatedAt },
};

// Events are never returned by a mutation: no entity side.
const EVENT_FIELDS: Columns<EventView> = {
  orderId: { sql: "order_id" },
  at: { sql: '"at"', date: true },
  from: { sql: '"from"' },
  to: { sql: '"to"' },
  actor: { sql: "actor" },
};

// A row of the SQL below: its columns are named by the field tables, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Row = Record<string, any>;
type FieldList = { key: string; sql: string; date?: true }[];
const list = (fields: object): FieldList => Object.entries(fields).map(([key, f]) => ({ key, ...f }));
const ORDER = list(ORDER_FIELDS);
const ATTEMPT = list(ATTEMPT_FIELDS);
const EVENT = list(EVENT_FIELDS);

/** `sql as "key"` for each field (no alias where the column already has the field's name). */
const selectList = (fields: FieldList) => fields.map((f) => (f.sql === f.key || f.sql === `"${f.key}"` ? f.sql : `${f.sql} as "${f.key}"`)).join(", ");
const ORDER_COLUMNS = selectList(ORDER);

/** The view of an entity a mutation has just written: the same fields, in the same order, as a row. */
function fromEntity<V, E>(fields: Fields<V, E>, e: E): V {
  const view = {} as V;
  for (const key in fields) view[key] = fields[key].of(e);
  return view;
}
export const orderView = (o: Order): OrderView => fromEntity(ORDER_FIELDS, o);
export const attemptView = (a: PaymentAttempt): AttemptView => fromEntity(ATTEMPT_FIELDS, a);

// Attempts and events read with their orders: JSON arrays of arrays, positional in field order
// without order_id (smaller to send and to parse than objects); decoded back by the same list.
const nested = (fields: FieldList) => fields.filter((f) => f.key !== "orderId");
const jsonArray = (fields: FieldList, alias: string) =>
  `json_build_array(${nested(fields)
    .map((f) => `${alias}.${f.sql}`)
    .join(", ")})`;
const ATTEMPTS_JSON = `(select coalesce(json_agg(${jsonArray(ATTEMPT, "a")} order by a.created_at, a.id), '[]')
    from payment_attempt a where a.order_id = o.id) as "attempts"`;
const EVENTS_JSON = `(select coalesce(json_agg(${jsonArray(EVENT, "e")} order by e."at", e.id), '[]')
    from order_event e where e.order_id = o.id) as "events"`;

/**
 * Decodes the positional JSON arrays of `fields` back into views. The decoder is compiled once from
 * the field list (names of this file's tables only, checked) into one object literal: V8 then
 * builds each view with one hidden class and inline stores, as a hand-written literal. A loop of
 * `view[key] = …` cost ~25 µs more per page of 50 orders (megamorphic keyed stores).
 */
function jsonDecoder<V>(fields: FieldList): (orderId: string, cells: unknown[]) => V {
  let i = 0;
  const props = fields.map((f) => {
    if (!/^[a-zA-Z]+$/.test(f.key)) throw new Error(`not a plain field name: ${f.key}`);
    return f.key === "orderId" ? "orderId" : `${f.key}: ${f.date ? `new Date(c[${i++}])` : `c[${i++}]`}`;
  });
  return new Function("orderId", "c", `return { ${props.join(", ")} };`) as (orderId: string, cells: unknown[]) => V;
}
const attemptFromJson = jsonDecoder<AttemptView>(ATTEMPT);
const eventFromJson = jsonDecoder<EventView>(EVENT);

function orderColumns(inc: OrderIncludes): string {
  return `${ORDER_COLUMNS}${inc.attempts ? `, ${ATTEMPTS_JSON}` : ""}${inc.events ? `, ${EVENTS_JSON}` : ""}`;
}

/** A row of orderColumns(inc) as the view: the included JSON arrays decoded in place. */
function orderFromRow(r: Row, inc: OrderIncludes): OrderView {
  if (inc.attempts) r.attempts = (r.attempts as unknown[][]).map((a) => attemptFromJson(r.id, a));
  if (inc.events) r.events = (r.events as unknown[][]).map((e) => eventFromJson(r.id, e));
  return r as OrderView;
}

/** Orders by id (any order; unknown ids are left out). The visibility rule is the caller's (access.ts). */
export async function ordersByIds(sql: Sql, ids: readonly string[], inc: OrderIncludes = {}): Promise<OrderView[]> {
  if (!ids.length) return [];
  const { rows } = await sql.query(`select ${orderColumns(inc)} from orders o where id = any($1::uuid[])`, [ids]);
  return rows.map((r) => orderFromRow(r, inc));
}

/** Which orders a page or an export reads (all given conditions hold). */
export interface OrderFilter {
  brandId?: string;
  customerId?: string;
  statuses?: readonly OrderStatus[] | null;
  /** A fragment of the number, or of the buyer's or an attendee's name or email (any case); checked by the service (search.ts). */
  search?: string | null;
  createdFrom?: Date | null;
  createdTo?: Date | null;
}

/**
 * The search text of an order, exactly as the trigram index `orders_search` is built
 * (Migration20261205210000): PostgreSQL uses the index only for this expression.
 */
const SEARCH_TEXT = `order_search_text("number", "buyer_name", "buyer_email", "attendees")`;

/** `%fragment%` for LIKE, with LIKE's own characters (\ % _) taken literally. */
const containing = (fragment: string) => `%${fragment.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function whereOf(filter: OrderFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.brandId) where.push(`brand_id = $${params.push(filter.brandId)}`);
  if (filter.customerId) where.push(`customer_id = $${params.push(filter.customerId)}`);
  if (filter.statuses?.length) where.push(`status = any($${params.push(filter.statuses)}::order_status[])`);
  if (filter.search) where.push(`${SEARCH_TEXT} like lower($${params.push(containing(filter.search))})`);
  if (filter.createdFrom) where.push(`created_at >= $${params.push(filter.createdFrom)}`);
  if (filter.createdTo) where.push(`created_at <= $${params.push(filter.createdTo)}`);
  return { where, params };
}

/**
 * One page of orders matching `filter`, newest first, after `cursor`, with the filter's total count
 * (at most `countLimit + 1` when given): the one keyset routine (pagination.ts), one statement.
 */
export function orderPage(
  sql: Sql,
  filter: OrderFilter,
  first: number,
  cursor: Cursor | null,
  inc: OrderIncludes = {},
  countLimit?: number,
): Promise<Connection<OrderView>> {
  const q = { columns: orderColumns(inc), table: "orders", alias: "o", ...whereOf(filter), countLimit };
  return sqlKeysetPage(sql, q, first, cursor, (r) => orderFromRow(r, inc));
}

/** Up to `limit` orders matching `filter` after `cursor`, newest first, without a count: one batch of an export. */
export function orderBatch(sql: Sql, filter: OrderFilter, limit: number, cursor: Cursor | null): Promise<OrderView[]> {
  return sqlKeysetRows(sql, { columns: ORDER_COLUMNS, table: "orders", alias: "o", ...whereOf(filter) }, limit, cursor, (r) => r as unknown as OrderView);
}

const ATTEMPT_COLUMNS = selectList(ATTEMPT);

export async function attemptsByOrderIds(sql: Sql, orderIds: readonly string[]): Promise<AttemptView[]> {
  if (!orderIds.length) return [];
  const { rows } = await sql.query(`select ${ATTEMPT_COLUMNS} from payment_attempt where order_id = any($1::uuid[]) order by created_at, id`, [orderIds]);
  return rows as AttemptView[];
}

export async function attemptById(sql: Sql, id: string): Promise<AttemptView | null> {
  const { rows } = await sql.query(`select ${ATTEMPT_COLUMNS} from payment_attempt where id = $1`, [id]);
  return (rows[0] as AttemptView | undefined) ?? null;
}

export async function eventsByOrderIds(sql: Sql, orderIds: readonly string[]): Promise<EventView[]> {
  if (!orderIds.length) return [];
  const { rows } = await sql.query(`select ${selectList(EVENT)} from order_event where order_id = any($1::uuid[]) order by "at", id`, [orderIds]);
  return rows as EventView[];
}
