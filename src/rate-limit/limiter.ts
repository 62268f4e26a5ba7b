import type { EntityManager } from "@mikro-orm/postgresql";
import type { GraphQLResolveInfo } from "graphql";
import { getGraphQLRateLimiter, Store, type Identity } from "graphql-rate-limit";
import ms from "ms";
import { createHash } from "node:crypto";
import { AppError, ErrorCode } from "../errors";

/** One sliding-window limit for one identity (a user, an IP address, an email address …). */
export interface Limit {
  /** Names the limit in keys and errors, e.g. "user" or "ip". */
  scope: string;
  identity: string;
  max: number;
  /** A window in `ms` syntax: "1m", "15m". */
  window: string;
}

/** Identities (emails, IP addresses) are stored hashed: no personal data in clear, any byte is safe. */
const keyOf = (identity: Identity) => `${identity.fieldIdentity}|${createHash("sha256").update(identity.contextIdentity).digest("base64url")}`;

/**
 * graphql-rate-limit's store contract, kept in PostgreSQL so every API instance shares it. One
 * call's keys are locked and read up front (`open`) and its writes go out together (`save`), in
 * the call's transaction: five statements with BEGIN and COMMIT however many limits it has (it
 * was two per key more; each statement is a round trip, and in an on-sale they add up).
 */
class PostgresStore extends Store {
  private readonly changed = new Set<string>();

  private constructor(
    private readonly tx: EntityManager,
    private readonly hits: Map<string, readonly number[]>,
  ) {
    super();
  }

  /** Locks `keys` and reads their hits: nothing else changes them until the transaction ends. */
  static async open(tx: EntityManager, keys: string[]): Promise<PostgresStore> {
    await lockKeys(tx, keys);
    const stored = await readAllHits(tx, keys);
    return new PostgresStore(tx, new Map(keys.map((key) => [key, stored.get(key) ?? []])));
  }

  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    const key = keyOf(identity);
    return this.hits.get(key) ?? (await readAllHits(this.tx, [key])).get(key) ?? [];
  }
  async setForIdentity(identity: Identity, timestamps: readonly number[]): Promise<void> {
    const key = keyOf(identity);
    this.hits.set(key, timestamps);
    this.changed.add(key);
  }
  /** Writes what the limits recorded (one statement). */
  async save(): Promise<void> {
    await writeAllHits(
      this.tx,
      [...this.changed].map((key) => [key, this.hits.get(key) ?? []]),
    );
  }
}

/**
 * Checks and records every limit for one call, exactly: graphql-rate-limit's check is
 * read-then-write, so each key is serialised with a PostgreSQL advisory transaction lock (taken in
 * sorted order: no deadlocks), which also makes the limit hold across API instances. All limits
 * are checked in one transaction: when a later limit refuses, the hits recorded by earlier ones
 * roll back, so a refused call counts against nothing. Throws RATE_LIMITED with `retryAfter`
 * (seconds), HTTP status 429 and a Retry-After header.
 */
export async function enforceLimits(em: EntityManager, fieldName: string, limits: Limit[]): Promise<void> {
  if (!limits.length) return;
  await em.fork().transactional(async (tx) => {
    const identities = limits.map((l) => ({ limit: l, identity: { fieldIdentity: `${fieldName}:${l.scope}`, contextIdentity: l.identity } }));
    const store = await PostgresStore.open(
      tx,
      identities.map((i) => keyOf(i.identity)),
    );
    for (const { limit, identity } of identities) {
      const limiter = getGraphQLRateLimiter({ identifyContext: () => identity.contextIdentity, store });
      const info = { fieldName: identity.fieldIdentity } as GraphQLResolveInfo;
      const refused = await limiter({ parent: undefined, args: {}, context: {}, info }, { max: limit.max, window: limit.window, uncountRejected: true });
      if (refused) throw await rateLimited(store, identity, limit);
    }
    await store.save();
  });
}

async function rateLimited(store: PostgresStore, identity: Identity, limit: Limit): Promise<AppError> {
  const now = Date.now();
  return limitError(limit, retryAfterOf(await store.getForIdentity(identity), ms(limit.window as ms.StringValue), now));
}

/** Seconds until the oldest live hit leaves the window (at least 1). */
function retryAfterOf(hits: readonly number[], windowMs: number, now: number): number {
  const live = hits.filter((t) => t + windowMs > now);
  return Math.max(1, Math.ceil(((live.length ? Math.min(...live) : now) + windowMs - now) / 1000));
}

function limitError(limit: Limit, retryAfter: number): AppError {
  return new AppError(ErrorCode.RATE_LIMITED, `Too many requests: at most ${limit.max} per ${limit.window} per ${limit.scope}. Try again in ${retryAfter} s.`, {
    retryAfter,
    limit: { scope: limit.scope, max: limit.max, window: limit.window },
    http: { status: 429, headers: new Map([["retry-after", String(retryAfter)]]) },
  });
}

// ---- reservations: limits on failures, counted exactly -------------------------------------------

