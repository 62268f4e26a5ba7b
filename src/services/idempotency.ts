import { createHash } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import { badInput, unauthenticated } from "../errors";
import { actorOf } from "./auth/viewer";
import type { ServiceContext } from "./context";
import { hourly } from "../jobs/sweeper";

/**
 * Idempotency keys: the same caller sending the same key to the same mutation within 24 h gets
 * the first call's result (same ids, read afresh) and no second effect, also when the calls race.
 *
 * A key is claimed by the first statement of the mutation's own transaction, so it commits or
 * rolls back with the effect: a call that failed (validation, SOLD_OUT, ...) leaves the key free.
 * A racing second call waits on the table's primary key until the first transaction ends, then
 * finds the row and replays it. Keys are scoped per caller (account, anonymous session or API
 * key), so nobody can read another caller's result by guessing a key.
 */

/** How long a key is kept; after that it is free again (expired rows are pruned hourly and ignored meanwhile). */
export const IDEMPOTENCY_TTL_HOURS = 24;
export const MAX_KEY_LENGTH = 255;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

export interface IdempotencySpec {
  /** The mutation's name: keys of different mutations never meet. */
  operation: string;
  key: string | null | undefined;
  /** Where the key was sent, for BAD_USER_INPUT: "input.idempotencyKey" or "idempotencyKey". */
  field: string;
  /** The call's arguments without the key: a replay must send the same ones. */
  args: unknown;
}

/** Claims the key in `tx` for the row `resultId` the transaction is about to create. Call it first. */
export type Claim = (tx: EntityManager, resultId: string) => Promise<void>;

/** Thrown out of the transaction when another call already holds the key: rolls back, then replays. */
class Replay extends Error {
  constructor(readonly resultId: string) {
    super("idempotent replay");
  }
}

/**
 * Runs `run` once per (caller, operation, key). `run` must call `claim(tx, resultId)` as the first
 * statement of its transaction; `replay(resultId)` reads the stored result through the normal view.
 * Without a key, `run` runs as before (its claim does nothing).
 */
export async function idempotent<T>(
  ctx: ServiceContext,
  spec: IdempotencySpec,
  replay: (resultId: string) => Promise<T>,
  run: (claim: Claim) => Promise<T>,
): Promise<T> {
  if (spec.key === null || spec.key === undefined) return run(async () => {});
  const key = checkKey(spec);
  // Keys are per caller; a caller without an identity would share one scope with every other such caller.
  const caller = actorOf(ctx.viewer);
  if (!caller) throw unauthenticated("An idempotencyKey is kept per caller: sign in, start an anonymous session or use the brand's key");
  const row = { caller, operation: spec.operation, key, hash: argsHash(spec.args), field: spec.field };

  // Seen already: replay without doing any of the call's work (its inputs may have changed since).
  const earlier = await stored(ctx.em, row);
  if (earlier) return replay(earlier);
  try {
    return await run(async (tx, resultId) => {
      const claimed = await tx.execute(
        `insert into idempotency_key (caller, operation, key, args_hash, result_id, created_at) values (?, ?, ?, ?, ?, now())
         on conflict (caller, operation, key) do update
           set args_hash = excluded.args_hash, result_id = excluded.result_id, created_at = excluded.created_at
           where idempotency_key.created_at <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
         returning result_id`,
        [caller, spec.operation, key, row.hash, resultId],
      );
      if (claimed.length > 0) return;
      // A live row: the other call committed while this insert waited on the key.
      const other = await stored(tx, row);
      if (!other) throw new Error("idempotency key neither claimed nor found"); // cannot happen: the two conditions are complements
      throw new Replay(other);
    });
  } catch (e) {
    if (e instanceof Replay) return replay(e.resultId);
    // Failed before reaching its claim while a call with the same key committed (e.g. SOLD_OUT
    // because that call took the last seats): that call's result is this one's answer too.
    const committed = await stored(ctx.em, row).catch(() => null);
    if (committed) return replay(committed);
    throw e;
  }
}

function checkKey(spec: IdempotencySpec): string {
  const key = spec.key!;
  if (key.length < 1 || key.length > MAX_KEY_LENGTH || !PRINTABLE_ASCII.test(key)) {
    throw badInput(spec.field, `must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

/** The result of a live entry for this key, or null; the same key with other arguments is BAD_USER_INPUT. */
async function stored(em: EntityManager, row: { caller: string; operation: string; key: string; hash: string; field: string }): Promise<string | null> {
  const rows: { args_hash: string; result_id: string }[] = await em.execute(
    `select args_hash, result_id from idempotency_key
      where caller = ? and operation = ? and key = ? and created_at > now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`,
    [row.caller, row.operation, row.key],
  );
  if (!rows[0]) return null;
  if (rows[0].args_hash !== row.hash) throw badInput(row.field, "was already used with other arguments; send a new key for a new request");
  return rows[0].result_id;
}

/** sha256 of the arguments as JSON with sorted keys; null and omitted fields are the same. */
export function argsHash(args: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(args)))
    .digest("hex");
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

/** Deletes entries older than the TTL; hourly on the sweeper (src/main.ts). */
export async function pruneIdempotencyKeys(em: EntityManager): Promise<number> {
  const rows = await em.execute(`delete from idempotency_key where created_at <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS}) returning key`);
  return rows.length;
}

export const idempotencyPruning = hourly("idempotency-key pruning", pruneIdempotencyKeys);
