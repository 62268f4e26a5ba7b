// The raw baseline: a minimal node:http + pg server that answers the benchmark's two reads with
// hand-written SQL and the same JSON as the API. It accepts the same POST /graphql bodies and
// dispatches on the variables ({ brandId, first } → the orders page, { id } → one order); it does
// not parse GraphQL or check the token (that is the point: the limit without a framework).
// Prints {"port": N} on its first stdout line. DATABASE_URL: the benchmark's database.
import http from "node:http";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX || 20) });

// One statement for the rows (attempts and events aggregated per order), one for the count, in parallel.
const NODE_COLUMNS = `o.id, o.number, o.status, o.total, o.currency, o.created_at, o.paid_at,
  coalesce(o.snapshot -> 'lines', o.lines) as lines,
  coalesce((select json_agg(json_build_array(a.id, a.status, a.amount) order by a.created_at, a.id)
              from payment_attempt a where a.order_id = o.id), '[]') as attempts,
  coalesce((select json_agg(json_build_array(e.at, e."from", e."to") order by e.at, e.id)
              from order_event e where e.order_id = o.id), '[]') as events`;

const PAGE_SQL = `select ${NODE_COLUMNS} from orders o where o.brand_id = $1 order by o.created_at desc, o.id desc limit $2`;
const COUNT_SQL = `select count(*)::int as n from orders where brand_id = $1`;
const ONE_SQL = `select ${NODE_COLUMNS} from orders o where o.id = $1`;

const iso = (v) => (v === null ? null : new Date(v).toISOString());

function node(r) {
  return {
    id: r.id,
    number: r.number,
    status: r.status,
    total: r.total,
    currency: r.currency,
    createdAt: r.created_at.toISOString(),
    paidAt: r.paid_at ? r.paid_at.toISOString() : null,
    lines: r.lines.map((l) => ({ productName: l.productName, unitPrice: l.unitPrice, quantity: l.quantity, total: l.total })),
    paymentAttempts: r.attempts.map((a) => ({ id: a[0], status: a[1], amount: a[2] })),
    events: r.events.map((e) => ({ at: iso(e[0]), from: e[1], to: e[2] })),
  };
}

const cursor = (r) => Buffer.from(`${r.created_at.toISOString()}|${r.id}`).toString("base64url");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function ordersPage(brandId, first) {
  const [page, count] = await Promise.all([pool.query(PAGE_SQL, [brandId, first + 1]), pool.query(COUNT_SQL, [brandId])]);
  const rows = page.rows.slice(0, first);
  return {
    data: {
      orders: {
        totalCount: count.rows[0].n,
        pageInfo: { hasNextPage: page.rows.length > first, endCursor: rows.length ? cursor(rows.at(-1)) : null },
        edges: rows.map((r) => ({ node: node(r) })),
      },
    },
  };
}

async function oneOrder(id) {
  const { rows } = await pool.query(ONE_SQL, [id]);
  return { data: { order: rows[0] ? node(rows[0]) : null } };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let status = 200;
    let body;
    try {
      const v = JSON.parse(Buffer.concat(chunks).toString("utf8")).variables ?? {};
      if (typeof v.brandId === "string" && UUID.test(v.brandId)) body = await ordersPage(v.brandId, Math.min(Math.max(Number(v.first ?? 20), 1), 100));
      else if (typeof v.id === "string" && UUID.test(v.id)) body = await oneOrder(v.id);
      else {
        status = 400;
        body = { errors: [{ message: "unknown request" }] };
      }
    } catch (e) {
      status = 500;
      body = { errors: [{ message: String(e?.message ?? e) }] };
    }
    const json = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
    res.end(json);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections?.();
  pool.end().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
