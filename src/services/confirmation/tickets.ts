import { createHmac } from "node:crypto";
import type { Order, PersonData } from "../../entities";

export interface Ticket {
  /** 1-based position in the order. */
  index: number;
  holder: PersonData;
  /** Printed under the QR code and encoded in it; verifiable with the server secret. */
  code: string;
}

/**
 * The tickets of an order: one per attendee; an order without attendees has one ticket, held by
 * the buyer. Each code carries a short HMAC so a scanner with the secret can tell a real ticket
 * from a made-up one.
 */
export function ticketsOf(order: Order, secret: string): Ticket[] {
  return ticketHolders(order).map((holder, i) => ({ index: i + 1, holder, code: ticketCode(order, i + 1, secret) }));
}

export function ticketHolders(order: Pick<Order, "attendees" | "buyerName" | "buyerEmail">): PersonData[] {
  return order.attendees.length ? order.attendees : [{ name: order.buyerName, email: order.buyerEmail }];
}

export function ticketCode(order: Pick<Order, "id" | "number">, index: number, secret: string): string {
  const mac = createHmac("sha256", secret).update(`ticket:${order.id}:${index}`).digest("base64url").slice(0, 10);
  return `${order.number}-${index}-${mac}`;
}

export const sameAddress = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
