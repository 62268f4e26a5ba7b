// `npm run bench [-- --quick] [-- --profile]` — the Orderline benchmark (issue #6).
//
// Creates its own database (a fresh embedded PostgreSQL in a temp dir with fsync off, or a new
// database in DATABASE_URL's server), starts the built API as in production (dist/main.js,
// NODE_ENV=production, LOG_LEVEL=warn, PORT=0, RUN_WORKER=false), seeds it, and measures with a
// load generator in a separate process (bench/load.mjs, 32 connections, warm-up discarded):
//   (a) orders(brandId, first: 50) with lines, payment attempts and events   (API and raw)
//   (b) order(id) with the same fields, rotating over 1,000 ids               (API and raw)
//   (c) checkout: createOrder → attemptToPayForOrder → signed PAID webhook   (32 workers)
//   (d) the raw baseline: bench/raw-server.mjs, node:http + pg, the same JSON (checked)
//   (e) SQL statements per orders page at first = 10, 50, 100 (counted on the wire by a proxy)
//   (f) subscription fan-out over two API processes, latency from the event's `at` to the client
//   (g) cold start on an empty DATA_DIR (embedded initdb included) to the first answered query;
//       RSS idle and under load (/proc/<pid>/status VmRSS)
// Prints a table and writes bench/results/<time>.json and bench/results/latest.json. Benchmarks
// print figures; they never fail on speed (exit code 1 only when something could not run).
//
// --quick: 2 s warm-up + 5 s per scenario, 500 subscribers, 10 changes (under 3 minutes).
// --profile: (a), (b) and (c) each run against their own API started with --cpu-prof, and (f) with
//   both of its API processes and the load generator under --cpu-prof; the top self-time functions
//   and modules are printed and kept in the JSON.
// --only <list>: only these scenarios, comma-separated among a, b, c, e, f, g, h, n (d, the raw
//   baseline, comes with a and b; (i), the availability fan-out, and the on-sale's raw baseline come
//   with h); e.g. `--only f` seeds and measures the fan-out alone (about 30 s).
// (h) on-sale: --seats N (1,000), --buyers N (5,000), --in-flight N (256), --sockets N (10,000
//   graphql-ws sockets watching availabilityChanged: (i); 0 leaves them out). See bench/onsale.mjs.
// (n) status changes per second through NOTIFY (commits with and without pg_notify).
// (j) searchOrders p50/p99 on --search-orders N orders (1,000,000) inserted with SQL, with EXPLAIN;
// (k) orders.csv of the newest --export-orders N (100,000): rows/s and the API's RSS. bench/search.mjs.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  DIST,
  ROOT,
  WEBHOOK_SECRET,
  alive,
  cpuBusy,
  cpuTimes,
  killAllChildrenSync,
  postJson,
  rssMB,
  rssSampler,
  runLoad,
  sleep,
  startApi,
  stopAllChildren,
  stopChild,
  track,
} from "./lib.mjs";
import { formatProfile, summarizeProfile } from "./profile.mjs";
import { ONE_ORDER, ORDERS_PAGE } from "./queries.mjs";
import { notifyCeiling, onSale, rawOnSale } from "./onsale.mjs";
import { seed } from "./seed.mjs";
import { searchAndExport } from "./search.mjs";
import { startSqlCounter } from "./sql-counter.mjs";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const PROFILE = args.includes("--profile");
const SCENARIOS = ["a", "b", "c", "e", "f", "g", "h", "j", "k", "n"];
const onlyArg = args.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? (args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined);
const ONLY =
  onlyArg === undefined
    ? null
    : new Set(
        onlyArg
          .split(",")
          .map((x) => x.trim().toLowerCase())
          .filter(Boolean),
      );
if (ONLY && (ONLY.size === 0 || [...ONLY].some((x) => !SCENARIOS.includes(x)))) {
  console.error(`--only takes a comma-separated list of ${SCENARIOS.join(", ")} (got ${JSON.stringify(onlyArg ?? "")})`);
  process.exit(2);
}
const want = (k) => !ONLY || ONLY.has(k);
// --rounds N: (a) is measured N times, API and raw alternating (the order flips each round, so a
// drift of the machine's speed hits both sides alike); the ratio reported is the median.
const roundsArg =
  args.find((a) => a.startsWith("--rounds="))?.slice("--rounds=".length) ?? (args.includes("--rounds") ? args[args.indexOf("--rounds") + 1] : "1");
