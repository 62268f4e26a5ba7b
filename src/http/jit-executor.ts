import type { GatewayInterface } from "@apollo/server-gateway-interface";
import { GraphQLError, printSchema, type GraphQLSchema } from "graphql";
import { CompiledOperations, execute, prepareVariables } from "./engine";

/**
 * The engine (engine.ts) plugged into Apollo through its gateway interface, which is how Apollo
 * accepts a custom executor: each distinct operation is compiled once by graphql-jit (cached by
 * Apollo's query hash), which removes most of graphql-js's per-field interpretation. Parsing,
 * validation, plugins (the cost check) and formatError stay Apollo's.
 */
export function jitExecutor(schema: GraphQLSchema, { deadlineMs }: { deadlineMs: number }): GatewayInterface {
  const compiled = new CompiledOperations();
  const sdl = printSchema(schema);
  return {
    async load() {
      return {
        executor: async (rc) => {
          if (!rc.operation) {
            // operationName names no operation of the document: a client error, before compiling.
            if (rc.response?.http) rc.response.http.status = 400;
            const name = rc.operationName ?? rc.request.operationName;
            return {
              errors: [
                new GraphQLError(name ? `Unknown operation named "${name}".` : "Must provide operation name if query contains multiple operations.", {
                  extensions: { code: "OPERATION_RESOLUTION_FAILURE" },
                }),
              ],
            };
          }
          const key = `${rc.queryHash}:${rc.operationName ?? ""}`;
          const query = compiled.get(key, key.length, rc);
          const prepared = prepareVariables(rc.schema, rc.operation, rc.request.variables);
          if ("errors" in prepared) return { errors: prepared.errors };
          // The deadline (REQUEST_TIMEOUT_MS): after it the answer is TIMEOUT (HTTP 503) at once and
          // the execution's remaining resolvers do not run (deadline.ts); a mutation's fields that
          // already ran keep their effects (each commits on its own), and its later ones never start.
          return execute({
            schema: rc.schema,
            document: rc.document,
            operationName: rc.operationName,
            query,
            rootValue: undefined,
            contextValue: rc.context as never,
            variables: prepared.variables,
            deadlineMs,
            onTimeout: () => {
              if (rc.response?.http) rc.response.http.status = 503;
            },
          });
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
