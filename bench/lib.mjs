// Shared helpers of the benchmark (bench/run.mjs): child processes tracked by PID, the API as
// a production process, port discovery, RSS, small HTTP helpers.
import { execFileSync, spawn, fork } from "node:child_process";
import { appendFileSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
// BENCH_DIST: another build of the API to measure (e.g. a copy of dist/ from before a change, kept
// in a directory whose node_modules links to this repository's, for A/B runs back to back).
export const DIST = process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST) : join(ROOT, "dist");

// Secrets of the benchmark's API processes (throw-away database, nothing leaves the machine).
export const AUTH_SECRET = "bench-auth-secret-0123456789abcdefghijklmnopq";
export const WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdefghijklm";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- child processes ------------------------------------------------------------------------

/** Every child this run started, by PID, until it has exited. */
const children = new Map(); // pid -> ChildProcess

export function track(child, label) {
  if (child.pid) children.set(child.pid, { child, label });
  child.once("exit", () => children.delete(child.pid));
  return child;
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export function stopChild(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {}
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {
      clearTimeout(kill);
      resolve();
    }
  });
}

/** Stops every child still running (by PID), in parallel. */
export async function stopAllChildren(graceMs = 5_000) {
  await Promise.all([...children.values()].map(({ child }) => stopChild(child, graceMs)));
}

/** Last resort when the process exits without cleanup: SIGKILL whatever is left, synchronously. */
export function killAllChildrenSync() {
  for (const pid of children.keys()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

// ---- ports, RSS -----------------------------------------------------------------------------

/** TCP ports a process listens on (Linux /proc: its socket inodes matched against /proc/net/tcp{,6}). */
export function listeningPorts(pid) {
  const inodes = new Set();
  let fds = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const ports = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A") continue; // 0A = LISTEN
      if (inodes.has(cols[9])) ports.push(parseInt(cols[1].split(":").pop(), 16));
    }
  }
  return [...new Set(ports)];
}

/** VmRSS of a process in MB (null when it is gone). */
export function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

let clockTicks;
/**
 * CPU time a process has used so far, user + system, in ms (null when it is gone): less sensitive
 * than latency to what else runs on the machine. System time includes the kernel's work for the
 * process's socket writes (on loopback, the receiving side's TCP work too).
 */
export function cpuMs(pid) {
  const t = cpuTimes(pid);
  return t && t.user + t.system;
}

/** `cpuMs` split: { user, system } in ms (null when the process is gone). */
export function cpuTimes(pid) {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (clockTicks === undefined) {
      try {
        clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
      } catch {
        clockTicks = 100;
      }
    }
    return { user: (Number(f[11]) * 1000) / clockTicks, system: (Number(f[12]) * 1000) / clockTicks };
  } catch {
    return null;
  }
}

/** Samples a PID's RSS every `everyMs` until stopped; returns { peak, mean } in MB. */
export function rssSampler(pid, everyMs = 250) {
  const samples = [];
  const take = () => {
    const v = rssMB(pid);
    if (v !== null) samples.push(v);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      if (!samples.length) return { peak: null, mean: null };
      return { peak: Math.max(...samples), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
    },
  };
}

