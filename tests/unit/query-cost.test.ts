import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  Kind,
  buildSchema,
  parse,
  typeFromAST,
  type DocumentNode,
  type GraphQLInputType,
  type OperationDefinitionNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import { QUERY_LIMITS, checkOperation, operationCost } from "../../src/http/limits";

const ROOT = join(__dirname, "..", "..");
const schema = buildSchema(readFileSync(join(ROOT, "src/schema/schema.graphql"), "utf8"));

/**
 * The page sizes our clients use where the largest (100) would cost too much: a page of fans with
 * every coupon delivery and its tries costs 89 per fan (the cost rule charges a delivery's 10
 * tries, its 2,000-character URL and its error texts).
 */
const USUAL_PAGE: Record<string, number> = { Fans: 50 };

/** A value of the type (required fields only); `first` is the largest page (or the operation's usual one). */
function sample(type: GraphQLInputType, name: string, operation: string): unknown {
  if (type instanceof GraphQLNonNull) return sample(type.ofType, name, operation);
  if (type instanceof GraphQLList) return [sample(type.ofType, name, operation)];
  if (type instanceof GraphQLEnumType) return type.getValues()[0].value;
  if (type instanceof GraphQLInputObjectType) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) if (f.type instanceof GraphQLNonNull) out[f.name] = sample(f.type, f.name, operation);
    return out;
  }
  switch (type.name) {
    case "Int":
      return name === "first" ? (USUAL_PAGE[operation] ?? 100) : 1;
    case "Boolean":
      return true;
    case "DateTime":
      return "2026-01-01T00:00:00Z";
    default:
      return "00000000-0000-4000-8000-000000000000";
  }
}

/** Every operation our clients send: the admin board and the documents the tests use. */
function clientOperations(): { file: string; name: string; document: DocumentNode; variables: Record<string, unknown> }[] {
  const files = [
    join(ROOT, "src/web/admin/operations.graphql"),
    ...readdirSync(join(ROOT, "tests/graphql"))
      .filter((f) => f.endsWith(".graphql"))
      .map((f) => join(ROOT, "tests/graphql", f)),
  ];
  const out = [];
  for (const file of files) {
    const document = parse(readFileSync(file, "utf8"));
    for (const def of document.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION || !def.name) continue;
      const variables: Record<string, unknown> = {};
      for (const v of (def as OperationDefinitionNode).variableDefinitions ?? []) {
        variables[v.variable.name.value] = sample(typeFromAST(schema, v.type as never) as GraphQLInputType, v.variable.name.value, def.name.value);
      }
      out.push({ file: file.slice(ROOT.length + 1), name: def.name.value, document, variables });
    }
  }
  return out;
}

describe("query cost", () => {
  const operations = clientOperations();

  it("lets every operation of our clients through at the largest page size (or its usual one)", () => {
    expect(operations.length).toBeGreaterThan(20);
    const costs = operations.map((op) => ({ ...op, cost: operationCost(schema, op.document, op.name, op.variables)?.cost }));
    const top = [...costs].sort((a, b) => (b.cost ?? 0) - (a.cost ?? 0)).slice(0, 5);
    console.log(`highest client costs (limit ${QUERY_LIMITS.maxCost}): ${top.map((c) => `${c.name} ${c.cost}`).join(", ")}`);
    for (const c of costs) {
      expect(c.cost, `${c.file} ${c.name}`).toBeTypeOf("number");
      expect(checkOperation(schema, c.document, c.name, c.variables), `${c.file} ${c.name}`).toBeUndefined();
    }
    // The board's page of orders is the biggest, and it is multiplied by its page size.
    const board = costs.find((c) => c.name === "BoardOrders")!;
    expect(board.cost).toBeGreaterThan(1_000);
    expect(operationCost(schema, board.document, board.name, { ...board.variables, first: 10 })!.cost).toBeLessThan(board.cost! / 5);
  });

  it("counts a paginated field's children first times, and its default page when first is absent", () => {
    const doc = parse(`query Q($b: ID!, $n: Int) { orders(brandId: $b, first: $n) { edges { node { id number } } } }`);
    const vars = { b: "00000000-0000-4000-8000-000000000000" };
    // orders(1) + edges(1) + node(1) + id + number = 5 per item, not counting orders itself.
    expect(operationCost(schema, doc, "Q", { ...vars, n: 10 })!.cost).toBe(1 + 10 * 4);
    expect(operationCost(schema, doc, "Q", vars)!.cost).toBe(1 + 20 * 4);
  });

  it("refuses first outside 1..100 from a variable or a literal, naming the argument", () => {
    const doc = parse(`query Q($n: Int) { myOrders(first: $n) { totalCount } }`);
    for (const n of [101, 0, -1, 1_000_000]) {
      const error = checkOperation(schema, doc, "Q", { n });
      expect(error?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    }
    expect(checkOperation(schema, parse(`{ myOrders(first: 101) { totalCount } }`), undefined, {})?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(checkOperation(schema, doc, "Q", { n: 100 })).toBeUndefined();
    // A variable that does not coerce is left to execution (BAD_USER_INPUT with its path there).
    expect(checkOperation(schema, doc, "Q", { n: "many" })).toBeUndefined();
  });

  it("refuses aliased repetitions of big pages with QUERY_TOO_COMPLEX, cost and limit", () => {
    const page = (i: number) => `p${i}: orders(brandId: $b, first: 100) { edges { node { id number status total currency lines { productName quantity } } } }`;
    const doc = parse(`query Q($b: ID!) { ${Array.from({ length: 5 }, (_, i) => page(i)).join(" ")} }`);
    const error = checkOperation(schema, doc, "Q", { b: "00000000-0000-4000-8000-000000000000" });
    expect(error?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", limit: QUERY_LIMITS.maxCost });
    expect(error!.extensions.cost).toBeGreaterThan(QUERY_LIMITS.maxCost);
  });
});

describe("query cost cache", () => {
  it("answers from the values of the variables that matter, and never caches a failed coercion", () => {
    const doc = parse(
      `query Q($b: ID!, $n: Int, $withLines: Boolean!) { orders(brandId: $b, first: $n) { edges { node { id lines @include(if: $withLines) { quantity } } } } }`,
    );
    const b = "00000000-0000-4000-8000-000000000000";
    // A bad `first` next to a variable that does not coerce: not measured, not cached...
    expect(checkOperation(schema, doc, "Q", { b, n: 500, withLines: "yes" })).toBeUndefined();
    // ...so the same `first` with valid variables is still refused.
    expect(checkOperation(schema, doc, "Q", { b, n: 500, withLines: true })?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(checkOperation(schema, doc, "Q", { b, n: 40, withLines: true })).toBeUndefined(); // 100 lines per order
    // Another brand id (not a cost variable) shares the measurement; another `first` does not.
    expect(checkOperation(schema, doc, "Q", { b: "11111111-1111-4111-8111-111111111111", n: 500, withLines: false })?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(checkOperation(schema, doc, "Q", { b, n: 0, withLines: false })?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
