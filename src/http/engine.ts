import {
  GraphQLError,
  Kind,
  OperationTypeNode,
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
import type { CompiledQuery } from "graphql-jit";
import type { Config } from "../config/env";
import { underDeadline, type Deadline } from "./deadline";
import { CompiledOperations, ValidatedDocuments, type CacheSize, type OperationToCompile } from "./engine-cache";
import { checkOperation, limitRules } from "./limits";

/**
 * The GraphQL engine behind both transports, one instance per transport (`createEngine`): parsing
 * and validating documents once per text (`documents`), the cost check (`check`), compiling
 * operations with graphql-jit (`compiled`), coercing variables, executing under the request
 * deadline and normalising graphql-jit's errors (`withGraphQLErrors`). Both caches are bounded
 * (engine-cache.ts) and their sizes are at /metrics.
 *
 * HTTP: Apollo stays the protocol layer (CSRF prevention, status codes, plugins, formatError) and
 * gets its documents, cost check and execution from here (apollo-engine.ts). WebSocket: graphql-ws's
 * `onSubscribe` (ws.ts) and `subscribe` (ws-subscribe.ts, which shares one execution per event
 * among subscribers). Parse limits, validation rules and the cost rules are limits.ts's.
 */

export type Transport = "http" | "ws";

export interface EngineLimits {
  /** Validation rules added to graphql's own (limits.ts's `limitRules`). */
  rules: ValidationRule[];
  /** QUERY_MAX_COST. */
  maxCost: number;
  /** REQUEST_TIMEOUT_MS: past it the result is TIMEOUT and the remaining resolvers do not run (deadline.ts). */
  deadlineMs: number;
}

/** The latest engine of each transport in this process: what the cache gauges at /metrics read. */
const engines = new Map<Transport, GraphQLEngine>();

export class GraphQLEngine {
  readonly documents: ValidatedDocuments;
  readonly compiled = new CompiledOperations();

  constructor(
    readonly schema: GraphQLSchema,
    readonly limits: EngineLimits,
    transport?: Transport,
  ) {
    this.documents = new ValidatedDocuments(schema, limits.rules);
    if (transport) engines.set(transport, this);
  }

  /**
   * Checks what needs the variables, once the operation is known and before anything executes:
   * every `first` 1..100 and the cost at most QUERY_MAX_COST (limits.ts's `checkOperation`).
   * The error to answer with, if any.
   */
  check(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): GraphQLError | undefined {
    return checkOperation(this.schema, document, operationName, variables ?? undefined, this.limits.maxCost);
  }

  /** True when the text parses and holds a subscription operation (parsed through the cache). */
  holdsSubscription(source: string): boolean {
    try {
      return this.documents
        .get(source)
        .document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === OperationTypeNode.SUBSCRIPTION);
    } catch {
      return false; // a syntax error: answered as such by whoever parses it next
    }
  }

  /**
   * One operation of a valid document (HTTP): compiled once per name and text, its variables
   * coerced, executed under the deadline. `onTimeout` runs when the deadline passes (HTTP 503).
   */
  async run(op: {
    source: string;
    document: DocumentNode;
    operation: OperationDefinitionNode;
    operationName: string | null | undefined;
    contextValue: Execution["contextValue"];
    variables: Record<string, unknown> | undefined;
    onTimeout?: () => void;
  }): Promise<ExecutionResult> {
    const { schema } = this;
    const query = this.compiled.compile({ schema, document: op.document, operationName: op.operationName, source: op.source });
    const prepared = prepareVariables(schema, op.operation, op.variables);
    if ("errors" in prepared) return { errors: prepared.errors };
    // After the deadline the answer is TIMEOUT at once and the execution's remaining resolvers do
    // not run (deadline.ts); a mutation's fields that already ran keep their effects (each commits
    // on its own), and its later ones never start.
    return execute({
      schema,
      document: op.document,
      operationName: op.operationName,
      query,
      rootValue: undefined,
      contextValue: op.contextValue,
      variables: prepared.variables,
      deadlineMs: this.limits.deadlineMs,
      onTimeout: op.onTimeout,
    });
  }
}

/** The engine of one transport, with the configured limits. */
export function createEngine(schema: GraphQLSchema, config: Pick<Config, "introspection" | "queryMaxCost" | "requestTimeoutMs">, transport: Transport) {
  return new GraphQLEngine(schema, { rules: limitRules(config), maxCost: config.queryMaxCost, deadlineMs: config.requestTimeoutMs }, transport);
}

/** How full each transport's caches are (GET /metrics). */
export function engineCacheUsage(): { transport: Transport; documents: CacheSize; compiled: CacheSize }[] {
  return [...engines].map(([transport, e]) => ({ transport, documents: e.documents.usage, compiled: e.compiled.usage }));
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
