import type { EntityManager } from "@mikro-orm/postgresql";
import type { Order, OrderLineData, OrderStatus, PaidSnapshot, PaymentAttempt, PaymentAttemptStatus, PersonData } from "../../entities";
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
  lines: OrderLineData[];
  snapshot: PaidSnapshot | null;
  subtotal: number;
  discountTotal: number;
  total: number;
  currency: string;
  couponCode: string | null;
  createdAt: Date;
  expiresAt: Date;
  paidAt: Date | null;
  fulfilledAt: Date | null;
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

const ORDER_COLUMNS = `id, number, brand_id, customer_id, status, seq, buyer_name, buyer_email, attendees, lines, snapshot,
  subtotal, discount_total, total, currency, coupon_code, created_at, expires_at, paid_at, fulfilled_at`;

type Row = Record<string, any>;

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
    snapshot: r.snapshot,
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
    lines: o.lines,
    snapshot: o.snapshot,
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

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

export async function ordersByIds(em: EntityManager, ids: readonly string[]): Promise<OrderView[]> {
  if (!ids.length) return [];
  const rows: Row[] = await em.execute(`select ${ORDER_COLUMNS} from orders where id in (${placeholders(ids.length)})`, [...ids]);
  return rows.map(orderFromRow);
}

/**
 * One page of orders, newest first by (created_at, id), after `cursor`, plus the total count:
 * two statements whatever the page size. `filter` is `brand_id` or `customer_id` equality and an
 * optional status list.
 */
export async function orderPage(
  em: EntityManager,
  filter: { brandId?: string; customerId?: string; statuses?: readonly OrderStatus[] | null },
  first: number,
  cursor: Cursor | null,
): Promise<{ rows: OrderView[]; totalCount: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.brandId) (where.push("brand_id = ?"), params.push(filter.brandId));
  if (filter.customerId) (where.push("customer_id = ?"), params.push(filter.customerId));
  if (filter.statuses?.length) (where.push(`status in (${placeholders(filter.statuses.length)})`), params.push(...filter.statuses));
  const base = where.join(" and ");
  const pageWhere = cursor ? `${base} and (created_at, id) < (?, ?)` : base;
  const pageParams = cursor ? [...params, cursor.createdAt, cursor.id] : params;
  const [rows, count] = await Promise.all([
    em.execute(`select ${ORDER_COLUMNS} from orders where ${pageWhere} order by created_at desc, id desc limit ?`, [...pageParams, first + 1]),
    em.execute(`select count(*)::int as n from orders where ${base}`, params),
  ]);
  return { rows: (rows as Row[]).map(orderFromRow), totalCount: (count as Row[])[0].n };
}

export async function attemptsByOrderIds(em: EntityManager, orderIds: readonly string[]): Promise<AttemptView[]> {
  if (!orderIds.length) return [];
  const rows: Row[] = await em.execute(
    `select id, order_id, external_id, status, amount, currency, flagged, created_at, updated_at
       from payment_attempt where order_id in (${placeholders(orderIds.length)}) order by created_at, id`,
    [...orderIds],
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

export async function attemptById(em: EntityManager, id: string): Promise<AttemptView | null> {
  const rows: Row[] = await em.execute(
    "select id, order_id, external_id, status, amount, currency, flagged, created_at, updated_at from payment_attempt where id = ?",
    [id],
  );
  return rows[0] ? attemptFromRow(rows[0]) : null;
}

export async function eventsByOrderIds(em: EntityManager, orderIds: readonly string[]): Promise<EventView[]> {
  if (!orderIds.length) return [];
  const rows: Row[] = await em.execute(
    `select order_id, "at", "from", "to", actor from order_event where order_id in (${placeholders(orderIds.length)}) order by "at", id`,
    [...orderIds],
  );
  return rows.map((r) => ({ orderId: r.order_id, at: date(r.at), from: r.from, to: r.to, actor: r.actor }));
}
