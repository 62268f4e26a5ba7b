// The load generator: a separate process (forked by bench/run.mjs) that runs ONE job received over
// IPC and sends back { result }. Jobs:
//   http     – autocannon, N connections, warm-up run (discarded) then the measured run;
//   checkout – N concurrent workers looping createOrder → attemptToPayForOrder → signed PAID webhook;
//   fanout   – graphql-ws subscribers over several API processes, status changes through the
//              signed webhook, latency from the event's `at` (set just before commit) to arrival;
//   buyers, watchers – the on-sale (h) and its availability fan-out (i): bench/load-onsale.mjs.
import autocannon from "autocannon";
import { createClient } from "graphql-ws";
import http from "node:http";
import { randomBytes, randomInt } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import WebSocket from "ws";
import { DIST, sleep } from "./lib.mjs";
import { ATTEMPT_TO_PAY, CREATE_ORDER, STATUS_EVENTS } from "./queries.mjs";
import { buyersJob, watchersJob } from "./load-onsale.mjs";
import { post, summarize } from "./stats.mjs";

const { signPayload } = createRequire(import.meta.url)(join(DIST, "services", "payment", "signature.js"));

const phase = (p) => process.send?.({ phase: p });

// ---- http: autocannon -----------------------------------------------------------------------

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function httpJob({ url, bodies, headers = {}, connections, warmupSeconds, durationSeconds }) {
  let i = 0;
  const opts = (duration) => ({
    url,
    method: "POST",
    connections,
    duration,
    timeout: 30,
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: bodies[0],
    requests: [
      {
        setupRequest(req) {
          req.body = bodies[i++ % bodies.length];
          return req;
        },
      },
    ],
  });
  if (warmupSeconds > 0) await cannon(opts(warmupSeconds));
  phase("measure");
  const r = await cannon(opts(durationSeconds));
  phase("done");
  const seconds = r.duration || durationSeconds;
  return {
    requests: r.requests.total,
    rps: r.requests.total / seconds,
    seconds,
    latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
    bytesPerResponse: r.requests.total ? r.throughput.total / r.requests.total : null,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

// ---- checkout: custom loop ------------------------------------------------------------------

async function gqlPost(agent, port, token, query, variables) {
  const r = await post(agent, port, "/graphql", JSON.stringify({ query, variables }), { authorization: `Bearer ${token}` });
  const json = JSON.parse(r.text);
  if (r.status !== 200 || json.errors) throw new Error(`${r.status} ${r.text.slice(0, 300)}`);
  return json.data;
}

async function checkoutJob({ port, token, brandId, products, webhookSecret, workers, warmupSeconds, durationSeconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  const start = performance.now();
  const measureFrom = start + warmupSeconds * 1000;
  const measureTo = measureFrom + durationSeconds * 1000;
  const done = []; // [startedAt, ms] of successful iterations
  const failures = [];
  let measuringSignalled = false;
  const step = { createOrder: [], attemptToPay: [], webhook: [] };

  const iteration = async () => {
    const n = 1 + randomInt(3);
    const picked = [...products].sort(() => Math.random() - 0.5).slice(0, n);
    const input = {
      brandId,
      lines: picked.map((p) => ({ productId: p.id, quantity: 1 + randomInt(3) })),
      buyer: { name: "Bench Buyer", email: "buyer@example.test" },
    };
    const t0 = performance.now();
    const { createOrder } = await gqlPost(agent, port, token, CREATE_ORDER, { input });
    const t1 = performance.now();
    const { attemptToPayForOrder: a } = await gqlPost(agent, port, token, ATTEMPT_TO_PAY, { orderId: createOrder.id });
    const t2 = performance.now();
    const body = JSON.stringify({
      id: `evt_bench_${randomBytes(12).toString("hex")}`,
      type: "payment_attempt.updated",
      data: { attemptExternalId: a.externalId, status: "PAID", totalAmount: a.amount, currency: a.currency },
    });
    const r = await post(agent, port, "/webhooks/payments", body, { "payment-signature": signPayload(webhookSecret, body) });
    const t3 = performance.now();
    if (r.status !== 200 || !r.text.includes("applied: order PAID")) throw new Error(`webhook ${r.status} ${r.text.slice(0, 300)}`);
    return { t0, total: t3 - t0, steps: [t1 - t0, t2 - t1, t3 - t2] };
  };

  const worker = async () => {
    while (performance.now() < measureTo) {
      if (!measuringSignalled && performance.now() >= measureFrom) {
        measuringSignalled = true;
        phase("measure");
      }
      try {
        const it = await iteration();
        if (it.t0 >= measureFrom && it.t0 + it.total <= measureTo) {
          done.push(it.total);
          step.createOrder.push(it.steps[0]);
          step.attemptToPay.push(it.steps[1]);
          step.webhook.push(it.steps[2]);
        }
      } catch (e) {
        failures.push(String(e.message ?? e).slice(0, 300));
        await sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  phase("done");
  agent.destroy();
  const s = summarize(done);
  return {
    iterations: done.length,
    rps: done.length / durationSeconds,
    seconds: durationSeconds,
    latency: { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean },
    steps: Object.fromEntries(Object.entries(step).map(([k, v]) => [k, (({ p50, p99 }) => ({ p50, p99 }))(summarize(v))])),
    failures: failures.length,
    firstFailures: failures.slice(0, 3),
  };
}

// ---- fanout: graphql-ws subscribers ----------------------------------------------------------

async function fanoutJob({
  apis,
  token,
  brandId,
  subscribers,
  changes: allChanges,
  warmupChanges = 0,
  webhookUrl,
  webhookSecret,
  perChangeTimeoutMs = 15_000,
  connectConcurrency = 100,
}) {
  const warmup = allChanges.slice(0, warmupChanges);
  const changes = allChanges.slice(warmupChanges);
  const received = new Map(); // orderId -> latencies (ms)
  const clients = [];
  const subscribeErrors = [];
  let acked = 0;

  const connectOne = (i) =>
    new Promise((resolve) => {
      const base = apis[i % apis.length];
      const client = createClient({
        url: `${base.replace(/^http/, "ws")}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      client.on("connected", () => {
        acked++;
        settle();
      });
      client.subscribe(
        { query: STATUS_EVENTS, variables: { brandId } },
        {
          next: (v) => {
            const now = Date.now();
            const e = v?.data?.orderStatusChanged;
            if (!e) {
              subscribeErrors.push(JSON.stringify(v).slice(0, 200));
              return;
            }
            const lat = now - Date.parse(e.at);
            const list = received.get(e.order.id);
            if (list) list.push(lat);
            else received.set(e.order.id, [lat]);
          },
          error: (err) => {
            subscribeErrors.push(String(err?.reason ?? err?.message ?? JSON.stringify(err)).slice(0, 200));
            settle();
          },
          complete: () => settle(),
        },
      );
    });

  const connectStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(connectConcurrency, subscribers) }, async () => {
      while (next < subscribers) await connectOne(next++);
    }),
  );
  // Acknowledged is not yet subscribed: wait until the servers count every subscription (/readyz).
  const counted = async () => {
    let total = 0;
    for (const base of apis) {
      try {
        const r = await fetch(`${base}/readyz`);
        total += (await r.json()).subscriptions ?? 0;
      } catch {}
    }
    return total;
  };
  let active = 0;
  const waitUntil = performance.now() + 60_000;
  while ((active = await counted()) < subscribers && performance.now() < waitUntil) await sleep(100);
  const connectMs = performance.now() - connectStarted;
  await sleep(500);

  // The changes: one signed PAID webhook at a time; the next once every subscriber has the event
  // (or after the timeout), so each delivery is measured without a queue of earlier changes.
  const port = Number(new URL(webhookUrl).port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const change = async (c) => {
    const body = JSON.stringify({
      id: `evt_fanout_${randomBytes(12).toString("hex")}`,
      type: "payment_attempt.updated",
      data: { attemptExternalId: c.externalId, status: "PAID", totalAmount: c.amount, currency: c.currency },
    });
    const sent = performance.now();
    const r = await post(agent, port, "/webhooks/payments", body, { "payment-signature": signPayload(webhookSecret, body) });
    if (r.status !== 200) throw new Error(`webhook ${r.status} ${r.text.slice(0, 300)}`);
    const deadline = performance.now() + perChangeTimeoutMs;
    while ((received.get(c.orderId)?.length ?? 0) < active && performance.now() < deadline) await sleep(2);
    const lat = received.get(c.orderId) ?? [];
    await sleep(50);
    return {
      delivered: lat.length,
      firstMs: lat.length ? Math.min(...lat) : null,
      lastMs: lat.length ? Math.max(...lat) : null,
      sentToAllMs: performance.now() - sent,
    };
  };
  // Warm-up changes (discarded, like the HTTP scenarios' warm-up): the first events after start pay
  // for V8 compiling the send path and were the slowest changes of every run.
  const warmupPerChange = [];
  for (const c of warmup) {
    warmupPerChange.push(await change(c));
    received.delete(c.orderId);
  }
  const perChange = [];
  // The changes phase in CLOCK_MONOTONIC µs (the clock of V8's CPU profiles), for --profile.
  const changesFromUs = Number(process.hrtime.bigint() / 1000n);
  phase("measure"); // the parent reads the API processes' CPU time now and at "done"
  const cpuBefore = process.cpuUsage();
  for (const c of changes) perChange.push(await change(c));
  const changesToUs = Number(process.hrtime.bigint() / 1000n);
  const cpu = process.cpuUsage(cpuBefore);
  phase("done");
  agent.destroy();
  const all = [...received.values()].flat();
  const s = summarize(all);
  await Promise.all(clients.map((c) => c.dispose()));
  return {
    subscribers,
    activeSubscriptions: active,
    changes: changes.length,
    deliveries: all.length,
    expectedDeliveries: changes.length * active,
    connectMs,
    latency: { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean },
    firstDeliveryMs: summarize(perChange.map((p) => p.firstMs ?? Infinity)),
    fullFanoutMs: summarize(perChange.map((p) => p.lastMs ?? Infinity)),
    // per change, in order: when its first and last subscriber had it (ms after commit)
    perChange: perChange.map((p) => [p.firstMs, p.lastMs]),
    warmupPerChange: warmupPerChange.map((p) => [p.firstMs, p.lastMs]),
    errors: subscribeErrors.length,
    firstErrors: subscribeErrors.slice(0, 3),
    changesWindowUs: { fromUs: changesFromUs, toUs: changesToUs },
    loadCpuMsPerChange: (cpu.user + cpu.system) / 1000 / changes.length,
  };
}

// ---- main -----------------------------------------------------------------------------------

const JOBS = { http: httpJob, checkout: checkoutJob, fanout: fanoutJob, buyers: buyersJob, watchers: watchersJob };

// Stopped by the benchmark (cleanup, Ctrl-C): leave at once; open sockets die with the process.
process.on("SIGTERM", () => process.exit(143));
process.on("SIGINT", () => process.exit(130));
// The parent is gone (killed): nothing to report to.
process.on("disconnect", () => process.exit(1));

process.once("message", async (job) => {
  try {
    const result = await JOBS[job.mode](job);
    process.send({ result }, () => process.exit(0));
  } catch (e) {
    process.send({ error: String(e?.stack ?? e) }, () => process.exit(1));
  }
});