/** Share of all CPUs busy over `ms` (from /proc/stat), 0..1; null when unreadable. */
export async function cpuBusy(ms = 1_000) {
  const read = () => {
    try {
      const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
      const idle = f[3] + (f[4] ?? 0);
      return { idle, total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  const a = read();
  await sleep(ms);
  const b = read();
  if (!a || !b || b.total === a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

// ---- HTTP -----------------------------------------------------------------------------------

export async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** One GraphQL operation; throws on HTTP or GraphQL errors. */
export async function gql(base, query, variables = {}, token) {
  const r = await postJson(`${base}/graphql`, { query, variables }, token ? { authorization: `Bearer ${token}` } : {});
  if (r.status !== 200 || !r.json || r.json.errors) {
    throw new Error(`GraphQL request failed (${r.status}): ${r.text.slice(0, 500)}`);
  }
  return r.json.data;
}

// ---- the API --------------------------------------------------------------------------------

/** The environment of a production API process on `databaseUrl` (no mail: RUN_WORKER=false). */
export function apiEnv({ databaseUrl, logLevel = "warn", dataDir, extra = {} }) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: "production",
    PORT: "0",
    LOG_LEVEL: logLevel,
    AUTH_SECRET,
    PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    POSTMARK_SERVER_TOKEN: "bench-no-mail-is-sent",
    POSTMARK_API_URL: "http://127.0.0.1:9", // never called (no worker), and would go nowhere
    RUN_WORKER: "false",
    DATA_DIR: dataDir ?? join(tmpdir(), "orderline-bench-unused"),
    // The checkout runs thousands of orders from one account and address in seconds.
    RATE_LIMIT_SCALE: "1000",
    // (a)/(e) read pages of up to 100 orders with lines, attempts and events: charged at their caps
    // (100 lines, 20 attempts, 3 events per order) a page of 50 costs 24,251. Kept as before, so
    // the figures stay comparable; see README "Performance".
    QUERY_MAX_COST: "60000",
    WS_MAX_PER_ADDRESS: "100000", // the fan-out's thousands of subscribers all come from loopback
    ...extra,
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}

/**
 * The Node flags `npm start` runs the API with (read from package.json, so the benchmark measures
 * the API as production starts it): a larger young generation, fewer scavenges per request.
 * BENCH_NODE_ARGS overrides them (e.g. BENCH_NODE_ARGS="" for Node's defaults).
 */
export const PRODUCTION_NODE_ARGS =
  process.env.BENCH_NODE_ARGS !== undefined
    ? process.env.BENCH_NODE_ARGS.split(" ").filter(Boolean)
    : (/\bnode((?:\s+--\S+)*)\s+dist\/main\.js/.exec(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).scripts.start)?.[1] ?? "")
        .split(/\s+/)
        .filter(Boolean);

/**
 * Starts `node [nodeArgs] dist/main.js` and waits until it answers `{ __typename }` on the port it
 * bound (PORT=0: found through /proc, since LOG_LEVEL=warn prints no "ready" line).
 * Keeps the last lines of its output (all of them with `keepLogs`).
 */
export async function startApi({ label = "api", nodeArgs = PRODUCTION_NODE_ARGS, timeoutMs = 60_000, keepLogs = false, ...envOpts }) {
  const started = performance.now();
  const child = track(
    spawn(process.execPath, [...nodeArgs, join(DIST, "main.js")], {
      cwd: tmpdir(), // not the repository: a developer's .env must not reach the benchmark
      env: apiEnv(envOpts),
      stdio: ["ignore", "pipe", "pipe"],
    }),
    label,
  );
  const logs = [];
  let buffer = "";
  const onData = (chunk) => {
    if (process.env.BENCH_API_LOG) appendFileSync(`${process.env.BENCH_API_LOG}.${label}`, chunk);
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      logs.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (!keepLogs && logs.length > 2000) logs.splice(0, 1000);
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  let exited = null;
  child.once("exit", (code, signal) => (exited = { code, signal }));

  const deadline = started + timeoutMs;
  let port = null;
  for (;;) {
    if (exited) throw new Error(`${label} exited (${JSON.stringify(exited)}) before it was ready:\n${logs.slice(-40).join("\n")}`);
    if (performance.now() > deadline) {
      await stopChild(child, 2_000);
      throw new Error(`${label} was not ready within ${timeoutMs / 1000} s:\n${logs.slice(-40).join("\n")}`);
    }
    if (port === null) {
      const ports = listeningPorts(child.pid);
      if (ports.length) port = ports[0];
    }
    if (port !== null) {
      try {
        const r = await postJson(`http://127.0.0.1:${port}/graphql`, { query: "{ __typename }" });
        if (r.status === 200 && r.json?.data?.__typename === "Query") break;
      } catch {}
    }
    await sleep(port === null ? 20 : 10);
  }
  return {
    label,
    child,
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    startMs: performance.now() - started,
    stop: (graceMs = 10_000) => stopChild(child, graceMs),
  };
}

// ---- the load process -----------------------------------------------------------------------

/**
 * Runs one job in a fresh load-generator process (bench/load.mjs) and resolves with its result.
 * `onPhase(phase, message, child)` hears "measure" (warm-up over) and "done" (and a job's own
 * phases, such as the watchers' "subscribed"); `execArgv` are Node flags for that process
 * (e.g. --cpu-prof).
 */
export function runLoad(job, onPhase = () => {}, { execArgv = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(fork(join(ROOT, "bench", "load.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv }), "load");
    let result;
    child.on("message", (m) => {
      if (m?.phase) onPhase(m.phase, m, child);
      if (m?.result !== undefined) result = m.result;
      if (m?.error) result = { error: m.error };
    });
    child.once("exit", (code, signal) => {
      if (result && !result.error) resolve(result);
      else reject(new Error(result?.error ?? `load process exited (${code ?? signal}) without a result`));
    });
    child.send(job);
  });
}
