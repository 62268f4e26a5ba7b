/**
 * What one graphql-jit compile of a subscription document costs (time and retained heap), against
 * the parse + validate every subscribe pays anyway. Run after `npm run build`:
 *   node --expose-gc bench/jit-compile.cjs
 * Used for the WebSocket compile budget (WS_COMPILES_PER_MINUTE, src/http/ws-limits.ts).
 */
require("reflect-metadata");
const { parse, validate, specifiedRules } = require("graphql");
const { compileQuery } = require("graphql-jit");
const { buildAppSchema } = require("../dist/schema/build.js");

const ORDER =
  "id number status total currency createdAt paidAt fulfilledAt buyer { name email } attendees { name email } lines { productId productName unitPrice quantity total } paymentAttempts { id externalId status amount currency flagged } events { at from to actor } brand { id name currency }";
const DOCS = {
  board: (i) =>
    `subscription Board${i}($brandId: ID!) { orderStatusChanged(brandId: $brandId) { previousStatus status at seq order { id number status total currency createdAt paidAt fulfilledAt buyer { name email } } } }`,
  whole: (i) => `subscription Whole${i}($brandId: ID!) { orderStatusChanged(brandId: $brandId) { previousStatus status at seq order { ${ORDER} } } }`,
  aliases15: (i) =>
    `subscription Aliases${i}($brandId: ID!) { ${Array.from({ length: 15 }, (_, a) => `a${a}: orderStatusChanged(brandId: $brandId) { previousStatus status at seq order { ${ORDER} } }`).join(" ")} }`,
};

function measure(schema, make, n) {
  const docs = Array.from({ length: n }, (_, i) => make(100_000 + i));
  const p0 = process.hrtime.bigint();
  const parsed = docs.map((d) => parse(d));
  for (const d of parsed) validate(schema, d, specifiedRules);
  const p1 = process.hrtime.bigint();
  global.gc();
  const m0 = process.memoryUsage().heapUsed;
  const kept = [];
  const t0 = process.hrtime.bigint();
  for (const d of parsed) kept.push(compileQuery(schema, d));
  const t1 = process.hrtime.bigint();
  global.gc();
  const m1 = process.memoryUsage().heapUsed;
  return {
    tokens: make(1)
      .split(/[\s{}():$!,]+/)
      .filter(Boolean).length,
    parseValidateMs: +(Number(p1 - p0) / 1e6 / n).toFixed(3),
    compileMs: +(Number(t1 - t0) / 1e6 / n).toFixed(3),
    retainedKB: +((m1 - m0) / 1024 / n).toFixed(1),
    kept: kept.length,
  };
}

(async () => {
  const schema = await buildAppSchema();
  for (let i = 0; i < 300; i++) compileQuery(schema, parse(DOCS.board(i))); // warm up the JIT
  for (const [name, make] of Object.entries(DOCS)) console.log(name, JSON.stringify(measure(schema, make, name === "aliases15" ? 100 : 1000)));
  process.exit(0);
})();
