import {
  GraphQLError,
  execute as executeWithGraphQLJs,
  valueFromASTUntyped,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
  type VariableDefinitionNode,
} from "graphql";
import { getVariableValues } from "graphql/execution/values";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { underDeadline, type Deadline } from "./deadline";
import { limitedParse, limitedValidate } from "./limits";

/**
 * The GraphQL engine behind both transports: parsing and validating documents once per text
 * (`ValidatedDocuments`), compiling operations with graphql-jit (`CompiledOperations`, one LRU
 * cache class), coercing variables, executing under the request deadline and normalising
 * graphql-jit's errors (`withGraphQLErrors`). HTTP reaches it through Apollo's gateway interface
 * (jit-executor.ts; Apollo parses and validates with its own document cache, with the same limits,
 * and runs the cost check in a plugin); WebSocket subscriptions through graphql-ws's `onSubscribe`
 * and `subscribe` (ws.ts, ws-subscribe.ts, which shares one execution per event among
 * subscribers). Parse limits, validation rules and the cost check (checkOperation) are limits.ts's.
 */

/** Distinct operations kept compiled per cache (least recently used dropped). */
export const MAX_COMPILED = 1_000;
/**
 * ... and, where a cache is given it, at most this much document text: a compiled document keeps
 * ~30 times its text in memory (7 KB for the board's, 210 KB for 15 aliases of a whole order:
 * bench/jit-compile.cjs), so 1,000 of the largest would hold 200 MB; this bounds it to ~15 MB.
 */
export const MAX_COMPILED_CHARS = 512 * 1024;

/** Parsed and validated documents kept per transport (WebSocket; Apollo keeps its own for HTTP). */
export const MAX_DOCUMENTS = 1_000;
export const MAX_DOCUMENT_CHARS = 1024 * 1024;

/** A map that drops its least recently used entries past `maxEntries` entries or `maxWeight` in total. */
export class Lru<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private weight = 0;

  constructor(private readonly limits: { maxEntries: number; maxWeight: number }) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const known = this.entries.get(key);
    if (!known) return undefined;
    this.entries.delete(key); // refresh its place in the LRU order
    this.entries.set(key, known);
    return known.value;
  }

  set(key: string, value: V, weight: number): void {
    const known = this.entries.get(key);
    if (known) this.weight -= known.weight;
    this.entries.delete(key);
    this.entries.set(key, { value, weight });
    this.weight += weight;
    while (this.entries.size > this.limits.maxEntries || this.weight > this.limits.maxWeight) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.weight -= entry.weight;
    }
  }
}

export interface OperationToCompile {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
}

/**
 * graphql-jit's compiled operations, least recently used dropped past `maxOperations` entries or
 * `maxChars` of weight (each entry weighs what `get` is told). An operation graphql-jit cannot
 * compile is kept as null: graphql-js executes it (`execute`).
 */
export class CompiledOperations {
  private readonly cache: Lru<CompiledQuery | null>;

  constructor({ maxOperations, maxChars }: { maxOperations: number; maxChars: number } = { maxOperations: MAX_COMPILED, maxChars: Infinity }) {
    this.cache = new Lru({ maxEntries: maxOperations, maxWeight: maxChars });
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * The operation compiled, from the cache or compiled now and kept. When `mayCompile` says no (a
   * budget), null and nothing is kept; a compiler that throws gives null too (nothing kept).
   */
  get(key: string, weight: number, operation: OperationToCompile, mayCompile: () => boolean = () => true): CompiledQuery | null {
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    if (!mayCompile()) return null; // over budget: graphql-js, nothing kept
    let query: CompiledQuery | null;
    try {
      const result = compileQuery(operation.schema, operation.document, operation.operationName ?? undefined);
      query = isCompiledQuery(result) ? result : null;
    } catch {
      return null; // graphql-js executes it
    }
    this.cache.set(key, query, weight);
    return query;
  }
}

/**
 * Documents parsed (limits.ts's token limit) and validated (graphql's rules and ours) once per
 * text: a board's sockets subscribe with the same few documents, and the cost check's cache
 * (limits.ts, per parsed document) then hits too. Parse errors are not kept.
 */
export class ValidatedDocuments {
  private readonly cache: Lru<{ document: DocumentNode; errors: readonly GraphQLError[] }>;
  private readonly validateDocument: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];

