import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  OperationTypeNode,
  visit,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { MAX_PAGE_SIZE } from "../services/pagination";
import { LIST_BOUNDS, MAX_ALIAS_LENGTH, TEXT_WEIGHTS } from "./list-bounds";

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
  /**
   * Cost: every field 1 plus its children; a paginated field's children count `first` times
   * (default 20). At the largest page (100) our costliest client document, fans with their coupon
   * deliveries and every try, costs 3,201 and the board's orders page 1,701 (tests/unit/query-cost
   * prints them); 5,000 leaves room for one such page plus small lookups and refuses aliased
   * repetitions of big pages. Without a paginated field the token limit keeps the cost below 2,000.
   */
  maxCost: 5_000,
} as const;

// Report a refusal as a validation error (the rules throw by default, which Apollo answers as 500).
const report = { propagateOnRejection: false, exposeLimits: true, onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err)] };

const shapeRules = [
  maxDepthRule({ n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, ...report }),
  maxAliasesRule({ n: QUERY_LIMITS.maxAliases, ...report }),
  maxDirectivesRule({ n: QUERY_LIMITS.maxDirectives, ...report }),
] as ValidationRule[];

/**
 * `@skip`/`@include` on a subscription's root field: graphql-js 16 cannot validate (it throws) or
 * execute (it crashes) such a subscription, and a subscription without its root field means
 * nothing. Refused as a validation error.
 */
export const NoDirectivesOnSubscriptionRootRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation !== OperationTypeNode.SUBSCRIPTION) return;
    for (const selection of node.selectionSet.selections) {
      if (selection.directives?.length) {
        context.reportError(new GraphQLError("A subscription's root field cannot carry directives such as @skip or @include", { nodes: [selection] }));
      }
    }
  },
});

/** An alias is the answer's key for every item of its list: longer than MAX_ALIAS_LENGTH is refused. */
export const MaxAliasLengthRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.alias && node.alias.value.length > MAX_ALIAS_LENGTH) {
      context.reportError(new GraphQLError(`Aliases are limited to ${MAX_ALIAS_LENGTH} characters`, { nodes: [node.alias] }));
    }
  },
});

/** The validation rules added to graphql's own; with introspection off, `__schema`/`__type` are refused too. */
export const limitRules = (options: { introspection: boolean }): ValidationRule[] =>
  options.introspection
    ? [...shapeRules, MaxAliasLengthRule, NoDirectivesOnSubscriptionRootRule]
    : [...shapeRules, MaxAliasLengthRule, NoDirectivesOnSubscriptionRootRule, NoSchemaIntrospectionCustomRule];

/** The answer to a subscription sent over HTTP (serve-graphql.ts refuses it before Apollo validates it). */
export const SUBSCRIPTION_OVER_HTTP = "Subscriptions go over WebSocket (graphql-ws) on this path; this request holds a subscription operation";

/** graphql's own parser stops after maxTokens (before building a huge AST). */
export const parseOptions = { maxTokens: QUERY_LIMITS.maxTokens };

/** The engine's parse and validation (engine-cache.ts); Apollo is given the same limit and rules for the documents it re-checks. */
export const limitedParse = (source: string) => parse(source, parseOptions);
export const limitedValidate = (rules: ValidationRule[]) => (schema: GraphQLSchema, document: DocumentNode) => {
  try {
    return validate(schema, document, [...specifiedRules, ...rules]);
  } catch (e) {
    // A rule that throws (graphql-js's own can, on odd documents) is a refusal, not a crash.
    return [
      new GraphQLError(e instanceof GraphQLError ? e.message : "The document could not be validated", { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }),
    ];
  }
};

const DEFAULT_PAGE = 20;

/**
 * The largest answer an accepted document can produce. The cost is at least the number of fields
 * in the answer (every field costs 1 per item its list can hold), so at most `maxCost` fields; and
 * each unit of cost stands for at most 320 characters of value (longer texts weigh more:
 * TEXT_WEIGHTS), i.e. ≤ 960 bytes of UTF-8, plus a key of at most 32 characters (MAX_ALIAS_LENGTH;
 * schema names are shorter): ≤ 1,000 bytes per unit, 5 MB of `data`. A field that fails adds one
 * error entry (message, path, code) of about the same size at most. Measured worst so far (on a
 * brand with 100 products and 2,000-character URLs, tests/api/bounded-answers.test.ts): 3.8 MB.
 */
