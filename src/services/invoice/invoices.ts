import { LockMode, ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { Invoice, InvoiceKind, Order, type OrderLineData } from "../../entities";
import { creditTaxLines, lineDiscounts, taxLinesOf, type TaxLine } from "../order/tax";

/**
 * An order's invoice (when it becomes PAID) and its credit notes (one per successful refund), in
 * the caller's transaction. Both get their number from the brand's gapless counter when that
 * transaction commits (the trigger, see numbers.ts): the entity returned has `seq` and `number`
 * null until then; read the row after the commit to see them.
 */

/** Invoices per order: the invoice and one credit note per refund (the refunds module allows at most 50 per order). */
export const MAX_INVOICES_PER_ORDER = 51;

/** The tax summary of an order's lines (the paid snapshot's once paid): per rate, net and tax. */
export function orderTaxLines(order: Pick<Order, "lines" | "snapshot" | "discountTotal">): TaxLine[] {
  const lines: OrderLineData[] = order.snapshot?.lines ?? order.lines;
  const discounts = lineDiscounts(lines, order.snapshot?.discountTotal ?? order.discountTotal);
  return taxLinesOf(lines.map((l, i) => ({ taxRate: l.taxRate, tax: l.tax, net: l.total - discounts[i] - l.tax })));
}

/**
 * The invoice of an order that has just become PAID (payments.ts; every path to PAID goes through
 * it). Persisted after the seat changes, so at commit the quota rows are locked before the counter,
 * in every transaction (the refunds path should keep that order too).
 */
export async function issueInvoice(tx: EntityManager, order: Order, at: Date): Promise<Invoice> {
  const invoice = new Invoice({
    brand: order.brand,
    order: ref(order),
    kind: InvoiceKind.INVOICE,
    issuedAt: at,
    total: order.total,
    taxTotal: order.taxTotal,
    currency: order.currency,
    taxLines: orderTaxLines(order),
  });
  tx.persist(invoice);
  return invoice;
}

/**
 * The credit note of a refund: `amount` spread over the invoice's rates by largest remainder,
 * numbered from the same sequence, referring to the invoice. One per refund id: a second call
 * returns the first's (the order's row lock, taken here, makes concurrent calls take turns).
 */
// Called by onRefundSucceeded (src/services/refund/refund-events.ts) after its seat release, so quotas lock before the counter.
export async function issueCreditNote(tx: EntityManager, order: Order, refund: { id: string; amount: number; at: Date }): Promise<Invoice> {
  await tx.findOneOrFail(Order, order.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
  const existing = await tx.findOne(Invoice, { refundId: refund.id });
  if (existing) return existing;
  if (!Number.isSafeInteger(refund.amount) || refund.amount <= 0 || refund.amount > order.total) {
    throw new Error(`credit note amount ${refund.amount} outside 1..${order.total}`); // the refund's rules were checked before: a bug
  }
  const invoice = await tx.findOne(Invoice, { order: order.id, kind: InvoiceKind.INVOICE });
  const taxLines = creditTaxLines(invoice?.taxLines ?? orderTaxLines(order), refund.amount);
  const note = new Invoice({
    brand: order.brand,
    order: ref(order),
    kind: InvoiceKind.CREDIT_NOTE,
    issuedAt: refund.at,
    total: refund.amount,
    taxTotal: taxLines.reduce((sum, t) => sum + t.tax, 0),
    currency: order.currency,
    taxLines,
  });
  note.refundId = refund.id;
  note.refersTo = invoice?.number ?? null;
  tx.persist(note);
  return note;
}

/** The invoices of orders, each order's in number order (the invoice first, then its credit notes). */
export async function invoicesOfOrders(em: EntityManager, orderIds: readonly string[]): Promise<Map<string, Invoice[]>> {
  const found = await em.find(Invoice, { order: { $in: [...orderIds] } }, { orderBy: { order: "asc", seq: "asc" } });
  const byOrder = new Map<string, Invoice[]>();
  for (const i of found) {
    const list = byOrder.get(i.order.id) ?? [];
    if (list.length < MAX_INVOICES_PER_ORDER) list.push(i);
    byOrder.set(i.order.id, list);
  }
  return byOrder;
}
