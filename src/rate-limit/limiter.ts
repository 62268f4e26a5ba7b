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

/** graphql-rate-limit's store contract, kept in PostgreSQL so every API instance shares it. */
class PostgresStore extends Store {
  constructor(private readonly tx: EntityManager) {
    super();
  }
  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    const rows: { hits: number[] }[] = await this.tx.execute("select hits from rate_limit_hits where key = ?", [keyOf(identity)]);
    return rows[0]?.hits ?? [];
  }
  async setForIdentity(identity: Identity, timestamps: readonly number[]): Promise<void> {
    await this.tx.execute(
      `insert into rate_limit_hits (key, hits, updated_at) values (?, ?::jsonb, now())
       on conflict (key) do update set hits = excluded.hits, updated_at = now()`,
      [keyOf(identity), JSON.stringify(timestamps)],
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
    const store = new PostgresStore(tx);
    const identities = limits.map((l) => ({ limit: l, identity: { fieldIdentity: `${fieldName}:${l.scope}`, contextIdentity: l.identity } }));
    for (const key of identities.map((i) => keyOf(i.identity)).sort()) {
      await tx.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [key]);
    }
    for (const { limit, identity } of identities) {
      const limiter = getGraphQLRateLimiter({ identifyContext: () => identity.contextIdentity, store });
      const info = { fieldName: identity.fieldIdentity } as GraphQLResolveInfo;
      const refused = await limiter({ parent: undefined, args: {}, context: {}, info }, { max: limit.max, window: limit.window, uncountRejected: true });
      if (refused) throw await rateLimited(store, identity, limit);
    }
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
    for (const key of [...new Set(keyed.map((k) => k.key))].sort()) await tx.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [key]);
    const now = Date.now();
    const live = await Promise.all(keyed.map(async (k) => (await readHits(tx, k.key)).filter((t) => t + k.windowMs > now)));
    const counts = live.map((l) => l.length);
    for (const [i, { b, windowMs }] of keyed.entries()) {
      const refused = b.refuse ? b.refuse(counts[i], counts) : counts[i] >= b.max;
      if (refused) throw limitError(b, retryAfterOf(live[i], windowMs, now));
    }
    const hits: Hit[] = [];
    for (const [i, { b, key }] of keyed.entries()) {
      if (b.record && !b.record(live[i].length)) continue;
      await writeHits(tx, key, [...live[i], now]);
      hits.push({ key, at: now });
    }
    return hits;
  });
}

/** Takes back hits recorded by `reserve` (one occurrence each), under the same locks. */
export async function release(em: EntityManager, hits: Hit[]): Promise<void> {
  if (!hits.length) return;
  await em.fork().transactional(async (tx) => {
    for (const key of [...new Set(hits.map((h) => h.key))].sort()) await tx.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [key]);
    for (const h of hits) {
      const stored = await readHits(tx, h.key);
      const i = stored.indexOf(h.at);
      if (i >= 0) await writeHits(tx, h.key, [...stored.slice(0, i), ...stored.slice(i + 1)]);
    }
  });
}

async function readHits(tx: EntityManager, key: string): Promise<number[]> {
  const rows: { hits: number[] }[] = await tx.execute("select hits from rate_limit_hits where key = ?", [key]);
  return rows[0]?.hits ?? [];
}

async function writeHits(tx: EntityManager, key: string, hits: number[]): Promise<void> {
  await tx.execute(
    `insert into rate_limit_hits (key, hits, updated_at) values (?, ?::jsonb, now())
     on conflict (key) do update set hits = excluded.hits, updated_at = now()`,
    [key, JSON.stringify(hits)],
  );
}
