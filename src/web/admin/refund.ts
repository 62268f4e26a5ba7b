// The board's Refund action (issue #11): a small dialog asks how much to pay back (what remains by
// default), then the board calls refundOrder. The provider reports the outcome later: the row's
// refunded total follows, and the live feed shows REFUNDED when refunds reach the total.
import { gql } from "./api";
import { h } from "./dom";
import { digitsOf, formatMoney } from "./format";
import { BoardRefundDocument, type BoardOrderFragment as Order } from "./generated";
import { announce } from "./messages";

/** The Refund action: asks the amount, asks the API; the order as it is now, or null when cancelled. Errors are the caller's. */
export async function askRefund(order: Order): Promise<Order | null> {
  const amount = await askRefundAmount(order);
  if (amount === null) return null;
  const { refundOrder } = await gql(BoardRefundDocument, { input: { orderId: order.id, amount } });
  announce(`Refund of ${formatMoney(refundOrder.amount, order.currency)} for ${order.number} sent to the payment provider`, "success");
  return refundOrder.order;
}

/** A PAID or FULFILLED order with something left to refund (the API refuses the rest anyway). */
export const canRefund = (o: Order) => (o.status === "PAID" || o.status === "FULFILLED") && o.refundedTotal < o.total;

/** "refunded €8.70" under a row's total, or nothing. */
export function refundedNote(o: Order): HTMLElement | null {
  return o.refundedTotal > 0 ? h("span", { class: "refunded" }, `refunded ${formatMoney(o.refundedTotal, o.currency)}`) : null;
}

/** Asks for the amount to refund, in minor units; null when the user cancels. */
export function askRefundAmount(order: Order): Promise<number | null> {
  const digits = digitsOf(order.currency);
  const remaining = order.total - order.refundedTotal;
  const input = h("input", {
    type: "number",
    id: "refund-amount",
    name: "amount",
    required: true,
    min: (1 / 10 ** digits).toFixed(digits),
    max: (remaining / 10 ** digits).toFixed(digits),
    step: (1 / 10 ** digits).toFixed(digits),
    value: (remaining / 10 ** digits).toFixed(digits),
  });
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", {}, `Refund order ${order.number}`),
    h("p", {}, `Paid ${formatMoney(order.total, order.currency)}; up to ${formatMoney(remaining, order.currency)} can be refunded.`),
    h("label", { for: "refund-amount" }, `Amount (${order.currency})`),
    input,
    h(
      "div",
      { class: "dialog-buttons" },
      h("button", { type: "submit", value: "refund", class: "primary" }, "Refund"),
      h("button", { type: "submit", value: "cancel", formnovalidate: true, class: "secondary" }, "Cancel"),
    ),
  );
  const dialog = h("dialog", { class: "refund-dialog", "aria-label": `Refund order ${order.number}` }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const amount = Math.round(Number(input.value) * 10 ** digits);
      dialog.remove();
      resolve(dialog.returnValue === "refund" && Number.isInteger(amount) && amount > 0 ? amount : null);
    });
    dialog.showModal();
    input.select();
  });
}
