// The on-sale's raw baseline (bench (h)): node:http + pg, hand-written SQL on tables of its own in
// the schema `bench_raw`, the same three steps as the API without GraphQL, sessions or auth:
//   POST /order   { input: { lines: [{ productId, quantity }], buyer } } – in one transaction the
//                 order row, its line, then the conditional update of the product's quota
//                 (`held = held + q where size - sold - held >= q`); none updated: SOLD_OUT, rollback;
//   POST /pay     { orderId }   – the payment attempt row (PENDING);
//   POST /webhook (signed like the provider: Payment-Signature, HMAC-SHA256 over "<t>.<body>",
//                 checked in constant time) – in one transaction the attempt and the order PAID
//                 and the quota's seats from held to sold.
// Answers in the API's shapes ({ data: { createOrder: { id } } }, SOLD_OUT as a coded error).
// `node bench/raw-onsale.mjs --setup <quotaSize>` creates the schema, one product and its quota and
// prints { productId, quotaId }; the server prints {"port": N}. DATABASE_URL: the bench database.
import http from "node:http";
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX || 20) });
const SECRET = process.env.PAYMENT_WEBHOOK_SECRET ?? "";

const SCHEMA = `
drop schema if exists bench_raw cascade;
create schema bench_raw;
create table bench_raw.quota (id uuid primary key, size int not null, sold int not null default 0, held int not null default 0,
  check (sold + held <= size and sold >= 0 and held >= 0));
create table bench_raw.quota_product (quota_id uuid not null references bench_raw.quota, product_id uuid not null, primary key (product_id, quota_id));
create table bench_raw.orders (id uuid primary key, status text not null, total int not null, currency text not null,
  buyer_name text not null, buyer_email text not null, created_at timestamptz not null default now(), paid_at timestamptz);
create table bench_raw.order_line (order_id uuid not null references bench_raw.orders, product_id uuid not null, quantity int not null, unit_price int not null);
create table bench_raw.payment_attempt (id uuid primary key, order_id uuid not null references bench_raw.orders, external_id text not null unique,
  status text not null, amount int not null, currency text not null, created_at timestamptz not null default now());
create index on bench_raw.payment_attempt (order_id);
create index on bench_raw.order_line (order_id);`;

async function setup(size) {
  const productId = randomUUID();
  const quotaId = randomUUID();
  await pool.query(SCHEMA);
  await pool.query(`insert into bench_raw.quota (id, size) values ($1, $2)`, [quotaId, size]);
  await pool.query(`insert into bench_raw.quota_product values ($1, $2)`, [quotaId, productId]);
  return { productId, quotaId };
}

const PRICE = 1000;

async function tx(fn) {
  const c = await pool.connect();
  try {
    await c.query("begin");
    const r = await fn(c);
    await c.query(r === undefined ? "rollback" : "commit");
    return r;
  } catch (e) {
    await c.query("rollback").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

async function createOrder({ input }) {
  const line = input.lines[0];
  const q = Number(line.quantity);
  const id = randomUUID();
  // The seats last: the quota's row stays locked from its update to the commit, so the inserts go
  // first (a SOLD_OUT rolls them back) and concurrent buyers wait for one round trip, not three.
  const r = await tx(async (c) => {
    await c.query(`insert into bench_raw.orders (id, status, total, currency, buyer_name, buyer_email) values ($1, 'PENDING', $2, 'EUR', $3, $4)`, [
      id,
      PRICE * q,
      input.buyer.name,
      input.buyer.email,
    ]);
    await c.query(`insert into bench_raw.order_line values ($1, $2, $3, $4)`, [id, line.productId, q, PRICE]);
    const taken = await c.query(
      `update bench_raw.quota q set held = held + $2 from bench_raw.quota_product qp
        where qp.product_id = $1 and qp.quota_id = q.id and q.size - q.sold - q.held >= $2 returning q.size - q.sold - q.held as available`,
      [line.productId, q],
    );
    if (taken.rowCount === 0) return undefined; // rolled back: nothing written
    return { data: { createOrder: { id, total: PRICE * q, currency: "EUR", status: "PENDING" } } };
  });
  if (r) return r;
  const left = await pool.query(
    `select min(q.size - q.sold - q.held)::int as n from bench_raw.quota q join bench_raw.quota_product qp on qp.quota_id = q.id where qp.product_id = $1`,
    [line.productId],
  );
  return { errors: [{ message: "Sold out", extensions: { code: "SOLD_OUT", productId: line.productId, available: left.rows[0]?.n ?? 0 } }], data: null };
}

async function attemptToPay({ orderId }) {
  const id = randomUUID();
  const externalId = `pay_${randomUUID()}`;
  const { rows } = await pool.query(
    `insert into bench_raw.payment_attempt (id, order_id, external_id, status, amount, currency)
     select $1, o.id, $2, 'PENDING', o.total, o.currency from bench_raw.orders o where o.id = $3 and o.status = 'PENDING' returning amount, currency`,
    [id, externalId, orderId],
  );
  if (!rows[0]) return { errors: [{ message: "not payable", extensions: { code: "FAILED_PRECONDITION" } }], data: null };
  return { data: { attemptToPayForOrder: { id, externalId, amount: rows[0].amount, currency: rows[0].currency, status: "PENDING" } } };
}

function verified(header, raw) {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m || Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const expected = createHmac("sha256", SECRET).update(`${m[1]}.`).update(raw).digest();
  return timingSafeEqual(Buffer.from(m[2], "hex"), expected);
}

async function paid(event) {
  return tx(async (c) => {
    const a = await c.query(
      `update bench_raw.payment_attempt set status = 'PAID' where external_id = $1 and status = 'PENDING' and amount = $2 returning order_id`,
      [event.data.attemptExternalId, event.data.totalAmount],
    );
    if (!a.rows[0]) return { status: 404, body: { error: "unknown attempt" } };
    const o = await c.query(`update bench_raw.orders set status = 'PAID', paid_at = now() where id = $1 and status = 'PENDING' returning id`, [
      a.rows[0].order_id,
    ]);
    if (!o.rows[0]) return { status: 200, body: { received: true, applied: "attempt PAID, order not pending" } };
    await c.query(
      `update bench_raw.quota q set held = q.held - l.quantity, sold = q.sold + l.quantity
         from bench_raw.order_line l join bench_raw.quota_product qp on qp.product_id = l.product_id
        where l.order_id = $1 and q.id = qp.quota_id`,
      [a.rows[0].order_id],
    );
    return { status: 200, body: { received: true, applied: "applied: order PAID" } };
  });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let status = 200;
    let body;
    const raw = Buffer.concat(chunks);
    try {
      if (req.url === "/webhook") {
        if (!verified(req.headers["payment-signature"], raw)) ({ status, body } = { status: 401, body: { error: "signature mismatch" } });
        else ({ status, body } = await paid(JSON.parse(raw.toString("utf8"))));
      } else if (req.url === "/order") body = await createOrder(JSON.parse(raw.toString("utf8")));
      else if (req.url === "/pay") body = await attemptToPay(JSON.parse(raw.toString("utf8")));
      else ({ status, body } = { status: 404, body: { error: "not found" } });
    } catch (e) {
      status = 500;
      body = { errors: [{ message: String(e?.message ?? e) }] };
    }
    const json = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
    res.end(json);
  });
});

if (process.argv[2] === "--setup") {
  const ids = await setup(Number(process.argv[3] ?? 1000));
  process.stdout.write(`${JSON.stringify(ids)}\n`);
  await pool.end();
} else {
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
  const stop = () => {
    server.close();
    server.closeAllConnections?.();
    pool.end().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
