import type { MikroORM } from "@mikro-orm/postgresql";
import { EventEmitter } from "node:events";
import { run, type Runner, type TaskList, type WorkerEvents } from "graphile-worker";
import type { Config } from "../config/env";
import { outboxMailer } from "../email/outbox";
import { postmarkMailer } from "../email/postmark";
import { sendEmailTask } from "../email/send-email";
import { logger } from "../logger";
import { deliverWebhookTask } from "../webhooks/delivery";
import { refundPaymentTask } from "../services/refund/refund-job";
import { beat, forget, heartbeatIntervalMs, releaseJobsOfDeadWorkers } from "./heartbeat";
import { Task, quietLogger } from "./queue";

export const WORKER_CONCURRENCY = 4;
/** Wait before restarting a runner that died, doubling up to the max while restarts fail. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 10_000;

export interface JobWorker {
  /**
   * True while a graphile-worker runner is running. False from the moment one dies (for example,
   * it gives up completing a job during a database outage, or sees a breaking schema migration)
   * until its replacement runs. Reported by /readyz.
   */
  readonly running: boolean;
  stop(): Promise<void>;
}

/**
 * Runs the job worker (graphile-worker on the same PostgreSQL) until `stop()`, supervised:
 * - a runner that dies is replaced, after 1 s and then with backoff up to 10 s while the
 *   replacement cannot start (database down), and `running` says so meanwhile;
 * - the running pool writes a heartbeat and releases the jobs of pools that died without
 *   unlocking them (kill -9), see ./heartbeat.ts.
 * The first start throws if the runner cannot start (the caller decides; main.ts fails the start).
 */
export async function startWorker(orm: MikroORM, config: Config, connectionString: string): Promise<JobWorker> {
  const log = logger().child({ component: "worker" });
  const mailer = config.mail.postmarkServerToken ? postmarkMailer(config) : outboxMailer(config);
  const taskList: TaskList = {
    [Task.SEND_EMAIL]: sendEmailTask(orm, config, mailer),
    [Task.DELIVER_COUPON]: deliverWebhookTask(orm, config),
    [Task.DELIVER_WEBHOOK]: deliverWebhookTask(orm, config),
    [Task.REFUND_PAYMENT]: refundPaymentTask(orm, config),
  };
  const timeoutMs = config.workerHeartbeatTimeoutMs;

  let runner: Runner | undefined;
  let poolId: string | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let restartDelay = RESTART_MIN_MS;
  /** When the current run of successful beats began (sweeps wait one full timeout after it). */
  let beatingSince: number | undefined;

  const launch = async () => {
    const events: WorkerEvents = new EventEmitter();
    let id: string | undefined;
    events.on("pool:create", ({ workerPool }) => (id = workerPool.id));
    const r = await run({
      connectionString,
      concurrency: WORKER_CONCURRENCY,
      noHandleSignals: true, // main.ts / worker.ts own shutdown
      pollInterval: 2_000, // new jobs arrive by LISTEN/NOTIFY at once; polling only catches run_at
      logger: quietLogger(),
      taskList,
      events,
      // graphile-worker 0.17.3 calls completeJob/failJob without awaiting them when batching is
      // off (its default, -1): if the database goes away just then, the rejection is unhandled
      // and Node ends the whole process (seen in tests/faults/database-restart.test.ts). With
      // batching on, even at 0 ms, a failure goes to its error handler instead, which stops the
      // pool: the supervision below replaces it, and the heartbeat sweep frees its locked jobs.
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    if (stopping || !id) {
      await r.stop();
      // Without its pool id the heartbeat would not cover the jobs this pool locks, and other
      // workers would take them away from it: refuse to run (a graphile-worker upgrade changed
      // its events?) rather than run jobs twice.
      if (!id) throw new Error("graphile-worker did not report its pool id (pool:create event)");
      return;
    }
    runner = r;
    poolId = id;
    beatingSince = undefined;
    void tick();
    r.promise.then(
      () => died(r, undefined),
      (err) => died(r, err),
    );
  };

  const died = (r: Runner, err: unknown) => {
    if (stopping || runner !== r) return;
    runner = undefined;
    const old = poolId;
    poolId = undefined;
    log.error({ err, poolId: old, restartInMs: restartDelay }, "job worker stopped unexpectedly; restarting it");
    if (old) forget(orm, old).catch(() => undefined); // best effort: the sweep also ages it out
    scheduleRestart();
  };

  const scheduleRestart = () => {
    if (stopping) return;
    restartTimer = setTimeout(async () => {
      try {
        await launch();
        log.warn({ poolId }, "job worker restarted");
        restartDelay = RESTART_MIN_MS;
      } catch (err) {
        restartDelay = Math.min(restartDelay * 2, RESTART_MAX_MS);
        log.error({ err, restartInMs: restartDelay }, "job worker could not restart; will retry");
        scheduleRestart();
      }
    }, restartDelay);
  };

  /** One heartbeat, then (after a full timeout of healthy beats) one sweep for dead pools. */
  let ticking = false;
  const tick = async () => {
    const id = poolId;
    if (!id || ticking || stopping) return;
    ticking = true;
    try {
      await beat(orm, id);
      beatingSince ??= Date.now();
      if (Date.now() - beatingSince >= timeoutMs) {
        const released = await releaseJobsOfDeadWorkers(orm, timeoutMs);
        for (const p of released) log.warn({ deadPool: p.poolId, jobs: p.jobs, timeoutMs }, "released the jobs of a worker presumed dead (no heartbeat)");
      }
    } catch (err) {
      beatingSince = undefined;
      log.warn({ err }, "worker heartbeat failed");
    } finally {
      ticking = false;
    }
  };
  const heartbeatTimer = setInterval(() => void tick(), heartbeatIntervalMs(timeoutMs));
  heartbeatTimer.unref();

  try {
    await launch();
  } catch (e) {
    clearInterval(heartbeatTimer);
    throw e;
  }
  log.info({ mailer: mailer.name, concurrency: WORKER_CONCURRENCY, poolId, heartbeatTimeoutMs: timeoutMs }, "job worker running");

  return {
    get running() {
      return runner !== undefined;
    },
    async stop() {
      stopping = true;
      clearInterval(heartbeatTimer);
      clearTimeout(restartTimer);
      const r = runner;
      const id = poolId;
      runner = undefined;
      await r?.stop();
      if (id) await forget(orm, id).catch(() => undefined);
    },
  };
}
