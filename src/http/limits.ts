import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/**
 * Query shape limits, the same on HTTP and WebSocket. Set from our real clients with room to spare:
 * the board's deepest query (orders → edges → node → paymentAttempts → …) is 5 levels, GraphiQL's
 * introspection query is exempt from the depth rule; no client needs more than a handful of
 * aliases or directives, and the largest client document has about 300 tokens.
 */
export const QUERY_LIMITS = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 2_000,
} as const;

// Report a refusal as a validation error (the rules throw by default, which Apollo answers as 500).
const report = { propagateOnRejection: false, exposeLimits: true, onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err)] };

export const limitRules: ValidationRule[] = [
  maxDepthRule({ n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, ...report }),
  maxAliasesRule({ n: QUERY_LIMITS.maxAliases, ...report }),
  maxDirectivesRule({ n: QUERY_LIMITS.maxDirectives, ...report }),
] as ValidationRule[];

/** graphql's own parser stops after maxTokens (before building a huge AST). */
export const parseOptions = { maxTokens: QUERY_LIMITS.maxTokens };

/** For graphql-ws: the same parse limit and rules as Apollo applies over HTTP. */
export const limitedParse = (source: string) => parse(source, parseOptions);
export const limitedValidate = (schema: GraphQLSchema, document: DocumentNode) => validate(schema, document, [...specifiedRules, ...limitRules]);
