import { Entity, Property } from "@mikro-orm/core";
import type { MikroORM } from "@mikro-orm/postgresql";
import { hostname } from "node:os";

/**
 * Worker liveness, so that the jobs of a dead worker do not wait 4 hours.
 *
 * graphile-worker 0.17 marks a job it runs with `locked_by` (the id of the worker pool,
 * `pool-<hex>`) and `locked_at`. A pool that stops normally unlocks its jobs; one that dies
 * without a word (kill -9, OOM kill, a lost host) leaves them locked, and graphile-worker itself
 * only frees locks older than 4 hours (its `resetLockedAt`, hard-coded). Until then the email
 * waits, although nothing is working on it.
 *
 * So every running pool writes a heartbeat row here every `timeout / 3` (at most every 10 s),
 * using the database clock, and every pool also sweeps: a pool that has not beaten for
 * `WORKER_HEARTBEAT_TIMEOUT_MS` (30 s by default) while it holds locks older than that is
 * presumed dead, and its jobs are released with graphile-worker's own
 * `graphile_worker.force_unlock_workers(pool ids)` (the SQL behind WorkerUtils.forceUnlockWorkers).
 * A released job keeps its run_at (in the past), so the next poll (≤ 2 s) runs it again.
 *
 * Why this is safe when a "dead" pool was only slow (say, a long GC pause or a network blip): the
 * job may then run twice at the same time, but the tasks lock their row first (`FOR UPDATE SKIP
 * LOCKED`, see send-email.ts and webhooks/delivery.ts) and skip anything no longer QUEUED/PENDING, so
 * the second run does nothing while the first is still at work or after it committed. A pool
 * also sweeps only once it has itself beaten without a failure for one full timeout: after a
 * database outage every heartbeat is old, and a pool that is back first must not take the jobs of
 * the others before they had a chance to beat again.
 */
@Entity({ tableName: "worker_heartbeat" })
export class WorkerHeartbeat {
  /** graphile-worker's pool id: the value it writes in `graphile_worker.jobs.locked_by`. */
  @Property({ type: "string", length: 64, primary: true })
  poolId: string;

  @Property({ type: "string", length: 255 })
  hostname: string;

  @Property({ type: "integer" })
  pid: number;

  @Property({ type: "datetime", defaultRaw: "now()" })
  startedAt: Date = new Date();

  /** The last beat, by the database clock (so hosts with skewed clocks compare fairly). */
  @Property({ type: "datetime", defaultRaw: "now()" })
  seenAt: Date = new Date();

  constructor(poolId: string, host: string, pid: number) {
    this.poolId = poolId;
    this.hostname = host;
    this.pid = pid;
  }
}

/** How often a pool beats (and sweeps): a third of the timeout, at most every 10 s. */
export const heartbeatIntervalMs = (timeoutMs: number) => Math.min(Math.floor(timeoutMs / 3), 10_000);

/** Records that `poolId` is alive now. */
export async function beat(orm: MikroORM, poolId: string): Promise<void> {
  await orm.em.getConnection().execute(
    `insert into worker_heartbeat (pool_id, hostname, pid, started_at, seen_at) values (?, ?, ?, now(), now())
     on conflict (pool_id) do update set seen_at = now()`,
    [poolId, hostname().slice(0, 255), process.pid],
  );
}

/** Removes the row of a pool that stopped (its jobs are already unlocked by graphile-worker). */
export async function forget(orm: MikroORM, poolId: string): Promise<void> {
  await orm.em.getConnection().execute(`delete from worker_heartbeat where pool_id = ?`, [poolId]);
}

export interface ReleasedPool {
  poolId: string;
  /** Jobs it had locked, now free to run again. */
  jobs: number;
}

/**
 * Releases the jobs of every pool presumed dead: it holds a job lock older than `timeoutMs` and has
 * no heartbeat newer than that. Then drops heartbeat rows older than `timeoutMs` (their pools are
 * gone, or beat again on their next tick if they were merely slow).
 */
export async function releaseJobsOfDeadWorkers(orm: MikroORM, timeoutMs: number): Promise<ReleasedPool[]> {
  const conn = orm.em.getConnection();
  const stale = `now() - make_interval(secs => ?)`;
  const rows: { pool_id: string; jobs: string | number }[] = await conn.execute(
    `select j.locked_by as pool_id, count(*) as jobs
       from graphile_worker.jobs j
      where j.locked_by is not null
        and j.locked_at < ${stale}
        and not exists (select 1 from worker_heartbeat h where h.pool_id = j.locked_by and h.seen_at >= ${stale})
      group by j.locked_by`,
    [timeoutMs / 1000, timeoutMs / 1000],
  );
  const released = rows.map((r) => ({ poolId: r.pool_id, jobs: Number(r.jobs) }));
  if (released.length) {
    // (The ids travel as one JSON string: a JS array would be expanded into a list of placeholders.)
    await conn.execute(`select graphile_worker.force_unlock_workers(array(select jsonb_array_elements_text(?::jsonb)))`, [
      JSON.stringify(released.map((r) => r.poolId)),
    ]);
  }
  await conn.execute(`delete from worker_heartbeat where seen_at < ${stale}`, [timeoutMs / 1000]);
  return released;
}
