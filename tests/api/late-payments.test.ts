import { beforeAll, describe, expect, it } from "vitest";
import { apiUrl, ok } from "../helpers/api";
import { delivered, eventually } from "../helpers/mail";
import { orderState, orderWithAttempt, paidOrder, quotaSold, REFUND_ORDER, refundWorld, reportPaid, type RefundWorld } from "../helpers/refunds";

// Issue #11: a customer is never charged without an order or a refund. These run on the run's API,
// whose development provider (no PAYMENT_PROVIDER_URL) answers refunds in-process.
const CANCEL = `mutation ($orderId: ID!) { cancelOrder(orderId: $orderId) { id status } }`;
const ATTEMPT = `mutation ($orderId: ID!) { attemptToPayForOrder(orderId: $orderId) { id externalId amount currency } }`;

let w: RefundWorld;
beforeAll(async () => {
  w = await refundWorld(undefined, 1); // one seat
});

const tagged = async (address: string, tag: string) => (await delivered(address)).filter((m) => m.body.Tag === tag);

describe("late payments", () => {
  it("are honoured while the seat can be taken again, and refunded automatically (with an email) once it is gone", async () => {
    // Honoured: cancelled, the seat still free, then paid.
    const a = await orderWithAttempt(w);
    await ok(CANCEL, { orderId: a.order.id }, w.owner);
    expect(await reportPaid(w, a.attempt)).toBe("applied: order PAID (late payment honoured)");
    expect(await orderState(w, a.order.id)).toMatchObject({ status: "PAID", refunds: [] });
    await ok(REFUND_ORDER, { input: { orderId: a.order.id } }, w.owner); // the seat goes back on sale
    await eventually(async () => expect((await orderState(w, a.order.id)).status).toBe("REFUNDED"));
    expect(await quotaSold(w)).toMatchObject({ sold: 0, held: 0, available: 1 });

    // Refunded: cancelled, its seat sold to someone else, then paid.
    const late = await orderWithAttempt(w);
    await ok(CANCEL, { orderId: late.order.id }, w.owner);
    await paidOrder(w);
    expect(await reportPaid(w, late.attempt)).toBe("flagged: order is CANCELLED, not payable; refunded automatically");
    const after = await eventually(async () => {
      const o = await orderState(w, late.order.id);
      expect(o.refunds).toEqual([
        expect.objectContaining({ amount: 2900, currency: "EUR", source: "AUTOMATIC", status: "SUCCEEDED", externalId: expect.stringMatching(/^re_dev_/) }),
      ]);
      return o;
    });
    expect(after).toMatchObject({ status: "CANCELLED", refundedTotal: 0, paymentAttempts: [{ status: "PAID", flagged: true }] });
    expect(await quotaSold(w)).toMatchObject({ sold: 1, available: 0 });
    const [mail, ...more] = await eventually(async () => {
      const m = await tagged(late.buyer, "payment-refunded");
      expect(m.length).toBeGreaterThan(0);
      return m;
    });
    expect(more).toEqual([]);
    expect(mail.body.Subject).toBe(`Your payment for order ${await orderNumber(late.order.id)} is being refunded`);
    expect(mail.body.TextBody).toContain("we are paying it back in full");
  });

  it("a second successful payment of a paid order is refunded automatically; the order stays PAID", async () => {
    const w2 = await refundWorld(undefined, 10);
    const o = await orderWithAttempt(w2);
    const { attemptToPayForOrder: second } = await ok(ATTEMPT, { orderId: o.order.id }, w2.owner);
    expect(await reportPaid(w2, o.attempt)).toBe("applied: order PAID");
    expect(await reportPaid(w2, second)).toBe("flagged: order is PAID, not payable; refunded automatically");
    await eventually(async () => {
      const s = await orderState(w2, o.order.id);
      expect(s).toMatchObject({ status: "PAID", refundedTotal: 0 });
      expect(s.refunds).toEqual([expect.objectContaining({ source: "AUTOMATIC", status: "SUCCEEDED", amount: 2900 })]);
    });
    await eventually(async () => expect(await tagged(o.buyer, "payment-refunded")).toHaveLength(1));
    // The payment that paid the order is still fully refundable.
    const r = await ok(REFUND_ORDER, { input: { orderId: o.order.id } }, w2.owner);
    expect(r.refundOrder.amount).toBe(2900);
  });
});

describe("the development provider", () => {
  it("pays a refund back in-process, reports SUCCEEDED through the webhook's path, and /dev/checkout shows it", async () => {
    const w3 = await refundWorld(undefined, 5);
    const o = await paidOrder(w3);
    const { refundOrder } = await ok(REFUND_ORDER, { input: { orderId: o.order.id, amount: 1000 } }, w3.owner);
    await eventually(async () =>
      expect((await orderState(w3, o.order.id)).refunds).toEqual([
        expect.objectContaining({ id: refundOrder.id, status: "SUCCEEDED", externalId: expect.stringMatching(/^re_dev_/) }),
      ]),
    );
    expect(await orderState(w3, o.order.id)).toMatchObject({ status: "PAID", refundedTotal: 1000 });
    const page = await (await fetch(`${apiUrl()}/dev/checkout/${o.attempt.externalId}`)).text();
    expect(page).toContain("<h2>Refunds</h2>");
    expect(page).toMatch(/BRAND<\/td><td class="refund-status">SUCCEEDED/);
    await eventually(async () => expect(await tagged(o.buyer, "refund")).toHaveLength(1));
  });
});

async function orderNumber(orderId: string): Promise<string> {
  return (await ok(`query ($id: ID!) { order(id: $id) { number } }`, { id: orderId }, w.owner)).order.number;
}