/** A hit recorded by `reserve`: `release` takes it back when the attempt turned out not to fail. */
export interface Hit {
  key: string;
  at: number;
}

/**
 * One bucket a reservation looks at: `refuse` (default: live hits >= max) decides, given its live
 * hits and those of every bucket of the reservation (in order); `record` (default: always) whether
 * it gains a hit.
 */
export interface Bucket extends Limit {
  refuse?: (live: number, all: number[]) => boolean;
  record?: (live: number) => boolean;
}

const bucketKey = (fieldName: string, b: Limit) => keyOf({ fieldIdentity: `${fieldName}:${b.scope}`, contextIdentity: b.identity });

/**
 * Checks every bucket and, when none refuses, records one hit in each, all under the buckets'
 * advisory locks (sorted: no deadlocks) in one transaction. Use it BEFORE the attempt it guards
 * (a password check, a coupon code): concurrent attempts are serialised here, so no more attempts
 * are evaluated than a bucket allows. Call `release` with the returned hits when the attempt
 * succeeded, so only failures stay counted. Throws RATE_LIMITED like enforceLimits.
 */
export async function reserve(em: EntityManager, fieldName: string, buckets: Bucket[]): Promise<Hit[]> {
  if (!buckets.length) return [];
  return em.fork().transactional(async (tx) => {
    const keyed = buckets.map((b) => ({ b, key: bucketKey(fieldName, b), windowMs: ms(b.window as ms.StringValue) }));
    await lockKeys(
      tx,
      keyed.map((k) => k.key),
    );
    const stored = await readAllHits(
      tx,
      keyed.map((k) => k.key),
    );
    const now = Date.now();
    const live = keyed.map((k) => (stored.get(k.key) ?? []).filter((t) => t + k.windowMs > now));
    const counts = live.map((l) => l.length);
    for (const [i, { b, windowMs }] of keyed.entries()) {
      const refused = b.refuse ? b.refuse(counts[i], counts) : counts[i] >= b.max;
      if (refused) throw limitError(b, retryAfterOf(live[i], windowMs, now));
    }
    const hits: Hit[] = [];
    for (const [i, { b, key }] of keyed.entries()) {
      if (b.record && !b.record(live[i].length)) continue;
      hits.push({ key, at: now });
      stored.set(key, [...live[i], now]);
    }
    await writeAllHits(
      tx,
      hits.map((h) => [h.key, stored.get(h.key)!]),
    );
    return hits;
  });
}

/** Takes back hits recorded by `reserve` (one occurrence each), under the same locks. */
export async function release(em: EntityManager, hits: Hit[]): Promise<void> {
  if (!hits.length) return;
  await em.fork().transactional(async (tx) => {
    const keys = hits.map((h) => h.key);
    await lockKeys(tx, keys);
    const stored = await readAllHits(tx, keys);
    const changed = new Set<string>();
    for (const h of hits) {
      const list = stored.get(h.key) ?? [];
      const i = list.indexOf(h.at);
      if (i < 0) continue;
      stored.set(h.key, [...list.slice(0, i), ...list.slice(i + 1)]);
      changed.add(h.key);
    }
    await writeAllHits(
      tx,
      [...changed].map((key) => [key, stored.get(key)!]),
    );
  });
}

/**
 * Takes the advisory transaction locks of `keys` in one statement, in one order for every caller
 * (byte order of the key, duplicates once): no deadlocks, and the limits hold across instances.
 * The ordered subquery is not flattened (PostgreSQL keeps a subquery with ORDER BY), so the locks
 * are taken in its order.
 */
async function lockKeys(tx: EntityManager, keys: readonly string[]): Promise<void> {
  await tx.execute(
    `select pg_advisory_xact_lock(hashtextextended(k, 0))::text from (select k from jsonb_array_elements_text(?::jsonb) as k order by k collate "C") s`,
    [JSON.stringify([...new Set(keys)])],
  );
}

/** The stored hits of `keys` (read after their locks), in one statement. */
async function readAllHits(tx: EntityManager, keys: readonly string[]): Promise<Map<string, number[]>> {
  const rows: { key: string; hits: number[] }[] = await tx.execute(
    "select key, hits from rate_limit_hits where key in (select jsonb_array_elements_text(?::jsonb))",
    [JSON.stringify([...new Set(keys)])],
  );
  return new Map(rows.map((r) => [r.key, r.hits]));
}

/** Stores the hits of several keys in one statement (the last entry of a key wins). */
async function writeAllHits(tx: EntityManager, entries: [string, readonly number[]][]): Promise<void> {
  if (!entries.length) return;
  const rows = [...new Map(entries)]; // one row per key (ON CONFLICT may touch a row once per statement)
  await tx.execute(
    `insert into rate_limit_hits (key, hits, updated_at) select e->>0, e->1, now() from jsonb_array_elements(?::jsonb) as e
     on conflict (key) do update set hits = excluded.hits, updated_at = now()`,
    [JSON.stringify(rows)],
  );
}
