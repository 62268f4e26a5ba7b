import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { getOperationAST, type GraphQLError } from "graphql";
import { isClientError } from "../http/errors";
import { operations, recordErrorCode } from "./metrics";

/**
 * Counts and times every GraphQL HTTP request by operation (`orderline_graphql_requests_total`,
 * `orderline_graphql_request_duration_seconds`) and counts the errors clients received by code
 * (`orderline_graphql_errors_total`). Per request: one closure (the start time), one Map lookup,
 * a few additions; no labels objects, no strings.
 *
 * The operation is the one Apollo resolved from the parsed document (never the client's raw
 * `operationName` or the query text); when validation failed, the one the parsed document names.
 */
export function metricsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    // Refused before a request pipeline exists (no willSendResponse): bad credentials, a failing
    // viewer lookup (context creation), CSRF prevention, a body that is not a GraphQL request.
    async contextCreationDidFail({ error }) {
      operations.unresolved.increment("http");
      recordErrorCode(isClientError(error) ? (error as GraphQLError).extensions.code : "INTERNAL_SERVER_ERROR");
    },
    async invalidRequestWasReceived() {
      operations.unresolved.increment("http");
      recordErrorCode("BAD_REQUEST");
    },
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operation, document, request, response }) {
          const op = operation ?? (document ? getOperationAST(document, request.operationName) : null);
          operations.seriesOf(op).observeHttp((performance.now() - started) / 1000);
          // Formatted by now: the codes of the masked errors, as the client sees them.
          if (response.body.kind === "single") {
            const errors = response.body.singleResult.errors;
            if (errors) for (const e of errors) recordErrorCode(e.extensions?.code);
          }
        },
      };
    },
  };
}
