import type { EntityName, FilterQuery } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Sql } from "../db/sql";
import { badInput } from "../errors";

export const MAX_PAGE_SIZE = 100;

/** A keyset position: newest first by (createdAt, id). Opaque to clients. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`).toString("base64url");
}

export function decodeCursor(raw: string, field = "after"): Cursor {
  const text = Buffer.from(raw, "base64url").toString("utf8");
  const [iso, id, ...rest] = text.split("|");
  const createdAt = new Date(iso ?? "");
  // Only what encodeCursor writes: a timestamp it could have produced (dates PostgreSQL cannot
  // hold, e.g. year -271821, would fail in the query) and a UUID.
  const valid =
    rest.length === 0 &&
    isUuid(id) &&
    !Number.isNaN(createdAt.getTime()) &&
    createdAt.getUTCFullYear() >= 1970 &&
    createdAt.getUTCFullYear() <= 9999 &&
    createdAt.toISOString() === iso;
  if (!valid) throw badInput(field, "is not a valid cursor");
  return { createdAt, id: id.toLowerCase() };
}

/** Checks `first` (1..100). */
export function pageSize(first: number | null | undefined, field = "first"): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw badInput(field, `must be from 1 to ${MAX_PAGE_SIZE}`);
  return n;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

/** An edge whose cursor is encoded when read: most queries of a page select only `endCursor`. */
class Edge<T extends { createdAt: Date; id: string }> {
  constructor(readonly node: T) {}
  get cursor(): string {
    return encodeCursor(this.node);
  }
}

/** Builds a connection from up to `first + 1` rows (the extra row only tells that there is a next page). */
export function toConnection<T extends { createdAt: Date; id: string }>(rows: T[], first: number, totalCount: number, hasPrevious: boolean): Connection<T> {
  const page = rows.length > first ? rows.slice(0, first) : rows;
  return {
    edges: page.map((node) => new Edge(node)),
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: hasPrevious,
      startCursor: page.length ? encodeCursor(page[0]) : null,
      endCursor: page.length ? encodeCursor(page[page.length - 1]) : null,
    },
    totalCount,
  };
}

/** Opaque ids are UUIDs; anything else can never exist. */
export function isUuid(id: unknown): id is string {
  return typeof id === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

/** Reads up to `limit` rows after `cursor`, newest first by (createdAt, id), and the total count of the filter. */
type PageReader<T> = (limit: number, cursor: Cursor | null) => Promise<{ rows: T[]; totalCount: number }>;

/** The one keyset page: `first + 1` rows from `read` (the extra one only tells there is a next page) → edges and pageInfo. */
async function keyset<T extends { createdAt: Date; id: string }>(first: number, cursor: Cursor | null, read: PageReader<T>): Promise<Connection<T>> {
  const { rows, totalCount } = await read(first + 1, cursor);
  return toConnection(rows, first, totalCount, cursor !== null);
}

/**
 * One page of `entity` rows matching `where`, newest first by (createdAt, id), after `cursor`;
 * with the total count of `where`. Two statements, whatever the page size.
 */
export function keysetPage<T extends { createdAt: Date; id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  first: number,
  cursor: Cursor | null,
): Promise<Connection<T>> {
  return keyset(first, cursor, async (limit, cursor) => {
    const after = cursor ? { $or: [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }] } : {};
    const [rows, totalCount] = await Promise.all([
      em.find(entity, { $and: [where, after] } as FilterQuery<T>, { orderBy: [{ createdAt: "desc" }, { id: "desc" }] as never, limit }),
      em.count(entity, where),
    ]);
    return { rows: rows as T[], totalCount };
  });
}

/** A page of hand-written SQL over `table` (with `created_at` and `id` columns and an index on them after the filter). */
export interface SqlPageQuery {
  /** The select list; may name the table by `alias` (correlated subqueries). */
  columns: string;
  table: string;
  alias: string;
  /** Conditions joined with `and`, written with $1..$n over `params`. */
  where: string[];
  params: unknown[];
  /** Count at most this many rows (then totalCount reads countLimit + 1: "more than countLimit"); exact when absent. */
  countLimit?: number;
}

/** The statement of one keyset batch of `q`: `limit` rows after `cursor`, newest first, and the extra select list `extra`. */
function keysetStatement(q: SqlPageQuery, limit: number, cursor: Cursor | null, extra = ""): { text: string; params: unknown[] } {
  const params = [...q.params];
  const param = (v: unknown) => `$${params.push(v)}`;
  const base = q.where.join(" and ") || "true";
  const page = cursor ? `${base} and (created_at, id) < (${param(cursor.createdAt)}, ${param(cursor.id)})` : base;
  const text = `select ${q.columns}${extra} from ${q.table} ${q.alias} where ${page} order by created_at desc, id desc limit ${param(limit)}`;
  return { text, params };
}

/** The count of `q`'s filter: exact, or bounded by `countLimit` (a million matches are not counted to tell "more than 1,000"). */
function countStatement(q: SqlPageQuery): string {
  const base = q.where.join(" and ") || "true";
  if (q.countLimit === undefined) return `select count(*)::int as n from ${q.table} where ${base}`;
  return `select count(*)::int as n from (select 1 from ${q.table} where ${base} limit ${q.countLimit + 1}) counted`;
}

/**
 * Up to `limit` rows of `q` after `cursor`, newest first, without a count: the batches of a
 * streamed export (each its own short statement; the last row's (createdAt, id) is the next cursor).
 */
export async function sqlKeysetRows<T>(
  sql: Sql,
  q: SqlPageQuery,
  limit: number,
  cursor: Cursor | null,
  map: (row: Record<string, unknown>) => T,
): Promise<T[]> {
  const { text, params } = keysetStatement(q, limit, cursor);
  const { rows } = await sql.query(text, params);
  return rows.map(map);
}

/**
 * The keyset page for hand-written SQL: one statement whatever the page size, the total count of
 * the filter as an uncorrelated subquery (computed once); a second statement only for the count
 * of an empty page. `map` turns a row into what the edges carry.
 *
 * With a `countLimit` (a search, whose filter goes through an index), the page is read first and
 * counted only when it cannot be the whole answer: a first page that is not full is the count. A
 * search that finds a handful of orders then reads its index once instead of twice (page and
 * count); one with more than a page reads it twice, as always.
 */
export function sqlKeysetPage<T extends { createdAt: Date; id: string }>(
  sql: Sql,
  q: SqlPageQuery,
  first: number,
  cursor: Cursor | null,
  map: (row: Record<string, unknown>) => T,
): Promise<Connection<T>> {
  return keyset(first, cursor, async (limit, cursor) => {
    const count = countStatement(q);
    if (q.countLimit !== undefined) {
      const { text, params } = keysetStatement(q, limit, cursor);
      const { rows } = await sql.query(text, params);
      if (!cursor && rows.length < limit) return { rows: rows.map(map), totalCount: rows.length };
      const counted = await sql.query(count, q.params);
      return { rows: rows.map(map), totalCount: counted.rows[0].n };
    }
    const { text, params } = keysetStatement(q, limit, cursor, `, (${count}) as total_count`);
    const { rows } = await sql.query(text, params);
    if (rows.length) return { rows: rows.map(map), totalCount: rows[0].total_count };
    const counted = await sql.query(count, q.params);
    return { rows: [], totalCount: counted.rows[0].n };
  });
}
