import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  AttemptToPayDocument,
  CreateBrandDocument,
  CreateOrderDocument,
  CreateProductDocument,
  OrderEmailsDocument,
  SignUpDocument,
} from "../graphql/generated";
import { ok, uniqueEmail } from "../helpers/api";
import { pdfPageCount } from "../helpers/fake-postmark";
import { eventId, PASSWORD, sendWebhook } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { siblingDatabase, startApi, type ApiProcess, type TestDatabase } from "../helpers/processes";

/** Without POSTMARK_SERVER_TOKEN (as after `npm start` with no configuration) mail is kept, not dropped. */
let db: TestDatabase;
let api: ApiProcess;
beforeAll(async () => {
  db = await siblingDatabase(inject("databaseUrl"), "outbox");
  api = await startApi({ DATABASE_URL: db.url, JOB_RETRY_BASE_MS: "200" });
});
afterAll(async () => {
  await api?.stop();
  await db?.stop();
});

describe("the local outbox", () => {
  it("keeps the confirmation of a paid order, lists it at /dev/mail and serves its PDFs", async () => {
    const at = { api: api.url };
    const owner = (await ok(SignUpDocument, { input: { email: uniqueEmail("owner"), password: PASSWORD } }, at)).signUp.token;
    const brand = (await ok(CreateBrandDocument, { input: { name: "Outbox Fest", currency: "EUR" } }, { ...at, token: owner })).createBrand;
    const product = (await ok(CreateProductDocument, { input: { brandId: brand.id, name: "Pass", unitPrice: 5000 } }, { ...at, token: owner })).createProduct;
    const buyer = uniqueEmail("buyer");
    const order = (
      await ok(
        CreateOrderDocument,
        { input: { brandId: brand.id, lines: [{ productId: product.id, quantity: 1 }], buyer: { name: "Bea", email: buyer } } },
        { ...at, token: owner },
      )
    ).createOrder;
    const attempt = (await ok(AttemptToPayDocument, { orderId: order.id }, { ...at, token: owner })).attemptToPayForOrder;
    const hook = await sendWebhook(
      { id: eventId(), data: { attemptExternalId: attempt.externalId, status: "PAID", totalAmount: 5000, currency: "EUR" } },
      { api: api.url },
    );
    expect(hook.status).toBe(200);

    const email = await eventually(async () => {
      const { order: o } = await ok(OrderEmailsDocument, { id: order.id }, { ...at, token: owner });
      expect(o!.emails).toHaveLength(1);
      expect(o!.emails[0]).toMatchObject({ recipient: buyer, kind: "ORDER_CONFIRMATION", status: "SENT", attempts: 1 });
      return o!.emails[0];
    });
    expect(email.messageId).toMatch(/^outbox-[0-9a-f-]{36}$/);

    const list = await (await fetch(`${api.url}/dev/mail`)).text();
    expect(list).toContain(buyer);
    expect(list).toContain(`Your order ${order.number} at Outbox Fest is confirmed`);
    const messageId = email.messageId!.replace(/^outbox-/, "");
    const detail = await (await fetch(`${api.url}/dev/mail/${messageId}`)).text();
    expect(detail).toContain(`invoice-${order.number}.pdf`);
    const invoice = await fetch(`${api.url}/dev/mail/${messageId}/attachments/0`);
    expect(invoice.headers.get("content-type")).toBe("application/pdf");
    const bytes = Buffer.from(await invoice.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe("%PDF-");
    expect(pdfPageCount(bytes)).toBe(1);
    expect((await fetch(`${api.url}/dev/mail/${messageId}/attachments/9`)).status).toBe(404);
  });
});
