import type { EntityManager } from "@mikro-orm/postgresql";
import { EmailKind, EmailMessage, OrderStatus, type Order } from "../../entities";
import { failedPrecondition } from "../../errors";
import { queueEmail } from "../../email/queue";
import { Permission } from "../access/permissions";
import type { ServiceContext } from "../context";
import { requireOrder } from "../order/access";
import { sameAddress, ticketHolders } from "./tickets";
import { orderView, type OrderView } from "../order/order.repository";
import { shownEmailError } from "../../webhooks/delivery-errors";

/**
 * The confirmation of a paid order: one email per distinct address (compared case-insensitively).
 * The buyer gets the confirmation with the invoice and all tickets; every other ticket holder gets
 * their own tickets. Returns the addresses, buyer first.
 */
export async function queueConfirmation(tx: EntityManager, order: Order): Promise<string[]> {
  const recipients = [order.buyerEmail];
  for (const holder of ticketHolders(order)) {
    if (!recipients.some((r) => sameAddress(r, holder.email))) recipients.push(holder.email);
  }
  await queueEmail(tx, { order }, EmailKind.ORDER_CONFIRMATION, recipients[0]);
  for (const r of recipients.slice(1)) await queueEmail(tx, { order }, EmailKind.TICKETS, r);
  return recipients;
}

/** COORGANIZER+ of the order's brand; PAID or FULFILLED orders only. Rate-limited by the resolver. */
export async function resendConfirmation(ctx: ServiceContext, orderId: string): Promise<{ order: OrderView; sentTo: string[] }> {
  return ctx.em.transactional(async (tx) => {
    const order = await requireOrder(tx, ctx.viewer, Permission.ORDER_RESEND_CONFIRMATION, orderId);
    if (order.status !== OrderStatus.PAID && order.status !== OrderStatus.FULFILLED) {
      throw failedPrecondition(`Only PAID or FULFILLED orders have a confirmation; this one is ${order.status}`);
    }
    return { order: orderView(order), sentTo: await queueConfirmation(tx, order) };
  });
}

/** An email's last error as brand members see it (no network details: see shownEmailError). */
export function emailLastError(email: EmailMessage): string | null {
  return shownEmailError(email.lastError);
}

/** Order.emails answers the newest this many: a confirmation is one email per recipient, and resends add more. */
export const MAX_EMAILS_SHOWN = 200;

/** The newest MAX_EMAILS_SHOWN emails of an order, oldest first (COORGANIZER+ through @auth on Order.emails). */
export async function orderEmails(ctx: ServiceContext, orderId: string): Promise<EmailMessage[]> {
  const newest = await ctx.em.find(EmailMessage, { order: orderId }, { orderBy: [{ createdAt: "desc" }, { id: "desc" }], limit: MAX_EMAILS_SHOWN });
  return newest.reverse();
}
