import type { GatewayInterface } from "@apollo/server-gateway-interface";
import { printSchema, type GraphQLSchema } from "graphql";
import { getVariableValues } from "graphql/execution/values";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";

const MAX_COMPILED = 1_000; // distinct operations kept compiled (least recently used dropped)

/**
 * Executes queries and mutations with graphql-jit: each distinct operation is compiled once into a
 * specialised function (cached by Apollo's query hash), which removes most of graphql-js's
 * per-field interpretation. Plugged into Apollo through its gateway interface, which is how Apollo
 * accepts a custom executor; parsing, validation, plugins and formatError stay Apollo's.
 * Subscriptions (graphql-ws) keep graphql-js.
 */
export function jitExecutor(schema: GraphQLSchema): GatewayInterface {
  const compiled = new Map<string, CompiledQuery>();
  const sdl = printSchema(schema);
  return {
    async load() {
      return {
        executor: async (rc) => {
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
          return query.query(undefined, rc.context, rc.request.variables ?? {});
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
