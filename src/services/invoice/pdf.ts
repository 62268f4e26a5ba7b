import { InvoiceKind, type Brand, type Invoice, type Order } from "../../entities";
import { money, render } from "../confirmation/pdf";
import { lineDiscounts } from "../order/tax";

/**
 * The invoice and credit-note PDFs: seller (the brand), buyer, number, date, lines with net / tax /
 * gross, a summary per rate and the totals. Amounts come from the invoice row and the paid
 * snapshot, never recomputed from today's products.
 */

const percent = (rate: number) => `${rate / 100} %`;
const COLUMNS = { name: 56, a: 280, b: 345, c: 410, d: 475 };

type Doc = PDFKit.PDFDocument;

/** One table row: a wide first cell, then up to four right-aligned cells. */
function row(doc: Doc, cells: string[], bold = false): void {
  const y = doc.y;
  doc.font(bold ? "Helvetica-Bold" : "Helvetica").fontSize(9);
  doc.text(cells[0], COLUMNS.name, y, { width: 215 });
  const after = doc.y;
  [COLUMNS.a, COLUMNS.b, COLUMNS.c, COLUMNS.d].forEach((x, i) => {
    if (cells[i + 1] !== undefined) doc.text(cells[i + 1], x, y, { width: 60, align: "right" });
  });
  doc.y = Math.max(after, doc.y) + 3;
  doc.x = COLUMNS.name;
}

function header(doc: Doc, title: string, brand: Brand, order: Order, invoice: Invoice, extra: string[]): void {
  doc.addPage();
  doc.font("Helvetica-Bold").fontSize(18).text(title);
  doc.moveDown(0.3).font("Helvetica").fontSize(10);
  doc.text(`Number: ${invoice.number}`);
  doc.text(`Date: ${invoice.issuedAt.toISOString().slice(0, 10)}`);
  doc.text(`Order: ${order.number}`);
  for (const line of extra) doc.text(line);
  doc.moveDown(0.5);
  doc.font("Helvetica-Bold").text("Seller", { continued: false });
  doc.font("Helvetica").text(brand.name);
  doc.moveDown(0.3).font("Helvetica-Bold").text("Buyer");
  doc.font("Helvetica").text(`${order.buyerName} <${order.buyerEmail}>`);
  doc.moveDown();
}

function summary(doc: Doc, invoice: Invoice): void {
  const c = invoice.currency;
  doc.moveDown();
  row(doc, ["Tax rate", "Net", "Tax", "Gross"], true);
  for (const t of invoice.taxLines) row(doc, [percent(t.rate), money(t.net, c), money(t.tax, c), money(t.net + t.tax, c)]);
  doc.moveDown();
  row(doc, ["Total net", "", "", money(invoice.total - invoice.taxTotal, c)]);
  row(doc, ["Total tax", "", "", money(invoice.taxTotal, c)]);
  row(doc, [invoice.kind === InvoiceKind.CREDIT_NOTE ? "Total refunded" : "Total", "", "", money(invoice.total, c)], true);
  doc.moveDown().font("Helvetica").fontSize(8).fillColor("#555").text("Prices include tax.").fillColor("#000");
}

/** The invoice of a paid order: each line's gross after its share of the discount, split into net and tax. */
export function invoicePdf(order: Order, brand: Brand, invoice: Invoice): Promise<Buffer> {
  const snapshot = order.snapshot;
  const lines = snapshot?.lines ?? order.lines;
  const discountTotal = snapshot?.discountTotal ?? order.discountTotal;
  const discounts = lineDiscounts(lines, discountTotal);
  const c = invoice.currency;
  const title = `Invoice ${invoice.number}`;
  return render((doc) => {
    header(doc, "Invoice", brand, order, invoice, [`Paid: ${order.paidAt ? order.paidAt.toISOString().slice(0, 10) : "-"}`]);
    row(doc, ["Item", "Rate", "Net", "Tax", "Gross"], true);
    lines.forEach((l, i) => {
      const gross = l.total - discounts[i];
      row(doc, [`${l.quantity} × ${l.productName}`, percent(l.taxRate), money(gross - l.tax, c), money(l.tax, c), money(gross, c)]);
    });
    if (discountTotal) {
      const code = snapshot?.couponCode ?? order.couponCode;
      doc.moveDown(0.3).font("Helvetica").fontSize(8).fillColor("#555");
      doc.text(`Discount${code ? ` (${code})` : ""} of ${money(discountTotal, c)} included in the lines above.`).fillColor("#000");
    }
    summary(doc, invoice);
  }, title);
}

/** A refund's credit note: the refunded amount per tax rate, referring to the invoice. */
export function creditNotePdf(order: Order, brand: Brand, note: Invoice): Promise<Buffer> {
  const c = note.currency;
  const title = `Credit note ${note.number}`;
  return render((doc) => {
    header(doc, "Credit note", brand, order, note, note.refersTo ? [`Corrects invoice: ${note.refersTo}`] : []);
    row(doc, ["Refund", "Rate", "Net", "Tax", "Gross"], true);
    for (const t of note.taxLines) row(doc, [`Refund of order ${order.number}`, percent(t.rate), money(t.net, c), money(t.tax, c), money(t.net + t.tax, c)]);
    summary(doc, note);
  }, title);
}