  constructor(
    private readonly schema: GraphQLSchema,
    rules: ValidationRule[],
    limits = { maxEntries: MAX_DOCUMENTS, maxWeight: MAX_DOCUMENT_CHARS },
  ) {
    this.cache = new Lru(limits);
    this.validateDocument = limitedValidate(rules);
  }

  /** The document and its validation errors (none: valid). Throws the parse error, as graphql's `parse`. */
  get(source: string): { document: DocumentNode; errors: readonly GraphQLError[] } {
    let entry = this.cache.get(source);
    if (!entry) {
      const document = limitedParse(source);
      entry = { document, errors: this.validateDocument(this.schema, document) };
      this.cache.set(source, entry, source.length);
    }
    return entry;
  }
}

/**
 * The request's variables coerced by graphql-js (its errors are the ones Apollo recognises and
 * answers as BAD_USER_INPUT naming the variable's path; graphql-jit words them otherwise), then
 * passed on as sent with the operation's defaults filled in (`withDefaults`).
 */
export function prepareVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): { errors: readonly GraphQLError[] } | { variables: Record<string, unknown> } {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return { errors: coerced.errors };
  return { variables: withDefaults(operation.variableDefinitions, variables) };
}

/**
 * The request's variables with the operation's defaults filled in for the absent ones: graphql-js
 * applies a default to `$id: ID! = "…"` when the variable is absent, graphql-jit (given the raw
 * variables) refuses it. Defaults are literals of the document, passed as a client would send them.
 */
export function withDefaults(
  definitions: readonly VariableDefinitionNode[] | undefined,
  variables: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const given = variables ?? {};
  let filled: Record<string, unknown> | undefined;
  for (const def of definitions ?? []) {
    const name = def.variable.name.value;
    if (def.defaultValue && !(name in given)) (filled ??= { ...given })[name] = valueFromASTUntyped(def.defaultValue);
  }
  return filled ?? given;
}

export interface Execution extends OperationToCompile {
  /** The compiled operation, or null: graphql-js executes the document. */
  query: CompiledQuery | null;
  rootValue: unknown;
  contextValue: { deadline?: Deadline & { ms: number }; log?: { warn(obj: object, msg: string): void } };
  /** Variables as prepared by `prepareVariables`. */
  variables: Record<string, unknown>;
  /** REQUEST_TIMEOUT_MS: past it the result is TIMEOUT and the remaining resolvers do not run (deadline.ts). */
  deadlineMs?: number;
  /** Called when the deadline passes (HTTP answers 503). */
  onTimeout?: () => void;
}

/** Executes one operation (compiled, or with graphql-js), under the deadline, errors normalised. */
export async function execute(e: Execution): Promise<ExecutionResult> {
  const run = () =>
    e.query
      ? e.query.query(e.rootValue, e.contextValue, e.variables)
      : executeWithGraphQLJs({
          schema: e.schema,
          document: e.document,
          operationName: e.operationName,
          rootValue: e.rootValue,
          contextValue: e.contextValue,
          variableValues: e.variables,
        });
  const result = e.deadlineMs ? await underDeadline(e.contextValue, e.deadlineMs, run, e.onTimeout) : await run();
  return withGraphQLErrors(result);
}

/**
 * graphql-jit reports a resolver's unexpected error (a database error, a bug) as its own error
 * object without `extensions`, on which Apollo's error formatting throws — Apollo then answers a
 * bare "Internal server error" without path or locations and never calls our formatError. Such
 * errors become graphql-js GraphQLErrors (same message, path, locations, original error), on HTTP
 * and WebSocket alike, so masking (errors.ts) treats them alike.
 */
export function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((e) => e.extensions === undefined)) return result;
  const errors = result.errors.map((e) => {
    if (e.extensions !== undefined) return e;
    // An argument that got null from a variable (a nullable variable with a default, sent as null,
    // used where null is not allowed): the caller's mistake, as graphql-js would report it.
    const argument = !e.originalError && /^Argument "(\w+)" of (?:non-null|required) type/.exec(e.message);
    if (argument) return new GraphQLError(e.message, { path: e.path, extensions: { code: "BAD_USER_INPUT", field: argument[1] } });
    const error = new GraphQLError(e.message, { path: e.path, originalError: e.originalError ?? e });
    (error as { locations?: unknown }).locations = e.locations;
    return error;
  });
  return { ...result, errors };
}
