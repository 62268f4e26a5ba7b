import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildSchema,
  extendSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  parse,
  print,
  type GraphQLField,
  type GraphQLSchema,
} from "graphql";
import { astFromValue } from "graphql";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/processes";

// Copies of the product's design contracts (shared/design), kept in the repo so that a clone is
// self-contained; .ci/run fails when they differ from ../shared/design where that folder exists.
const CONTRACT = join(ROOT, "tests", "contract", "contract.graphql");
const CONTRACT_V2 = join(ROOT, "tests", "contract", "contract-v2.graphql");
const PRINTED = join(ROOT, "src", "schema", "schema.graphql");

/**
 * The v2 names built so far: a type ("Quota"), a field ("Product.available", "Mutation.refundOrder"),
 * an argument ("Mutation.checkIn(code)"), an input field ("CreateOrderInput.idempotencyKey") or an
 * enum value ("OrderStatus.REFUNDED"). A type or field covers everything under it. Each v2 issue
 * added the names it built; with the last v2 issue (#12) the whole-v2 check below
 * (`missingFromPrinted(v2Shapes())`, every v2 name) is on as well.
 */
const V2_BUILT: string[] = [
  // #12 (safe on the open internet): brand invitations replace adding members unasked.
  "BrandInvitation",
  "OkPayload",
  "Mutation.inviteBrandMember",
  "Mutation.acceptBrandInvitation",
  "Mutation.leaveBrand",
  // #10 (capacity): quotas that cannot be oversold, and live availability.
  "Quota",
  "QuotaEdge",
  "QuotaConnection",
  "AvailabilityEvent",
  "Product.available",
  "CreateQuotaInput",
  "UpdateQuotaInput",
  "Query.quota",
  "Query.quotas",
  "Mutation.createQuota",
  "Mutation.updateQuota",
  "Subscription.availabilityChanged",
  // #11 (idempotency keys): createOrder's; attemptToPayForOrder's argument is checked below (the v2 contract names it in a comment only).
  "CreateOrderInput.idempotencyKey",
  // #16 (r16-hooks): order webhooks and password reset.
  "Brand.orderWebhookUrl",
  "CreateBrandInput.orderWebhookUrl",
  "UpdateBrandInput.orderWebhookUrl",
  "Mutation.requestPasswordReset",
  "Mutation.resetPassword",
  // #11 (tax and invoices): tax per line, gapless invoice numbers, credit notes.
  "InvoiceKind",
  "TaxLine",
  "Invoice",
  "Product.taxRate",
  "Brand.invoicePrefix",
  "OrderLine.taxRate",
  "OrderLine.tax",
  "Order.taxTotal",
  "Order.invoices",
  "CreateProductInput.taxRate",
  "CreateBrandInput.invoicePrefix",
  "UpdateBrandInput.invoicePrefix",
  // #12 (at the door): stored tickets and check-in.
  "Ticket",
  "TicketStatus",
  "CheckInOutcome",
  "CheckInResult",
  "CheckInStats",
  "CheckInEvent",
  "Order.tickets",
  "Query.checkInStats",
  "Mutation.checkIn",
  "Subscription.checkInsChanged",
  // #11 (refunds and late payments).
  "OrderStatus.REFUNDED",
  "RefundStatus",
  "RefundSource",
  "Refund",
  "Order.refundedTotal",
  "Order.refunds",
  "Order.refundedAt",
  "RefundOrderInput",
  "Query.refund",
  "Mutation.refundOrder",
  // #16 (search and exports): searchOrders.
  "OrderFilter",
  "Query.searchOrders",
];

/**
 * Every name and shape a schema declares: comparable strings ("Order.lines: [OrderLine!]!"), each
 * mapped to the name it belongs to ("Order.lines").
 */
function shape(schema: GraphQLSchema, only?: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__") || (only && !only.has(type.name))) continue;
    if (isScalarType(type)) out.set(`scalar ${type.name}`, type.name);
    if (isEnumType(type)) for (const v of type.getValues()) out.set(`enum ${type.name}.${v.name}`, `${type.name}.${v.name}`);
    if (isObjectType(type) || isInterfaceType(type)) {
      out.set(`${isObjectType(type) ? "type" : "interface"} ${type.name}`, type.name);
      for (const i of type.getInterfaces()) out.set(`${type.name} implements ${i.name}`, type.name);
      for (const f of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        out.set(`${type.name}.${f.name}: ${f.type}`, `${type.name}.${f.name}`);
        for (const a of f.args) {
          const dflt = a.defaultValue === undefined ? "" : ` = ${print(astFromValue(a.defaultValue, a.type)!)}`;
          out.set(`${type.name}.${f.name}(${a.name}: ${a.type}${dflt})`, `${type.name}.${f.name}(${a.name})`);
        }
      }
    }
    if (isInputObjectType(type)) {
      for (const f of Object.values(type.getFields())) {
        const dflt = f.defaultValue === undefined ? "" : ` = ${print(astFromValue(f.defaultValue, f.type)!)}`;
        out.set(`input ${type.name}.${f.name}: ${f.type}${dflt}`, `${type.name}.${f.name}`);
      }
    }
  }
  for (const d of schema.getDirectives()) {
    if (only && !only.has(`@${d.name}`)) continue;
    out.set(`@${d.name} on ${[...d.locations].sort().join("|")}`, `@${d.name}`);
    for (const a of d.args) out.set(`@${d.name}(${a.name}: ${a.type})`, `@${d.name}(${a.name})`);
  }
  return out;
}

