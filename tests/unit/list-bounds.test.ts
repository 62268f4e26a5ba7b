import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, getNullableType, isListType, isObjectType, isInterfaceType, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { LIST_BOUNDS, MAX_ALIAS_LENGTH, TEXT_WEIGHTS } from "../../src/http/list-bounds";
import { MaxAliasLengthRule, QUERY_LIMITS, checkOperation, operationCost } from "../../src/http/limits";

const schema = buildSchema(readFileSync(join(__dirname, "..", "..", "src/schema/schema.graphql"), "utf8"));
const ID = "00000000-0000-4000-8000-000000000000";

/** Every field of the printed schema that returns a list (introspection types excluded). */
function listFields(): { key: string; paginated: boolean }[] {
  const out = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__") || !(isObjectType(type) || isInterfaceType(type))) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isListType(getNullableType(field.type))) continue;
      out.push({ key: `${type.name}.${field.name}`, paginated: field.args.some((a) => a.name === "first") });
    }
  }
  return out;
}

describe("list bounds", () => {
  it("every list field of the schema is paginated (first) or has a bound the cost rule charges", () => {
    const lists = listFields();
    expect(lists.length).toBeGreaterThan(15);
    const unbounded = lists.filter((l) => !l.paginated && LIST_BOUNDS[l.key] === undefined).map((l) => l.key);
    expect(unbounded, "add a `first` argument or an entry in src/http/list-bounds.ts").toEqual([]);
    // ...and the table names no field that is gone or is not a list.
    const known = new Set(lists.map((l) => l.key));
    expect(Object.keys(LIST_BOUNDS).filter((k) => !known.has(k))).toEqual([]);
    for (const key of Object.keys(TEXT_WEIGHTS)) {
      const [type, field] = key.split(".");
      expect((schema.getType(type) as { getFields?: () => Record<string, unknown> }).getFields?.()[field], key).toBeDefined();
    }
  });

  it("charges an unpaginated list's children its bound, so the issue's nested document is refused", () => {
    const cost = (q: string) => operationCost(schema, parse(q), undefined, {})!.cost;
    // brand 1 + products 1 + 100 × id
    expect(cost(`{ brand(id: "${ID}") { products { id } } }`)).toBe(2 + LIST_BOUNDS["Brand.products"]);
    // The document: 9 before (a list counted once), now 100⁴ products.
    const nested = `{ brand(id: "${ID}") { products { brand { products { brand { products { brand { products { id } } } } } } } } }`;
    expect(cost(nested)).toBeGreaterThan(100 ** 4);
    expect(checkOperation(schema, parse(nested), undefined, {})?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", limit: QUERY_LIMITS.maxCost });
    // Two levels are already too much, through products or through payment attempts.
    expect(checkOperation(schema, parse(`{ brand(id: "${ID}") { products { brand { products { id } } } } }`), undefined, {})?.extensions?.code).toBe(
      "QUERY_TOO_COMPLEX",
    );
    const attempts = `{ order(id: "${ID}") { paymentAttempts { order { paymentAttempts { order { paymentAttempts { id } } } } } } }`;
    expect(checkOperation(schema, parse(attempts), undefined, {})?.extensions?.code).toBe("QUERY_TOO_COMPLEX");
    // An item whose fields are all skipped still counts 1 (it is an object in the answer).
    expect(cost(`{ brand(id: "${ID}") { products { id @skip(if: true) } } }`)).toBe(2 + LIST_BOUNDS["Brand.products"]);
    // Long texts count one unit per 320 characters they may hold.
    expect(cost(`{ brand(id: "${ID}") { couponWebhookUrl } }`)).toBe(1 + TEXT_WEIGHTS["Brand.couponWebhookUrl"]);
  });

  it("refuses aliases longer than MAX_ALIAS_LENGTH (an alias is repeated for every item of a list)", () => {
    const errors = (alias: string) => validate(schema, parse(`{ ${alias}: __typename }`), [MaxAliasLengthRule]);
    expect(errors("a".repeat(MAX_ALIAS_LENGTH))).toEqual([]);
    expect(errors("a".repeat(MAX_ALIAS_LENGTH + 1))).toHaveLength(1);
  });
});
