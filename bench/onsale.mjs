// (h) the on-sale, (i) its availability fan-out, their raw baseline, and (n) NOTIFY's ceiling.
//
// (h) Two API processes on the benchmark's database; a new brand, one product and a quota of
//     `seats` on it; `buyers` anonymous sessions; then every buyer at once (at most `inFlight` in
//     progress, spread over both instances): createOrder → attemptToPayForOrder → signed PAID
//     webhook. Seats sold are counted from the database (PAID orders' lines) and from the quota.
// (i) Before the sale, `sockets` graphql-ws sockets (split over both instances, in a process of
//     their own) subscribe to availabilityChanged(brandId); memory per idle socket = the API
//     processes' growth (heap after a full GC, and RSS) from before opening them to after, divided
//     by their number; during the sale every arrival's latency from the event's `at`.
// raw: the same three steps against two bench/raw-onsale.mjs processes (node:http + pg,
//     hand-written SQL, own tables), the same buyers and concurrency; `on-sale vs raw` is the ratio
//     of checkouts per second.
// (n) status changes per second through NOTIFY: transactions that update a row, with and without
//     pg_notify, on `connections` connections for a few seconds; a LISTEN connection counts arrivals.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { PRODUCTION_NODE_ARGS, ROOT, WEBHOOK_SECRET, gql, rssMB, runLoad, sleep, startApi, stopChild, track } from "./lib.mjs";
import { CREATE_BRAND, CREATE_PRODUCT, CREATE_QUOTA, QUOTA } from "./queries.mjs";

const METRICS_TOKEN = "bench-metrics-token-0123456789";
const PROBE = join(ROOT, "bench", "heap-probe.cjs");

/** Heap used after a full GC and RSS of an API process started with the probe, in bytes. */
async function memory(pid) {
  const file = join(tmpdir(), `orderline-heap-${pid}.json`);
  rmSync(file, { force: true });
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 600 && !existsSync(file); i++) await sleep(50);
  const m = JSON.parse(readFileSync(file, "utf8"));
  rmSync(file, { force: true });
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external };
}

async function metric(api, name) {
  const r = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const m = new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(await r.text());
  return m ? Number(m[1]) : null;
}

/** Seats in PAID (or later) orders of a brand, from the orders' lines. */
async function seatsSold(databaseUrl, brandId) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      `select coalesce(sum((l ->> 'quantity')::int), 0)::int as seats, count(distinct o.id)::int as orders
         from orders o cross join lateral jsonb_array_elements(o.lines) l where o.brand_id = $1 and o.status in ('PAID', 'FULFILLED')`,
      [brandId],
    );
    const pending = await c.query(`select count(*)::int as n from orders where brand_id = $1 and status = 'PENDING'`, [brandId]);
    return { ...rows[0], pendingOrders: pending.rows[0].n };
  } finally {
    await c.end();
  }
}

export async function onSale({ databaseUrl, token, seats, buyers, inFlight, sockets, progress }) {
  const nodeArgs = [...PRODUCTION_NODE_ARGS, "--expose-gc", "-r", PROBE];
  // Buyers come from addresses of their own (X-Forwarded-For from loopback), as in a real on-sale.
  const extra = { METRICS_TOKEN, WS_MAX_PER_ADDRESS: "1000000", TRUST_PROXY: "loopback" };
  const apis = [];
  try {
    for (const label of ["api-h-a", "api-h-b"]) apis.push(await startApi({ databaseUrl, label, nodeArgs, extra }));
    const [a] = apis;
    const { createBrand } = await gql(a.url, CREATE_BRAND, { input: { name: "On-sale", currency: "EUR" } }, token);
    const { createProduct } = await gql(a.url, CREATE_PRODUCT, { input: { brandId: createBrand.id, name: "Festival pass", unitPrice: 1000 } }, token);
    const { createQuota } = await gql(
      a.url,
      CREATE_QUOTA,
      { input: { brandId: createBrand.id, name: "Main", size: seats, productIds: [createProduct.id] } },
      token,
    );
    progress(`(h) brand, product and a quota of ${seats} seats; ${apis.length} API processes (pids ${apis.map((x) => x.pid).join(", ")})`);

    // (i) the watchers, subscribed before the sale.
    let watchers = null;
    let watcherChild = null;
    let mem = null;
    if (sockets > 0) {
      const before = await Promise.all(apis.map((x) => memory(x.pid)));
      let subscribed;
      const ready = new Promise((resolve) => (subscribed = resolve));
      watchers = runLoad({ mode: "watchers", apis: apis.map((x) => x.url), sockets, brandId: createBrand.id, finalAvailable: 0 }, (p, m, child) => {
        if (p === "subscribed") {
          watcherChild = child;
          subscribed(m);
        }
      });
      const s = await Promise.race([ready, watchers.then(() => ({ active: 0 }))]);
      await sleep(1_000); // let the handshakes' garbage become garbage
      const after = await Promise.all(apis.map((x) => memory(x.pid)));
      const sum = (list, k) => list.reduce((t, m) => t + m[k], 0);
      mem = {
        sockets: s.active,
        connectMs: s.connectMs,
        heapPerSocketKB: (sum(after, "heapUsed") - sum(before, "heapUsed")) / s.active / 1024,
        rssPerSocketKB: (sum(after, "rss") - sum(before, "rss")) / s.active / 1024,
        externalPerSocketKB: (sum(after, "external") - sum(before, "external")) / s.active / 1024,
        rssMB: after.map((m) => m.rss / 2 ** 20),
      };
      progress(
        `(i) ${s.active} sockets subscribed in ${Math.round(s.connectMs)} ms; per idle socket: heap ${mem.heapPerSocketKB.toFixed(1)} KB, RSS ${mem.rssPerSocketKB.toFixed(1)} KB`,
      );
    }
    const executionsBefore = await Promise.all(apis.map((x) => metric(x, 'orderline_subscription_executions_total{sharing="public"}')));

    progress(`(h) ${buyers} buyers, ${inFlight} in flight, over ${apis.length} instances…`);
    const api = await runLoad({
      mode: "buyers",
      targets: apis.map((x) => x.url),
      buyers,
      inFlight,
      brandId: createBrand.id,
      productId: createProduct.id,
      webhookSecret: WEBHOOK_SECRET,
    });
    const rssAfterSale = apis.map((x) => rssMB(x.pid));
    watcherChild?.send({ saleOver: true });
    const fan = watchers ? await watchers : null;
    const executionsAfter = await Promise.all(apis.map((x) => metric(x, 'orderline_subscription_executions_total{sharing="public"}')));
    const db = await seatsSold(databaseUrl, createBrand.id);
    const { quota } = await gql(a.url, QUOTA, { id: createQuota.id }, token);
    return {
      seats,
      api: { ...api, db, quota, rssAfterSaleMB: rssAfterSale, pass: db.seats === seats && quota.sold === seats && quota.held === 0 },
      fanout: fan && {
        ...fan,
        memory: mem,
        executionsPerInstance: executionsAfter.map((v, i) => (v ?? 0) - (executionsBefore[i] ?? 0)),
      },
    };
  } finally {
    for (const x of apis) await x.stop();
  }
}

