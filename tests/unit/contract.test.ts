import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  print,
  type GraphQLField,
  type GraphQLSchema,
} from "graphql";
import { astFromValue } from "graphql";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/processes";

// The contract lives beside the repo (../shared/design), as in CI.
const CONTRACT = join(ROOT, "..", "shared", "design", "contract.graphql");
const PRINTED = join(ROOT, "src", "schema", "schema.graphql");

/** Every name and shape the contract declares, as comparable strings. */
function shape(schema: GraphQLSchema, only?: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__") || (only && !only.has(type.name))) continue;
    if (isScalarType(type)) out.add(`scalar ${type.name}`);
    if (isEnumType(type)) for (const v of type.getValues()) out.add(`enum ${type.name}.${v.name}`);
    if (isObjectType(type) || isInterfaceType(type)) {
      out.add(`${isObjectType(type) ? "type" : "interface"} ${type.name}`);
      for (const i of type.getInterfaces()) out.add(`${type.name} implements ${i.name}`);
      for (const f of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        out.add(`${type.name}.${f.name}: ${f.type}`);
        for (const a of f.args) {
          const dflt = a.defaultValue === undefined ? "" : ` = ${print(astFromValue(a.defaultValue, a.type)!)}`;
          out.add(`${type.name}.${f.name}(${a.name}: ${a.type}${dflt})`);
        }
      }
    }
    if (isInputObjectType(type)) {
      for (const f of Object.values(type.getFields())) {
        const dflt = f.defaultValue === undefined ? "" : ` = ${print(astFromValue(f.defaultValue, f.type)!)}`;
        out.add(`input ${type.name}.${f.name}: ${f.type}${dflt}`);
      }
    }
  }
  for (const d of schema.getDirectives()) {
    if (only && !only.has(`@${d.name}`)) continue;
    out.add(`@${d.name} on ${[...d.locations].sort().join("|")}`);
    for (const a of d.args) out.add(`@${d.name}(${a.name}: ${a.type})`);
  }
  return out;
}

describe("the printed schema", () => {
  it("contains every name, argument and shape of the public contract", () => {
    expect(existsSync(CONTRACT), `${CONTRACT} must exist (../shared beside the repo)`).toBe(true);
    const contract = buildSchema(readFileSync(CONTRACT, "utf8"));
    const printed = buildSchema(readFileSync(PRINTED, "utf8"));
    const names = new Set([
      ...Object.keys(contract.getTypeMap()),
      ...contract.getDirectives().filter((d) => !["include", "skip", "deprecated", "specifiedBy", "oneOf"].includes(d.name)).map((d) => `@${d.name}`),
    ]);
    const expected = shape(contract, names);
    const actual = shape(printed, names);
    expect(expected.size).toBeGreaterThan(250); // the comparison really covers the contract
    expect([...expected].filter((s) => !actual.has(s))).toEqual([]);
  });

  it("carries the @auth usages the field-level rules are enforced from", () => {
    const sdl = readFileSync(PRINTED, "utf8");
    expect(sdl).toMatch(/directive @auth\(\s*requires: Role![\s\S]*?orCustomer: Boolean! = false\s*\) on FIELD_DEFINITION \| OBJECT/);
    expect(sdl).toMatch(/couponCode: String @auth\(requires: ORGANIZER, orCustomer: true\)/);
    expect(sdl).toMatch(/buyer: Buyer! @auth\(requires: USER\)/);
    expect(sdl).toMatch(/attendees: \[Attendee!\]! @auth\(requires: USER\)/);
    expect(sdl).toMatch(/webhookSecret: String @auth\(requires: OWNER\)/);
    expect(sdl).toMatch(/fixedCode: String @auth\(requires: ORGANIZER\)/);
    expect(sdl).toMatch(/type Fan implements Node @auth\(requires: ORGANIZER\)/);
  });
});
