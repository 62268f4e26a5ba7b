import { ApolloServer } from "@apollo/server";
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineGateway, enginePlugin } from "../../src/http/apollo-engine";
import { GraphQLEngine } from "../../src/http/engine";
import { limitRules, parseOptions } from "../../src/http/limits";
import type { GraphQLContext } from "../../src/resolvers/context";

// The engine inside Apollo relies on one behaviour of Apollo's request pipeline: without a document
// store, a document set by a plugin in didResolveSource is taken as it is (neither parsed nor
// validated again). An Apollo upgrade that changes it fails here.

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: { n: { type: new GraphQLNonNull(GraphQLInt), args: { add: { type: GraphQLInt } }, resolve: (_r, a: { add?: number }) => 1 + (a.add ?? 0) } },
  }),
});
const engine = new GraphQLEngine(schema, { rules: limitRules({ introspection: false }), maxCost: 5, deadlineMs: 1_000 });
const parsed: string[] = [];
const apollo = new ApolloServer<GraphQLContext>({
  gateway: engineGateway(engine),
  documentStore: null,
  validationRules: engine.limits.rules,
  parseOptions,
  plugins: [
    enginePlugin(engine),
    {
      async requestDidStart({ request }) {
        return {
          async parsingDidStart() {
            parsed.push(request.query ?? "");
          },
        };
      },
    },
  ],
});
const run = async (query: string) => {
  const res = await apollo.executeOperation({ query }, { contextValue: {} as GraphQLContext });
  if (res.body.kind !== "single") throw new Error("incremental answer");
  return res.body.singleResult;
};

beforeAll(() => apollo.start());
afterAll(() => apollo.stop());

describe("the engine inside Apollo", () => {
  it("executes valid documents from the engine's cache: Apollo parses none of them", async () => {
    expect(await run("{ n }")).toEqual({ data: { n: 1 } });
    expect(await run("{ n }")).toEqual({ data: { n: 1 } });
    expect(await run("{ n(add: 2) }")).toEqual({ data: { n: 3 } }); // (variables: graphql-js is loaded twice under vitest)
    expect(parsed).toEqual([]);
    expect(engine.documents.usage.entries).toBe(2);
    expect(engine.compiled.usage.entries).toBe(2);
  });

  it("leaves documents that do not parse or validate to Apollo, which answers with its codes", async () => {
    expect((await run("{ n ")).errors?.[0].extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    expect((await run("{ nope }")).errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect((await run("{ __schema { types { name } } }")).errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED"); // engine's rules (introspection off)
    expect(parsed).toEqual(["{ n ", "{ nope }", "{ __schema { types { name } } }"]);
  });

  it("runs the engine's cost check before executing", async () => {
    expect((await run("{ a: n b: n c: n d: n e: n f: n }")).errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
  });
});
