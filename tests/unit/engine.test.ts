import { GraphQLError, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from "graphql";
import { describe, expect, it } from "vitest";
import { withGraphQLErrors } from "../../src/http/engine";
import { CompiledOperations, ValidatedDocuments } from "../../src/http/engine-cache";
import { limitRules } from "../../src/http/limits";
import { sharedSubscribe } from "../../src/http/ws-subscribe";
import { EventStream } from "../../src/pubsub/event-stream";
import type { GraphQLContext } from "../../src/resolvers/context";

// `label(req: Int!)` fed by a nullable variable with a default (valid GraphQL) that the client sends
// as null: graphql-jit reports it as its own error object without `extensions`.
const Tick = new GraphQLObjectType({
  name: "Tick",
  fields: {
    n: { type: new GraphQLNonNull(GraphQLInt) },
    label: {
      type: GraphQLString,
      args: { req: { type: new GraphQLNonNull(GraphQLInt) } },
      resolve: (t: { n: number }, a: { req: number }) => `${t.n}/${a.req}`,
    },
    broken: {
      type: GraphQLString,
      resolve: () => {
        throw new Error("relation does not exist");
      },
    },
  },
});
const streams = new Set<EventStream<{ n: number }>>();
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { tick: { type: Tick, resolve: () => ({ n: 0 }) } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      ticks: {
        type: new GraphQLNonNull(Tick),
        subscribe: () => {
          const s: EventStream<{ n: number }> = new EventStream(() => streams.delete(s));
          streams.add(s);
          return s;
        },
        resolve: (event: { n: number }) => event,
      },
    },
  }),
});

async function firstEvent(query: string, variables: Record<string, unknown>): Promise<ExecutionResult> {
  const subscribe = sharedSubscribe({ executionContext: (ctx) => ({ ...ctx }) });
  const contextValue = { viewer: { kind: "none" }, requestId: "r" } as unknown as GraphQLContext;
  const stream = (await subscribe({ schema, document: parse(query), variableValues: variables, contextValue })) as AsyncIterableIterator<ExecutionResult>;
  const next = stream.next();
  for (const s of streams) s.push(Object.freeze({ n: 1 }));
  const result = (await next).value as ExecutionResult;
  await stream.return!();
  return result;
}

describe("the engine's error normalising (HTTP and WebSocket alike)", () => {
  it("reports an argument that got null from a variable as BAD_USER_INPUT naming it, on the WebSocket path too", async () => {
    const result = await firstEvent("subscription ($v: Int = 1) { ticks { n label(req: $v) } }", { v: null });
    expect(result.data).toEqual({ ticks: { n: 1, label: null } });
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toBeInstanceOf(GraphQLError);
    expect(result.errors![0].extensions).toEqual({ code: "BAD_USER_INPUT", field: "req" });
    expect(result.errors![0].path).toEqual(["ticks", "label"]);
  });

  it("turns a resolver's unexpected error into a GraphQLError keeping the original, without a code (masked later)", async () => {
    const result = await firstEvent("subscription { ticks { n broken } }", {});
    const error = result.errors![0];
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.extensions?.code).toBeUndefined();
    expect(error.path).toEqual(["ticks", "broken"]);
    expect(String((error.originalError as Error | undefined)?.message)).toMatch(/relation does not exist/);
  });

  it("leaves coded errors and error-free results as they are", () => {
    const ok: ExecutionResult = { data: { a: 1 } };
    expect(withGraphQLErrors(ok)).toBe(ok);
    const coded: ExecutionResult = { data: null, errors: [new GraphQLError("Not found", { extensions: { code: "NOT_FOUND" } })] };
    expect(withGraphQLErrors(coded)).toBe(coded);
  });
});

describe("CompiledOperations", () => {
  const operation = { schema, document: parse("{ tick { n } }") };

  it("compiles once per key, and drops the least recently used past its operation and weight bounds", () => {
    const cache = new CompiledOperations({ maxOperations: 2, maxChars: 100 });
    const a = cache.get("a", 10, operation);
    expect(a).not.toBeNull();
    expect(cache.get("a", 10, operation)).toBe(a);
    cache.get("b", 10, operation);
    cache.get("a", 10, operation); // a is now the most recent
    cache.get("c", 10, operation); // drops b
    expect(cache.size).toBe(2);
    expect(cache.get("a", 10, operation)).toBe(a);
    cache.get("heavy", 95, operation); // over 100 in weight: drops until it fits (heavy alone)
    expect(cache.size).toBe(1);
  });

  it("compiles nothing and keeps nothing when the budget says no", () => {
    const cache = new CompiledOperations();
    expect(cache.get("k", 1, operation, () => false)).toBeNull();
    expect(cache.size).toBe(0);
  });
});

describe("ValidatedDocuments", () => {
  it("parses and validates a text once, keeps its errors, and throws a parse error without keeping it", () => {
    const documents = new ValidatedDocuments(schema, limitRules({ introspection: false }));
    const first = documents.get("subscription { ticks { n } }");
    expect(first.errors).toEqual([]);
    expect(documents.get("subscription { ticks { n } }").document).toBe(first.document);
    expect(documents.get("{ __schema { types { name } } }").errors.length).toBeGreaterThan(0); // introspection off
    expect(() => documents.get("subscription {")).toThrow(/Syntax Error/);
  });
});
