import { OrderStatus } from "../../entities";
import { InputCheck } from "../../errors";
import { Permission } from "../access/permissions";
import { requireAccess, type AccessContext } from "../access/require";
import { ticketsByOrderIds, type TicketView } from "../checkin/ticket.repository";
import type { Sql } from "../../db/sql";
import { orderBatch, type OrderFilter, type OrderView } from "../order/order.repository";
import { checkedFilter, type SearchFilter } from "../order/search";
import { CURRENCIES } from "../validation";
import { BOM, csvRow, type Cell } from "./csv";

/**
 * The CSV exports (issue #16): a brand's orders, or their tickets, matching the searchOrders
 * filters, read in keyset batches (each one short statement on the read pool, no transaction or
 * cursor held between them) and handed out as CSV text one batch at a time, so an export of a
 * million orders holds one batch in memory. The transport (src/http/exports.ts) writes each chunk
 * with backpressure. Rows are read newest first; an order placed during the export may be missed.
 */
export type ExportKind = "orders" | "tickets";

/** Orders per batch: ~1,000 rows of orders.csv; fewer for tickets.csv (up to 100 tickets per order). */
export const EXPORT_BATCH: Record<ExportKind, number> = { orders: 1_000, tickets: 200 };

export interface ExportPlan {
  kind: ExportKind;
  filter: OrderFilter & { brandId: string };
}

type Query = Record<string, string | string[] | undefined>;
const STATUSES = new Set<string>(Object.values(OrderStatus));
// The DateTime scalar's form (src/schema/scalars.ts): RFC 3339 with a time zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * The export's filters from a query string: `search`, `createdFrom`, `createdTo` (RFC 3339) and
 * `status` (repeated or comma-separated). BAD_USER_INPUT naming the parameter otherwise; then the
 * same checks as searchOrders.
 */
export function filterFromQuery(query: Query): { filter: SearchFilter; statuses: OrderStatus[] } {
  const check = new InputCheck();
  const one = (name: string): string | null => {
    const v = query[name];
    if (v === undefined) return null;
    if (Array.isArray(v) || typeof v !== "string") return (check.add(name, "must be given once"), null);
    return v;
  };
  const date = (name: string): Date | null => {
    const v = one(name);
    if (v === null || v === "") return null;
    const d = new Date(v);
    return check.check(RFC3339.test(v) && !Number.isNaN(d.getTime()), name, "must be an RFC 3339 date-time with a time zone, e.g. 2026-12-31T23:59:00Z")
      ? d
      : null;
  };
  const raw = query.status === undefined ? [] : Array.isArray(query.status) ? query.status : [query.status];
  const statuses = raw.flatMap((s) => String(s).split(",")).filter((s) => s.trim() !== "");
  if (statuses.length > STATUSES.size * 2) check.add("status", "too many values");
  else for (const s of statuses) if (!check.check(STATUSES.has(s.trim()), "status", `must be one of ${[...STATUSES].join(", ")}`)) break;
  const filter = { search: one("search"), createdFrom: date("createdFrom"), createdTo: date("createdTo") };
  check.throwIfAny();
  return { filter, statuses: statuses.map((s) => s.trim() as OrderStatus) };
}

/** Checks the caller (COORGANIZER+ of the brand or its key: NOT_FOUND / FORBIDDEN) and then the filters. */
export async function planExport(ctx: AccessContext, brandId: string, kind: ExportKind, query: Query): Promise<ExportPlan> {
  const [id] = await requireAccess(ctx, Permission.BRAND_ORDERS_SEARCH, [brandId]);
  const { filter, statuses } = filterFromQuery(query);
  return { kind, filter: { ...checkedFilter(filter, statuses, ""), brandId: id } };
}

const ORDER_HEADER = [
  "number",
  "created_at",
  "status",
  "buyer_name",
  "buyer_email",
  "subtotal",
  "discount",
  "tax_total",
  "total",
  "refunded_total",
  "currency",
  "paid_at",
  "fulfilled_at",
  "lines",
];
/** One row per stored ticket (written when its order was paid: src/services/checkin/issue.ts); orders never paid have none. */
const TICKET_HEADER = ["order_number", "ticket", "holder_name", "holder_email", "product", "code", "status", "checked_in_at", "order_status"];

const amount = (minor: number, currency: string): Cell => {
  const digits = CURRENCIES[currency] ?? 2;
  return { decimal: (minor / 10 ** digits).toFixed(digits) };
};
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function orderCells(o: OrderView): Cell[] {
  const lines = o.lines.map((l) => `${l.quantity} × ${l.productName}`).join("; ");
  return [
    o.number,
    iso(o.createdAt),
    o.status,
    o.buyerName,
    o.buyerEmail,
    amount(o.subtotal, o.currency),
    amount(o.discountTotal, o.currency),
    amount(o.taxTotal, o.currency),
    amount(o.total, o.currency),
    amount(o.refundedTotal, o.currency),
    o.currency,
    iso(o.paidAt),
    iso(o.fulfilledAt),
    lines,
  ];
}

function ticketRows(o: OrderView, tickets: TicketView[]): string {
  const productName = new Map(o.lines.map((l) => [l.productId, l.productName]));
  return tickets
    .map((t) => csvRow([o.number, t.index, t.holderName, t.holderEmail, productName.get(t.productId) ?? "", t.code, t.status, iso(t.checkedInAt), o.status]))
    .join("");
}

/**
 * Chunks of about this many characters: small enough to die young in V8's new space (a batch as one
 * string of megabytes would sit in large-object space until a full collection), large enough that
 * a write is not a syscall per row.
 */
const CHUNK_CHARS = 64 * 1024;

/** The export as CSV text: the BOM and header first, then the rows in chunks of ~64 KB, one batch of orders read at a time. */
export async function* exportCsv(sql: Sql, plan: ExportPlan): AsyncGenerator<string> {
  yield BOM + csvRow(plan.kind === "orders" ? ORDER_HEADER : TICKET_HEADER);
  const limit = EXPORT_BATCH[plan.kind];
  let cursor: { createdAt: Date; id: string } | null = null;
  for (;;) {
    const batch = await orderBatch(sql, plan.filter, limit, cursor);
    if (!batch.length) return;
    const tickets =
      plan.kind === "tickets"
        ? await ticketsByOrderIds(
            sql,
            batch.map((o) => o.id),
          )
        : [];
    const ticketsOf = new Map<string, TicketView[]>();
    for (const t of tickets) ticketsOf.set(t.orderId, [...(ticketsOf.get(t.orderId) ?? []), t]);
    let chunk = "";
    for (const o of batch) {
      chunk += plan.kind === "orders" ? csvRow(orderCells(o)) : ticketRows(o, ticketsOf.get(o.id) ?? []);
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
    if (batch.length < limit) return;
    const last = batch[batch.length - 1];
    cursor = { createdAt: last.createdAt, id: last.id };
  }
}
