import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import type { GatewayInterface } from "@apollo/server-gateway-interface";
import { GraphQLError, printSchema, type DocumentNode } from "graphql";
import type { GraphQLContext } from "../resolvers/context";
import type { GraphQLEngine } from "./engine";

/**
 * The engine (engine.ts) plugged into Apollo, which stays the HTTP protocol layer. Apollo is
 * configured without a document store of its own (graphql.ts: `documentStore: null`):
 *
 * - documents: once Apollo has the query text (`didResolveSource`), the engine's cache gives the
 *   parsed document; when it is valid, Apollo takes it as it is and neither parses nor validates
 *   (with no document store it keeps a document already set, requestPipeline.ts). A document that
 *   does not parse or validate is left to Apollo, which parses and validates it again with the
 *   same limits and rules to answer with its own error shapes and statuses;
 * - the cost check (`didResolveOperation`): the engine's, as on WebSocket;
 * - execution: through Apollo's gateway interface, its way of accepting a custom executor.
 */
export function enginePlugin(engine: GraphQLEngine): ApolloServerPlugin<GraphQLContext> {
  // The hooks read everything from their argument: one listener object serves every request.
  const listener: GraphQLRequestListener<GraphQLContext> = {
    async didResolveSource(rc) {
      let entry;
      try {
        entry = engine.documents.get(rc.source);
      } catch {
        return; // a syntax error: Apollo parses it and answers GRAPHQL_PARSE_FAILED
      }
      if (entry.errors.length === 0) (rc as { document?: DocumentNode }).document = entry.document;
    },
    async didResolveOperation({ document, operationName, request }) {
      const error = engine.check(document, operationName, request.variables);
      if (error) throw error; // refused requests are 400 and never reach a resolver
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/** The engine as Apollo's executor: `engine.run` for the operation Apollo resolved. */
export function engineGateway(engine: GraphQLEngine): GatewayInterface {
  const sdl = printSchema(engine.schema);
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
          return engine.run({
            source: rc.source ?? rc.request.query ?? "",
            document: rc.document,
            operation: rc.operation,
            operationName: rc.operationName,
            contextValue: rc.context as never,
            variables: rc.request.variables,
            onTimeout: () => {
              if (rc.response?.http) rc.response.http.status = 503;
            },
          });
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: engine.schema, coreSupergraphSdl: sdl });
      return () => undefined;
    },
    async stop() {},
  };
}
