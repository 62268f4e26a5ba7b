import type { EntityManager } from "@mikro-orm/postgresql";
import DataLoader from "dataloader";
import { Brand, Product, QuotaProduct, Refund, type Invoice } from "../entities";
import { invoicesOfOrders } from "./invoice/invoices";
import { availableOfProducts } from "./capacity/availability";
import type { Sql } from "../db/sql";
import { ticketsByOrderIds, type TicketView } from "./checkin/ticket.repository";
import { attemptsByOrderIds, eventsByOrderIds, ordersByIds, type AttemptView, type EventView, type OrderView } from "./order/order.repository";

/**
 * Per-request batching (one query per kind, whatever the page size) for the fields of the read
 * model. Created with each request's context (and anew for each subscription event).
 */
export interface Loaders {
  order: DataLoader<string, OrderView | null>;
  attemptsOfOrder: DataLoader<string, AttemptView[]>;
  eventsOfOrder: DataLoader<string, EventView[]>;
  brand: DataLoader<string, Brand | null>;
  /** Product.available (null: no quota limits it). */
  productAvailable: DataLoader<string, number | null>;
  /** Quota.products, oldest first. */
  productsOfQuota: DataLoader<string, Product[]>;
  /** Order.invoices: the invoice, then its credit notes. */
  invoicesOfOrder: DataLoader<string, Invoice[]>;
  /** Order.tickets, in ticket order. */
  ticketsOfOrder: DataLoader<string, TicketView[]>;
  /** Order.refunds, oldest first. */
  refundsOfOrder: DataLoader<string, Refund[]>;
}

const groupBy = <T>(items: T[], key: (t: T) => string) => {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
};

/** `em` may be a getter: the brand loader then forks an EntityManager only when it runs. */
export function createLoaders(em: EntityManager | (() => EntityManager), sql: Sql): Loaders {
  const emOf = typeof em === "function" ? em : () => em;
  return {
    order: new DataLoader(async (ids) => {
      const byId = new Map((await ordersByIds(sql, ids)).map((order) => [order.id, order]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    attemptsOfOrder: new DataLoader(async (ids) => {
      const grouped = groupBy(await attemptsByOrderIds(sql, ids), (a) => a.orderId);
      return ids.map((id) => grouped.get(id) ?? []);
    }),
    eventsOfOrder: new DataLoader(async (ids) => {
      const grouped = groupBy(await eventsByOrderIds(sql, ids), (e) => e.orderId);
      return ids.map((id) => grouped.get(id) ?? []);
    }),
    brand: new DataLoader(async (ids) => {
      const brands = await emOf().find(Brand, { id: { $in: [...ids] } });
      const byId = new Map(brands.map((b) => [b.id, b]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    productAvailable: new DataLoader(async (ids) => {
      const available = await availableOfProducts(sql, ids);
      return ids.map((id) => available.get(id) ?? null);
    }),
    productsOfQuota: new DataLoader(async (ids) => {
      const links = await emOf().find(
        QuotaProduct,
        { quota: { $in: [...ids] } },
        { populate: ["product"], orderBy: { product: { createdAt: "asc", id: "asc" } } },
      );
      const grouped = groupBy(links, (l) => l.quota.id);
      return ids.map((id) => (grouped.get(id) ?? []).map((l) => l.product.getEntity()));
    }),
    invoicesOfOrder: new DataLoader(async (ids) => {
      const byOrder = await invoicesOfOrders(emOf(), ids);
      return ids.map((id) => byOrder.get(id) ?? []);
    }),
    ticketsOfOrder: new DataLoader(async (ids) => {
      const grouped = groupBy(await ticketsByOrderIds(sql, ids), (t) => t.orderId);
      return ids.map((id) => grouped.get(id) ?? []);
    }),
    refundsOfOrder: new DataLoader(async (ids) => {
      const refunds = await emOf().find(Refund, { order: { $in: [...ids] } }, { orderBy: { createdAt: "asc", id: "asc" } });
      const grouped = groupBy(refunds, (r) => r.order.id);
      return ids.map((id) => grouped.get(id) ?? []);
    }),
  };
}