export const LARGEST_ANSWER = { fields: QUERY_LIMITS.maxCost, dataBytes: QUERY_LIMITS.maxCost * 1_000 } as const;

export interface OperationCost {
  cost: number;
  /** The first paginated field whose `first` is outside 1..100, with the value it got. */
  badPage?: { field: string; value: unknown };
}

/**
 * The operation's cost with its variables: every field 1 plus its children; a paginated field's
 * children count `first` times (default 20), any other list's children as many times as it can
 * hold items (LIST_BOUNDS). A list item costs at least 1 even when all its fields are skipped.
 * Undefined when the variables do not coerce. What this bounds: LARGEST_ANSWER.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): OperationCost | undefined {
  let badPage: OperationCost["badPage"];
  const estimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
    if (!field.args.some((a) => a.name === "first")) {
      const key = `${type.name}.${field.name}`;
      const bound = LIST_BOUNDS[key];
      if (bound !== undefined) return 1 + bound * Math.max(1, childComplexity);
      return (TEXT_WEIGHTS[key] ?? 1) + childComplexity;
    }
    const first = args.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      badPage ??= { field: field.name, value: first };
      return 1 + childComplexity;
    }
    return 1 + childComplexity * first;
  };
  try {
    const cost = getComplexity({ schema, query: document, operationName: operationName ?? undefined, variables: variables ?? {}, estimators: [estimator] });
    return { cost, badPage };
  } catch {
    return undefined;
  }
}

// The cost depends on the document and only on the variables used by `first` and by directives
// (@include/@skip); measuring takes ~100 µs (a validation pass), so results are kept per parsed
// document (the engine's cache hands out the same parsed document for a known text) and those variables' values.
// Only successful measurements are kept: a failed coercion must not stand for a later valid call.
const costCache = new WeakMap<DocumentNode, { variables: string[]; results: Map<string, OperationCost> }>();
const MAX_COSTS_PER_DOCUMENT = 100;

function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Field(node) {
      for (const arg of node.arguments ?? []) if (arg.name.value === "first" && arg.value.kind === Kind.VARIABLE) names.add(arg.value.name.value);
    },
    Directive(node) {
      for (const arg of node.arguments ?? []) if (arg.value.kind === Kind.VARIABLE) names.add(arg.value.name.value);
    },
  });
  return [...names];
}

function cachedOperationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): OperationCost | undefined {
  let entry = costCache.get(document);
  if (!entry) costCache.set(document, (entry = { variables: costVariables(document), results: new Map() }));
  const key = `${operationName ?? ""}\u0000${JSON.stringify(entry.variables.map((v) => variables?.[v] ?? null))}`;
  const known = entry.results.get(key);
  if (known) return known;
  const measured = operationCost(schema, document, operationName, variables);
  if (measured && entry.results.size < MAX_COSTS_PER_DOCUMENT) entry.results.set(key, measured);
  return measured;
}

/**
 * Checks what needs the variables, once the operation is known and before anything executes:
 * every `first` is 1..100 (also when it comes from a variable: BAD_USER_INPUT naming the
 * argument) and the operation's cost is at most `maxCost`. Returns the error to answer with, if
 * any. Variables that do not fit their types are left to execution, which reports them with
 * their path.
 */
export function checkOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  maxCost: number = QUERY_LIMITS.maxCost,
): GraphQLError | undefined {
  const measured = cachedOperationCost(schema, document, operationName, variables);
  if (!measured) return undefined;
  const { cost, badPage } = measured;
  if (badPage) {
    return new GraphQLError(`first: must be from 1 to ${MAX_PAGE_SIZE} (got ${JSON.stringify(badPage.value)} for ${badPage.field})`, {
      extensions: { code: "BAD_USER_INPUT", field: "first", http: { status: 400 } },
    });
  }
  if (cost > maxCost) {
    return new GraphQLError(`Query cost ${cost} exceeds the limit of ${maxCost}; ask for fewer items or fields`, {
      extensions: { code: "QUERY_TOO_COMPLEX", cost, limit: maxCost, http: { status: 400 } },
    });
  }
  return undefined;
}
