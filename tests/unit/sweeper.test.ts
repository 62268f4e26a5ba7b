import type { MikroORM } from "@mikro-orm/postgresql";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SWEEP_INTERVAL_MS, startSweeper, type SweepTask } from "../../src/jobs/sweeper";
import { logger } from "../../src/logger";
import { orderExpirySweep } from "../../src/services/order/expiry";
import { rateLimitPruning } from "../../src/rate-limit/pruning";

// The in-process housekeeping timer (src/jobs/sweeper.ts): which task runs on which sweep.
const orm = { em: { fork: () => ({}) } } as unknown as MikroORM;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("sweeper", () => {
  it("runs each task on the first sweep, then every everyMs, in the order given", async () => {
    const ran: string[] = [];
    const task = (name: string, everyMs: number): SweepTask => ({ name, everyMs, run: async () => void ran.push(name) });
    const sweeper = startSweeper(orm, [task("often", 1_000), task("rarely", 4_000)], 1_000);
    for (let i = 0; i < 8; i++) await vi.advanceTimersByTimeAsync(1_000);
    await sweeper.stop();
    // sweeps 0..8: "rarely" on 0, 4 and 8
    expect(ran).toEqual(["often", "rarely", "often", "often", "often", "often", "rarely", "often", "often", "often", "often", "rarely"]);
  });

  it("logs a failing task and still runs the next ones", async () => {
    const ran: string[] = [];
    const logged = vi.spyOn(logger(), "error").mockImplementation(() => undefined);
    const sweeper = startSweeper(
      orm,
      [
        { name: "broken", everyMs: 1_000, run: async () => Promise.reject(new Error("boom")) },
        { name: "fine", everyMs: 1_000, run: async () => void ran.push("fine") },
      ],
      1_000,
    );
    await sweeper.stop();
    expect(ran).toEqual(["fine"]);
    expect(logged).toHaveBeenCalledWith({ err: expect.objectContaining({ message: "boom" }) }, "broken failed");
    logged.mockRestore();
  });

  it("expires orders on every sweep (15 s) and prunes rate limits hourly, as the expiry sweeper did", () => {
    expect(SWEEP_INTERVAL_MS).toBe(15_000);
    expect(orderExpirySweep.everyMs).toBe(SWEEP_INTERVAL_MS);
    expect(rateLimitPruning.everyMs / SWEEP_INTERVAL_MS).toBe(240);
  });
});
