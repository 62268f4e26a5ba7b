import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { GraphQLError } from "graphql";
import { ErrorCode } from "../errors";

/** Codes whose message is written for clients and may be shown as is. */
const CLIENT_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "QUERY_TOO_COMPLEX",
  "TIMEOUT",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

/** Extension keys a client may see besides `code`. */
const SAFE_EXTENSIONS = ["field", "problems", "retryAfter", "limit", "requires", "cost", "productId", "available"];

export const INTERNAL_MESSAGE = "Internal server error";
export const UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; try again shortly";

/** True when the error is an expected, client-facing outcome (not a bug or an infrastructure fault). */
export function isClientError(error: unknown): boolean {
  // graphql-js wraps whatever a resolver throws; only GraphQLErrors made by us or by the
  // GraphQL machinery (parse, validation, variables) with a known code count as expected.
  const original = unwrapResolverError(error);
  if (!(original instanceof GraphQLError)) return false;
  const code = original.extensions?.code;
  return typeof code === "string" && CLIENT_CODES.has(code);
}

/**
 * The one place errors are shaped for clients (HTTP and WebSocket): expected errors keep their
 * message, path and safe extensions; everything else becomes INTERNAL_SERVER_ERROR with no SQL,
 * stack or file path (the request id, added by the logging plugin, leads to the log entry).
 */
export function maskError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  return mask(formatted, error, true);
}

/** `maskError` for a configuration: without FIELD_SUGGESTIONS, "Did you mean …?" hints are cut (they reveal the schema). */
export const errorMasker =
  ({ fieldSuggestions }: { fieldSuggestions: boolean }) =>
  (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError =>
    mask(formatted, error, fieldSuggestions);

/** graphql-js's hints, e.g. `Cannot query field "nme" on type "User". Did you mean "name"?` */
export const withoutSuggestions = (message: string) => message.replace(/ ?Did you mean .+\?$/s, "");

function mask(formatted: GraphQLFormattedError, error: unknown, suggestions: boolean): GraphQLFormattedError {
  if (isClientError(error)) {
    const extensions: Record<string, unknown> = { code: formatted.extensions?.code };
    for (const key of SAFE_EXTENSIONS) {
      if (formatted.extensions?.[key] !== undefined) extensions[key] = formatted.extensions[key];
    }
    if (extensions.code === ErrorCode.BAD_USER_INPUT && extensions.field === undefined) {
      const field = coercionField(formatted.message);
      if (field) extensions.field = field;
    }
    const message = suggestions ? formatted.message : withoutSuggestions(formatted.message);
    return { message, locations: formatted.locations, path: formatted.path, extensions };
  }
  const original = unwrapResolverError(error);
  if (isStatementTimeout(original)) {
    return {
      message: "The database took too long to answer; try again",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: "TIMEOUT" },
    };
  }
  if (isDatabaseUnavailable(original)) {
    return { message: UNAVAILABLE_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: "SERVICE_UNAVAILABLE" } };
  }
  // An error we already masked (context creation) keeps its request id.
  const requestId = original instanceof GraphQLError && original.message === INTERNAL_MESSAGE ? original.extensions?.requestId : undefined;
  return {
    message: INTERNAL_MESSAGE,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...(typeof requestId === "string" ? { requestId } : {}) },
  };
}

/**
 * The input path named by a graphql-js variable coercion error, e.g. `input.lines[0].quantity` from
 * `Variable "$input" got invalid value "two" at "input.lines[0].quantity"; ...`, or the variable
 * itself (`Variable "$first" got invalid value ...`, `Variable "$input" of required type ... was not
 * provided.`), so every BAD_USER_INPUT names its field like the ones our services raise.
 */
export function coercionField(message: string): string | null {
  const m = /^Variable "\$(\w+)" (?:got invalid value .*? at "([^"]+)";|got invalid value |of required type )/s.exec(message);
  return m ? (m[2] ?? m[1]) : null;
}

/**
 * PostgreSQL cancelled a statement after `statement_timeout` (SQLSTATE 57014), as pg or MikroORM
 * reports it, however deeply wrapped (graphql-jit wraps a resolver's error once more).
 */
function isStatementTimeout(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; sqlState?: unknown; originalError?: unknown } | null | undefined, i = 0;
    e && i < 5;
    e = e.originalError as typeof e, i++
  ) {
    if (e.code === "57014" || e.sqlState === "57014") return true;
  }
  return false;
}

/**
 * The database cannot be reached or is restarting (connection refused or lost, PostgreSQL shutting
 * down or starting up, SQLSTATE class 08): an outage, answered SERVICE_UNAVAILABLE rather than as
 * a bug. Still logged as an error. When the connection of a transaction dies between two of its
 * statements, knex ends the transaction and the next statement fails with "Transaction query
 * already complete" instead of a connection error (seen in tests/faults when PostgreSQL stops
 * during the rate limiter's transaction); our code never runs statements after its own commit.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; name?: unknown; message?: unknown; originalError?: unknown; cause?: unknown } | null | undefined, i = 0;
    e && i < 5;
    e = (e.originalError ?? e.cause) as typeof e, i++
  ) {
    const code = typeof e.code === "string" ? e.code : "";
    if (["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "57P01", "57P02", "57P03"].includes(code) || code.startsWith("08")) return true;
    if (e.name === "ConnectionException") return true;
    if (
      typeof e.message === "string" &&
      /Connection terminated|connection timeout|Client has encountered a connection error|Transaction query already complete/i.test(e.message)
    )
      return true;
  }
  return false;
}