const ROUNDS = Number(roundsArg);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) {
  console.error(`--rounds takes a whole number from 1 to 20 (got ${JSON.stringify(roundsArg)})`);
  process.exit(2);
}
/** A whole-number option `--name N` (or `--name=N`), else `fallback`. */
function intArg(name, fallback, min, max) {
  const raw =
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} takes a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return n;
}
const CFG = {
  mode: QUICK ? "quick" : "full",
  connections: 32,
  warmupSeconds: QUICK ? 2 : 5,
  durationSeconds: QUICK ? 5 : 15,
  brands: 10,
  ordersPerBrand: 500,
  pageSize: 50,
  subscribers: QUICK ? 500 : 2000,
  changes: QUICK ? 10 : 50,
  warmupChanges: QUICK ? 2 : 5,
  fanoutInstances: 2,
  onSale: {
    seats: intArg("seats", QUICK ? 200 : 1000, 1, 1_000_000),
    buyers: intArg("buyers", QUICK ? 1000 : 5000, 1, 1_000_000),
    inFlight: intArg("in-flight", 256, 1, 10_000),
    sockets: intArg("sockets", QUICK ? 1000 : 10_000, 0, 100_000),
  },
  searchOrders: intArg("search-orders", QUICK ? 100_000 : 1_000_000, 1_000, 10_000_000),
  exportOrders: intArg("export-orders", QUICK ? 20_000 : 100_000, 1, 10_000_000),
};

const require = createRequire(import.meta.url);
const log = (...a) => console.log(...a);
const progress = (msg) => console.log(`· ${msg}`);
const fmt = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? "-" : Number(v).toFixed(d));

// ---- cleanup: every process we started (by PID), then the database and temp dirs -------------

const cleanups = [];
let cleaning;
let interrupted = false;
function cleanup() {
  cleaning ??= (async () => {
    await stopAllChildren(5_000);
    for (const f of cleanups.splice(0).reverse()) {
      try {
        await f();
      } catch (e) {
        console.error(`cleanup: ${e?.message ?? e}`);
      }
    }
  })();
  return cleaning;
}
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
]) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the benchmark's processes and dropping its database…`);
    cleanup().finally(() => process.exit(code));
  });
}
process.on("exit", killAllChildrenSync);

// ---- the database ---------------------------------------------------------------------------

async function createDatabase() {
  const external = process.env.DATABASE_URL;
  if (external) {
    const name = `orderline_bench_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const url = new URL(external);
    url.pathname = `/${name}`;
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: external });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    });
    return { url: url.toString(), kind: `new database ${name} in DATABASE_URL's server` };
  }
  require(join(DIST, "logger.js")).initLogger("warn");
  const { startEmbeddedPostgres } = require(join(DIST, "db", "embedded.js"));
  const dir = mkdtempSync(join(tmpdir(), "orderline-bench-"));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when we are root
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const db = await startEmbeddedPostgres(join(dir, "pg"), { durable: false, database: "orderline_bench" });
  cleanups.push(() => db.stop());
  return { url: db.url, kind: `embedded PostgreSQL in ${dir} (fsync off)` };
}

// ---- the raw baseline -----------------------------------------------------------------------

