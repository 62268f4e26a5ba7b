import type { EntityManager } from "@mikro-orm/postgresql";
import { Brand, EmailKind, Invoice, InvoiceKind, Order, Refund, type EmailMessage } from "../../entities";
import { creditNotePdf } from "../invoice/pdf";
import { plainMail } from "../../email/plain-mail";
import type { OutgoingMail } from "../../email/mailer";
import { formatMoney } from "../../http/html";
import { CURRENCIES } from "../validation";
import { AMOUNT_MISMATCH } from "../payment/payments";

/**
 * The buyer's refund emails: REFUND when a refund of their order SUCCEEDED; PAYMENT_REFUNDED when a
 * payment could not be kept (a late payment whose seats were gone, a second payment, or one that did
 * not match the order's total) and is being paid back automatically. Rendered by the send job from
 * the refund as it is then.
 */
/** A REFUND email carries the refund's credit note (numbered at the webhook's commit). */
async function creditNoteAttachment(em: EntityManager, email: EmailMessage, order: Order, brand: Brand, refund: Refund): Promise<OutgoingMail["attachments"]> {
  if (email.kind !== EmailKind.REFUND) return [];
  const note = await em.findOne(Invoice, { refundId: refund.id, kind: InvoiceKind.CREDIT_NOTE });
  if (!note?.number) return [];
  return [{ name: `credit-note-${note.number}.pdf`, contentType: "application/pdf", content: await creditNotePdf(order, brand, note) }];
}

export async function composeRefundEmail(em: EntityManager, email: EmailMessage): Promise<OutgoingMail | null> {
  const refundId = email.data.refundId;
  if (typeof refundId !== "string" || !email.order) return null;
  const refund = await em.findOne(Refund, refundId);
  const order = await em.findOne(Order, email.order.id);
  if (!refund || !order) return null;
  const brand = await em.findOneOrFail(Brand, order.brand.id);
  const money = (minor: number, currency: string) => formatMoney(minor, currency, CURRENCIES[currency] ?? 2);
  const amount = money(refund.amount, refund.currency);
  const body =
    email.kind === EmailKind.REFUND
      ? [
          `${brand.name} has refunded ${amount} of your order ${order.number}.`,
          order.refundedTotal >= order.total ? "The order is now fully refunded and its tickets are no longer valid." : "",
        ]
      : refund.reason?.startsWith(AMOUNT_MISMATCH)
        ? [
            `your payment of ${amount} for order ${order.number} at ${brand.name} did not match the order's total of ${money(order.total, order.currency)},`,
            "so it could not confirm the order and we are paying it back in full. The order is still open: you can pay it again.",
          ]
        : [
            `your payment of ${amount} for order ${order.number} at ${brand.name} arrived after the order could no longer be confirmed`,
            "(it had expired or was already paid), so we are paying it back in full. No tickets were issued for this payment.",
          ];
  const lines = [`Hello ${order.buyerName},`, "", ...body, "The money goes back to the means of payment you used; your bank may take a few days to show it."];
  const text = lines.filter((l, i) => l !== "" || i === 1).join("\n");
  const subject =
    email.kind === EmailKind.REFUND ? `Refund for your order ${order.number} at ${brand.name}` : `Your payment for order ${order.number} is being refunded`;
  const tag = email.kind.toLowerCase().replace(/_/g, "-");
  return plainMail(email, tag, subject, text, null, await creditNoteAttachment(em, email, order, brand, refund));
}
