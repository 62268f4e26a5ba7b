import { describe, expect, it } from "vitest";
import { FulfillOrderDocument, OrderEmailsDocument, ResendConfirmationDocument } from "../graphql/generated";
import { count, gql, ok, uniqueEmail } from "../helpers/api";
import { pdfPageCount } from "../helpers/fake-postmark";
import { brandWithProducts, member, payOrder, placeOrder, signUp, type BrandSetup } from "../helpers/fixtures";
import { delivered, eventually, mailTo, scriptPostmark } from "../helpers/mail";

const pdf = (content: string) => Buffer.from(content, "base64");

async function paidOrder(brand: BrandSetup, overrides: Parameters<typeof placeOrder>[2] = {}) {
  const customer = await signUp("customer");
  const order = await placeOrder(brand, customer.token, overrides);
  await payOrder(order, customer.token);
  return { order, customer };
}

async function emailsOf(orderId: string, token: string) {
  const { order } = await ok(OrderEmailsDocument, { id: orderId }, { token });
  return order!.emails;
}

describe("the confirmation of a paid order", () => {
  it("goes once to each distinct address: the buyer with invoice and all tickets, each other holder with their own", async () => {
    const brand = await brandWithProducts();
    const buyer = uniqueEmail("buyer");
    const tim = uniqueEmail("tim");
    const { order } = await paidOrder(brand, {
      buyer: { name: "Ada Buyer", email: buyer },
      attendees: [
        { name: "Tim Holder", email: tim },
        { name: "Ada Buyer", email: buyer.toUpperCase() }, // the buyer again, other case
        { name: "Tim Holder", email: tim },
      ],
    });

    const [toBuyer] = await eventually(async () => {
      const m = await delivered(buyer);
      expect(m).toHaveLength(1);
      return m;
    });
    const [toTim] = await eventually(async () => {
      const m = await delivered(tim);
      expect(m).toHaveLength(1);
      return m;
    });
    expect(await delivered(buyer.toUpperCase())).toHaveLength(1); // the same mailbox: nothing extra

    expect(toBuyer.body).toMatchObject({ From: "Orderline Tests <tests@orderline.test>", MessageStream: "outbound", Tag: "order-confirmation" });
    expect(toBuyer.body.Subject).toContain(order.number);
    const buyerFiles = toBuyer.body.Attachments!;
    expect(buyerFiles.map((a) => [a.Name, a.ContentType])).toEqual([
      [`invoice-${order.number}.pdf`, "application/pdf"],
      [`tickets-${order.number}.pdf`, "application/pdf"],
    ]);
    for (const a of buyerFiles) expect(pdf(a.Content).subarray(0, 5).toString()).toBe("%PDF-");
    expect(pdfPageCount(pdf(buyerFiles[0].Content))).toBe(1);
    expect(pdfPageCount(pdf(buyerFiles[1].Content))).toBe(3); // one page per ticket

    expect(toTim.body.Tag).toBe("tickets");
    expect(toTim.body.Attachments!.map((a) => a.Name)).toEqual([`tickets-${order.number}.pdf`]);
    expect(pdfPageCount(pdf(toTim.body.Attachments![0].Content))).toBe(2); // Tim holds two tickets

    // Postmark has the mail before the job commits SENT: wait for the row, not the mailbox.
    const emails = await eventually(async () => {
      const e = await emailsOf(order.id, brand.owner.token);
      expect(e.map((x) => [x.kind, x.recipient, x.status, x.attempts])).toEqual([
        ["ORDER_CONFIRMATION", buyer, "SENT", 1],
        ["TICKETS", tim, "SENT", 1],
      ]);
      return e;
    });
    expect(emails[0].messageId).toBe(toBuyer.messageId);
  });

  it("without attendees, the buyer holds the one ticket", async () => {
    const brand = await brandWithProducts();
    const buyer = uniqueEmail("solo");
    await paidOrder(brand, { buyer: { name: "Solo", email: buyer }, attendees: [] });
    const [mail] = await eventually(async () => {
      const m = await delivered(buyer);
      expect(m).toHaveLength(1);
      return m;
    });
    expect(pdfPageCount(pdf(mail.body.Attachments![1].Content))).toBe(1);
  });

  it("still arrives, once, when Postmark answers 503 three times", async () => {
    const brand = await brandWithProducts();
    const buyer = uniqueEmail("retry");
    await scriptPostmark(
      buyer,
      Array.from({ length: 3 }, () => ({ status: 503, errorCode: 0, message: "Service unavailable" })),
    );
    const { order } = await paidOrder(brand, { buyer: { name: "Retry", email: buyer }, attendees: [] });
    await eventually(async () => expect(await delivered(buyer)).toHaveLength(1), 20_000);
    expect((await mailTo(buyer)).map((m) => m.status)).toEqual([503, 503, 503, 200]);
    await eventually(async () => {
      const [email] = await emailsOf(order.id, brand.owner.token);
      expect(email).toMatchObject({ status: "SENT", attempts: 4, lastError: null });
    });
  });

  it("fails at once, visibly and without retry, for an inactive recipient (422, ErrorCode 406)", async () => {
    const brand = await brandWithProducts();
    const buyer = uniqueEmail("inactive");
    await scriptPostmark(buyer, [{ status: 422, errorCode: 406, message: "You tried to send to a recipient that has been marked as inactive." }]);
    const { order } = await paidOrder(brand, { buyer: { name: "Gone", email: buyer }, attendees: [] });
    const [email] = await eventually(async () => {
      const e = await emailsOf(order.id, brand.owner.token);
      expect(e[0].status).toBe("FAILED");
      return e;
    });
    expect(email.attempts).toBe(1);
    expect(email.lastError).toMatch(/422.*ErrorCode 406/);
    await new Promise((r) => setTimeout(r, 2_500)); // longer than the retry base and the worker's 2 s poll for scheduled jobs: no retry happens
    expect(await mailTo(buyer)).toHaveLength(1);
  });

  it("is readable by COORGANIZER+ only (Order.emails carries @auth)", async () => {
    const brand = await brandWithProducts();
    const { order, customer } = await paidOrder(brand);
    const r = await gql(OrderEmailsDocument, { id: order.id }, { token: customer.token });
    expect(r.errors?.map((e) => [e.extensions?.code, e.path?.join(".")])).toEqual([["FORBIDDEN", "order.emails"]]);
    const coorganizer = await member(brand, "COORGANIZER");
    expect((await emailsOf(order.id, coorganizer.token)).length).toBeGreaterThanOrEqual(1);
  });
});