async function startRawOnSale(databaseUrl, label) {
  const child = track(
    spawn(process.execPath, [join(ROOT, "bench", "raw-onsale.mjs")], {
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET },
      stdio: ["ignore", "pipe", "inherit"],
    }),
    label,
  );
  const port = await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (c) => {
      const m = /\{"port":(\d+)\}/.exec((buf += c));
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`${label} exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

export async function rawOnSale({ databaseUrl, seats, buyers, inFlight }) {
  const ids = JSON.parse(
    execFileSync(process.execPath, [join(ROOT, "bench", "raw-onsale.mjs"), "--setup", String(seats)], {
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl },
      encoding: "utf8",
    }),
  );
  const raws = [await startRawOnSale(databaseUrl, "raw-h-a"), await startRawOnSale(databaseUrl, "raw-h-b")];
  try {
    const r = await runLoad({
      mode: "buyers",
      raw: true,
      targets: raws.map((x) => x.url),
      buyers,
      inFlight,
      productId: ids.productId,
      webhookSecret: WEBHOOK_SECRET,
    });
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const { rows } = await c.query(
      `select (select coalesce(sum(l.quantity), 0)::int from bench_raw.order_line l join bench_raw.orders o on o.id = l.order_id where o.status = 'PAID') as seats,
              (select sold from bench_raw.quota where id = $1) as sold, (select held from bench_raw.quota where id = $1) as held`,
      [ids.quotaId],
    );
    await c.query("drop schema bench_raw cascade");
    await c.end();
    return { ...r, db: rows[0], pass: rows[0].seats === seats && rows[0].sold === seats && rows[0].held === 0 };
  } finally {
    for (const x of raws) await x.stop();
  }
}

/** (n) Committed status changes per second with and without pg_notify (and how many LISTEN got). */
export async function notifyCeiling({ databaseUrl, connections = 8, seconds = 4 }) {
  const setup = new pg.Client({ connectionString: databaseUrl });
  await setup.connect();
  await setup.query(`create table if not exists bench_notify (id int primary key, v int not null default 0);
    insert into bench_notify (id) select g from generate_series(1, 10000) g on conflict do nothing`);
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  let heard = 0;
  listener.on("notification", () => heard++);
  await listener.query("listen bench_notify_channel");
  const payload = JSON.stringify({
    orderId: "00000000-0000-0000-0000-000000000000",
    brandId: "x".repeat(36),
    from: "PENDING",
    to: "PAID",
    at: new Date().toISOString(),
    seq: 2,
  });
  const run = async (notify) => {
    const clients = await Promise.all(
      Array.from({ length: connections }, async () => {
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        return c;
      }),
    );
    let commits = 0;
    const heardBefore = heard;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < until) {
          await c.query("begin");
          await c.query("update bench_notify set v = v + 1 where id = $1", [1 + Math.floor(Math.random() * 10000)]);
          if (notify) await c.query("select pg_notify('bench_notify_channel', $1)", [payload]);
          await c.query("commit");
          commits++;
        }
      }),
    );
    for (let i = 0; i < 100 && heard - heardBefore < (notify ? commits : 0); i++) await sleep(20);
    await Promise.all(clients.map((c) => c.end()));
    return { commitsPerSecond: commits / seconds, heard: heard - heardBefore, commits };
  };
  try {
    const plain = await run(false);
    const withNotify = await run(true);
    return { connections, seconds, plain, withNotify };
  } finally {
    await listener.end();
    await setup.query("drop table bench_notify");
    await setup.end();
  }
}