async function startRaw(databaseUrl) {
  const child = track(
    spawn(process.execPath, [...(process.env.RAW_NODE_ARGS ? process.env.RAW_NODE_ARGS.split(" ") : []), join(ROOT, "bench", "raw-server.mjs")], {
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "inherit"],
    }),
    "raw",
  );
  const port = await new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("raw server did not start in 15 s")), 15_000);
    child.stdout.on("data", (c) => {
      buf += c;
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`raw server exited with ${code}`)));
  });
  return { label: "raw", child, pid: child.pid, url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

// ---- checks ---------------------------------------------------------------------------------

/** The first path where two JSON values differ, or null. */
function firstDifference(a, b, path = "$") {
  if (a === b) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object")
    return `${path}: ${JSON.stringify(a)?.slice(0, 80)} ≠ ${JSON.stringify(b)?.slice(0, 80)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  const keys = Array.isArray(a) ? [...Array(Math.max(a.length, b.length)).keys()] : [...new Set([...Object.keys(a), ...Object.keys(b)])];
  if (!Array.isArray(a)) {
    const ka = Object.keys(a).join(",");
    const kb = Object.keys(b).join(",");
    if (ka !== kb) return `${path}: keys ${ka} ≠ ${kb}`;
  }
  for (const k of keys) {
    const d = firstDifference(a[k], b[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

async function sameJson(api, raw, headers, bodies) {
  const out = [];
  for (const body of bodies) {
    const x = await postJson(`${api.url}/graphql`, body, headers);
    const y = await postJson(`${raw.url}/graphql`, body, headers);
    if (x.status !== 200 || !x.json?.data || x.json.errors) throw new Error(`API answered ${x.status}: ${x.text.slice(0, 400)}`);
    const diff = firstDifference(x.json, y.json);
    out.push({
      query: body.query.match(/query (\w+)/)[1],
      variables: body.variables,
      same: diff === null,
      difference: diff,
      bytes: { api: x.text.length, raw: y.text.length },
    });
  }
  return out;
}

// ---- scenarios ------------------------------------------------------------------------------

async function httpScenario(target, bodies, headers) {
  let sampler;
  let rss;
  const r = await runLoad(
    {
      mode: "http",
      url: `${target.url}/graphql`,
      bodies: bodies.map((b) => JSON.stringify(b)),
      headers,
      connections: CFG.connections,
      warmupSeconds: CFG.warmupSeconds,
      durationSeconds: CFG.durationSeconds,
    },
    (p) => {
      if (p === "measure") sampler = rssSampler(target.pid);
      if (p === "done") rss = sampler?.stop();
    },
  );
  return { ...r, rssMB: rss ?? sampler?.stop() ?? null };
}

async function checkoutScenario(target, s) {
  const brand = s.brands.at(-1);
  let sampler;
  let rss;
  const r = await runLoad(
    {
      mode: "checkout",
      port: Number(new URL(target.url).port),
      token: s.token,
      brandId: brand.id,
      products: brand.products,
      webhookSecret: WEBHOOK_SECRET,
      workers: CFG.connections,
      warmupSeconds: CFG.warmupSeconds,
      durationSeconds: CFG.durationSeconds,
    },
    (p) => {
      if (p === "measure") sampler = rssSampler(target.pid);
      if (p === "done") rss = sampler?.stop();
    },
  );
  return { ...r, rssMB: rss ?? sampler?.stop() ?? null };
}

/** An API for one scenario: the shared one, or with --profile its own, started with --cpu-prof. */
async function withApi(shared, databaseUrl, name, profileRoot, fn) {
  if (!PROFILE) return { result: await fn(shared) };
  const dir = join(profileRoot, name);
  mkdirSync(dir, { recursive: true });
  const api = await startApi({ databaseUrl, label: `api-profile-${name}`, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
  try {
    const result = await fn(api);
    await api.stop(15_000);
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    const profile = file ? { file: join(dir, file), ...summarizeProfile(join(dir, file)) } : null;
    return { result, profile };
  } finally {
    await api.stop(5_000);
  }
}

/**
 * (e) SQL statements of one request, counted on the wire: an extra API (production settings)
 * connects to PostgreSQL through bench/sql-counter.mjs, which records every Query/Execute
 * message. One request at a time; the minimum of 3 tries (a background expiry sweep may
 * interleave). The LISTEN connection is left out.
 */
async function statementCounts(databaseUrl, s) {
  const counter = await startSqlCounter(databaseUrl);
  const api = await startApi({ databaseUrl: counter.url, label: "api-sql-count" });
  const headers = { authorization: `Bearer ${s.token}` };
  const brandId = s.brands[1].id;
  const once = async (body) => {
    await sleep(100);
    const mark = counter.mark();
    const r = await postJson(`${api.url}/graphql`, body, headers);
    if (r.status !== 200 || r.json?.errors) throw new Error(`API answered ${r.status}: ${r.text.slice(0, 300)}`);
    await sleep(100);
    return counter
      .since(mark)
      .filter((q) => !q.app?.startsWith("orderline-listener"))
      .map((q) => q.sql.replace(/\s+/g, " ").trim());
  };
  const measure = async (body) => {
    const tries = [await once(body), await once(body), await once(body)];
    const best = tries.reduce((a, b) => (b.length < a.length ? b : a));
    return { statements: best.length, tries: tries.map((t) => t.length), sql: best.map((q) => q.slice(0, 400)) };
  };
  const page = (first) => ({ query: ORDERS_PAGE, variables: { brandId, first } });
  try {
    await once(page(CFG.pageSize)); // warm-up (the first request of a process)
    const out = {};
    for (const first of [10, 50, 100]) out[first] = await measure(page(first));
    out.order = await measure({ query: ONE_ORDER, variables: { id: s.orderIds[0] } });
    return out;
  } finally {
    await api.stop();
    await counter.close();
  }
}

/**
 * (f) fan-out: subscribers over two API processes; status changes are PAID webhooks for PENDING
 * orders of brand 0. With --profile both API processes are fresh ones started with --cpu-prof, and
 * the load generator runs under --cpu-prof too (it parses every delivery on the same cores).
 */
async function fanout(apiA, databaseUrl, s, profileRoot) {
  const dir = PROFILE ? join(profileRoot, "f") : null;
  const profArgs = (name) => {
    if (!dir) return [];
    mkdirSync(join(dir, name), { recursive: true });
    return ["--cpu-prof", `--cpu-prof-dir=${join(dir, name)}`];
  };
  const apis = [];
  try {
    apis.push(PROFILE ? await startApi({ databaseUrl, label: "api-profile-f-a", nodeArgs: profArgs("api-a") }) : apiA);
    apis.push(await startApi({ databaseUrl, label: PROFILE ? "api-profile-f-b" : "api-b", nodeArgs: profArgs("api-b") }));
    const changes = s.pending.slice(0, CFG.warmupChanges + CFG.changes);
    if (changes.length < CFG.warmupChanges + CFG.changes) throw new Error(`only ${changes.length} PENDING orders with attempts in brand 0`);
    const samplers = apis.map((a) => rssSampler(a.pid));
    const cpu = {};
    const r = await runLoad(
      {
        mode: "fanout",
        apis: apis.map((a) => a.url),
        token: s.token,
        brandId: s.brands[0].id,
        subscribers: CFG.subscribers,
        changes,
        warmupChanges: CFG.warmupChanges,
        webhookUrl: apis[0].url,
        webhookSecret: WEBHOOK_SECRET,
      },
      (p) => (cpu[p] = apis.map((a) => cpuTimes(a.pid))),
      { execArgv: profArgs("load") },
    );
    const [ra, rb] = samplers.map((x) => x.stop());
    // CPU time (user + system) of each API process over the changes, per change.
    const perChange = (i, k) => (cpu.measure?.[i] && cpu.done?.[i] ? (cpu.done[i][k] - cpu.measure[i][k]) / r.changes : null);
    const split = (i) => ({ user: perChange(i, "user"), system: perChange(i, "system") });
    const total = (i) => (cpu.measure?.[i] && cpu.done?.[i] ? perChange(i, "user") + perChange(i, "system") : null);
    const result = {
      ...r,
      rssMB: { apiA: ra.peak, apiB: rb.peak },
      cpuMsPerChange: { apiA: total(0), apiB: total(1), load: r.loadCpuMsPerChange, apiASplit: split(0), apiBSplit: split(1) },
    };
    if (!PROFILE) return { result };
    for (const a of apis) await a.stop(15_000);
    const profile = {};
    for (const name of ["api-a", "api-b", "load"]) {
      const file = readdirSync(join(dir, name)).find((f) => f.endsWith(".cpuprofile"));
      // Only the changes (connecting and subscribing 2,000 clients would dominate otherwise).
      if (file) profile[name] = { file: join(dir, name, file), window: r.changesWindowUs, ...summarizeProfile(join(dir, name, file), 25, r.changesWindowUs) };
    }
    return { result, profile };
  } finally {
    for (const a of apis) if (a !== apiA) await a.stop();
  }
}

/** (g) cold start: `node dist/main.js` on an empty DATA_DIR, no DATABASE_URL, to the first answered `{ __typename }`. */
async function coldStart() {
  const dir = mkdtempSync(join(tmpdir(), "orderline-cold-"));
  chmodSync(dir, 0o755);
  const postmaster = () => {
    try {
      return Number(readFileSync(join(dir, "pg", "postmaster.pid"), "utf8").split("\n")[0]) || null;
    } catch {
      return null;
    }
  };
  const removeDir = async () => {
    const pid = postmaster();
    if (pid && alive(pid)) {
      process.kill(pid, "SIGINT");
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(removeDir);
  // LOG_LEVEL=info here only to read the API's own startupMs from its "ready" line.
  const api = await startApi({ label: "api-cold", dataDir: dir, logLevel: "info", timeoutMs: 180_000, keepLogs: true });
  try {
    const ready = api.logs
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return null;
        }
      })
      .find((l) => l?.msg?.startsWith?.("Orderline API ready"));
    await sleep(1_000);
    return { ms: api.startMs, apiStartupMs: ready?.startupMs ?? null, idleRssMB: rssMB(api.pid) };
  } finally {
    await api.stop(15_000);
    await removeDir();
    cleanups.splice(cleanups.indexOf(removeDir), 1);
  }
}

/** (j) and (k), as printed at the end. */
function printSearch({ j, k }) {
  log("");
  log(
    `Search (j): ${j.orders.toLocaleString("en-US")} orders in one brand (SQL insert ${fmt(j.insertMs / 1000, 1)} s, trigram index ${fmt(j.indexMs / 1000, 1)} s), ` +
      Object.entries(j.kinds)
        .map(([kind, r]) => `${kind} p50 ${fmt(r.p50, 1)} / p99 ${fmt(r.p99, 1)} ms (${r.requests} sequential, ${fmt(r.meanMatches, 1)} matches)`)
        .join(", "),
  );
  for (const l of j.explain) log(`  ${l}`);
  log(
    `Export (k): orders.csv of ${k.rows.toLocaleString("en-US")} orders, ${fmt(k.bytes / 1e6, 1)} MB in ${fmt(k.ms)} ms = ${fmt(k.rowsPerSecond)} rows/s (HTTP ${k.status}); ` +
      `API RSS before ${fmt(k.rssMB.before)} MB, during mean ${fmt(k.rssMB.mean)} / peak ${fmt(k.rssMB.peak)} MB, after ${fmt(k.rssMB.after)} MB`,
  );
}

/** (h), its raw baseline and (i), as printed at the end. */
function printOnSale(o) {
  const h = o.api;
  const r = o.raw;
  const st = (x) => `${fmt(x.p50, 1)}/${fmt(x.p99, 1)}`;
  log("");
  log(
    `On-sale (h): ${h.buyers} buyers (${h.inFlight} in flight) over ${h.instances} API processes for ${o.seats} seats: ${h.db.seats} seats sold in the database ` +
      `(quota sold ${h.quota.sold}, held ${h.quota.held}; ${h.db.pendingOrders} orders left PENDING) — ${h.pass ? "PASS" : "FAIL"}; ${h.soldOut} SOLD_OUT, ${h.failures} failed` +
      `${h.failures ? ` (${h.firstFailures[0]})` : ""}`,
  );
  log(
    `  ${fmt(h.checkoutsPerSecond, 1)} checkouts/s (${h.paid} paid in ${fmt(h.saleSeconds, 2)} s; all ${h.buyers} buyers answered in ${fmt(h.allSeconds, 2)} s); ` +
      `p50/p99 ms: createOrder ${st(h.steps.createOrder)}, attemptToPayForOrder ${st(h.steps.attemptToPay)}, webhook ${st(h.steps.webhook)}, SOLD_OUT answer ${st(h.steps.soldOut)}`,
  );
  log(
    `  raw (2 × node:http + pg, pool 20): ${r.db.seats} seats sold (${r.pass ? "PASS" : "FAIL"}), ${r.soldOut} SOLD_OUT, ${r.failures} failed; ${fmt(r.checkoutsPerSecond, 1)} checkouts/s ` +
      `(${r.paid} in ${fmt(r.saleSeconds, 2)} s); p50/p99 ms: order ${st(r.steps.createOrder)}, pay ${st(r.steps.attemptToPay)}, webhook ${st(r.steps.webhook)}, SOLD_OUT ${st(r.steps.soldOut)}`,
  );
  const f = o.api && o.fanout;
  if (!f) return;
  const m = f.memory;
  log(
    `Availability fan-out (i): ${f.active}/${f.sockets} sockets subscribed over 2 instances in ${fmt(f.connectMs)} ms; ${f.events} events, ${f.arrivals} arrivals ` +
      `(per socket min ${f.eventsPerSocket.min}, p50 ${f.eventsPerSocket.p50}, max ${f.eventsPerSocket.max}); ${f.endedOnTrueValue}/${f.sockets} ended on the true value (0)` +
      `${f.errors ? `; ${f.errors} errors (${f.firstErrors[0]})` : ""}`,
  );
  log(
    `  commit → socket: p50 ${fmt(f.latency.p50)} ms, p99 ${fmt(f.latency.p99)} ms, max ${fmt(f.latency.max)} ms; commit → last socket per event: p50 ${fmt(f.lastSocketPerEvent.p50)} ms, max ${fmt(f.lastSocketPerEvent.max)} ms; ` +
      `executions per instance ${f.executionsPerInstance.join(" / ")} for ${f.events} events`,
  );
  if (m)
    log(
      `  memory per idle socket (API processes, after − before opening them, full GC): heap ${fmt(m.heapPerSocketKB, 1)} KB, external ${fmt(m.externalPerSocketKB, 1)} KB, RSS ${fmt(m.rssPerSocketKB, 1)} KB; RSS then ${m.rssMB.map((x) => fmt(x)).join(" + ")} MB`,
    );
}

// ---- main -----------------------------------------------------------------------------------

function gitInfo() {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
    return { commit, srcDirty: dirty };
  } catch {
    return null;
  }
}

async function main() {
  const t0 = performance.now();
  const startedAt = new Date();
  if (!existsSync(join(DIST, "main.js"))) throw new Error("dist/main.js is missing: run `npm run build` first (npm run bench does)");
  log(
    `Orderline benchmark (${CFG.mode}${QUICK ? ": 2 s warm-up + 5 s per scenario, 500 subscribers, 10 changes" : ""}${PROFILE ? ", --profile" : ""}${ONLY ? `, only ${[...ONLY].join(", ")}` : ""})`,
  );
  if (process.env.BENCH_DIST) log(`API build: ${DIST} (BENCH_DIST)`);
  log(
    `${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, Node ${process.version}; ${CFG.connections} connections, ${CFG.warmupSeconds} s warm-up (discarded) + ${CFG.durationSeconds} s measured`,
  );

  const busy = await cpuBusy(1_000);
  const loadavg = os.loadavg();
  log(`machine before the run: ${busy === null ? "?" : Math.round(busy * 100)}% CPU busy, load average ${loadavg.map((l) => l.toFixed(2)).join(" ")}`);
  if (busy !== null && busy > 0.15) log(`WARNING: something else is using the CPU (${Math.round(busy * 100)}%); the figures will be low and noisy`);

  const db = await createDatabase();
  progress(`database: ${db.kind}`);

  // The API migrates the empty database on its first start; it then serves every scenario.
  const apiA = await startApi({ databaseUrl: db.url, label: "api" });
  progress(`API started and migrated in ${fmt(apiA.startMs)} ms (pid ${apiA.pid}, port ${apiA.port})`);

  const s = await seed({ api: apiA.url, databaseUrl: db.url, brands: CFG.brands, ordersPerBrand: CFG.ordersPerBrand });
  progress(
    `seeded in ${fmt(s.ms.total)} ms (API ${fmt(s.ms.api)} ms, SQL ${fmt(s.ms.sql)} ms): ${s.counts.orders} orders ${JSON.stringify(s.byStatus)}, ` +
      `${s.counts.payment_attempt} payment attempts, ${s.counts.order_event} events, ${s.counts.discount} discounts, ${s.counts.coupon} coupons`,
  );

  const withRaw = want("a") || want("b");
  const raw = withRaw ? await startRaw(db.url) : null;
  const headers = { authorization: `Bearer ${s.token}` };
  const pageBodies = s.brands.map((b) => ({ query: ORDERS_PAGE, variables: { brandId: b.id, first: CFG.pageSize } }));
  const orderBodies = s.orderIds.map((id) => ({ query: ONE_ORDER, variables: { id } }));

  let checks = [];
  let allSame = null;
  if (raw) {
    checks = await sameJson(apiA, raw, headers, [pageBodies[0], pageBodies[1], orderBodies[0], orderBodies[1], orderBodies[2]]);
    allSame = checks.every((c) => c.same);
    progress(
      `raw baseline returns the same JSON as the API: ${allSame ? "yes" : "NO"} (${checks.length} requests compared${allSame ? "" : `; ${checks.find((c) => !c.same).difference}`})`,
    );
  }

  await sleep(1_500);
  const idle = { apiMB: rssMB(apiA.pid), rawMB: raw ? rssMB(raw.pid) : null };

  const profileRoot = join(tmpdir(), `orderline-bench-profiles-${startedAt.toISOString().replace(/[:.]/g, "-")}`);
  const profiles = {};
  const scenarios = {};
  const run = async (key, label, fn) => {
    progress(`${label}…`);
    const r = await fn();
    scenarios[key] = r.result ?? r;
    if (r.profile) profiles[key] = r.profile;
    const x = scenarios[key];
    const bad = (x.non2xx ?? 0) + (x.errors ?? 0) + (x.timeouts ?? 0) + (x.failures ?? 0);
    progress(`${label}: ${fmt(x.rps)} /s, p50 ${fmt(x.latency.p50, 1)} ms, p99 ${fmt(x.latency.p99, 1)} ms${bad ? `, ${bad} FAILED` : ""}`);
  };
  const aRatios = [];
  if (want("a")) {
    await run("a_api", "(a) orders page, API", () => withApi(apiA, db.url, "a", profileRoot, (api) => httpScenario(api, pageBodies, headers)));
    await run("a_raw", "(a) orders page, raw", () => httpScenario(raw, pageBodies, headers));
    aRatios.push(scenarios.a_api.rps / scenarios.a_raw.rps);
    for (let round = 2; round <= ROUNDS; round++) {
      const rps = {};
      for (const side of round % 2 ? ["api", "raw"] : ["raw", "api"]) {
        const r = side === "api" ? await httpScenario(apiA, pageBodies, headers) : await httpScenario(raw, pageBodies, headers);
        rps[side] = (r.result ?? r).rps;
      }
      aRatios.push(rps.api / rps.raw);
      progress(`(a) round ${round}/${ROUNDS}: API ${fmt(rps.api)} /s, raw ${fmt(rps.raw)} /s, ratio ${aRatios.at(-1).toFixed(2)}`);
    }
  }
  if (want("b")) {
    await run("b_api", "(b) one order, API", () => withApi(apiA, db.url, "b", profileRoot, (api) => httpScenario(api, orderBodies, headers)));
    await run("b_raw", "(b) one order, raw", () => httpScenario(raw, orderBodies, headers));
  }
  if (want("c")) await run("c_api", "(c) checkout, API", () => withApi(apiA, db.url, "c", profileRoot, (api) => checkoutScenario(api, s)));
  await raw?.stop();

  let sql = null;
  if (want("e")) {
    progress("(e) SQL statements per orders page…");
    sql = await statementCounts(db.url, s);
  }

  let fan = null;
  if (want("f")) {
    progress(`(f) fan-out: ${CFG.subscribers} subscribers over ${CFG.fanoutInstances} API processes, ${CFG.changes} changes…`);
    const r = await fanout(apiA, db.url, s, profileRoot);
    fan = r.result;
    if (r.profile) for (const [k, p] of Object.entries(r.profile)) profiles[`f_${k}`] = p;
    progress(
      `(f) fan-out: p50 ${fmt(fan.latency.p50)} ms, p99 ${fmt(fan.latency.p99)} ms, max ${fmt(fan.latency.max)} ms; ${fan.deliveries}/${fan.expectedDeliveries} delivered`,
    );
  }

  let search = null;
  if (want("j") || want("k")) {
    const o = { searchOrders: Math.max(CFG.searchOrders, CFG.exportOrders), exportOrders: CFG.exportOrders, requests: QUICK ? 100 : 500 };
    search = await searchAndExport({ api: apiA.url, pid: apiA.pid, databaseUrl: db.url, token: s.token, ...o, progress });
  }

  await apiA.stop();
  let onsale = null;
  if (want("h")) {
    const o = CFG.onSale;
    progress(`(h) on-sale: ${o.seats} seats, ${o.buyers} buyers, ${o.inFlight} in flight; (i) ${o.sockets} sockets watching availability…`);
    onsale = await onSale({ databaseUrl: db.url, token: s.token, ...o, progress });
    progress(`(h) raw baseline: the same ${o.buyers} buyers against node:http + pg…`);
    onsale.raw = await rawOnSale({ databaseUrl: db.url, ...o });
    onsale.ratio = onsale.api.checkoutsPerSecond / onsale.raw.checkoutsPerSecond;
  }
  let notify = null;
  if (want("n")) {
    progress("(n) status changes per second through NOTIFY…");
    notify = await notifyCeiling({ databaseUrl: db.url });
  }
  let cold = null;
  if (want("g")) {
    progress("(g) cold start on an empty DATA_DIR…");
    cold = await coldStart();
  }

  await cleanup();
  const totalSeconds = (performance.now() - t0) / 1000;

  // ---- report -------------------------------------------------------------------------------
  const rows = [
    ["API idle", null, null, null, idle.apiMB],
    ["(a) orders page, first 50 — API", "a_api"],
    ["(a) orders page, first 50 — raw", "a_raw"],
    ["(b) one order — API", "b_api"],
    ["(b) one order — raw", "b_raw"],
    ["(c) checkout (3 requests) — API", "c_api"],
  ]
    .filter((r) => r.length > 2 || scenarios[r[1]])
    .map((r) => (r.length > 2 ? r : [r[0], scenarios[r[1]].rps, scenarios[r[1]].latency.p50, scenarios[r[1]].latency.p99, scenarios[r[1]].rssMB?.peak]));
  const head = ["scenario", "req/s", "p50 ms", "p99 ms", "RSS MB"];
  const cells = rows.map((r) => [r[0], fmt(r[1]), fmt(r[2], 1), fmt(r[3], 1), fmt(r[4])]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  log("");
  if (ONLY) log(`Only ${[...ONLY].join(", ")} (--only).`);
  log(line(head));
  log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) log(line(c));
  log(`(RSS: VmRSS of the server process, peak while measured${raw ? `; raw idle ${fmt(idle.rawMB)} MB` : ""}. (c) counts full iterations per second.)`);
  const problems = [];
  for (const [k, v] of Object.entries(scenarios)) {
    const bad = (v.non2xx ?? 0) + (v.errors ?? 0) + (v.timeouts ?? 0) + (v.failures ?? 0);
    if (bad) problems.push(`${k}: ${bad} failed requests${v.firstFailures?.length ? ` (${v.firstFailures[0]})` : ""}`);
  }
  if (scenarios.a_api) {
    const sizeA = scenarios.a_api.bytesPerResponse / scenarios.a_raw.bytesPerResponse;
    if (Math.abs(sizeA - 1) > 0.1)
      problems.push(
        `(a) API responses average ${fmt(scenarios.a_api.bytesPerResponse)} bytes vs raw ${fmt(scenarios.a_raw.bytesPerResponse)}: check for errors under load`,
      );
  }
  if (problems.length) log(`Warnings: ${problems.join("; ")}`);
  if (scenarios.c_api) {
    const cs = scenarios.c_api.steps;
    log(
      `(c) per step p50/p99 ms: createOrder ${fmt(cs.createOrder.p50, 1)}/${fmt(cs.createOrder.p99, 1)}, attemptToPayForOrder ${fmt(cs.attemptToPay.p50, 1)}/${fmt(cs.attemptToPay.p99, 1)}, webhook ${fmt(cs.webhook.p50, 1)}/${fmt(cs.webhook.p99, 1)}`,
    );
  }
  if (raw)
    log(
      `(d) raw baseline: node:http + pg (pool 20), 2 statements per page, no auth; same JSON as the API: ${
        allSame
          ? "yes"
          : `NO — ${checks
              .filter((c) => !c.same)
              .map((c) => c.difference)
              .join("; ")}`
      }`,
    );
  if (sql) {
    log("");
    log(
      `SQL statements per orders page request (counted on the wire; the viewer lookup counts when it is not cached): ${[10, 50, 100].map((f) => `first=${f}: ${sql[f].statements}`).join(", ")}`,
    );
    for (const [i, q] of sql[50].sql.entries()) log(`  ${i + 1}. ${q.replace(/\s+/g, " ").slice(0, 150)}`);
    log(`SQL statements per one-order request (b): ${sql.order.statements}`);
  }
  if (fan) {
    log("");
    log(
      `Fan-out: ${fan.subscribers} graphql-ws subscribers over ${CFG.fanoutInstances} API processes${QUICK ? " (quick mode: full runs use 2,000)" : ""}, ${fan.changes} status changes${QUICK ? " (full: 50)" : ""}: ` +
        `p50 ${fmt(fan.latency.p50)} ms, p99 ${fmt(fan.latency.p99)} ms, max ${fmt(fan.latency.max)} ms; ${fan.deliveries}/${fan.expectedDeliveries} delivered` +
        `${fan.errors ? `, ${fan.errors} errors (${fan.firstErrors[0]})` : ""}`,
    );
    log(
      `  method: changes are signed PAID webhooks for PENDING orders, one at a time (the next once every subscriber has the previous one), after ${fan.warmupPerChange.length} warm-up changes (discarded; last subscriber at ${fan.warmupPerChange.map((w) => fmt(w[1])).join(", ")} ms); ` +
        `latency = arrival at the client − the event's \`at\` (set in the transaction just before commit); first subscriber per change p50 ${fmt(fan.firstDeliveryMs?.p50)} ms, last p50 ${fmt(fan.fullFanoutMs.p50)} ms, max ${fmt(fan.fullFanoutMs.max)} ms; ` +
        `${fmt(fan.connectMs)} ms to connect and subscribe all; peak RSS ${fmt(fan.rssMB.apiA)} + ${fmt(fan.rssMB.apiB)} MB`,
    );
    const c = fan.cpuMsPerChange;
    log(
      `  CPU time per change (user + system, while the changes ran): API A ${fmt(c.apiA)} ms (${fmt(c.apiASplit.user)} + ${fmt(c.apiASplit.system)}; it also answers the webhook), ` +
        `API B ${fmt(c.apiB)} ms (${fmt(c.apiBSplit.user)} + ${fmt(c.apiBSplit.system)}), load generator ${fmt(c.load)} ms`,
    );
  }
  if (onsale) printOnSale(onsale);
  if (search) printSearch(search);
  if (notify)
    log(
      `NOTIFY (n): ${notify.connections} connections, ${notify.seconds} s each: ${fmt(notify.plain.commitsPerSecond)} status changes/s without pg_notify, ` +
        `${fmt(notify.withNotify.commitsPerSecond)}/s with it (${notify.withNotify.heard}/${notify.withNotify.commits} heard by one LISTEN connection)`,
    );
  if (cold)
    log(
      `Cold start: ${fmt(cold.ms / 1000, 2)} s from spawn to the first answered query (empty DATA_DIR: initdb, PostgreSQL start, migrations; the API's own startupMs ${fmt(cold.apiStartupMs)}); idle RSS ${fmt(cold.idleRssMB)} MB`,
    );
  for (const [k, p] of Object.entries(profiles)) log(`\n${formatProfile(p, `CPU profile ${k} (${p.file})`)}`);
  const sortedRatios = [...aRatios].sort((x, y) => x - y);
  const ratio = sortedRatios.length ? sortedRatios[Math.floor((sortedRatios.length - 1) / 2)] : null;
  if (aRatios.length > 1)
    log(
      `(a) API/raw over ${aRatios.length} alternating rounds: ${aRatios.map((r) => r.toFixed(2)).join(", ")}; median ${ratio.toFixed(2)} (the table shows round 1)`,
    );
  log("");
  const resultName = `${startedAt
    .toISOString()
    .replace(/:/g, "-")
    .replace(/\.\d+Z$/, "Z")}${ONLY ? `-only-${[...ONLY].join("")}` : ""}.json`;
  log(`Total ${fmt(totalSeconds)} s. Results: bench/results/${resultName}`);
  if (ratio !== null) log(`orders-page vs raw: ${ratio.toFixed(2)}${aRatios.length > 1 ? ` (median of ${aRatios.length} rounds)` : ""}`);
  if (onsale) log(`on-sale vs raw: ${onsale.ratio.toFixed(2)}`);

  const results = {
    startedAt: startedAt.toISOString(),
    totalSeconds,
    config: CFG,
    only: ONLY ? [...ONLY] : undefined,
    dist: process.env.BENCH_DIST ? DIST : undefined,
    machineBefore: { cpuBusy: busy, loadavg },
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model?.trim(),
      memGB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    git: gitInfo(),
    database: db.kind,
    seed: { counts: s.counts, byStatus: s.byStatus, ms: s.ms },
    sameJson: checks,
    rss: { idle, underLoad: Object.fromEntries(Object.entries(scenarios).map(([k, v]) => [k, v.rssMB])) },
    scenarios,
    sqlStatements: sql,
    fanout: fan,
    coldStart: cold,
    onSale: onsale,
    notify,
    search,
    profiles: PROFILE ? profiles : undefined,
    ordersPageVsRaw: ratio,
    ordersPageVsRawRounds: aRatios.length > 1 ? aRatios : undefined,
  };
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, resultName);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  if (!ONLY) copyFileSync(file, join(dir, "latest.json")); // latest.json: the latest complete run
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (e) => {
    if (interrupted) return; // the signal handler cleans up and exits
    console.error(`\nbenchmark failed: ${e?.stack ?? e}`);
    await cleanup();
    process.exit(1);
  });