const read = (file: string) => readFileSync(file, "utf8");
const v1Contract = () => buildSchema(read(CONTRACT));
const printedSchema = () => buildSchema(read(PRINTED));

/** The shapes v2 adds: contract-v2.graphql (`extend` definitions included) applied to v1, minus v1. */
function v2Shapes(): Map<string, string> {
  const v1 = v1Contract();
  const merged = extendSchema(v1, parse(read(CONTRACT_V2)));
  const before = shape(v1);
  return new Map([...shape(merged)].filter(([s]) => !before.has(s)));
}

/** The v2 shapes selected by `names` (a name covers its fields, arguments and values). */
function selectV2(shapes: Map<string, string>, names: string[]): Map<string, string> {
  const covers = (name: string, n: string) => name === n || name.startsWith(`${n}.`) || name.startsWith(`${n}(`);
  return new Map([...shapes].filter(([, name]) => names.some((n) => covers(name, n))));
}

/** The shapes of `wanted` that the printed schema does not have, exactly as in the v1 check. */
function missingFromPrinted(wanted: Map<string, string>): string[] {
  const actual = shape(printedSchema());
  return [...wanted.keys()].filter((s) => !actual.has(s));
}

describe("the printed schema", () => {
  it("contains every name, argument and shape of the public contract", () => {
    const contract = v1Contract();
    const printed = printedSchema();
    const names = new Set([
      ...Object.keys(contract.getTypeMap()),
      ...contract
        .getDirectives()
        .filter((d) => !["include", "skip", "deprecated", "specifiedBy", "oneOf"].includes(d.name))
        .map((d) => `@${d.name}`),
    ]);
    const expected = shape(contract, names);
    const actual = shape(printed, names);
    expect(expected.size).toBeGreaterThan(250); // the comparison really covers the contract
    expect([...expected.keys()].filter((s) => !actual.has(s))).toEqual([]);
  });

  it("contains the v2 names built so far (contract-v2.graphql, which extends v1)", () => {
    const all = v2Shapes();
    // The v2 contract really parses as an extension of v1: new types, `extend type/enum/input`.
    expect(all.size).toBeGreaterThan(150);
    expect(all.get("enum OrderStatus.REFUNDED")).toBe("OrderStatus.REFUNDED");
    expect(all.get("Product.available: Int")).toBe("Product.available");
    expect(all.get("input CreateOrderInput.idempotencyKey: String")).toBe("CreateOrderInput.idempotencyKey");
    expect(all.get("input CreateProductInput.taxRate: Int = 0")).toBe("CreateProductInput.taxRate");
    expect(all.get("Mutation.checkIn(code: String!)")).toBe("Mutation.checkIn(code)");
    expect(all.has("Order.lines: [OrderLine!]!")).toBe(false); // v1 names are the v1 test's
    // Every listed name is a v2 name (a typo would otherwise check nothing).
    const known = new Set(all.values());
    expect(V2_BUILT.filter((n) => ![...known].some((k) => k === n || k.startsWith(`${n}.`) || k.startsWith(`${n}(`)))).toEqual([]);
    expect(missingFromPrinted(selectV2(all, V2_BUILT))).toEqual([]);
  });

  it("contains every v2 name, argument and shape (the whole of contract-v2.graphql)", () => {
    expect(missingFromPrinted(v2Shapes())).toEqual([]);
  });

  it("gives attemptToPayForOrder the optional idempotencyKey argument contract-v2.graphql announces", () => {
    expect(read(CONTRACT_V2)).toMatch(/attemptToPayForOrder gains an optional idempotencyKey argument/);
    expect(shape(printedSchema()).get("Mutation.attemptToPayForOrder(idempotencyKey: String)")).toBe("Mutation.attemptToPayForOrder(idempotencyKey)");
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