describe("resendConfirmation", () => {
  it("queues the confirmation again for a COORGANIZER and returns the addresses", async () => {
    const brand = await brandWithProducts();
    const buyer = uniqueEmail("again");
    const tim = uniqueEmail("tim");
    const { order } = await paidOrder(brand, { buyer: { name: "Again", email: buyer }, attendees: [{ name: "Tim", email: tim }] });
    await eventually(async () => expect(await delivered(buyer)).toHaveLength(1));
    const coorganizer = await member(brand, "COORGANIZER");
    const { resendConfirmation } = await ok(ResendConfirmationDocument, { orderId: order.id }, { token: coorganizer.token });
    expect(resendConfirmation).toEqual({ sentTo: [buyer, tim], order: { id: order.id, status: "PAID" } });
    await eventually(async () => {
      expect(await delivered(buyer)).toHaveLength(2);
      expect(await delivered(tim)).toHaveLength(2);
    });
  });

  it("answers by role and status: NOT_FOUND for strangers and unknown ids, FORBIDDEN for the customer, FAILED_PRECONDITION unless PAID or FULFILLED", async () => {
    const brand = await brandWithProducts();
    const { order, customer } = await paidOrder(brand);
    const stranger = await signUp("stranger");
    const pending = await placeOrder(brand, customer.token);
    const before = await count("select 1 from email where order_id = any($1)", [[order.id, pending.id]]);

    const code = async (orderId: string, token: string) => (await gql(ResendConfirmationDocument, { orderId }, { token })).errors?.[0]?.extensions?.code;
    expect(await code(order.id, stranger.token)).toBe("NOT_FOUND");
    expect(await code("00000000-0000-4000-8000-000000000000", brand.owner.token)).toBe("NOT_FOUND");
    expect(await code(order.id, customer.token)).toBe("FORBIDDEN");
    expect(await code(pending.id, brand.owner.token)).toBe("FAILED_PRECONDITION");
    expect(await count("select 1 from email where order_id = any($1)", [[order.id, pending.id]])).toBe(before);

    await ok(FulfillOrderDocument, { orderId: order.id }, { token: brand.owner.token });
    const organizer = await member(brand, "ORGANIZER");
    const again = await ok(ResendConfirmationDocument, { orderId: order.id }, { token: organizer.token });
    expect(again.resendConfirmation.order.status).toBe("FULFILLED");
  });
});

describe("fulfillOrder", () => {
  it("under 20 concurrent calls sets one fulfilledAt and sends one 'ready' email", async () => {
    const brand = await brandWithProducts();
    const buyer = uniqueEmail("ready");
    const { order } = await paidOrder(brand, { buyer: { name: "Ready", email: buyer }, attendees: [] });
    const results = await Promise.all(Array.from({ length: 20 }, () => gql(FulfillOrderDocument, { orderId: order.id }, { token: brand.owner.token })));
    expect(results.every((r) => !r.errors && r.data?.fulfillOrder.status === "FULFILLED")).toBe(true);
    expect(new Set(results.map((r) => r.data!.fulfillOrder.fulfilledAt)).size).toBe(1);
    await eventually(async () => expect((await delivered(buyer)).filter((m) => m.body.Tag === "order-ready")).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 500));
    expect((await delivered(buyer)).filter((m) => m.body.Tag === "order-ready")).toHaveLength(1);
    expect(await count("select 1 from email where order_id = $1 and kind = 'ORDER_READY'", [order.id])).toBe(1);
    const [ready] = (await delivered(buyer)).filter((m) => m.body.Tag === "order-ready");
    expect(ready.body.Subject).toBe(`Your order ${order.number} is ready`);
  });
});
