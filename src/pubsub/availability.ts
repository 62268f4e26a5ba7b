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
 *
 * Pacing, for an on-sale watched by thousands of pages: delivering one event costs this instance
 * one execution and then a frame per socket, on the cores that also serve the checkouts. So the
 * streams are handed the event FANOUT_SLICE at a time with the event loop free in between (HTTP
 * requests are served between slices), and the next read waits at least as long as this delivery
 * took (at most MAX_PACE_MS): under load events get rarer instead of the fan-out taking the whole
 * instance. A subscriber that is still behind keeps only the newest event per product (the
 * stream's conflation), so it catches up on the true value.
 */
export const COALESCE_MS = 250;
export const FANOUT_SLICE = 500;
const MAX_PACE_MS = 5_000;
const RETRY_MS = 1_000;

interface BrandState {
  streams: Set<EventStream<AvailabilityMessage>>;
  dirty: Set<string>;
  timer: NodeJS.Timeout | null;
  reading: boolean;
  /** No read before this time (Date.now()): COALESCE_MS after the last read, or its pacing. */
  nextReadAt: number;
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
  const wait = Math.max(0, state.nextReadAt - Date.now());
  state.timer = setTimeout(() => void flush(brandId, state), wait);
  state.timer.unref();
}

/** Resolves after the work already queued (promise jobs, then pending I/O callbacks) has run. */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

async function flush(brandId: string, state: BrandState): Promise<void> {
  state.timer = null;
  if (!reader || brands.get(brandId) !== state) return;
  const quotaIds = [...state.dirty];
  state.dirty.clear();
  state.reading = true;
  const readAt = Date.now();
  state.nextReadAt = readAt + COALESCE_MS;
  try {
    reads++;
    // As of the read's start: consecutive events of a product are then at least COALESCE_MS apart.
    const at = new Date(readAt).toISOString();
    const products = await availabilityOfQuotas(reader, quotaIds);
    const messages = products
      .filter((product) => product.brandId === brandId)
      .map((product): AvailabilityMessage => Object.freeze({ product: Object.freeze(product), at }));
    const deliveryStarted = Date.now();
    const streams = [...state.streams];
    for (let i = 0; i < streams.length; i += FANOUT_SLICE) {
      if (i > 0) await yieldToIo();
      for (const stream of streams.slice(i, i + FANOUT_SLICE)) for (const message of messages) stream.push(message);
    }
    await yieldToIo(); // the last slice's executions and frames are done
    const deliveryMs = Date.now() - deliveryStarted;
    state.nextReadAt = Math.max(state.nextReadAt, Date.now() + Math.min(deliveryMs, MAX_PACE_MS));
  } catch (err) {
    // The values are read again a moment later (the quotas stay dirty); subscribers miss nothing but time.
    logger().warn({ err, brandId }, "reading availability failed; retrying");
    for (const id of quotaIds) state.dirty.add(id);
    state.nextReadAt = Date.now() + RETRY_MS;
  } finally {
    state.reading = false;
  }
  schedule(brandId, state);
}

/** The local stream of a brand's availability changes, listening from the moment it is created. */
export function availabilityStream(brandId: string): AsyncIterableIterator<AvailabilityMessage> {
  let state = brands.get(brandId);
  if (!state) brands.set(brandId, (state = { streams: new Set(), dirty: new Set(), timer: null, reading: false, nextReadAt: 0 }));
  const own = state;
  const untrack = trackSubscription();
  const stream: EventStream<AvailabilityMessage> = new EventStream(
    () => {
      untrack();
      own.streams.delete(stream);
      if (own.streams.size === 0 && brands.get(brandId) === own) {
        if (own.timer) clearTimeout(own.timer);
        brands.delete(brandId);
      }
    },
    (message) => message.product.id, // only a product's newest availability matters
  );
  own.streams.add(stream);
  return stream;
}
