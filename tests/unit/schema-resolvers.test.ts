import { isObjectType, type GraphQLObjectType, type GraphQLResolveInfo } from "graphql";
import { getMetadataStorage } from "type-graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAppSchema } from "../../src/schema/build";

// How the executable schema resolves fields (src/schema/build.ts): plain properties get no resolver
// (graphql-jit inlines the read), resolver methods taking only @Root/@Ctx/@Info are called without
// type-graphql's per-call handler. These are performance properties of the orders page; the API
// tests cover what the fields answer.
let schema: Awaited<ReturnType<typeof buildAppSchema>>;
beforeAll(async () => {
  schema = await buildAppSchema();
});

const type = (name: string) => schema.getType(name) as GraphQLObjectType;
const info = {} as GraphQLResolveInfo;

describe("executable schema resolvers", () => {
  it("leaves plain properties (including interface fields such as Node.id) to graphql's default resolution", () => {
    for (const [typeName, field] of [
      ["Order", "id"],
      ["Order", "lines"],
      ["Order", "total"],
      ["Order", "createdAt"],
      ["OrderLine", "productName"],
      ["PaymentAttempt", "id"],
      ["OrderEvent", "at"],
    ]) {
      expect(type(typeName).getFields()[field].resolve, `${typeName}.${field}`).toBeUndefined();
    }
  });

  it("returns attempts and events read with the order synchronously, and asks the loaders otherwise", async () => {
    const attempts = [{ id: "a1" }];
    const events = [{ to: "PAID" }];
    const asked: string[] = [];
    const ctx = {
      loaders: {
        attemptsOfOrder: { load: (id: string) => (asked.push(`attempts:${id}`), Promise.resolve([])) },
        eventsOfOrder: { load: (id: string) => (asked.push(`events:${id}`), Promise.resolve([])) },
      },
    };
    const fields = type("Order").getFields();
    expect(fields.paymentAttempts.resolve!({ id: "o1", attempts, events }, {}, ctx, info)).toBe(attempts);
    expect(fields.events.resolve!({ id: "o1", attempts, events }, {}, ctx, info)).toBe(events);
    expect(asked).toEqual([]);
    await expect(fields.paymentAttempts.resolve!({ id: "o2" }, {}, ctx, info)).resolves.toEqual([]);
    await expect(fields.events.resolve!({ id: "o2" }, {}, ctx, info)).resolves.toEqual([]);
    expect(asked).toEqual(["attempts:o2", "events:o2"]);
  });

  it("calls every field resolver method directly (type-graphql's handler only where a method needs it)", () => {
    const storage = getMetadataStorage();
    const viaHandler: string[] = [];
    for (const t of Object.values(schema.getTypeMap())) {
      if (!isObjectType(t) || t.name.startsWith("__") || ["Query", "Mutation", "Subscription"].includes(t.name)) continue;
      for (const f of Object.values(t.getFields())) {
        // type-graphql's handler builds `resolverData` on every call; @auth wraps whatever it guards.
        if (f.resolve && /resolverData/.test(f.resolve.toString())) viaHandler.push(`${t.name}.${f.name}`);
      }
    }
    expect(storage.fieldResolvers.length).toBeGreaterThan(10);
    expect(viaHandler).toEqual([]);
  });
});
