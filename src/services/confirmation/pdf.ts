import PDFDocument from "pdfkit";
import QRCode from "qrcode";
import type { Brand, Order } from "../../entities";
import { CURRENCIES } from "../validation";
import type { Ticket } from "./tickets";

export const money = (minor: number, currency: string) => {
  const digits = CURRENCIES[currency] ?? 2;
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
};

/** A PDF built by `build`; `title` goes into its metadata (readable without a PDF parser). */
export function render(build: (doc: PDFKit.PDFDocument) => void | Promise<void>, title?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // No compression of the metadata dates: identical input gives a stable, small document.
    const doc = new PDFDocument({
      size: "A4",
      margin: 56,
      autoFirstPage: false,
      info: { Producer: "Orderline", Creator: "Orderline", ...(title ? { Title: title } : {}) },
    });
    const chunks: Buffer[] = [];
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
    Promise.resolve(build(doc)).then(() => doc.end(), reject);
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
