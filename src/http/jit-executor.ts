import type { GatewayInterface } from "@apollo/server-gateway-interface";
import { GraphQLError, printSchema, valueFromASTUntyped, type ExecutionResult, type GraphQLSchema, type VariableDefinitionNode } from "graphql";
import { getVariableValues } from "graphql/execution/values";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { underDeadline, type Deadline } from "./deadline";

const MAX_COMPILED = 1_000; // distinct operations kept compiled (least recently used dropped)

/**
 * Executes queries and mutations with graphql-jit: each distinct operation is compiled once into a
 * specialised function (cached by Apollo's query hash), which removes most of graphql-js's
 * per-field interpretation. Plugged into Apollo through its gateway interface, which is how Apollo
 * accepts a custom executor; parsing, validation, plugins and formatError stay Apollo's.
 * Subscription events are executed with graphql-jit too, in ws-subscribe.ts.
 */
export function jitExecutor(schema: GraphQLSchema, { deadlineMs }: { deadlineMs: number }): GatewayInterface {
  const compiled = new Map<string, CompiledQuery>();
  const sdl = printSchema(schema);
  return {
    async load() {
      return {
        executor: async (rc) => {
          if (!rc.operation) {
            // operationName names no operation of the document: a client error, before compiling.
            if (rc.response?.http) rc.response.http.status = 400;
            const name = rc.operationName ?? rc.request.operationName;
            return { errors: [new GraphQLError(name ? `Unknown operation named "${name}".` : "Must provide operation name if query contains multiple operations.", { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })] };
          }
          // The deadline (REQUEST_TIMEOUT_MS): after it the answer is TIMEOUT (HTTP 503) at once and
          // the execution's remaining resolvers do not run (deadline.ts); a mutation's fields that
          // already ran keep their effects (each commits on its own), and its later ones never start.
          const key = `${rc.queryHash}:${rc.operationName ?? ""}`;
          let query = compiled.get(key);
          if (query) {
            compiled.delete(key); // refresh its place in the LRU order
          } else {
            const result = compileQuery(rc.schema, rc.document, rc.operationName ?? undefined);
            if (!isCompiledQuery(result)) return result; // errors (e.g. an unknown operation)
            query = result;
            if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
          }
          compiled.set(key, query);
          // Variables are coerced by graphql-js first: its errors are the ones Apollo recognises and
          // answers as BAD_USER_INPUT naming the variable's path (graphql-jit words them otherwise).
          const coerced = getVariableValues(rc.schema, rc.operation.variableDefinitions ?? [], rc.request.variables ?? {});
          if (coerced.errors) return { errors: coerced.errors };
          const variables = withDefaults(rc.operation.variableDefinitions, rc.request.variables);
          const result = await underDeadline(
            rc.context as { deadline?: Deadline & { ms: number } },
            deadlineMs,
            () => query.query(undefined, rc.context, variables),
            () => {
              if (rc.response?.http) rc.response.http.status = 503;
            },
          );
          return withGraphQLErrors(result);
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: sdl });
      return () => undefined;
    },
    async stop() {},
  };
}

/**
 * graphql-jit reports a resolver's unexpected error (a database error, a bug) as its own error
 * object without `extensions`, on which Apollo's error formatting throws — Apollo then answers a
 * bare "Internal server error" without path or locations and never calls our formatError. Such
 * errors become graphql-js GraphQLErrors (same message, path, locations, original error).
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
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

/**
 * The request's variables with the operation's defaults filled in for the absent ones: graphql-js
 * applies a default to `$id: ID! = "…"` when the variable is absent, graphql-jit (given the raw
 * variables) refuses it. Defaults are literals of the document, passed as a client would send them.
 */
function withDefaults(definitions: readonly VariableDefinitionNode[] | undefined, variables: Record<string, unknown> | undefined): Record<string, unknown> {
  const given = variables ?? {};
  let filled: Record<string, unknown> | undefined;
  for (const def of definitions ?? []) {
    const name = def.variable.name.value;
    if (def.defaultValue && !(name in given)) (filled ??= { ...given })[name] = valueFromASTUntyped(def.defaultValue);
  }
  return filled ?? given;
}
