import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config/env";
import { Brand, Discount, EmailKind, Fan, Invoice, InvoiceKind, Order, type EmailMessage } from "../../entities";
import type { OutgoingMail } from "../../email/mailer";
import { escapeHtml } from "../../http/html";
import { sha256 } from "../auth/tokens";
import { verificationToken } from "../loyalty/fans";
import { composeInvitationEmail } from "../brand/invitation-email";
import { composePasswordResetEmail } from "../auth/password-reset-email";
import { ticketsPdf } from "./pdf";
import { invoicePdf } from "../invoice/pdf";
import { composeRefundEmail } from "../refund/refund-email";
import { sameAddress, ticketsOf } from "./tickets";

const PDF = "application/pdf";

/**
 * Renders an email from the current state of its order (the job re-reads it, so a resend after a
 * change shows the change). Returns null when there is nothing to send any more.
 */
export async function composeEmail(em: EntityManager, email: EmailMessage, config: Config): Promise<OutgoingMail | null> {
  if (email.kind === EmailKind.BRAND_INVITATION) return composeInvitationEmail(em, email, config);
  if (email.kind === EmailKind.PASSWORD_RESET) return composePasswordResetEmail(em, email, config);
  if (email.fan) return composeFanEmail(em, email, config);
  if (email.kind === EmailKind.REFUND || email.kind === EmailKind.PAYMENT_REFUNDED) return composeRefundEmail(em, email);
  if (!email.order) return null;
  const order = await em.findOne(Order, email.order.id);
  if (!order) return null;
  const brand = await em.findOneOrFail(Brand, order.brand.id);
  const base = { to: email.recipient, emailId: email.id, tag: email.kind.toLowerCase().replace(/_/g, "-") };
  const tickets = ticketsOf(order, config.authSecret);

  switch (email.kind) {
    case EmailKind.ORDER_CONFIRMATION: {
      // The numbered invoice issued with the payment (invoice/invoices.ts); every PAID order has one.
      const invoice = await em.findOne(Invoice, { order: order.id, kind: InvoiceKind.INVOICE });
      const [invoiceFile, ticketFile] = await Promise.all([invoice ? invoicePdf(order, brand, invoice) : null, ticketsPdf(order, brand, tickets)]);
      const text = [
        `Hello ${order.buyerName},`,
        "",
        `thank you for your order ${order.number} at ${brand.name}. It is paid and confirmed.`,
        `Attached: ${invoice ? `your invoice ${invoice.number} and ` : ""}${tickets.length === 1 ? "your ticket" : `${tickets.length} tickets`} (PDF).`,
      ].join("\n");
      return {
        ...base,
        subject: `Your order ${order.number} at ${brand.name} is confirmed`,
        textBody: text,
        htmlBody: html(text),
        attachments: [
          ...(invoiceFile ? [{ name: `invoice-${order.number}.pdf`, contentType: PDF, content: invoiceFile }] : []),
          { name: `tickets-${order.number}.pdf`, contentType: PDF, content: ticketFile },
        ],
      };
    }
    case EmailKind.TICKETS: {
      const mine = tickets.filter((t) => sameAddress(t.holder.email, email.recipient));
      if (!mine.length) return null;
      const text = [
        `Hello ${mine[0].holder.name},`,
        "",
        `${order.buyerName} ordered ${mine.length === 1 ? "a ticket" : `${mine.length} tickets`} for you at ${brand.name} (order ${order.number}).`,
        `${mine.length === 1 ? "It is" : "They are"} attached as a PDF.`,
      ].join("\n");
      return {
        ...base,
        subject: `Your ${mine.length === 1 ? "ticket" : "tickets"} for ${brand.name}`,
        textBody: text,
        htmlBody: html(text),
        attachments: [{ name: `tickets-${order.number}.pdf`, contentType: PDF, content: await ticketsPdf(order, brand, mine) }],
      };
    }
    case EmailKind.ORDER_READY: {
      const text = [`Hello ${order.buyerName},`, "", `your order ${order.number} at ${brand.name} is ready.`].join("\n");
      return { ...base, subject: `Your order ${order.number} is ready`, textBody: text, htmlBody: html(text), attachments: [] };
    }
    default:
      return null;
  }
}

/** The verification link (rebuilt from the job's random part) or the coupon code, for a fan. */
async function composeFanEmail(em: EntityManager, email: EmailMessage, config: Config): Promise<OutgoingMail | null> {
  const fan = await em.findOne(Fan, email.fan!.id, { populate: ["coupon"] });
  if (!fan) return null;
  const [discount, brand] = await Promise.all([em.findOneOrFail(Discount, fan.discount.id), em.findOneOrFail(Brand, fan.brand.id)]);
  const base = { to: email.recipient, emailId: email.id, tag: email.kind.toLowerCase().replace(/_/g, "-"), attachments: [] };
  if (email.kind === EmailKind.FAN_VERIFICATION) {
    const nonce = email.data.nonce;
    if (typeof nonce !== "string" || fan.tokenUsedAt) return null;
    const token = verificationToken(config.authSecret, nonce);
    if (fan.tokenHash !== sha256(token)) return null; // a newer link replaced this one: only that one is sent
    const link = `${config.publicUrl}/fans/${token}`;
    const text = [
      `Hello ${fan.name},`,
      "",
      `please confirm your email address to receive your ${brand.name} coupon for "${discount.name}":`,
      link,
      "",
      "The link works once and expires in 7 days. If you did not sign up, ignore this email.",
    ].join("\n");
    return { ...base, subject: `Confirm your email for ${brand.name}`, textBody: text, htmlBody: html(text, link) };
  }
  if (email.kind === EmailKind.COUPON) {
    const code = fan.coupon?.getEntity().code;
    if (!code) return null;
    const value = discount.type === "PERCENT" ? `${discount.amount}% off` : `${discount.amount} ${brand.currency} (minor units) off`;
    const text = [
      `Hello ${fan.name},`,
      "",
      `your ${brand.name} coupon for "${discount.name}" (${value}${discount.freeShipping ? ", free shipping" : ""}):`,
      code,
      discount.expiresAt ? `Valid until ${discount.expiresAt.toISOString().slice(0, 10)}.` : "",
    ].join("\n");
    return { ...base, subject: `Your ${brand.name} coupon: ${code}`, textBody: text, htmlBody: html(text) };
  }
  return null;
}

function html(text: string, link?: string): string {
  const paragraphs = text.split("\n\n").map((p) => {
    let body = escapeHtml(p).replace(/\n/g, "<br>");
    if (link) body = body.replace(escapeHtml(link), `<a href="${escapeHtml(link)}">${escapeHtml(link)}</a>`);
    return `<p>${body}</p>`;
  });
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif">${paragraphs.join("")}</body></html>`;
}
