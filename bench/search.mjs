// (j) searchOrders on a brand with N orders (1,000,000; --search-orders N) inserted with SQL, and
// (k) GET /brands/:brandId/orders.csv of the newest M of them (100,000; --export-orders M).
// Issue #16. Figures only; never fails on speed.
import pg from "pg";
import { gql, rssMB, rssSampler } from "./lib.mjs";

const SEARCH = `query ($brandId: ID!, $search: String!) {
  searchOrders(brandId: $brandId, filter: { search: $search }, first: 20) { totalCount edges { node { id number status total buyer { name email } createdAt } } }
}`;
const SURNAMES = ["Lovelace", "Hopper", "Turing", "Johnson", "Berners", "Torvalds", "Liskov", "Dijkstra", "Hamilton", "Knuth"];
const FIRST = ["Ada", "Grace", "Alan", "Katherine", "Tim", "Linus", "Barbara", "Edsger"];
const DOMAINS = ["example.com", "mail.test", "post.example"];

/** N orders of a new brand, one statement (generate_series); the trigram index built afterwards, as a restore would. */
async function insertOrders(client, brandId, n) {
  const t0 = performance.now();
  await client.query("drop index if exists orders_search");
  await client.query(
    `insert into orders (id, created_at, number, brand_id, status, buyer_name, buyer_email, attendees, lines, subtotal, discount_total, total, currency, expires_at)
     select gen_random_uuid(), now() - g * interval '1 second', 'SB' || lpad(to_hex(g), 8, '0'), $1,
            (array['PENDING','PAID','FULFILLED','CANCELLED','EXPIRED'])[1 + g % 5]::order_status,
            ($3::text[])[1 + g % 8] || ' ' || ($4::text[])[1 + (g / 8) % 10] || ' ' || g,
            'buyer' || g || '@' || ($5::text[])[1 + g % 3],
            jsonb_build_array(jsonb_build_object('name', 'Holder ' || g, 'email', 'holder' || g || '@guests.test')),
            '[{"productId":"00000000-0000-4000-8000-000000000000","productName":"Bench Ticket","unitPrice":1250,"quantity":2,"total":2500}]',
            2500, 0, 2500, 'EUR', now() + interval '30 minutes'
       from generate_series(1, $2::int) g`,
    [brandId, n, FIRST, SURNAMES, DOMAINS],
  );
  const insertMs = performance.now() - t0;
  const t1 = performance.now();
  await client.query("set maintenance_work_mem = '256MB'");
  await client.query(`create index "orders_search" on "orders" using gin (order_search_text("number", "buyer_name", "buyer_email", "attendees") gin_trgm_ops)`);
  await client.query("analyze orders");
  return { insertMs, indexMs: performance.now() - t1 };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function timed(api, token, brandId, terms) {
  const ms = [];
  let hits = 0;
  const failures = [];
  for (const search of terms) {
    const t = performance.now();
    try {
      const d = await gql(api, SEARCH, { brandId, search }, token);
      hits += d.searchOrders.totalCount;
    } catch (err) {
      failures.push(`${search}: ${String(err.message).slice(0, 200)}`);
    }
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return {
    requests: ms.length,
    p50: pct(ms, 50),
    p99: pct(ms, 99),
    max: ms.at(-1),
    meanMatches: hits / terms.length,
    failures: failures.length,
    firstFailures: failures.slice(0, 3),
  };
}

/** EXPLAIN ANALYZE of the statement searchOrders runs (its shape: order.repository.ts + pagination.ts), without the select list. */
async function explainSearch(client, brandId, search) {
  const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const where = `brand_id = $1 and order_search_text("number", "buyer_name", "buyer_email", "attendees") like lower($2)`;
  await client.query("set statement_timeout = '60s'");
  const { rows } = await client.query(
    `explain (analyze, costs on, timing off, summary on)
     select id, (select count(*)::int as n from (select 1 from orders where ${where} limit 1001) counted) as total_count
       from orders o where ${where} order by created_at desc, id desc limit 21`,
    [brandId, like],
  );
  return rows.map((r) => r["QUERY PLAN"]);
}

/** (j) and (k) against a running API (`api`: base URL, `pid`) as the brand owner `token`. */
export async function searchAndExport({ api, pid, databaseUrl, token, searchOrders, exportOrders, requests, progress }) {
  const { createBrand } = await gql(api, `mutation { createBrand(input: { name: "Search Bench", currency: "EUR" }) { id } }`, {}, token);
  const brandId = createBrand.id;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    progress(`(j) inserting ${searchOrders.toLocaleString("en-US")} orders with SQL…`);
    const setup = await insertOrders(client, brandId, searchOrders);
    progress(`(j) inserted in ${Math.round(setup.insertMs)} ms, trigram index built in ${Math.round(setup.indexMs)} ms`);
    const g = () => 1 + Math.floor(Math.random() * searchOrders);
    const kinds = {
      email: () => `buyer${g()}@`,
      name: () => {
        const n = g();
        return `${SURNAMES[Math.floor(n / 8) % 10].toLowerCase()} ${n}`;
      },
      number: () => `b${g().toString(16).padStart(8, "0")}`, // "SB0001ABCD" without its first letter
      common: () => FIRST[g() % 8], // matches an eighth of the brand: the newest 20 and a bounded count
    };
    const j = { orders: searchOrders, ...setup, kinds: {} };
    j.plans = {};
    for (const [kind, term] of Object.entries(kinds)) {
      j.plans[kind] = await explainSearch(client, brandId, term());
      progress(`(j) ${kind} plan:\n    ${j.plans[kind].join("\n    ")}`);
      await timed(api, token, brandId, Array.from({ length: 20 }, term)); // warm-up
      j.kinds[kind] = await timed(api, token, brandId, Array.from({ length: requests }, term));
      progress(
        `(j) ${kind}: p50 ${j.kinds[kind].p50.toFixed(1)} ms, p99 ${j.kinds[kind].p99.toFixed(1)} ms, ${j.kinds[kind].meanMatches.toFixed(1)} matches on average`,
      );
    }
    const plan = await client.query(
      `explain (analyze, costs off, timing off, summary on)
       select id from orders where brand_id = $1 and order_search_text("number", "buyer_name", "buyer_email", "attendees") like lower($2)
        order by created_at desc, id desc limit 21`,
      [brandId, `%buyer${g()}@%`],
    );
    j.explain = plan.rows.map((r) => r["QUERY PLAN"]);

    // (k): the newest `exportOrders` orders of the brand (created one second apart).
    const { rows: edge } = await client.query("select created_at from orders where brand_id = $1 order by created_at desc, id desc offset $2 limit 1", [
      brandId,
      exportOrders - 1,
    ]);
    const from = edge[0].created_at.toISOString();
    const before = rssMB(pid);
    const sampler = rssSampler(pid, 100);
    const t0 = performance.now();
    const res = await fetch(`${api}/brands/${brandId}/orders.csv?createdFrom=${encodeURIComponent(from)}`, { headers: { authorization: `Bearer ${token}` } });
    let bytes = 0;
    let rows = -1; // the header
    for await (const chunk of res.body) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 0x0a) rows++;
    }
    const ms = performance.now() - t0;
    const during = sampler.stop();
    await new Promise((r) => setTimeout(r, 1_000));
    const k = {
      status: res.status,
      rows,
      bytes,
      ms,
      rowsPerSecond: rows / (ms / 1000),
      rssMB: { before, peak: during.peak, mean: during.mean, after: rssMB(pid) },
    };
    progress(
      `(k) orders.csv: ${rows} rows, ${(bytes / 1e6).toFixed(1)} MB in ${Math.round(ms)} ms = ${Math.round(k.rowsPerSecond)} rows/s; RSS ${before?.toFixed(0)} → peak ${during.peak?.toFixed(0)} → ${k.rssMB.after?.toFixed(0)} MB`,
    );
    return { j, k };
  } finally {
    await client.end();
  }
}
