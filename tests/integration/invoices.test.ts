import "reflect-metadata";
import { MikroORM } from "@mikro-orm/postgresql";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ormOptions } from "../../src/db/orm";
import { Brand, Invoice, InvoiceKind, Order } from "../../src/entities";
import { issueCreditNote, issueInvoice } from "../../src/services/invoice/invoices";
import { creditNotePdf, invoicePdf } from "../../src/services/invoice/pdf";
import { CreateTaxedOrderDocument, CreateTaxedProductDocument, OrderInvoicesDocument } from "../graphql/generated";
import { db, ok, uniqueEmail } from "../helpers/api";
import { anonymous, brandWithProducts, payOrder } from "../helpers/fixtures";
import { delivered, eventually } from "../helpers/mail";

// Issue #11: invoice numbers are gapless (a rollback takes no number) and credit notes come from
// the same sequence. Real PostgreSQL through the ORM, as the API uses it.

let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 4 } }));
});
afterAll(async () => orm?.close());

const rows = async (brandId: string) =>
  (await db().query("select seq, number, kind, total, tax_total, tax_lines, refers_to, refund_id from invoice where brand_id = $1 order by seq", [brandId]))
    .rows;
const counter = async (brandId: string) => (await db().query("select last from invoice_sequence where brand_id = $1", [brandId])).rows[0]?.last ?? 0;

/** A brand with a 19 % and a 7 % product, and a paid order of 2 × 12.50 (19 %) + 4.00 (7 %) = 29.00, tax 4.25. */
async function paidTaxedOrder() {
  const brand = await brandWithProducts("EUR", []);
  const product = async (unitPrice: number, taxRate: number) =>
    (await ok(CreateTaxedProductDocument, { input: { brandId: brand.brandId, name: `P ${taxRate}`, unitPrice, taxRate } }, { token: brand.owner.token }))
      .createProduct;
  const [a, b] = [await product(1250, 1900), await product(400, 700)];
  const buyer = await anonymous();
  const email = uniqueEmail("invoice-buyer");
  const input = {
    brandId: brand.brandId,
    lines: [
      { productId: a.id, quantity: 2 },
      { productId: b.id, quantity: 1 },
    ],
    buyer: { name: "Ada Buyer", email },
  };
  const { createOrder } = await ok(CreateTaxedOrderDocument, { input }, { token: buyer.token });
  await payOrder(createOrder, buyer.token);
  return { brand, buyer, email, order: createOrder };
}

describe("gapless invoice numbers", () => {
  it("a payment that rolls back after taking its number gives it back: the next invoice gets that number", async () => {
    const brand = await brandWithProducts("EUR", [1000]);
    const buyer = await anonymous();
    const place = async () =>
      (
        await ok(
          CreateTaxedOrderDocument,
          { input: { brandId: brand.brandId, lines: [{ productId: brand.products[0].id, quantity: 1 }], buyer: { name: "B", email: "b@example.test" } } },
          { token: buyer.token },
        )
      ).createOrder;
    const first = await place();
    await payOrder(first, buyer.token);
    expect((await rows(brand.brandId)).map((r) => r.seq)).toEqual([1]);

    const second = await place();
    let taken: number | null = null;
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await issueInvoice(tx, await tx.findOneOrFail(Order, second.id), new Date());
        await tx.flush();
        // Run the commit-time trigger now, inside the transaction: the number is really taken here.
        await tx.execute('set constraints "invoice_take_number" immediate');
        taken = (await tx.execute("select seq from invoice where order_id = ?", [second.id]))[0].seq;
        throw new Error("the payment fails after taking its number");
      }),
    ).rejects.toThrow("the payment fails after taking its number");
    expect(taken).toBe(2);
    expect(await counter(brand.brandId)).toBe(1);
    expect((await rows(brand.brandId)).map((r) => r.seq)).toEqual([1]);

    await payOrder(second, buyer.token);
    const prefix = (await db().query("select invoice_prefix from brand where id = $1", [brand.brandId])).rows[0].invoice_prefix;
    expect((await rows(brand.brandId)).map((r) => r.number)).toEqual([`${prefix}-000001`, `${prefix}-000002`]);
  });
});

