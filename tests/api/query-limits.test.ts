import { getIntrospectionQuery } from "graphql";
import { describe, expect, it } from "vitest";
import { QUERY_LIMITS } from "../../src/http/limits";
import { codes, gql } from "../helpers/api";
import { brandWithProducts } from "../helpers/fixtures";
import { subscribe } from "../helpers/ws";

/** order → paymentAttempts → order → … : `levels` selection levels deep. */
function deepOrderQuery(levels: number): string {
  let inner = "id";
  for (let i = 1; i < levels; i++) inner = i % 2 ? `paymentAttempts { ${inner} }` : `order { ${inner} }`;
  return `query Deep($id: ID!) { order(id: $id) { ${inner} } }`;
}

const ID = { id: "00000000-0000-4000-8000-000000000000" };

describe("query shape limits over HTTP", () => {
  it(`refuses depth above ${QUERY_LIMITS.maxDepth} before executing, and executes a query just within it`, async () => {
    // graphql-armor counts one level more than selection levels here; the chain alternates
    // order/paymentAttempts, so valid queries have an even number of levels.
    const tooDeep = await gql(deepOrderQuery(QUERY_LIMITS.maxDepth), ID); // depth 11
    expect(tooDeep.status).toBe(400);
    expect(new Set(codes(tooDeep))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
    expect(tooDeep.errors?.[0].message).toMatch(/depth/i);
    expect(codes(await gql(deepOrderQuery(QUERY_LIMITS.maxDepth - 2), ID))).toEqual(["NOT_FOUND"]); // depth 9: executed
  });

  it(`refuses more than ${QUERY_LIMITS.maxAliases} aliases and more than ${QUERY_LIMITS.maxDirectives} directives`, async () => {
    const aliases = Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: me { anonymous }`).join(" ");
    expect(new Set(codes(await gql(`{ ${aliases} }`)))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
    const ok = Array.from({ length: QUERY_LIMITS.maxAliases }, (_, i) => `a${i}: me { anonymous }`).join(" ");
    expect(codes(await gql(`{ ${ok} }`))).toEqual([]);
    const directives = Array.from({ length: QUERY_LIMITS.maxDirectives + 1 }, () => "@include(if: true)").join(" ");
    expect(new Set(codes(await gql(`{ me ${directives} { anonymous } }`)))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
  });

  it(`stops parsing after ${QUERY_LIMITS.maxTokens} tokens`, async () => {
    const fields = Array.from({ length: QUERY_LIMITS.maxTokens }, () => "anonymous").join(" ");
    const r = await gql(`{ me { ${fields} } }`);
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(["GRAPHQL_PARSE_FAILED"]);
  });

  it("lets GraphiQL's introspection query through", async () => {
    const r = await gql(getIntrospectionQuery());
    expect(codes(r)).toEqual([]);
    expect(r.data.__schema.queryType.name).toBe("Query");
  });
});

describe("query shape limits over WebSocket", () => {
  it("applies the same limits to subscriptions", async () => {
    const brand = await brandWithProducts();
    let inner = "id";
    for (let i = 1; i < QUERY_LIMITS.maxDepth; i++) inner = i % 2 ? `paymentAttempts { ${inner} }` : `order { ${inner} }`;
    const deep = await subscribe(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { order { ${inner} } } }`, { b: brand.brandId }, { token: brand.owner.token });
    await deep.done;
    expect(deep.events[0].errors?.[0]).toMatchObject({ message: expect.stringMatching(/depth/i), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    await deep.close();
    const fields = Array.from({ length: QUERY_LIMITS.maxTokens }, () => "status").join(" ");
    const big = await subscribe(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { ${fields} } }`, { b: brand.brandId }, { token: brand.owner.token });
    await big.done;
    expect(big.events[0].errors?.[0].message).toMatch(/token/i);
    // An ordinary mistake is a coded validation error too, not an internal one.
    const unknown = await subscribe(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { nope } }`, { b: brand.brandId }, { token: brand.owner.token });
    await unknown.done;
    expect(unknown.events[0].errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    await unknown.close();
    await big.close();
  });
});
