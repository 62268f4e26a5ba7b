import type { EntityManager } from "@mikro-orm/postgresql";
import DataLoader from "dataloader";
import { Brand } from "../entities";
import { attemptsByOrderIds, eventsByOrderIds, ordersByIds, type AttemptView, type EventView, type OrderView } from "./order/read-model";

/**
 * Per-request batching (one query per kind, whatever the page size) for the fields of the read
 * model. Created with each request's context (and anew for each subscription event).
 */
export interface Loaders {
  order: DataLoader<string, OrderView | null>;
  attemptsOfOrder: DataLoader<string, AttemptView[]>;
  eventsOfOrder: DataLoader<string, EventView[]>;
  brand: DataLoader<string, Brand | null>;
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

export function createLoaders(em: EntityManager): Loaders {
  return {
    order: new DataLoader(async (ids) => {
      const byId = new Map((await ordersByIds(em, ids)).map((o) => [o.id, o]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    attemptsOfOrder: new DataLoader(async (ids) => {
      const grouped = groupBy(await attemptsByOrderIds(em, ids), (a) => a.orderId);
      return ids.map((id) => grouped.get(id) ?? []);
    }),
    eventsOfOrder: new DataLoader(async (ids) => {
      const grouped = groupBy(await eventsByOrderIds(em, ids), (e) => e.orderId);
      return ids.map((id) => grouped.get(id) ?? []);
    }),
    brand: new DataLoader(async (ids) => {
      const brands = await em.find(Brand, { id: { $in: [...ids] } });
      const byId = new Map(brands.map((b) => [b.id, b]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
