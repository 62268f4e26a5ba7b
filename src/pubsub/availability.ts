import type { EntityManager } from "@mikro-orm/postgresql";
import type { Sql } from "../db/sql";
import { logger } from "../logger";
import { availabilityOfQuotas, type ProductAvailability } from "../services/capacity/availability";
import { EventStream } from "./event-stream";
import { trackSubscription } from "./order-events";

/** The NOTIFY channel of changed quotas (all instances LISTEN, see listener.ts). */
export const AVAILABILITY_CHANNEL = "orderline_availability";

/** What travels through NOTIFY: the brand and the quotas whose room changed (ids only). */
export interface AvailabilityNotice {
  brandId: string;
  quotaIds: string[];
}

/** One product's availability as storefronts receive it; the same frozen object for every subscriber. */
export interface AvailabilityMessage {
  product: ProductAvailability;
  at: string;
}

/**
 * Tells every instance, once the transaction commits (pg_notify on its own connection), that
 * these quotas' room changed. Ids only: each instance reads the values itself, after the commit.
 */
export async function notifyAvailability(em: EntityManager, brandId: string, quotaIds: string[]): Promise<void> {
  const notice: AvailabilityNotice = { brandId, quotaIds: [...new Set(quotaIds)] };
  await em.execute(`select pg_notify('${AVAILABILITY_CHANNEL}', ?)`, [JSON.stringify(notice)]);
}

/**
 * Coalescing: per brand, at most one read of the changed quotas' products every COALESCE_MS, and
 * always one after the last notice (a notice that arrives during a read schedules the next one),
 * so a product gets at most 1000 / COALESCE_MS events per second and the last one carries the
 * value read after the last change. The read is one statement per batch and instance, shared by
 * every subscriber on it; brands nobody watches here cost nothing (no read, no timer).
 */
export const COALESCE_MS = 250;
const RETRY_MS = 1_000;

interface BrandState {
  streams: Set<EventStream<AvailabilityMessage>>;
  dirty: Set<string>;
  timer: NodeJS.Timeout | null;
  reading: boolean;
  lastReadAt: number;
}

const brands = new Map<string, BrandState>();
let reader: Sql | null = null;
let reads = 0;

/** The pool the coalesced reads use (main.ts: the read pool). */
export function setAvailabilityReader(sql: Sql | null): void {
  reader = sql;
}

/** Coalesced reads made by this instance since it started (tests and metrics). */
export const availabilityReads = () => reads;

/** Called by the LISTEN connection for each notice. */
export function dispatchAvailability(notice: AvailabilityNotice): void {
  const state = brands.get(notice.brandId);
  if (!state || !Array.isArray(notice.quotaIds)) return;
  for (const id of notice.quotaIds) if (typeof id === "string") state.dirty.add(id);
  schedule(notice.brandId, state);
}

function schedule(brandId: string, state: BrandState): void {
  if (state.timer || state.reading || state.dirty.size === 0) return;
  const wait = Math.max(0, state.lastReadAt + COALESCE_MS - Date.now());
  state.timer = setTimeout(() => void flush(brandId, state), wait);
  state.timer.unref();
}

async function flush(brandId: string, state: BrandState): Promise<void> {
  state.timer = null;
  if (!reader || brands.get(brandId) !== state) return;
  const quotaIds = [...state.dirty];
  state.dirty.clear();
  state.reading = true;
  state.lastReadAt = Date.now();
  try {
    reads++;
    const products = await availabilityOfQuotas(reader, quotaIds);
    const at = new Date().toISOString();
    for (const product of products) {
      if (product.brandId !== brandId) continue;
      const message: AvailabilityMessage = Object.freeze({ product: Object.freeze(product), at });
      for (const stream of state.streams) stream.push(message);
    }
  } catch (err) {
    // The values are read again a moment later (the quotas stay dirty); subscribers miss nothing but time.
    logger().warn({ err, brandId }, "reading availability failed; retrying");
    for (const id of quotaIds) state.dirty.add(id);
    state.lastReadAt = Date.now() + RETRY_MS - COALESCE_MS;
  } finally {
    state.reading = false;
  }
  schedule(brandId, state);
}

/** The local stream of a brand's availability changes, listening from the moment it is created. */
export function availabilityStream(brandId: string): AsyncIterableIterator<AvailabilityMessage> {
  let state = brands.get(brandId);
  if (!state) brands.set(brandId, (state = { streams: new Set(), dirty: new Set(), timer: null, reading: false, lastReadAt: 0 }));
  const own = state;
  const untrack = trackSubscription();
  const stream: EventStream<AvailabilityMessage> = new EventStream(() => {
    untrack();
    own.streams.delete(stream);
    if (own.streams.size === 0 && brands.get(brandId) === own) {
      if (own.timer) clearTimeout(own.timer);
      brands.delete(brandId);
    }
  });
  own.streams.add(stream);
  return stream;
}
