import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

// RFC 3339 date-time with a time zone, e.g. 2026-11-21T21:50:00.123Z or 2026-11-21T22:50:00+01:00.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function parse(value: unknown): Date {
  if (typeof value !== "string" || !RFC3339.test(value))
    throw new GraphQLError("DateTime must be an RFC 3339 date-time with a time zone, e.g. 2026-12-31T23:59:00Z");
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new GraphQLError("DateTime is not a valid date");
  return date;
}

/**
 * `DateTime`: an RFC 3339 string on the wire, a JS Date inside. Output is `toISOString()` (UTC,
 * milliseconds); input must carry a time zone. Lighter than a general-purpose scalar on the
 * output path, where a page of orders serialises hundreds of dates.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "A date-time in RFC 3339 form with a time zone, e.g. 2026-11-21T21:50:00.123Z.",
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === "string") return new Date(value).toISOString();
    throw new GraphQLError("DateTime cannot represent this value");
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError("DateTime must be a string");
    return parse(ast.value);
  },
});
