import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import { logger } from "../logger";

/** Periodic housekeeping run in this process (not through the job queue): each instance runs it. */
export interface SweepTask {
  /** For the log: "<name> failed". */
  name: string;
  /** How often it runs (rounded to whole sweeps; at most once per sweep). It also runs on the first sweep. */
  everyMs: number;
  run(em: EntityManager): Promise<void>;
}

export const SWEEP_INTERVAL_MS = 15_000; // 15 seconds

/** A task run hourly (and on the first sweep), such as deleting rows nobody needs any more. */
export const hourly = (name: string, run: (em: EntityManager) => Promise<unknown>): SweepTask => ({
  name,
  everyMs: 60 * 60_000,
  async run(em) {
    await run(em);
  },
});

/**
 * Runs the tasks on one timer, one after the other in the order given, each with its own
 * EntityManager fork. A failing task is logged and does not stop the others or the next sweeps.
 */
export function startSweeper(orm: MikroORM, tasks: SweepTask[], intervalMs = SWEEP_INTERVAL_MS): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let sweeps = 0;
  const sweep = () => {
    const n = sweeps++;
    const due = tasks.filter((t) => n % Math.max(1, Math.round(t.everyMs / intervalMs)) === 0);
    running = (async () => {
      for (const task of due) {
        try {
          await task.run(orm.em.fork());
        } catch (err) {
          logger().error({ err }, `${task.name} failed`);
        }
      }
    })();
  };
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  sweep();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
