import PDFDocument from "pdfkit";
import QRCode from "qrcode";
import type { Brand, Order } from "../../entities";
import { CURRENCIES } from "../validation";
import type { Ticket } from "./tickets";

const money = (minor: number, currency: string) => {
  const digits = CURRENCIES[currency] ?? 2;
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
};

function render(build: (doc: PDFKit.PDFDocument) => void | Promise<void>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // No compression of the metadata dates: identical input gives a stable, small document.
    const doc = new PDFDocument({ size: "A4", margin: 56, autoFirstPage: false, info: { Producer: "Orderline", Creator: "Orderline" } });
    const chunks: Buffer[] = [];
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
    Promise.resolve(build(doc)).then(() => doc.end(), reject);
  });
}

/** The invoice: brand, order number, lines, discount, totals and paid date — from the paid snapshot. */
export function invoicePdf(order: Order, brand: Brand): Promise<Buffer> {
  const snapshot = order.snapshot;
  const lines = snapshot?.lines ?? order.lines;
  const currency = snapshot?.currency ?? order.currency;
  return render((doc) => {
    doc.addPage();
    doc.fontSize(20).text(brand.name);
    doc.moveDown(0.5).fontSize(14).text(`Invoice for order ${order.number}`);
    doc
      .fontSize(10)
      .fillColor("#555")
      .text(`Paid ${order.paidAt ? order.paidAt.toISOString().slice(0, 10) : "—"}`);
    doc.text(`Buyer: ${order.buyerName} <${order.buyerEmail}>`).fillColor("#000");
    doc.moveDown();
    const col = { name: 56, qty: 330, unit: 380, total: 470 };
    const row = (cells: [string, string, string, string], bold = false) => {
      const y = doc.y;
      doc.font(bold ? "Helvetica-Bold" : "Helvetica").fontSize(10);
      doc.text(cells[0], col.name, y, { width: 260 });
      const after = doc.y;
      doc.text(cells[1], col.qty, y, { width: 40, align: "right" });
      doc.text(cells[2], col.unit, y, { width: 80, align: "right" });
      doc.text(cells[3], col.total, y, { width: 70, align: "right" });
      doc.y = Math.max(after, doc.y) + 4;
    };
    row(["Item", "Qty", "Unit price", "Total"], true);
    for (const l of lines) row([l.productName, String(l.quantity), money(l.unitPrice, currency), money(l.total, currency)]);
    doc.moveDown();
    row(["Subtotal", "", "", money(snapshot?.subtotal ?? order.subtotal, currency)]);
    const discount = snapshot?.discountTotal ?? order.discountTotal;
    const code = snapshot?.couponCode ?? order.couponCode;
    if (discount) row([`Discount${code ? ` (${code})` : ""}`, "", "", `-${money(discount, currency)}`]);
    row(["Total", "", "", money(snapshot?.total ?? order.total, currency)], true);
  });
}

/** One page per ticket: brand, order, holder and a scannable QR code of the ticket code. */
export function ticketsPdf(order: Order, brand: Brand, tickets: Ticket[]): Promise<Buffer> {
  return render(async (doc) => {
    for (const t of tickets) {
      doc.addPage();
      doc.font("Helvetica-Bold").fontSize(22).text(brand.name);
      doc.font("Helvetica").fontSize(12).text(`Ticket ${t.index} of order ${order.number}`);
      doc.moveDown().fontSize(16).text(t.holder.name);
      doc.fontSize(11).fillColor("#555").text(t.holder.email).fillColor("#000");
      const png = await QRCode.toBuffer(t.code, { type: "png", errorCorrectionLevel: "M", margin: 1, width: 360 });
      doc.image(png, 56, doc.y + 24, { width: 220 });
      doc
        .font("Courier")
        .fontSize(11)
        .text(t.code, 56, doc.y + 260);
    }
  });
}
