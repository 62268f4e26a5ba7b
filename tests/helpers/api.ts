import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type DocumentNode } from "graphql";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export const apiUrl = () => inject("apiUrl");
export const graphqlUrl = () => `${inject("apiUrl")}/graphql`;

/**
 * A client address from the IPv6 documentation range (never routed), unique per call site and in a
 * /64 of its own (per-address limits count an IPv6 client by its /64). `TEST_CLIENT_IP` is this
 * test file's, sent as X-Forwarded-For by default; the test server trusts loopback proxies, so
 * per-IP rate limits are per test file.
 */
export const testClientIp = () => `2001:db8:${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}::${randomUUID().slice(0, 4)}`;

/** Another address in the same /64 as `ip` (an address from testClientIp): the same client for per-address limits. */
export const sameNetwork = (ip: string) => `${ip.slice(0, ip.indexOf("::"))}::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;
export const TEST_CLIENT_IP = testClientIp();

export interface Auth {
  token?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Another API process's base URL (default: the run's API). */
  api?: string;
}

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; [k: string]: unknown };
}

export interface GraphQLResult<T> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors: GraphQLErrorShape[] | undefined;
  body: any;
}

/** POSTs one operation to the running API over real HTTP. */
export async function gql<T = any, V = Record<string, unknown>>(
  document: TypedDocumentNode<T, V> | DocumentNode | string,
  variables?: V,
  auth: Auth = {},
): Promise<GraphQLResult<T>> {
  const query = typeof document === "string" ? document : print(document);
  // As current GraphQL clients send it; a request error is then HTTP 400 (application/json-only
  // clients get 200, see jsonClientStatusPlugin).
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json;q=0.9",
    "x-forwarded-for": TEST_CLIENT_IP,
    ...auth.headers,
  };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
  const url = auth.api ? `${auth.api}/graphql` : graphqlUrl();
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, data: body?.data, errors: body?.errors, body };
}

/** Like `gql`, but fails the test unless the operation succeeded; returns `data`. */
export async function ok<T = any, V = Record<string, unknown>>(
  document: TypedDocumentNode<T, V> | DocumentNode | string,
  variables?: V,
  auth: Auth = {},
): Promise<T> {
  const r = await gql(document, variables, auth);
  if (r.status !== 200 || r.errors?.length || !r.data) {
    throw new Error(`operation failed (HTTP ${r.status}): ${JSON.stringify(r.body)}`);
  }
  return r.data;
}

/** The codes of a result's errors, in order. */
export const codes = (r: GraphQLResult<unknown>) => (r.errors ?? []).map((e) => e.extensions?.code);

export const uniqueEmail = (prefix = "user") => `${prefix}-${randomUUID().slice(0, 8)}@example.test`;

let pool: pg.Pool | undefined;
/** Direct SQL on the test database, for counting rows (never for setting up state the API could set up). */
export function db(): pg.Pool {
  return (pool ??= new pg.Pool({ connectionString: inject("databaseUrl"), max: 4 }));
}

export async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db().query(`select count(*)::int as n from (${sql}) q`, params);
  return rows[0].n;
}
