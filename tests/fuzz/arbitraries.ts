/**
 * fast-check arbitraries that build GraphQL requests from the schema (src/schema/schema.graphql):
 * documents (root field → selection set walked through the types, bounded in depth and width, with
 * aliases, fragments, directives, typos and unknown fields), arguments as inline literals or
 * variables with values that are sometimes valid for their type and sometimes hostile, and raw
 * malformed HTTP requests and WebSocket sessions. Everything here is data: fuzz.test.ts sends it.
 */
import fc from "fast-check";
import {
  GraphQLBoolean,
  GraphQLNonNull,
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import { readFileSync } from "node:fs";
import { LIST_BOUNDS } from "../../src/http/list-bounds";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export function loadSchema(): GraphQLSchema {
  return buildSchema(readFileSync(join(__dirname, "..", "..", "src", "schema", "schema.graphql"), "utf8"));
}

// ---- values ------------------------------------------------------------------------------------

/** An enum value: a bare name inline, a string in variables. */
export class EnumLit {
  constructor(readonly name: string) {}
  toJSON() {
    return this.name;
  }
}
/** Inline text used verbatim in the document (`NaN`, `$undeclared`, `1e999`, a block string); `json` in variables. */
export class RawLit {
  constructor(
    readonly text: string,
    readonly json: unknown,
  ) {}
  toJSON() {
    return this.json;
  }
}
export type Val = null | boolean | number | string | EnumLit | RawLit | Val[] | { [key: string]: Val };

/** An object with own keys only (a "__proto__" key stays a key). */
const obj = (entries: [string, Val][]): { [key: string]: Val } => Object.fromEntries(entries);

/** A GraphQL literal for a value. */
export function literal(v: Val): string {
  if (v === null) return "null";
  if (v instanceof EnumLit) return v.name;
  if (v instanceof RawLit) return v.text;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return String(v); // NaN / Infinity become names: invalid, on purpose
  if (typeof v === "string") return JSON.stringify(v); // JSON escapes are GraphQL escapes
  if (Array.isArray(v)) return `[${v.map(literal).join(", ")}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}: ${literal(x)}`)
    .join(", ")}}`;
}

/** Every string inside a value (for telling echoed input from leaks); iterative, for very deep values. */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === "string") out.push(v);
    else if (v instanceof EnumLit) out.push(v.name);
    else if (v instanceof RawLit) {
      out.push(v.text);
      stack.push(v.json);
    } else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        stack.push(x);
      }
    }
  }
  return out;
}

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const c = <T>(v: T) => fc.constant(v);
/** Evaluated at generation time: lets arbitraries refer to themselves. */
const lazy = <T>(make: () => fc.Arbitrary<T>) => fc.constant(null).chain(make);

const b64 = (s: string) => Buffer.from(s).toString("base64url");

/** Strings that break naive code: SQL, format strings, templates, paths, odd Unicode, control characters. */
export const NASTY_STRINGS = [
  "",
  " ",
  "   \t ",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e999",
  "0x10",
  "-0",
  "true",
  "[]",
  "{}",
  "'",
  '"',
  "\\",
  "'; drop table orders; --",
  "' OR '1'='1",
  "1; select pg_sleep(5)",
  '" OR 1=1 --',
  "') union select password_hash from users --",
  "$1",
  "?",
  "%s%s%s%n",
  "{{7*7}}",
  "${7*7}",
  "${jndi:ldap://x/a}",
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "../../../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "\u0000",
  "a\u0000b",
  "\u0007\u001b[31m",
  "\r\n\r\n",
  "\ud800",
  "\udfff",
  "x\ud83dy",
  "🦄",
  "👩‍👩‍👧‍👦",
  "𝕳𝖊𝖑𝖑𝖔",
  "\u202eevil",
  "\ufeffbom",
  "\u200b",
  "ﷺ",
  "e\u0301",
  "Ｅｕｒ",
  "İ",
  "ß",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "olk_00000000-0000-4000-8000-000000000000_" + "A".repeat(43),
  "T3JkZXI6MQ==",
];

const longStringArb = fc
  .tuple(fc.constantFrom("x", "é", "🦄", "a ", "\u0000", "'"), fc.constantFrom(65, 101, 256, 321, 1_001, 2_001, 10_000, 100_000, 250_000))
  .map(([s, n]) => s.repeat(n));

const loneSurrogateString = fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe00f }).map((n) => String.fromCharCode(n)), maxLength: 6 });

export const hostileStringArb: fc.Arbitrary<string> = fc.oneof(
  w(6, fc.constantFrom(...NASTY_STRINGS)),
  w(2, fc.string({ unit: "binary", maxLength: 40 })),
  w(1, fc.string({ unit: "grapheme", maxLength: 20 })),
  w(1, loneSurrogateString),
  w(1, longStringArb),
);

/** Deeply nested lists or objects. */
const deepArb: fc.Arbitrary<Val> = fc.tuple(fc.constantFrom(5, 20, 100, 500), fc.boolean()).map(([n, list]) => {
  let v: Val = "leaf";
  for (let i = 0; i < n; i++) v = list ? [v] : obj([["a", v]]);
  return v;
});

const hugeNumbers = [
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  5e-324,
  0.5,
  -0.5,
  1.5,
  -0,
  1e-7,
];

/** A value of any kind, mostly the wrong one for wherever it is put. */
export const hostileArb: fc.Arbitrary<Val> = fc.oneof(
  w(5, hostileStringArb),
  w(3, fc.constantFrom<Val>(null, true, false, 0, -1, 1, ...hugeNumbers)),
  w(
    1,
    fc.double().map((d): Val => d),
  ),
  w(
    1,
    fc.constantFrom(
      new RawLit("NaN", "NaN"),
      new RawLit("Infinity", 1e400),
      new RawLit("1e999", 1e400),
      new RawLit("-0.0e-0", -0),
      new RawLit("123456789012345678901234567890", 1.2345678901234568e29),
      new RawLit("$undeclared", null),
      new RawLit("$v0", null),
      new RawLit('"""block\n  "string"\n"""', 'block\n"string"'),
      new RawLit("ORDER", "ORDER"),
    ),
  ),
  w(
    1,
    fc.constantFrom<Val>([], [null], obj([]), obj([["__proto__", obj([["isAdmin", true]])]]), obj([["constructor", obj([["prototype", obj([["x", 1]])]])]]), [
      [[[1]]],
    ]),
  ),
  w(1, deepArb),
  w(1, fc.array(fc.constantFrom<Val>(1, "a", null, true), { minLength: 11, maxLength: 1_000 })),
  w(1, fc.dictionary(fc.string({ maxLength: 8 }), fc.constantFrom<Val>(1, "a", null), { maxKeys: 50 }) as fc.Arbitrary<Val>),
);

// ---- the pool of real objects ------------------------------------------------------------------

export type IdKind = "brand" | "product" | "order" | "attempt" | "discount" | "deletableDiscount" | "fan" | "user";

/** Real objects and values created through the API before the run, so valid ids and codes exist. */
export interface Pool {
  ids: Record<IdKind, string[]>;
  /** brand id → its product ids (for orders that make sense). */
  productsByBrand: Record<string, string[]>;
  emails: string[];
  cursors: string[];
  couponCodes: string[];
  fanTokens: string[];
  apiKeyIds: string[];
  /** The data-heavy world's ids: a brand with the most products, an order with the most attempts. */
  heavy?: Partial<Record<IdKind, string>>;
}

/**
 * A root field's required arguments pointing at the data-heavy world (brand(id:), orders(brandId:),
 * order(id:), orderStatusChanged(brandId:) …), or undefined when it needs others.
 */
function heavyArgs(f: GraphQLField<unknown, unknown>, pool: Pool): ArgIR[] | undefined {
  const args: ArgIR[] = [];
  for (const a of f.args.filter((x) => isNonNullType(x.type))) {
    const id = pool.heavy?.[a.name === "id" ? ROOT_ID_KIND[f.name] : ID_ARG_KIND[a.name]];
    if (!id) return undefined;
    args.push({ name: a.name, value: id, mode: "inline", varType: "ID!", omitValue: false });
  }
  return args;
}

const ID_ARG_KIND: Record<string, IdKind> = { brandId: "brand", orderId: "order", productId: "product", discountId: "discount" };
/** For `id` arguments: the kind the root field reads. */
const ROOT_ID_KIND: Record<string, IdKind> = {
  brand: "brand",
  updateBrand: "brand",
  order: "order",
  paymentAttempt: "attempt",
  discount: "discount",
  updateDiscount: "discount",
  deleteDiscount: "deletableDiscount",
  fan: "fan",
};

function idArb(pool: Pool, kind: IdKind | undefined, noisy: boolean): fc.Arbitrary<Val> {
  const all = Object.values(pool.ids).flat();
  const real = kind && pool.ids[kind].length ? pool.ids[kind] : all;
  const mangled = fc
    .constantFrom(...real)
    .chain((id) =>
      fc.constantFrom(
        id.toUpperCase(),
        id.replace(/-/g, ""),
        `{${id}}`,
        ` ${id}`,
        `${id} `,
        `${id}\n`,
        `${id}0`,
        id.slice(1),
        `urn:uuid:${id}`,
        id.replace(/^./, "g"),
        `${id}' or '1'='1`,
      ),
    );
  if (!noisy)
    return fc.oneof(
      w(12, fc.constantFrom(...real)),
      w(2, fc.constantFrom(...all)),
      w(
        1,
        fc.uuid().map((u): Val => u),
      ),
      w(1, mangled),
    );
  return fc.oneof(
    w(10, fc.constantFrom(...real)),
    w(3, fc.constantFrom(...all)),
    w(
      3,
      fc.uuid().map((u): Val => u),
    ),
    w(2, mangled),
    w(1, fc.constantFrom<Val>("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "not-a-uuid", "0", "1", "-1", "")),
    w(1, fc.constantFrom<Val>(0, 1, -1, 2 ** 31, 2 ** 53, 12345678901234567890)), // ID accepts integers
    w(1, hostileStringArb),
  );
}

// ---- scalar values by type and by the name of the argument or input field ---------------------

const validEmail = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9.+-]{0,12}$/), fc.constantFrom("example.test", "example.org", "xn--bcher-kva.example"))
  .map(([l, d]) => `fz-${l}@${d}`);

function stringArb(pool: Pool, name: string, noisy: boolean): fc.Arbitrary<Val> {
  const n = name.toLowerCase();
  const plain = fc.string({ minLength: 1, maxLength: 30 });
  let typed: fc.Arbitrary<string>;
  if (n.includes("email"))
    typed = fc.oneof(
      w(noisy ? 4 : 10, validEmail),
      w(noisy ? 3 : 4, fc.constantFrom(...pool.emails)),
      w(
        1,
        fc.constantFrom(...pool.emails).map((e) => ` ${e.toUpperCase()} `),
      ),
      w(
        noisy ? 2 : 1,
        fc.constantFrom(
          "a@b",
          "@example.test",
          "a@@b.cc",
          "a b@c.de",
          "a@b.c",
          '"quoted"@example.test',
          "x@[127.0.0.1]",
          `${"a".repeat(320)}@example.test`,
          "ünï@例え.テスト",
          "a@b.cc\n",
          "a@b.cc,c@d.ee",
          "a@b.cc\u0000",
        ),
      ),
    );
  else if (n === "password")
    typed = fc.oneof(
      w(3, c("correct horse battery staple")),
      w(2, fc.string({ minLength: noisy ? 1 : 10, maxLength: 80 })),
      w(1, fc.constantFrom("", "short", "x".repeat(5_000), "pässwörd wïth ünïcödé", "\ud800 lone surrogate")),
    );
  else if (n === "currency")
    typed = fc.oneof(
      w(4, fc.constantFrom("EUR", "USD", "JPY", "GBP", "ISK", "KRW")),
      w(2, fc.constantFrom("eur", " usd ", "XXX", "EURO", "€", "", "E", "BTC", "ZZZ")),
    );
  else if (n.includes("url"))
    typed = fc.oneof(
      w(3, fc.constantFrom("https://shop.example.test/hooks/coupons", "http://127.0.0.1:9/hook", "")),
      w(
        2,
        fc.constantFrom(
          "javascript:alert(1)",
          "ftp://example.test/x",
          "file:///etc/passwd",
          "http://",
          "https://[::1]:99999/",
          "http://user:pass@example.test/",
          "https://example.test/" + "a".repeat(2_100),
          "//example.test",
          "data:text/plain,hi",
          "http://169.254.169.254/latest/meta-data/",
        ),
      ),
      w(1, fc.webUrl()),
    );
  else if (n === "couponcode" || n === "fixedcode")
    typed = fc.oneof(
      w(3, pool.couponCodes.length ? fc.constantFrom(...pool.couponCodes) : c("FUZZ-10")),
      w(2, fc.stringMatching(/^[A-Z0-9-]{4,12}$/)),
      w(2, fc.constantFrom("fuzz-10", "AB", "A".repeat(33), "----", "ÄÖÜ1", "CODE WITH SPACE", "%", "_____", "")),
    );
  else if (n === "token")
    typed = fc.oneof(
      w(2, pool.fanTokens.length ? fc.constantFrom(...pool.fanTokens) : c("x".repeat(43))),
      w(
        2,
        fc.uint8Array({ minLength: 0, maxLength: 48 }).map((b) => Buffer.from(b).toString("base64url")),
      ),
      w(1, fc.constantFrom("", "x".repeat(43), "x".repeat(10_000), "../../", "%00")),
    );
  else if (n === "after") typed = cursorArb(pool);
  else if (n === "name" || n === "description" || n === "facebookhandle")
    typed = fc.oneof(w(5, plain), w(1, fc.constantFrom("   ", "x".repeat(201), "x".repeat(2_001), "Zoë 🦄 Łódź", "@handle", "a\tb", "\u0000")));
  else typed = plain;
  return fc.oneof(w(noisy ? 8 : 20, typed), w(1, hostileStringArb));
}

function cursorArb(pool: Pool): fc.Arbitrary<string> {
  const uuid = "2a0f6c1e-8b7d-4c55-9e2f-1b3c4d5e6f70";
  return fc.oneof(
    w(4, pool.cursors.length ? fc.constantFrom(...pool.cursors) : c(b64(`2026-01-01T00:00:00.000Z|${uuid}`))),
    w(
      3,
      fc.tuple(fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }), fc.uuid()).map(([d, u]) => b64(`${d.toISOString()}|${u}`)),
    ),
    w(
      2,
      fc.constantFrom(
        b64(`2026-01-01T00:00:00.000Z|not-a-uuid`),
        b64(`1969-12-31T23:59:59.999Z|${uuid}`),
        b64(`1970-01-01T00:00:00.000Z|${uuid}`),
        b64(`9999-12-31T23:59:59.999Z|${uuid}`),
        b64(`+010000-01-01T00:00:00.000Z|${uuid}`),
        b64(`2026-01-01T00:00:00.000Z|${uuid.toUpperCase()}`),
        b64(`2026-01-01T00:00:00Z|${uuid}`),
        b64(`2026-01-01T00:00:00.000Z|${uuid}|x`),
        b64(`|`),
        b64(""),
        "",
        "!!!",
        "====",
        "a".repeat(10_000),
        b64("2026-01-01T00:00:00.000Z|" + uuid + "\u0000"),
      ),
    ),
    w(1, fc.string().map(b64)),
    w(1, fc.string()),
  );
}

function intArb(name: string, noisy = true): fc.Arbitrary<Val> {
  const n = name.toLowerCase();
  const edge = fc.constantFrom<Val>(0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 1e9);
  let typed: fc.Arbitrary<Val>;
  if (n === "first") typed = fc.oneof(w(4, fc.integer({ min: 1, max: 100 })), w(2, fc.constantFrom(0, -1, 101, 1000, 2 ** 31 - 1)));
  else if (n === "quantity") typed = fc.oneof(w(4, fc.integer({ min: 1, max: 10 })), w(2, fc.constantFrom(0, -1, 1000, 1_000_000, 2 ** 31 - 1)));
  else if (n === "unitprice" || n === "amount")
    typed = fc.oneof(
      w(3, fc.integer({ min: 1, max: 100 })),
      w(3, fc.integer({ min: 0, max: 100_000 })),
      w(2, fc.constantFrom(-1, 0, 100, 101, 2 ** 31 - 1, 2 ** 30)),
    );
  else if (n === "usagelimit") typed = fc.oneof(w(4, fc.integer({ min: 1, max: 100 })), w(1, fc.constantFrom(0, -5, 2 ** 31 - 1)));
  else typed = fc.integer();
  if (!noisy) return fc.oneof(w(10, typed), w(2, fc.constantFrom<Val>(0, -1, 1, 2 ** 31 - 1, -(2 ** 31))));
  return fc.oneof(w(10, typed), w(2, edge), w(1, fc.constantFrom<Val>(...hugeNumbers, "1", "NaN", true, "")));
}

/** Soon or years ahead, in UTC or with an offset (expiry dates must lie in the future). */
const futureArb: fc.Arbitrary<Val> = fc.tuple(fc.integer({ min: 60_000, max: 50 * 365 * 86_400_000 }), fc.boolean()).map(([ahead, utc]) => {
  const iso = new Date(Date.now() + ahead).toISOString();
  return utc ? iso : iso.replace("Z", "+02:00");
});

const dateTimeArb: fc.Arbitrary<Val> = fc.oneof(
  w(
    5,
    fc.date({ min: new Date("1971-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString()),
  ),
  w(
    2,
    fc.constantFrom(
      new Date(Date.now() + 86_400_000).toISOString(),
      new Date(Date.now() - 86_400_000).toISOString(),
      "2026-11-21T21:50:00.123Z",
      "2026-11-21T22:50:00+01:00",
      "2026-11-21t21:50:00z",
      "0000-01-01T00:00:00Z",
      "0001-01-01T00:00:00Z",
      "1000-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999Z",
      "+275760-09-13T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-11-21T25:61:61Z",
      "2026-11-21T21:50:00.123456789123456789Z",
      "2026-11-21T21:50:00+99:99",
      "2026-11-21T21:50:00-23:59",
      "2026-11-21T21:50:00",
      "2026-11-21",
      "1732225800",
      "",
    ),
  ),
  w(1, fc.constantFrom<Val>(1732225800, 0, -1, 8.64e15 + 1)),
);

// ---- input values by type ----------------------------------------------------------------------

export interface ValueCtx {
  pool: Pool;
  /** False: values of the right GraphQL type only (they may still be wrong for the service). */
  noisy: boolean;
  root: string;
  /** The argument / input-field names leading here. */
  path: string[];
}

/** A value for an input type: mostly of the right shape, sometimes hostile or of the wrong kind. */
export function valueArb(type: GraphQLInputType, ctx: ValueCtx): fc.Arbitrary<Val> {
  return ctx.noisy ? fc.oneof(w(17, typedValueArb(type, ctx)), w(2, hostileArb)) : typedValueArb(type, ctx);
}

function typedValueArb(type: GraphQLInputType, ctx: ValueCtx): fc.Arbitrary<Val> {
  if (isNonNullType(type)) return ctx.noisy ? fc.oneof(w(30, typedValueArb(type.ofType, ctx)), w(1, c(null))) : typedValueArb(type.ofType, ctx);
  if (isListType(type)) {
    const item = valueArb(type.ofType, ctx);
    if (!ctx.noisy)
      return fc.oneof(w(12, fc.array(item, { minLength: 1, maxLength: 4 })), w(1, c([])), w(1, fc.array(item, { minLength: 30, maxLength: 120 })));
    return fc.oneof(
      w(12, fc.array(item, { maxLength: 4 })),
      w(2, item), // a single value stands for a list of one
      w(1, fc.array(item, { minLength: 30, maxLength: 300 })),
      w(1, fc.array(fc.array(item, { maxLength: 2 }), { maxLength: 2 }) as fc.Arbitrary<Val>),
      w(1, c(null)),
    );
  }
  const name = ctx.path.at(-1) ?? "";
  if (isEnumType(type)) {
    const values = type.getValues().map((v) => v.name);
    if (!ctx.noisy) return fc.constantFrom(...values).map((v) => new EnumLit(v));
    return fc.oneof(
      w(
        12,
        fc.constantFrom(...values).map((v) => new EnumLit(v)),
      ),
      w(
        1,
        fc.constantFrom(...values).map((v): Val => v),
      ), // a string: invalid inline, valid in variables
      w(
        1,
        fc.constantFrom(...values).map((v) => new EnumLit(v.toLowerCase())),
      ),
      w(
        1,
        fc.constantFrom("UNKNOWN", "ADMIN", "USER", "null", "true", "Paid", "_", "__proto__").map((v) => new EnumLit(v)),
      ),
    );
  }
  if (isInputObjectType(type) && type.name === "CreateOrderInput" && !ctx.noisy && Object.keys(ctx.pool.productsByBrand).length) {
    // Half of the clean orders are coherent: the products belong to the brand ordered from.
    return fc.oneof(w(1, inputObjectArb(type, ctx)), w(1, coherentOrderArb(type, ctx)));
  }
  if (isInputObjectType(type)) return inputObjectArb(type, ctx);
  if (isScalarType(type)) {
    switch (type.name) {
      case "ID": {
        const kind = ID_ARG_KIND[name] ?? (name === "id" ? ROOT_ID_KIND[ctx.root] : undefined);
        return idArb(ctx.pool, kind, ctx.noisy);
      }
      case "String":
        return stringArb(ctx.pool, name, ctx.noisy);
      case "Int":
        return intArb(name, ctx.noisy);
      case "Float":
        return fc.oneof(fc.double(), intArb(name));
      case "Boolean":
        return ctx.noisy ? fc.oneof(w(10, fc.boolean()), w(1, fc.constantFrom<Val>("true", 1, 0, null))) : fc.boolean();
      case "DateTime":
        return ctx.noisy
          ? dateTimeArb
          : fc.oneof(
              w(3, futureArb),
              w(1, c(null)),
              w(
                1,
                dateTimeArb.filter((v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v)),
              ),
            );
      default:
        return hostileArb;
    }
  }
  return hostileArb;
}

function inputObjectArb(type: GraphQLInputObjectType, ctx: ValueCtx): fc.Arbitrary<Val> {
  const fields = Object.values(type.getFields()).map((f) => {
    const required = isNonNullType(f.type) && f.defaultValue === undefined;
    const entry = valueArb(f.type, { ...ctx, path: [...ctx.path, f.name] }).map((v) => [f.name, v] as [string, Val]);
    if (required && !ctx.noisy) return entry;
    return fc.oneof(w(required ? 1 : 2, c(undefined)), w(required ? 30 : 3, entry));
  });
  const extra = fc.oneof(
    w(20, c([] as [string, Val][])),
    w(
      ctx.noisy ? 1 : 0,
      fc.tuple(fc.constantFrom("id", "isAdmin", "status", "__proto__", "brandID", "Email", "total", "deletedAt"), hostileArb).map((e) => [e]),
    ),
  );
  return fc.tuple(fc.tuple(...fields), extra).map(([fs, ex]) => obj([...fs.filter((f): f is [string, Val] => f !== undefined), ...ex]));
}

/** A CreateOrderInput whose products belong to its brand (the rest of it still generated). */
function coherentOrderArb(type: GraphQLInputObjectType, ctx: ValueCtx): fc.Arbitrary<Val> {
  const brands = Object.keys(ctx.pool.productsByBrand);
  return fc.tuple(inputObjectArb(type, ctx), fc.constantFrom(...brands)).chain(([input, brandId]) =>
    fc
      .tuple(fc.shuffledSubarray(ctx.pool.productsByBrand[brandId], { minLength: 1 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 8, maxLength: 8 }))
      .map(([products, qs]) => ({
        ...(input as Record<string, Val>),
        brandId,
        lines: products.map((productId, i) =>
          obj([
            ["productId", productId],
            ["quantity", qs[i]],
          ]),
        ),
      })),
  );
}

// ---- documents ---------------------------------------------------------------------------------

export interface ArgIR {
  name: string;
  value: Val;
  mode: "inline" | "var";
  /** The declared variable type (mode "var"). */
  varType: string;
  /** Declared but not sent in `variables`. */
  omitValue: boolean;
  defaultValue?: Val;
}
export interface DirIR {
  name: string;
  args: ArgIR[];
}
export type Sel =
  | { k: "field"; name: string; alias?: string; args: ArgIR[]; dirs: DirIR[]; sub?: Sel[] }
  | { k: "inline"; on?: string; dirs: DirIR[]; sub: Sel[] }
  | { k: "spread"; on: string; sub: Sel[]; cyclic: boolean }
  | { k: "raw"; text: string };
export interface OpIR {
  type: "query" | "mutation" | "subscription";
  name?: string;
  sels: Sel[];
  dirs: DirIR[];
}
export interface DocIR {
  ops: OpIR[];
  /** Which operationName to send: an index into ops, none, or one that does not exist. */
  opName: number | "none" | "wrong";
  /** Replace `variables` by this (not an object, or with extra keys). */
  vars?: { kind: "replace"; value: unknown } | { kind: "extra"; value: Record<string, Val> };
  /** A syntax-level mutation of the rendered text. */
  corrupt?: { kind: "truncate" | "delete" | "insert" | "duplicate"; at: number; text: string };
  /** `{ ... }` instead of `query { ... }` for a single unnamed query. */
  shorthand: boolean;
  /** An unused / unknown fragment, or an operation with no fields. */
  extra?: "unusedFragment" | "unknownSpread" | "emptySelection" | "fragmentBomb" | "undefinedVar" | "unusedVar";
}

export interface Rendered {
  query: string;
  variables: Record<string, unknown> | unknown;
  operationName?: string;
}

/** Renders a document: variables get names `$v0…`, fragments `F0…`. */
export function render(doc: DocIR): Rendered {
  let varN = 0;
  let fragN = 0;
  const fragments: string[] = [];
  const variables: Record<string, unknown> = {};
  let defs: string[] = [];

  const arg = (a: ArgIR) => {
    if (a.mode === "inline") return `${a.name}: ${literal(a.value)}`;
    const v = `v${varN++}`;
    defs.push(`$${v}: ${a.varType}${a.defaultValue !== undefined ? ` = ${literal(a.defaultValue)}` : ""}`);
    if (!a.omitValue) variables[v] = a.value;
    return `${a.name}: $${v}`;
  };
  const args = (as: ArgIR[]) => (as.length ? `(${as.map(arg).join(", ")})` : "");
  const dirs = (ds: DirIR[]) => ds.map((d) => ` @${d.name}${args(d.args)}`).join("");
  const sels = (ss: Sel[]): string => `{ ${ss.map(sel).join(" ")} }`;
  function sel(s: Sel): string {
    switch (s.k) {
      case "field":
        return `${s.alias ? `${s.alias}: ` : ""}${s.name}${args(s.args)}${dirs(s.dirs)}${s.sub ? ` ${sels(s.sub)}` : ""}`;
      case "inline":
        return `...${s.on ? ` on ${s.on}` : ""}${dirs(s.dirs)} ${sels(s.sub)}`;
      case "spread": {
        const name = `F${fragN++}`;
        const body = s.sub.map(sel);
        if (s.cyclic) body.push(`...${name}`);
        fragments.push(`fragment ${name} on ${s.on} { ${body.join(" ")} }`);
        return `...${name}`;
      }
      case "raw":
        return s.text;
    }
  }

  const ops = doc.ops.map((op) => {
    defs = [];
    const body = op.sels.length || doc.extra !== "emptySelection" ? sels(op.sels) : "{ }";
    if (doc.extra === "undefinedVar") defs.push("$nope: Int");
    if (doc.extra === "unusedVar") defs.push(`$unused${varN++}: String = "x"`);
    const head = `${op.type}${op.name ? ` ${op.name}` : ""}${defs.length ? `(${defs.join(", ")})` : ""}${dirs(op.dirs)}`;
    if (doc.shorthand && doc.ops.length === 1 && op.type === "query" && !op.name && !defs.length && !op.dirs.length) return body;
    return `${head} ${body}`;
  });
  if (doc.extra === "unusedFragment") fragments.push("fragment Unused on Query { me { anonymous } }");
  if (doc.extra === "unknownSpread") ops[0] = ops[0].replace(/\{ /, "{ ...Missing ");
  if (doc.extra === "fragmentBomb") {
    // F_0 spreads F_1 twice, F_1 spreads F_2 twice …: 2^n fields once expanded, in a few hundred bytes.
    const n = 24;
    for (let i = 0; i < n; i++) fragments.push(`fragment B${i} on Query { ${i + 1 < n ? `...B${i + 1} ...B${i + 1}` : "me { anonymous }"} }`);
    ops[0] = ops[0].replace(/\{ /, "{ ...B0 ");
  }
  let query = [...ops, ...fragments].join("\n");
  if (doc.corrupt) {
    const at = doc.corrupt.at % (query.length + 1);
    const t = doc.corrupt.text;
    query =
      doc.corrupt.kind === "truncate"
        ? query.slice(0, at)
        : doc.corrupt.kind === "delete"
          ? query.slice(0, at) + query.slice(at + 1)
          : doc.corrupt.kind === "insert"
            ? query.slice(0, at) + t + query.slice(at)
            : query.slice(0, at) + query.slice(at, at + 40) + query.slice(at);
  }
  const names = doc.ops.map((o) => o.name);
  const operationName = doc.opName === "none" ? undefined : doc.opName === "wrong" ? "NoSuchOperation" : names[doc.opName % names.length];
  let vars: unknown = variables;
  if (doc.vars?.kind === "replace") vars = doc.vars.value;
  else if (doc.vars?.kind === "extra") vars = { ...variables, ...doc.vars.value };
  return { query, variables: vars, operationName };
}

const NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
const nameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/);

/** A misspelt or made-up field name, or one that exists only in the database. */
function typoArb(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.nat(), fc.constantFrom(...NAME_CHARS)).map(([i, ch]) => {
      const at = i % Math.max(1, name.length);
      return name.slice(0, at) + ch + name.slice(at + 1);
    }),
    c(name.toUpperCase()),
    c(`${name}s`),
    c(name.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)), // snake_case: the column name
    fc.constantFrom(
      "password",
      "passwordHash",
      "password_hash",
      "secretHash",
      "tokenHash",
      "deletedAt",
      "is_admin",
      "__proto__",
      "constructor",
      "toString",
      "__schema",
      "__type",
      "nope",
    ),
  );
}

const directiveArb = (pool: Pool, noisy: boolean): fc.Arbitrary<DirIR> =>
  fc.oneof(
    w(
      4,
      fc
        .tuple(fc.constantFrom("include", "skip"), argIRArb("if", booleanNonNull, { pool, noisy, root: "", path: ["if"] }))
        .map(([name, a]) => ({ name, args: [a] })),
    ),
    w(
      noisy ? 1 : 0,
      fc.constantFrom<DirIR>(
        { name: "include", args: [] },
        { name: "deprecated", args: [] },
        { name: "auth", args: [{ name: "requires", value: new EnumLit("OWNER"), mode: "inline", varType: "Role!", omitValue: false }] },
        { name: "specifiedBy", args: [{ name: "url", value: "x", mode: "inline", varType: "String!", omitValue: false }] },
        { name: "defer", args: [] },
        { name: "stream", args: [] },
        { name: "nope", args: [] },
      ),
    ),
  );
const booleanNonNull: GraphQLInputType = new GraphQLNonNull(GraphQLBoolean);

const dirsArb = (g: DocGen) =>
  g.noisy
    ? fc.oneof(
        w(150, c([] as DirIR[])),
        w(6, fc.array(directiveArb(g.pool, true), { minLength: 1, maxLength: 2 })),
        w(1, fc.array(directiveArb(g.pool, true), { minLength: 8, maxLength: 12 })),
      )
    : fc.oneof(
        w(40, c([] as DirIR[])),
        w(
          1,
          directiveArb(g.pool, false).map((d) => [d]),
        ),
      );

function varTypeArb(type: GraphQLInputType, noisy: boolean): fc.Arbitrary<string> {
  const t = String(type);
  if (!noisy) return c(t);
  const named = getNamedType(type).name;
  return fc.oneof(
    w(25, c(t)),
    w(1, c(t.endsWith("!") ? t.slice(0, -1) : `${t}!`)),
    w(1, c(`[${t}]`)),
    w(
      1,
      fc.constantFrom(
        "String",
        "String!",
        "Int",
        "ID!",
        "Boolean",
        "DateTime",
        "OrderStatus",
        "CreateOrderInput",
        "Order",
        "Nope",
        `${named}!!`,
        `[${named}`,
        "Query",
      ),
    ),
  );
}

function argIRArb(name: string, type: GraphQLInputType, ctx: ValueCtx): fc.Arbitrary<ArgIR> {
  return fc.record({
    name: c(name),
    value: valueArb(type, ctx),
    mode: fc.constantFrom<"inline" | "var">("inline", "var"),
    varType: varTypeArb(type, ctx.noisy),
    omitValue: fc.oneof(w(30, c(false)), w(ctx.noisy ? 1 : 0, c(true))),
    defaultValue: fc.oneof(w(30, c(undefined)), w(ctx.noisy ? 1 : 0, valueArb(type, ctx))),
  }) as fc.Arbitrary<ArgIR>;
}

function argsArb(args: readonly GraphQLArgument[], g: DocGen, root: string): fc.Arbitrary<ArgIR[]> {
  const each = args.map((a) => {
    const required = isNonNullType(a.type) && a.defaultValue === undefined;
    const arg = argIRArb(a.name, a.type, { pool: g.pool, noisy: g.noisy, root, path: [a.name] });
    if (required && !g.noisy) return arg;
    return fc.oneof(w(required ? 1 : 8, c(undefined)), w(required ? 30 : 8, arg));
  });
  const bogus = fc.oneof(
    w(30, c([] as ArgIR[])),
    w(
      g.noisy ? 1 : 0,
      fc
        .tuple(fc.constantFrom("limit", "where", "orderBy", "id", "first", "brandId", ...args.map((a) => a.name)), hostileArb)
        .map(([name, value]): ArgIR[] => [{ name, value, mode: "inline", varType: "String", omitValue: false }]),
    ),
  );
  return fc.tuple(fc.tuple(...each), bogus).map(([as, extra]) => [...as.filter((a): a is ArgIR => a !== undefined), ...extra]);
}

interface DocGen {
  schema: GraphQLSchema;
  pool: Pool;
  /** False: documents that pass validation (values may still be refused by the services). */
  noisy: boolean;
  memo: Map<string, fc.Arbitrary<Sel[]>>;
  ops: Map<string, fc.Arbitrary<OpIR>>;
  roots: Map<string, fc.Arbitrary<Sel>>;
}

/** A selection set of an object type, `depth` more levels below it, at most `width` fields per level. */
function selectionSetArb(g: DocGen, type: GraphQLObjectType, depth: number, width: number): fc.Arbitrary<Sel[]> {
  const key = `${type.name}/${depth}/${width}`;
  const hit = g.memo.get(key);
  if (hit) return hit;
  const fields = Object.values(type.getFields());
  const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
  const usable = depth > 0 ? fields : leaves;
  const fieldArbs = usable.map((f) => fieldSelArb(g, f, depth, width));
  const picked = fc
    .subarray(
      usable.map((_, i) => i),
      { minLength: 1, maxLength: Math.max(1, Math.min(width, usable.length)) },
    )
    .chain((ix) => fc.tuple(...ix.map((i) => fieldArbs[i])));
  const typeNames = Object.values(g.schema.getTypeMap())
    .filter((t) => isObjectType(t) && !t.name.startsWith("__"))
    .map((t) => t.name);
  const n = g.noisy ? 1 : 0;
  const iface = type.getInterfaces()[0]?.name;
  const extras: fc.Arbitrary<Sel[]> = fc.oneof(
    w(80, c<Sel[]>([])),
    w(3, c<Sel[]>([{ k: "field", name: "__typename", args: [], dirs: [] }])),
    w(
      2 * n,
      typoArb(fields[0].name).map((name): Sel[] => [{ k: "field", name, args: [], dirs: [] }]),
    ),
    w(
      1,
      fc
        .tuple(
          nameArb.map((a) => `a_${a}`),
          fc.constantFrom(...leaves.map((f) => f.name), "__typename"),
        )
        .map(([alias, name]): Sel[] => [{ k: "field", name, alias, args: [], dirs: [] }]),
    ),
    // the same response key for two different fields: a validation error
    w(
      n,
      c(
        leaves.length > 1
          ? ([
              { k: "field", name: leaves[0].name, alias: "dup", args: [], dirs: [] },
              { k: "field", name: leaves[1].name, alias: "dup", args: [], dirs: [] },
            ] as Sel[])
          : [],
      ),
    ),
    w(n, c([{ k: "field", name: "id", args: [], dirs: [], sub: [{ k: "field", name: "id", args: [], dirs: [] }] }] as Sel[])),
    w(
      2,
      fc
        .tuple(
          fc.oneof(w(6, c(type.name)), w(1, c(undefined)), w(n, c(iface ?? "Node")), w(n, fc.constantFrom(...typeNames)), w(n, c("Nope"))),
          dirsArb(g),
          lazy(() => selectionSetArb(g, type, Math.max(0, depth - 1), width)),
        )
        .map(([on, dirs, sub]): Sel[] => [{ k: "inline", on, dirs, sub }]),
    ),
    w(
      2,
      fc
        .tuple(
          fc.oneof(w(8, c(type.name)), w(n, fc.constantFrom(...typeNames))),
          fc.oneof(w(20, c(false)), w(n, c(true))),
          lazy(() => selectionSetArb(g, type, Math.max(0, depth - 1), width)),
        )
        .map(([on, cyclic, sub]): Sel[] => [{ k: "spread", on, sub, cyclic }]),
    ),
  );
  const nodeFragment: fc.Arbitrary<Sel[]> = iface ? c([{ k: "inline", on: iface, dirs: [], sub: [{ k: "field", name: "id", args: [], dirs: [] }] }]) : c([]);
  const arb = fc.tuple(picked, fc.oneof(w(30, extras), w(1, nodeFragment))).map(([a, b]) => [...a, ...b]);
  g.memo.set(key, arb);
  return arb;
}

function fieldSelArb(g: DocGen, field: GraphQLField<unknown, unknown>, depth: number, width: number): fc.Arbitrary<Sel> {
  const named = getNamedType(field.type);
  const n = g.noisy ? 1 : 0;
  const nameA = fc.oneof(w(60, c(field.name)), w(n, typoArb(field.name)));
  const aliasA = fc.oneof(
    w(15, c(undefined)),
    w(
      1,
      nameArb.map((a) => `a_${a}`),
    ),
    w(n, c("id")),
  );
  const argsA = field.args.length
    ? argsArb(field.args, g, field.name)
    : fc.oneof(
        w(60, c([] as ArgIR[])),
        w(
          n,
          fc.tuple(nameArb, hostileArb).map(([name, value]): ArgIR[] => [{ name, value, mode: "inline", varType: "String", omitValue: false }]),
        ),
      );
  let subA: fc.Arbitrary<Sel[] | undefined>;
  if (isLeafType(named)) subA = fc.oneof(w(60, c(undefined)), w(n, c([{ k: "field", name: "id", args: [], dirs: [] }] as Sel[])));
  else
    subA = fc.oneof(
      w(
        60,
        lazy(() => selectionSetArb(g, named as GraphQLObjectType, depth - 1, width)),
      ),
      w(n, c(undefined)),
    );
  return fc.tuple(nameA, aliasA, argsA, dirsArb(g), subA).map(([name, alias, args, dirs, sub]): Sel => ({ k: "field", name, alias, args, dirs, sub }));
}

/**
 * Chains through object fields that lean on lists (a brand's products → their brand → its
 * products …, an order's attempts → their order → …), 2 to 6 levels, sometimes aliased twice at
 * one level: the documents whose answers multiply with the data (issue #12 item 4). On the
 * data-heavy world (brands with the most products, orders with the most attempts) they either
 * cost too much or stay under LARGEST_ANSWER, which the fuzz test checks on every answer.
 */
function listChainArb(g: DocGen, type: GraphQLObjectType, levels: number): fc.Arbitrary<Sel[]> {
  const key = `chain/${type.name}/${levels}`;
  const hit = g.memo.get(key) as fc.Arbitrary<Sel[]> | undefined;
  if (hit) return hit;
  const objectFields = Object.values(type.getFields()).filter((f) => isObjectType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)));
  const leaf = c<Sel[]>([{ k: "field", name: "id" in type.getFields() ? "id" : "__typename", args: [], dirs: [] }]);
  if (levels <= 0 || !objectFields.length) {
    g.memo.set(key, leaf);
    return leaf;
  }
  const step = (f: GraphQLField<unknown, unknown>) =>
    fc.boolean().chain((twice) => {
      const sub = fc.oneof(
        w(
          4,
          lazy(() => listChainArb(g, getNamedType(f.type) as GraphQLObjectType, levels - 1)),
        ),
        w(1, leaf),
      );
      const one = (alias?: string) => sub.map((s): Sel => ({ k: "field", name: f.name, alias, args: [], dirs: [], sub: s }));
      return twice ? fc.tuple(one("x1"), one("x2")) : one().map((s) => [s]);
    });
  // Lists that can hold many items are picked most often (their bound, in tens).
  const weight = (f: GraphQLField<unknown, unknown>) =>
    isListType(isNonNullType(f.type) ? f.type.ofType : f.type) ? 1 + Math.ceil((LIST_BOUNDS[`${type.name}.${f.name}`] ?? 10) / 10) : 2;
  const arb = fc.oneof(...objectFields.map((f) => w(weight(f), step(f))));
  g.memo.set(key, arb);
  return arb;
}

const depthArb = fc.oneof(w(10, fc.integer({ min: 0, max: 3 })), w(3, fc.integer({ min: 4, max: 6 })), w(1, fc.integer({ min: 8, max: 12 })));

/**
 * Root fields the fuzzer leaves out: logOutEverywhere would end the world's identities for every
 * later case (tests/api/sessions.test.ts covers it).
 */
const ENDS_THE_CALLERS_SESSIONS = new Set(["logOutEverywhere"]);

/** One root field of Query, Mutation or Subscription with its arguments and a selection set. */
function rootFieldArb(g: DocGen, opType: OpIR["type"]): fc.Arbitrary<Sel> {
  const hit = g.roots.get(opType);
  if (hit) return hit;
  const root = opType === "query" ? g.schema.getQueryType()! : opType === "mutation" ? g.schema.getMutationType()! : g.schema.getSubscriptionType()!;
  const n = g.noisy ? 1 : 0;
  const fields = Object.values(root.getFields()).filter((f) => !ENDS_THE_CALLERS_SESSIONS.has(f.name));
  const perField = fields.map((f) => {
    const named = getNamedType(f.type);
    const subA: fc.Arbitrary<Sel[] | undefined> = isLeafType(named)
      ? fc.oneof(w(40, c(undefined)), w(n, c([{ k: "field", name: "id", args: [], dirs: [] }] as Sel[])))
      : fc.oneof(
          w(
            40,
            (g.noisy ? depthArb : depthArb.filter((d) => d <= 7)).chain((d) => selectionSetArb(g, named as GraphQLObjectType, d, d > 6 ? 1 : 3)),
          ),
          w(n, c(undefined)),
        );
    const fieldArb = fc
      .tuple(
        fc.oneof(w(40, c(f.name)), w(n, typoArb(f.name))),
        fc.oneof(
          w(12, c(undefined)),
          w(
            1,
            nameArb.map((a) => `a_${a}`),
          ),
        ),
        argsArb(f.args, g, f.name),
        dirsArb(g),
        subA,
      )
      .map(([name, alias, args, dirs, sub]): Sel => ({ k: "field", name, alias, args, dirs, sub }));
    if (isLeafType(named) || opType === "mutation") return fieldArb;
    const chain = fc.tuple(
      argsArb(f.args, g, f.name),
      fc.integer({ min: 2, max: 6 }).chain((d) => listChainArb(g, named as GraphQLObjectType, d)),
    );
    return fc.oneof(
      w(10, fieldArb),
      w(
        2,
        chain.map(([args, sub]): Sel => ({ k: "field", name: f.name, args, dirs: [], sub })),
      ),
    );
  });
  // The same chains from the roots that reach the data-heavy world's brand and order.
  const heavyChains = fields.flatMap((f) => {
    const args = heavyArgs(f, g.pool);
    const named = getNamedType(f.type);
    if (!args || !isObjectType(named)) return [];
    return [
      fc
        .integer({ min: 2, max: 6 })
        .chain((d) => listChainArb(g, named, d))
        .map((sub): Sel => ({ k: "field", name: f.name, args, dirs: [], sub })),
    ];
  });
  const introspection: fc.Arbitrary<Sel>[] =
    opType === "query"
      ? [
          argIRArb("name", g.schema.getType("String") as GraphQLInputType, { pool: g.pool, noisy: g.noisy, root: "__type", path: ["name"] }).map((a): Sel => ({
            k: "field",
            name: "__type",
            args: [{ ...a, value: typeof a.value === "string" && a.value.length < 3 ? "Order" : a.value }],
            dirs: [],
            sub: [{ k: "raw", text: "name kind fields(includeDeprecated: true) { name args { name } type { name ofType { name } } }" }],
          })),
          c<Sel>({
            k: "field",
            name: "__schema",
            args: [],
            dirs: [],
            sub: [{ k: "raw", text: "queryType { name } directives { name args { name } } types { name kind }" }],
          }),
        ]
      : [];
  const heavy = opType !== "mutation" && heavyChains.length ? [w(6, fc.oneof(...heavyChains))] : [];
  const arb = fc.oneof(w(40, fc.oneof(...perField)), ...heavy, ...introspection.map((a) => w(1, a)));
  g.roots.set(opType, arb);
  return arb;
}

function opArb(g: DocGen, type: OpIR["type"], maxFields: number): fc.Arbitrary<OpIR> {
  const key = `op/${type}/${maxFields}`;
  const hit = g.ops.get(key);
  if (hit) return hit;
  // (validation allows one root field per subscription; clean documents keep to it)
  const several = g.noisy || type !== "subscription" ? 1 : 0;
  const fieldsA = fc.oneof(
    w(12, fc.array(rootFieldArb(g, type), { minLength: 1, maxLength: 1 })),
    w(several, fc.array(rootFieldArb(g, type), { minLength: 2, maxLength: maxFields })),
  );
  const arb = fc.record({
    type: c(type),
    sels: fieldsA,
    dirs: fc.oneof(w(30, c([] as DirIR[])), w(g.noisy ? 1 : 0, fc.array(directiveArb(g.pool, true), { maxLength: 2 }))),
  });
  g.ops.set(key, arb);
  return arb;
}

const opTypeArb = fc.oneof(w(10, c<OpIR["type"]>("query")), w(8, c<OpIR["type"]>("mutation")), w(1, c<OpIR["type"]>("subscription")));

export function docArb(g: DocGen, only?: OpIR["type"]): fc.Arbitrary<DocIR> {
  const typeA = only ? c(only) : opTypeArb;
  const single = typeA.chain((t) => opArb(g, t, t === "subscription" ? 2 : 3)).map((op) => [op]);
  const several = fc.array(
    typeA.chain((t) => opArb(g, t, 2)),
    { minLength: 2, maxLength: 3 },
  );
  const n = g.noisy ? 1 : 0;
  return fc
    .record({
      ops: fc.oneof(w(15, single), w(1, several)),
      names: fc.oneof(w(8, c("auto")), w(n, c("anonymous")), w(n, c("duplicate"))),
      opName: fc.oneof(w(10, c<DocIR["opName"]>("none")), w(6, fc.nat(3)), w(n, c<DocIR["opName"]>("wrong"))),
      vars: fc.oneof(
        w(40, c(undefined)),
        w(
          n,
          hostileArb.map((value) => ({ kind: "replace" as const, value: value instanceof RawLit || value instanceof EnumLit ? value.toJSON() : value })),
        ),
        w(
          n,
          fc.dictionary(nameArb, hostileArb, { minKeys: 1, maxKeys: 3 }).map((value) => ({ kind: "extra" as const, value })),
        ),
      ),
      corrupt: fc.oneof(
        w(30, c(undefined)),
        w(
          n,
          fc.record({
            kind: fc.constantFrom("truncate", "delete", "insert", "duplicate") as fc.Arbitrary<"truncate" | "delete" | "insert" | "duplicate">,
            at: fc.nat(),
            text: fc.constantFrom(
              "{",
              "}",
              "(",
              ")",
              "[",
              "]",
              ":",
              "$",
              "@",
              "!",
              '"',
              '"""',
              "\\",
              "...",
              "#",
              "\u0000",
              "\ufeff",
              "é",
              "\n",
              "0",
              "-",
              "&",
              "|",
              "=",
            ),
          }),
        ),
      ),
      shorthand: fc.boolean(),
      extra: fc.oneof(
        w(40, c(undefined)),
        w(n, fc.constantFrom<DocIR["extra"]>("unusedFragment", "unknownSpread", "emptySelection", "fragmentBomb", "undefinedVar", "unusedVar")),
      ),
    })
    .map(({ ops, names, ...rest }) => {
      if (!g.noisy && ops.length > 1 && rest.opName === "none") rest.opName = 0;
      const named = ops.map((op, i) => ({
        ...op,
        name: ops.length === 1 && rest.opName === "none" ? undefined : names === "anonymous" && i === 0 ? undefined : names === "duplicate" ? "Op" : `Op${i}`,
      }));
      return { ops: named, ...rest } as DocIR;
    });
}

// ---- whole cases -------------------------------------------------------------------------------

/** Credentials that are not an identity's: malformed, forged, expired or unknown. */
export type BadAuth =
  | { kind: "header"; headers: Record<string, string> }
  | { kind: "forged"; sub: "random" | "customer" | "notUuid"; tokenKind: string; exp: "past" | "future" | "none"; secret: "real" | "wrong" | "none" }
  | { kind: "apiKey"; which: "unknownId" | "realIdWrongSecret" | "malformed" };

export interface HttpCase {
  kind: "http";
  identity: string;
  badAuth?: BadAuth;
  ip: string;
  doc: DocIR;
  method: "POST" | "GET";
  accept: string;
  extensions?: unknown;
  /** Sent this many times at once (races: the same mutation twice, on the same objects). */
  copies?: number;
}
export interface RawCase {
  kind: "raw";
  identity: string;
  ip: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  label: string;
}
export type WsStep = { t: "subscribe"; id: string; doc: DocIR } | { t: "raw"; data: string } | { t: "complete"; id: string };
export interface WsCase {
  kind: "ws";
  identity: string;
  protocol: string;
  init: "identity" | "skip" | "twice" | { payload: unknown };
  steps: WsStep[];
  /** After subscribing, make an order of the first brand change status, so events flow. */
  trigger: boolean;
}
export type FuzzCase = HttpCase | RawCase | WsCase;

// Addresses spread over 65,536 /64s: per-address limits count an IPv6 client by its /64, and cases
// should not share one address's budgets.
const ipArb = fc.oneof(
  w(
    40,
    fc.tuple(fc.nat(0xffff), fc.nat(0xffff), fc.nat(0xffff)).map(([a, b, d]) => `2001:db8:f00d:${a.toString(16)}::${b.toString(16)}:${d.toString(16)}`),
  ),
  w(
    1,
    fc.constantFrom("unknown", "1.2.3.4, 5.6.7.8", "::ffff:10.0.0.1", "not an ip", "999.999.999.999", "fe80::1%eth0", "", "1.2.3.4:8080", "a".repeat(4_000)),
  ),
);

const badAuthArb: fc.Arbitrary<BadAuth> = fc.oneof(
  fc
    .constantFrom<Record<string, string>>(
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: "Bearer x" },
      { authorization: "Bearer a.b.c" },
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Token abc" },
      { authorization: "Bearer " + "A".repeat(8_000) },
      { authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." },
      { authorization: "Bearer \u00e9\u00ff" },
      { "x-api-key": "" },
      { "x-api-key": "olk_" },
      { "x-api-key": "olk_not-a-uuid_" + "A".repeat(43) },
      { "x-api-key": "x".repeat(5_000) },
      { "x-api-key": "olk_00000000-0000-4000-8000-000000000000_" + "A".repeat(43), authorization: "Bearer x" },
    )
    .map((headers) => ({ kind: "header" as const, headers })),
  fc.record({
    kind: c("forged" as const),
    sub: fc.constantFrom("random", "customer", "notUuid") as fc.Arbitrary<"random" | "customer" | "notUuid">,
    tokenKind: fc.constantFrom("user", "anonymous", "admin"),
    exp: fc.constantFrom("past", "future", "none") as fc.Arbitrary<"past" | "future" | "none">,
    secret: fc.constantFrom("real", "wrong", "none") as fc.Arbitrary<"real" | "wrong" | "none">,
  }),
  fc.record({
    kind: c("apiKey" as const),
    which: fc.constantFrom("unknownId", "realIdWrongSecret", "malformed") as fc.Arbitrary<"unknownId" | "realIdWrongSecret" | "malformed">,
  }),
);

const ACCEPTS = [
  "application/graphql-response+json, application/json;q=0.9",
  "application/json",
  "application/graphql-response+json",
  "*/*",
  "text/html",
  "application/xml",
  "",
  "application/json; charset=latin1",
  "multipart/mixed",
];

function httpCaseArb(g: DocGen, clean: DocGen, identities: string[]): fc.Arbitrary<HttpCase> {
  return fc.record({
    kind: c("http" as const),
    identity: fc.constantFrom(...identities),
    badAuth: fc.oneof(w(20, c(undefined)), w(1, badAuthArb)),
    ip: ipArb,
    doc: fc.oneof(w(3, docArb(g)), w(2, docArb(clean))),
    method: fc.oneof(w(20, c("POST" as const)), w(1, c("GET" as const))),
    accept: fc.oneof(w(20, c(ACCEPTS[0])), w(2, fc.constantFrom(...ACCEPTS))),
    extensions: fc.oneof(
      w(30, c(undefined)),
      w(1, fc.constantFrom<unknown>({ persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } }, { persistedQuery: { version: 2 } }, "x", [], null)),
    ),
  }) as fc.Arbitrary<HttpCase>;
}

/** Requests that are wrong below GraphQL: bodies, content types, encodings, methods, sizes. */
function rawCaseArb(identities: string[]): fc.Arbitrary<RawCase> {
  const q = JSON.stringify({ query: "{ me { anonymous } }" });
  const mut = JSON.stringify({ query: "mutation { startAnonymousSession { token } }" });
  const json = "application/json";
  type Shape = { label: string; method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer };
  const bodies: Shape[] = [
    ...[
      "",
      "{",
      '{"query": }',
      '{"query":"{ me { anonymous } }"} trailing',
      "null",
      "[]",
      `[${q}]`,
      `[${q},${mut}]`,
      '"query"',
      "1",
      "true",
      "NaN",
      "{}",
      '{"query": null}',
      '{"query": 1}',
      '{"query": {}}',
      '{"query": []}',
      '{"query": ""}',
      '{"query": " "}',
      '{"query": "{ me { anonymous } }", "variables": "x"}',
      '{"query": "{ me { anonymous } }", "variables": "{\\"a\\":1}"}',
      '{"query": "{ me { anonymous } }", "variables": []}',
      '{"query": "{ me { anonymous } }", "variables": 1}',
      '{"query": "{ me { anonymous } }", "operationName": 1}',
      '{"query": "{ me { anonymous } }", "operationName": {}}',
      '{"query": "{ me { anonymous } }", "extensions": "x"}',
      '{"query": "{ me { anonymous } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
      '{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0000000000000000000000000000000000000000000000000000000000000000"}}}',
      '{"query": "{ me { anonymous } }", "query": "mutation { startAnonymousSession { token } }"}',
      '{"__proto__": {"query": "{ me { anonymous } }"}}',
      '{"constructor": {"prototype": {"polluted": 1}}, "query": "{ me { anonymous } }"}',
      '{"query": "\\ud800"}',
      '{"query": "{ me { anonymous } }\\u0000"}',
      "\ufeff" + q,
      q.replace("{", "{\n\n\n"),
      '{"query": "{ __typename }", "variables": {"a": ' + "[".repeat(5_000) + "]".repeat(5_000) + "}}",
      "[".repeat(50_000) + "]".repeat(50_000),
      '{"query":' + '"' + "{".repeat(1_000) + '"}',
    ].map((body): Shape => ({ label: "json-body", body })),
    { label: "too-large", body: JSON.stringify({ query: "{ me { anonymous } }", variables: { pad: "x".repeat(1_100_000) } }) },
    { label: "just-under-limit", body: JSON.stringify({ query: "{ me { anonymous } }", variables: { pad: "x".repeat(1_000_000) } }) },
    { label: "whitespace-query", body: JSON.stringify({ query: "{ me { anonymous } }" + " ".repeat(900_000) }) },
    { label: "comment-query", body: JSON.stringify({ query: "{ me { anonymous } }\n" + "# comment\n".repeat(90_000) }) },
    { label: "long-name", body: JSON.stringify({ query: `{ ${"a".repeat(500_000)} }` }) },
    {
      label: "deep-selection",
      body: JSON.stringify({
        query:
          "{ me { user { memberships { brand { members { user { memberships { brand { members { user { memberships { brand { members { user { id } } } } } } } } } } } } } }",
      }),
    },
    { label: "very-deep-selection", body: JSON.stringify({ query: "{ " + "a { ".repeat(900) + "b" + " }".repeat(901) }) },
    { label: "deep-list-literal", body: JSON.stringify({ query: `{ order(id: ${"[".repeat(990)}1${"]".repeat(990)}) { id } }` }) },
    { label: "deep-object-literal", body: JSON.stringify({ query: `mutation { createOrder(input: ${"{a: ".repeat(600)}1${"}".repeat(600)}) { id } }` }) },
    { label: "many-aliases", body: JSON.stringify({ query: `{ ${Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(" ")} }` }) },
    {
      label: "many-operations",
      body: JSON.stringify({ query: Array.from({ length: 400 }, (_, i) => `query Q${i} { __typename }`).join("\n"), operationName: "Q399" }),
    },
    { label: "many-directives", body: JSON.stringify({ query: `{ me ${"@include(if: true) ".repeat(300)} { anonymous } }` }) },
    {
      label: "many-fragments",
      body: JSON.stringify({
        query: `{ ...F0 } ${Array.from({ length: 300 }, (_, i) => `fragment F${i} on Query { ${i < 299 ? `...F${i + 1}` : "__typename"} }`).join(" ")}`,
      }),
    },
    { label: "fragment-cycle", body: JSON.stringify({ query: "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }" }) },
    {
      label: "many-variables",
      body: JSON.stringify({
        query: `query(${Array.from({ length: 500 }, (_, i) => `$v${i}: Int`).join(", ")}) { __typename }`,
        variables: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`v${i}`, i])),
      }),
    },
    {
      label: "huge-variables-object",
      body: JSON.stringify({
        query: "query($x: String) { __typename }",
        variables: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])),
      }),
    },
    {
      label: "many-order-lines",
      body: JSON.stringify({
        query: "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
        variables: {
          i: {
            brandId: "00000000-0000-4000-8000-000000000000",
            lines: Array.from({ length: 20_000 }, () => ({ productId: "00000000-0000-4000-8000-000000000000", quantity: 1 })),
            buyer: { name: "a", email: "a@b.cc" },
          },
        },
      }),
    },
    {
      label: "introspection",
      body: JSON.stringify({ query: "{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }" }),
    },
  ];
  const contentTypes: Shape[] = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/graphql",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    'application/json; charset="utf-8"',
    "application/JSON",
    "application/graphql-response+json",
    "application/json, text/plain",
    "*/*",
    "application/json;",
    "application/octet-stream",
    "",
  ].flatMap((ct): Shape[] => [
    { label: "content-type", headers: { "content-type": ct }, body: mut },
    { label: "content-type+preflight", headers: { "content-type": ct, "apollo-require-preflight": "1" }, body: q },
  ]);
  const zeros = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
  const encodings: Shape[] = [
    { label: "gzip-invalid", headers: { "content-type": json, "content-encoding": "gzip" }, body: q },
    { label: "gzip-valid", headers: { "content-type": json, "content-encoding": "gzip" }, body: gzipSync(Buffer.from(q)) },
    { label: "gzip-bomb", headers: { "content-type": json, "content-encoding": "gzip" }, body: zeros },
    { label: "deflate-invalid", headers: { "content-type": json, "content-encoding": "deflate" }, body: q },
    { label: "br-invalid", headers: { "content-type": json, "content-encoding": "br" }, body: q },
    { label: "encoding-unknown", headers: { "content-type": json, "content-encoding": "compress" }, body: q },
    { label: "encoding-twice", headers: { "content-type": json, "content-encoding": "gzip, gzip" }, body: gzipSync(gzipSync(Buffer.from(q))) },
    {
      label: "invalid-utf8",
      headers: { "content-type": json },
      body: Buffer.concat([Buffer.from('{"query":"{ me { anonymous } }","variables":{"x":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}}')]),
    },
    { label: "utf16-body", headers: { "content-type": "application/json; charset=utf-16le" }, body: Buffer.from(q, "utf16le") },
  ];
  const get = (params: Record<string, string>, preflight = true): Shape => ({
    label: "get",
    method: "GET",
    path: `/graphql?${new URLSearchParams(params)}`,
    headers: preflight ? { "apollo-require-preflight": "1" } : {},
  });
  const methods: Shape[] = [
    get({ query: "{ me { anonymous } }" }),
    get({ query: "{ me { anonymous } }" }, false),
    get({ query: "mutation { startAnonymousSession { token } }" }),
    get({ query: "{ me { anonymous } }", variables: "{" }),
    get({ query: "{ me { anonymous } }", variables: "[]" }),
    get({ query: "{ me { anonymous } }", extensions: "nope" }),
    get({ query: "query($id: ID!) { order(id: $id) { id } }", variables: JSON.stringify({ id: "not-a-uuid" }) }),
    get({ query: "{ me { anonymous } }".padEnd(20_000, " ") }),
    get({}),
    {
      label: "get-repeated-param",
      method: "GET",
      path: "/graphql?query=%7B__typename%7D&query=%7B__typename%7D",
      headers: { "apollo-require-preflight": "1" },
    },
    { label: "get-bad-percent", method: "GET", path: "/graphql?query=%E0%A4%A", headers: { "apollo-require-preflight": "1" } },
    ...["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"].map((method): Shape => ({ label: "method", method, body: q })),
    { label: "path", path: "/graphql/", body: q },
    { label: "path", path: "/graphql/x/y", body: q },
    { label: "path", path: "/GRAPHQL", body: q },
    { label: "path", path: "/graphql;x", body: q },
    { label: "path", path: "/graphql?query=x", body: q },
    { label: "path", path: "//graphql", body: q },
    { label: "header", headers: { "content-type": json, "x-request-id": "x".repeat(5_000) }, body: q },
    { label: "header", headers: { "content-type": json, "x-request-id": "../../%01\"'<>" }, body: q },
    { label: "header", headers: { "content-type": json, "x-apollo-operation-name": "x" }, body: q },
    { label: "header", headers: { "content-type": json, "content-length": "5" }, body: q },
    { label: "header-huge", headers: { "content-type": json, "x-big": "x".repeat(20_000) }, body: q },
  ];
  // The other HTTP routes, hit with nonsense (they share the error handling and the process).
  const uuid = "00000000-0000-4000-8000-000000000000";
  const others: Shape[] = [
    { label: "webhook", path: "/webhooks/payments", body: "{" },
    { label: "webhook", path: "/webhooks/payments", body: "", headers: { "payment-signature": "t=1,v1=00" } },
    {
      label: "webhook",
      path: "/webhooks/payments",
      body: JSON.stringify({ id: "evt_x", type: "payment_attempt.updated", data: { attemptExternalId: "x", status: "PAID", totalAmount: 1, currency: "EUR" } }),
      headers: { "payment-signature": "garbage" },
    },
    {
      label: "webhook",
      path: "/webhooks/payments",
      body: JSON.stringify({ id: "evt_x" }),
      headers: { "payment-signature": `t=${"9".repeat(400)},v1=${"a".repeat(64)}` },
    },
    { label: "webhook", path: "/webhooks/payments", body: "x".repeat(2_000_000), headers: { "content-type": "application/octet-stream" } },
    { label: "webhook", method: "GET", path: "/webhooks/payments" },
    ...["x", "%E0%A4%A", "..%2F..%2Fetc%2Fpasswd", "a".repeat(5_000), uuid, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "%00"].map((t): Shape => ({
      label: "fan-link",
      method: "GET",
      path: `/fans/${t}`,
    })),
    ...["x", uuid, "%E0%A4%A", "cs_test_" + "a".repeat(300)].map((t): Shape => ({ label: "dev-checkout", method: "GET", path: `/dev/checkout/${t}` })),
    { label: "dev-checkout", path: "/dev/checkout/x/paid", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a=1" },
    { label: "dev-checkout", path: `/dev/checkout/${uuid}/nope`, headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a[b][c][d][e][f]=1" },
    ...["x", uuid, "%E0%A4%A", `${uuid}/attachments/-1`, `${uuid}/attachments/99999999999999999999`, `${uuid}/attachments/x`].map((t): Shape => ({
      label: "dev-mail",
      method: "GET",
      path: `/dev/mail/${t}`,
    })),
    { label: "metrics", method: "GET", path: "/metrics", headers: { authorization: "Bearer x" } },
    { label: "static", method: "GET", path: "/web/assets/..%2F..%2F..%2Fetc%2Fpasswd" },
    { label: "static", method: "GET", path: "/admin/../../etc/passwd" },
    { label: "graphiql", method: "GET", path: "/graphql", headers: { accept: "text/html" } },
    { label: "graphiql", method: "GET", path: "/graphql?query=%7B", headers: { accept: "text/html" } },
  ];
  const shapes = [...bodies, ...contentTypes, ...encodings, ...methods, ...others];
  return fc
    .record({
      shape: fc.oneof(
        w(4, fc.constantFrom(...shapes)),
        w(
          1,
          fc.oneof(fc.json(), fc.string({ unit: "binary", maxLength: 200 })).map((body): Shape => ({ label: "random-body", body })),
        ),
      ),
      identity: fc.constantFrom(...identities),
      ip: ipArb,
    })
    .map(({ shape, identity, ip }) => ({
      kind: "raw" as const,
      identity,
      ip,
      method: shape.method ?? "POST",
      path: shape.path ?? "/graphql",
      headers: { "content-type": json, ...shape.headers },
      body: shape.body,
      label: shape.label,
    }));
}

function wsCaseArb(g: DocGen, clean: DocGen, identities: string[]): fc.Arbitrary<WsCase> {
  const subDoc = fc.oneof(w(1, docArb(g, "subscription")), w(1, docArb(clean, "subscription")));
  const otherDoc = docArb(g);
  const rawMessages = fc.constantFrom(
    "not json",
    "{}",
    "[]",
    "null",
    '{"type":"nope"}',
    '{"type":"subscribe"}',
    '{"type":"subscribe","id":"x"}',
    '{"type":"subscribe","id":"x","payload":{}}',
    '{"type":"subscribe","id":"x","payload":{"query":1}}',
    '{"type":"subscribe","id":"x","payload":{"query":"subscription { orderStatusChanged(brandId: \\"x\\") { seq } }","variables":"x"}}',
    '{"type":"subscribe","id":"","payload":{"query":"{ __typename }"}}',
    '{"type":"subscribe","id":"x","payload":{"query":"subscription { orderStatusChanged(brandId: \\"x\\") { seq } }","extensions":"x"}}',
    '{"type":"subscribe","id":"x","payload":{"query":"subscription Op { orderStatusChanged(brandId: \\"x\\") { seq } }","operationName":"Nope"}}',
    '{"type":"complete","id":"never"}',
    '{"type":"ping"}',
    '{"type":"pong","payload":{"x":1}}',
    '{"type":"connection_ack"}',
    '{"type":"next","id":"x","payload":{}}',
    '{"type":"ping","payload":"x"}',
    JSON.stringify({ type: "subscribe", id: "big", payload: { query: "subscription { __typename }", variables: { pad: "x".repeat(70_000) } } }),
  );
  const step: fc.Arbitrary<WsStep> = fc.oneof(
    w(
      12,
      subDoc.map((doc): WsStep => ({ t: "subscribe", id: "s1", doc })),
    ),
    w(
      2,
      otherDoc.map((doc): WsStep => ({ t: "subscribe", id: "s2", doc })),
    ),
    w(
      2,
      rawMessages.map((data): WsStep => ({ t: "raw", data })),
    ),
    w(1, c<WsStep>({ t: "complete", id: "s1" })),
  );
  return fc.record({
    kind: c("ws" as const),
    identity: fc.constantFrom(...identities),
    protocol: fc.oneof(w(30, c("graphql-transport-ws")), w(1, fc.constantFrom("graphql-ws", "", "nope"))),
    init: fc.oneof(
      w(30, c<WsCase["init"]>("identity")),
      w(1, c<WsCase["init"]>("skip")),
      w(1, c<WsCase["init"]>("twice")),
      w(
        2,
        fc
          .constantFrom<unknown>(
            null,
            "x",
            [],
            1,
            { authorization: "Bearer x" },
            { authorization: 1 },
            { apiKey: "olk_x" },
            { authorization: "Basic x" },
            { apiKey: ["x"] },
          )
          .map((payload) => ({ payload })),
      ),
    ),
    steps: fc.oneof(
      w(
        10,
        step.map((s) => [s]),
      ),
      w(2, fc.array(step, { minLength: 2, maxLength: 4 })),
      w(
        1,
        fc
          .array(
            subDoc.map((doc): WsStep => ({ t: "subscribe", id: "many", doc })),
            { minLength: 21, maxLength: 23 },
          )
          .map((ss) => ss.map((s, i) => ({ ...s, id: `m${i}` }) as WsStep)),
      ),
    ),
    trigger: fc.oneof(w(1, c(false)), w(1, c(true))),
  }) as fc.Arbitrary<WsCase>;
}

export interface CaseWeights {
  http: number;
  raw: number;
  ws: number;
  race: number;
}

/** The same valid-looking mutation sent 2–6 times at once by one caller. */
function raceCaseArb(clean: DocGen, identities: string[]): fc.Arbitrary<HttpCase> {
  return fc.record({
    kind: c("http" as const),
    identity: fc.constantFrom(...identities),
    ip: ipArb,
    doc: docArb(clean, "mutation"),
    method: c("POST" as const),
    accept: c(ACCEPTS[0]),
    copies: fc.integer({ min: 2, max: 6 }),
  }) as fc.Arbitrary<HttpCase>;
}

/** A whole fuzz case: an HTTP GraphQL request, a raw malformed request, or a WebSocket session. */
export function caseArb(
  schema: GraphQLSchema,
  pool: Pool,
  identities: string[],
  weights: CaseWeights = { http: 74, raw: 10, ws: 12, race: 4 },
): fc.Arbitrary<FuzzCase> {
  const noisy: DocGen = { schema, pool, noisy: true, memo: new Map(), ops: new Map(), roots: new Map() };
  const clean: DocGen = { schema, pool, noisy: false, memo: new Map(), ops: new Map(), roots: new Map() };
  return fc.oneof(
    w(weights.http, httpCaseArb(noisy, clean, identities)),
    w(weights.raw, rawCaseArb(identities)),
    w(weights.ws, wsCaseArb(noisy, clean, identities)),
    w(weights.race, raceCaseArb(clean, identities)),
  ) as fc.Arbitrary<FuzzCase>;
}

/** The root fields a case calls (for grouping failures). */
export function rootFieldsOf(fc_: FuzzCase): string[] {
  const docs = fc_.kind === "http" ? [fc_.doc] : fc_.kind === "ws" ? fc_.steps.flatMap((s) => (s.t === "subscribe" ? [s.doc] : [])) : [];
  return docs.flatMap((d) => d.ops.flatMap((o) => o.sels.map((s) => (s.k === "field" ? s.name : s.k))));
}
