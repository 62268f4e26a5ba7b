import { ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { Order, Product, Ticket, type OrderLineData } from "../../entities";
import { logger } from "../../logger";
import { ticketsOf } from "../confirmation/tickets";
import { ordersWithoutTickets } from "./ticket.repository";

// The HMAC key of ticket codes (AUTH_SECRET, as the PDFs use): set once per process by
// openDatabase, since transition() — the one place an order becomes PAID — has no config.
let secret: string | null = null;

export function setTicketSecret(value: string): void {
  secret = value;
}

function ticketSecret(): string {
  if (!secret) throw new Error("ticket secret not set: openDatabase sets it");
  return secret;
}

/**
 * The product of each of `count` tickets: the lines' units in line order (line 1 × its quantity,
 * then line 2, ...), ticket i taking unit i. More holders than units: the extra tickets take the
 * last unit's product; fewer (an order without attendees has one ticket, the buyer's): the units
 * left over have no ticket of their own.
 */
export function productsOfTickets(lines: readonly Pick<OrderLineData, "productId" | "quantity">[], count: number): string[] {
  const units: string[] = [];
  for (const l of lines) for (let q = 0; q < l.quantity && units.length < count; q++) units.push(l.productId);
  return Array.from({ length: count }, (_, i) => units[Math.min(i, units.length - 1)]);
}

/** The ticket rows of an order: the same holders and codes as its tickets PDF (ticketsOf). */
export function ticketRowsOf(order: Order): Ticket[] {
  const printed = ticketsOf(order, ticketSecret());
  const products = productsOfTickets(order.snapshot?.lines ?? order.lines, printed.length);
  return printed.map(
    (t, i) =>
      new Ticket({
        brand: order.brand,
        order: ref(order),
        product: ref(Product, products[i]),
        index: t.index,
        holderName: t.holder.name,
        holderEmail: t.holder.email,
        code: t.code,
      }),
  );
}

/** Called by transition() when an order becomes PAID: its tickets, written in that transaction. */
export function issueTickets(em: EntityManager, order: Order): void {
  for (const t of ticketRowsOf(order)) em.persist(t);
}

const BACKFILL_BATCH = 200;

/**
 * Tickets for orders paid before tickets were stored (Migration20261205200000 cannot compute the
 * HMAC codes): at start, in batches, each under a transaction lock so instances starting together
 * do not write the same order twice. Once done it costs one anti-join per start.
 */
export async function backfillTickets(em: EntityManager): Promise<number> {
  let written = 0;
  for (;;) {
    const n = await em.fork().transactional(async (tx) => {
      await tx.execute("select pg_advisory_xact_lock(hashtext('orderline_ticket_backfill'))");
      const ids = await ordersWithoutTickets(tx, BACKFILL_BATCH);
      if (!ids.length) return 0;
      for (const order of await tx.find(Order, { id: { $in: ids } })) issueTickets(tx, order);
      return ids.length;
    });
    written += n;
    if (n < BACKFILL_BATCH) break;
  }
  if (written) logger().info({ orders: written }, "tickets written for orders paid before tickets were stored");
  return written;
}
