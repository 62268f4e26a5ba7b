import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FANOUT_SLICE, availabilityStream, dispatchAvailability, setAvailabilityReader, type AvailabilityMessage } from "../../src/pubsub/availability";
import { db } from "../helpers/api";
import { brandWithProducts, type BrandSetup } from "../helpers/fixtures";
import { createQuota } from "../helpers/quotas";

// The availability fan-out of an on-sale (issue #10), in this process against the real database:
// thousands of streams of one brand, as the sockets of one instance would hold them. What must hold:
// the event loop is free between slices of streams (checkouts are served during a fan-out), and a
// fan-out that takes long makes the next event wait as long (the fan-out never takes the whole
// instance). Over sockets: tests/api/availability.test.ts and availability-sharing.test.ts.

const STREAMS = 1_200;

let brand: BrandSetup;
let quotaId: string;

beforeAll(async () => {
  brand = await brandWithProducts("EUR", [1000]);
  quotaId = (await createQuota(brand, 100, [brand.products[0].id])).id;
  setAvailabilityReader(db());
});
afterAll(() => setAvailabilityReader(null));

/** `n` streams of the brand, each consumed by `onEvent`. */
function watchers(n: number, onEvent: (m: AvailabilityMessage, index: number) => void) {
  const streams = Array.from({ length: n }, () => availabilityStream(brand.brandId));
  streams.forEach(async (stream, index) => {
    for await (const m of stream) onEvent(m, index);
  });
  return { close: () => Promise.all(streams.map((s) => s.return?.())) };
}

describe("the availability fan-out", () => {
  it(`hands an event to ${STREAMS} streams ${FANOUT_SLICE} at a time, with the event loop free between slices`, async () => {
    // Turns of the event loop, counted in its check phase (where the fan-out resumes, too).
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    count();
    const turnOfEach: number[] = [];
    let allReceived = () => {};
    const all = new Promise<void>((resolve) => (allReceived = resolve));
    const w = watchers(STREAMS, (_m, index) => {
      turnOfEach[index] = turns;
      if (turnOfEach.filter((t) => t !== undefined).length === STREAMS) allReceived();
    });
    dispatchAvailability({ brandId: brand.brandId, quotaIds: [quotaId] });
    await all;
    counting = false;
    await w.close();
    // Streams are handed the event in the order they subscribed, FANOUT_SLICE per turn at most.
    const perTurn = new Map<number, number>();
    for (const t of turnOfEach) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(perTurn.size).toBeGreaterThanOrEqual(Math.ceil(STREAMS / FANOUT_SLICE) - 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2 * FANOUT_SLICE);
    expect(turnOfEach.at(-1)).toBeGreaterThan(turnOfEach[0]); // the loop turned while the fan-out went on
  });

  it("makes the next event wait at least as long as the last fan-out took", async () => {
    const SPIN_MS = 1; // the CPU each stream's event costs (its socket's frame, say): 1.2 s in all
    const events: { at: number; received: number }[] = [];
    let firstDone = 0;
    const w = watchers(STREAMS, (m, index) => {
      const until = performance.now() + SPIN_MS;
      while (performance.now() < until);
      if (index === 0) events.push({ at: Date.parse(m.at), received: Date.now() });
      if (index === STREAMS - 1 && !firstDone) firstDone = Date.now();
    });
    try {
      dispatchAvailability({ brandId: brand.brandId, quotaIds: [quotaId] });
      await vi_until(() => events.length === 1);
      // A change while the first fan-out is still running.
      dispatchAvailability({ brandId: brand.brandId, quotaIds: [quotaId] });
      await vi_until(() => events.length === 2, 20_000);
      const fanOutMs = firstDone - events[0].at;
      expect(fanOutMs).toBeGreaterThanOrEqual(STREAMS * SPIN_MS);
      // Without pacing the second read would start COALESCE_MS after the first, or as soon as the
      // first fan-out ends; with it, a whole fan-out's time after that end.
      console.info(`[fan-out] ${STREAMS} streams: ${fanOutMs} ms; next event ${events[1].at - events[0].at} ms after the first`);
      expect(events[1].at - events[0].at).toBeGreaterThanOrEqual(fanOutMs + 0.9 * STREAMS * SPIN_MS);
    } finally {
      await w.close();
    }
  }, 30_000);
});

async function vi_until(check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
