// The board's only way to the API for queries and mutations: POST /graphql with the bearer token
// from sessionStorage. Every failure becomes an ApiError with the API's `extensions.code` (or
// NETWORK when the server could not be reached or did not answer with GraphQL).
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

const TOKEN_KEY = "orderline.board.token";

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  save(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

export interface RateLimit {
  scope: string;
  max: number;
  window: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    /** `extensions.code`, or NETWORK. */
    readonly code: string,
    readonly details: { retryAfter?: number; limit?: RateLimit; requestId?: string; httpStatus?: number } = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const GRAPHQL_PATH = "/graphql";
const printed = new WeakMap<object, string>();

function queryText(doc: TypedDocumentNode<unknown, unknown>): string {
  let text = printed.get(doc);
  if (!text) printed.set(doc, (text = print(doc)));
  return text;
}

interface ErrorJson {
  message?: string;
  extensions?: { code?: string; retryAfter?: number; limit?: RateLimit; requestId?: string };
}

/**
 * Runs one operation; returns its data or throws an ApiError. `anonymous` leaves the token out
 * (logging in). Partial results are treated as failures: the board never shows half an answer.
 */
export async function gql<R, V>(doc: TypedDocumentNode<R, V>, variables: V, opts: { anonymous?: boolean } = {}): Promise<R> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json;q=0.9",
  };
  const token = opts.anonymous ? null : session.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(GRAPHQL_PATH, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: queryText(doc as TypedDocumentNode<unknown, unknown>), variables }),
    });
  } catch {
    throw new ApiError("The server could not be reached", "NETWORK");
  }
  let body: { data?: R | null; errors?: ErrorJson[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The server answered HTTP ${res.status} without a GraphQL result`, "NETWORK", { httpStatus: res.status });
  }
  const error = body.errors?.[0];
  if (error) {
    const ext = error.extensions ?? {};
    throw new ApiError(error.message ?? "Unknown error", ext.code ?? "UNKNOWN", {
      retryAfter: typeof ext.retryAfter === "number" ? ext.retryAfter : undefined,
      limit: ext.limit,
      requestId: ext.requestId,
      httpStatus: res.status,
    });
  }
  if (!body.data) throw new ApiError(`The server answered HTTP ${res.status} without data`, "NETWORK", { httpStatus: res.status });
  return body.data;
}

/** ws(s)://<this host>/graphql */
export const wsUrl = () => `${location.origin.replace(/^http/, "ws")}${GRAPHQL_PATH}`;
