import { GraphQLError, locatedError } from "graphql";
import { describe, expect, it } from "vitest";
import { badInput, notFound } from "../../src/errors";
import { maskError } from "../../src/http/errors";

const format = (e: GraphQLError) => maskError(e.toJSON(), e);

describe("error masking", () => {
  it("keeps expected errors with their code, field and message", () => {
    const e = locatedError(badInput("input.lines[0].quantity", "must be a whole number from 1 to 999"), null, ["createOrder"]);
    expect(format(e)).toEqual({
      message: "input.lines[0].quantity: must be a whole number from 1 to 999",
      locations: undefined,
      path: ["createOrder"],
      extensions: { code: "BAD_USER_INPUT", field: "input.lines[0].quantity" },
    });
    expect(format(locatedError(notFound("Order not found"), null, ["order"])).extensions).toEqual({ code: "NOT_FOUND" });
  });

  it("hides database errors, stacks and paths behind INTERNAL_SERVER_ERROR", () => {
    const sql = Object.assign(new Error('insert into "orders" ("id") values ($1) - duplicate key value violates unique constraint'), {
      code: "23505",
    });
    const out = format(locatedError(sql, null, ["createOrder"]));
    expect(out).toEqual({ message: "Internal server error", locations: undefined, path: ["createOrder"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(JSON.stringify(out)).not.toMatch(/insert|orders|stack|\.ts/);
  });

  it("does not trust a code that a non-GraphQL error happens to carry", () => {
    const sneaky = Object.assign(new Error("secret detail"), { extensions: { code: "BAD_USER_INPUT" } });
    expect(format(locatedError(sneaky, null, ["x"])).message).toBe("Internal server error");
  });

  it("masks GraphQLErrors with codes outside the client vocabulary", () => {
    const e = new GraphQLError("connection refused 127.0.0.1:5432", { extensions: { code: "ECONNREFUSED" } });
    expect(format(e)).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });

  it("answers a lost database connection SERVICE_UNAVAILABLE, also when knex reports it as a finished transaction", () => {
    const lost = [
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      new Error("Connection terminated unexpectedly"),
      // the statement after the one whose connection died, inside the same knex transaction
      Object.assign(new Error("Transaction query already complete, run with DEBUG=knex:tx for more info"), { name: "DriverException" }),
    ];
    for (const cause of lost) {
      const out = format(locatedError(cause, null, ["startAnonymousSession"]));
      expect(out.extensions).toEqual({ code: "SERVICE_UNAVAILABLE" });
      expect(JSON.stringify(out)).not.toMatch(/knex|terminat|administrator/i);
    }
  });
});