describe("issueCreditNote", () => {
  it("numbers a CREDIT_NOTE from the same sequence, spreads the amount over the invoice's rates, refers to the invoice, once per refund", async () => {
    const { brand, buyer, order } = await paidTaxedOrder();
    const [invoice] = await rows(brand.brandId);
    expect(invoice).toMatchObject({ seq: 1, kind: "INVOICE", total: 2900, tax_total: 425 });
    expect(invoice.tax_lines).toEqual([
      { rate: 700, net: 374, tax: 26 },
      { rate: 1900, net: 2101, tax: 399 },
    ]);

    // 30 %: 870 = 120 at 7 % (net 112, tax 8) + 750 at 19 % (net 630, tax 120). Two calls for one refund race.
    const refund = { id: randomUUID(), amount: 870, at: new Date() };
    const credit = () => orm.em.fork().transactional(async (tx) => (await issueCreditNote(tx, await tx.findOneOrFail(Order, order.id), refund)).id);
    const ids = await Promise.all([credit(), credit(), credit()]);
    expect(new Set(ids).size).toBe(1);
    // The rest: 2030 = 280 at 7 % (net 262, tax 18) + 1750 at 19 % (net 1471, tax 279).
    await orm.em
      .fork()
      .transactional(async (tx) => issueCreditNote(tx, await tx.findOneOrFail(Order, order.id), { id: randomUUID(), amount: 2030, at: new Date() }));

    const all = await rows(brand.brandId);
    expect(all.map((r) => [r.seq, r.kind, r.total, r.tax_total, r.refers_to])).toEqual([
      [1, "INVOICE", 2900, 425, null],
      [2, "CREDIT_NOTE", 870, 128, invoice.number],
      [3, "CREDIT_NOTE", 2030, 297, invoice.number],
    ]);
    expect(all[1].tax_lines).toEqual([
      { rate: 700, net: 112, tax: 8 },
      { rate: 1900, net: 630, tax: 120 },
    ]);
    expect(all[1].refund_id).toBe(refund.id);
    // A full refund credits exactly the invoiced tax.
    expect(all[1].tax_total + all[2].tax_total).toBe(invoice.tax_total);

    // Order.invoices: the invoice, then the credit notes, for the order's owner.
    const { order: read } = await ok(OrderInvoicesDocument, { id: order.id }, { token: buyer.token });
    expect(read!.invoices.map((i) => [i.number, i.kind, i.total])).toEqual(all.map((r) => [r.number, r.kind, r.total]));
  });

  it("the invoice and credit-note PDFs carry the numbers, and the confirmation email attaches the numbered invoice", async () => {
    const { brand, email, order } = await paidTaxedOrder();
    const em = orm.em.fork();
    const entity = await em.findOneOrFail(Order, order.id);
    const seller = await em.findOneOrFail(Brand, brand.brandId);
    const invoice = await em.findOneOrFail(Invoice, { order: order.id, kind: InvoiceKind.INVOICE });
    const file = await invoicePdf(entity, seller, invoice);
    expect(file.subarray(0, 5).toString()).toBe("%PDF-");
    expect(file.toString("latin1")).toContain(`(Invoice ${invoice.number})`);

    await orm.em
      .fork()
      .transactional(async (tx) => issueCreditNote(tx, await tx.findOneOrFail(Order, order.id), { id: randomUUID(), amount: 100, at: new Date() }));
    const note = await orm.em.fork().findOneOrFail(Invoice, { order: order.id, kind: InvoiceKind.CREDIT_NOTE });
    expect(note.refersTo).toBe(invoice.number);
    const noteFile = await creditNotePdf(entity, seller, note);
    expect(noteFile.toString("latin1")).toContain(`(Credit note ${note.number})`);

    const [mail] = await eventually(async () => {
      const m = await delivered(email);
      expect(m).toHaveLength(1);
      return m;
    });
    const attached = Buffer.from(mail.body.Attachments![0].Content, "base64");
    expect(mail.body.Attachments![0].Name).toBe(`invoice-${order.number}.pdf`);
    expect(attached.toString("latin1")).toContain(`(Invoice ${invoice.number})`);
  });
});
