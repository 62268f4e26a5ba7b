// The on-sale's load jobs (run by bench/load.mjs in processes of their own, see bench/onsale.mjs):
//   buyers   – one anonymous session per buyer, then every buyer at once (bounded: `inFlight`
//              buyers in progress) createOrder → attemptToPayForOrder → signed PAID webhook,
//              spread over the API instances (buyer i on instance i % n); or the same three steps
//              against the raw baseline (bench/raw-onsale.mjs) when `raw` is set;
//   watchers – graphql-ws sockets split over the instances, subscribed to availabilityChanged
//              (no credentials: the subscription is public); every arrival's latency from the
//              event's `at` (set in the transaction that changed the seats, just before commit).
import { createClient } from "graphql-ws";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import WebSocket from "ws";
import { DIST, sleep } from "./lib.mjs";
import { ATTEMPT_TO_PAY, AVAILABILITY, CREATE_ORDER, START_SESSION } from "./queries.mjs";
import { percentile, post, summarize } from "./stats.mjs";

const { signPayload } = createRequire(import.meta.url)(join(DIST, "services", "payment", "signature.js"));
const phase = (p, extra = {}) => process.send?.({ phase: p, ...extra });

/** Runs `fn(i)` for i in [0, n) with at most `limit` in flight. */
async function pool(n, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const errorCode = (json) => json?.errors?.[0]?.extensions?.code ?? null;
// Buyer i's own client address (the on-sale's APIs trust loopback proxies: TRUST_PROXY=loopback).
// From one address, every buyer's per-address rate-limit check would lock the same key.
const addressOf = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

export async function buyersJob({ targets, raw = false, buyers, inFlight, brandId, productId, webhookSecret }) {
  const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: Math.ceil(inFlight / targets.length) + 8 }));
  const ports = targets.map((t) => Number(new URL(t).port));
  const at = (i) => ({ agent: agents[i % targets.length], port: ports[i % targets.length] });

  // Sessions first (not measured): each buyer is its own anonymous visitor.
  const tokens = new Array(buyers);
  if (!raw) {
    await pool(buyers, 64, async (i) => {
      const { agent, port } = at(i);
      const r = await post(agent, port, "/graphql", JSON.stringify({ query: START_SESSION }), { "x-forwarded-for": addressOf(i) });
      const token = JSON.parse(r.text)?.data?.startAnonymousSession?.token;
      if (!token) throw new Error(`startAnonymousSession ${r.status} ${r.text.slice(0, 300)}`);
      tokens[i] = token;
    });
  }

  const step = { createOrder: [], attemptToPay: [], webhook: [], soldOut: [] };
  const failures = [];
  let paid = 0;
  let soldOut = 0;
  let lastPaidAt = 0;

  const gql = async (agent, port, token, query, variables, i) => {
    const r = await post(agent, port, "/graphql", JSON.stringify({ query, variables }), { authorization: `Bearer ${token}`, "x-forwarded-for": addressOf(i) });
    return { status: r.status, json: JSON.parse(r.text), text: r.text };
  };
  const webhook = async (agent, port, a) => {
    const body = JSON.stringify({
      id: `evt_onsale_${randomBytes(12).toString("hex")}`,
      type: "payment_attempt.updated",
      data: { attemptExternalId: a.externalId, status: "PAID", totalAmount: a.amount, currency: a.currency },
    });
    // Signed as the provider signs (Payment-Signature: t=…,v1=HMAC-SHA256); the raw server checks it too.
    const r = await post(agent, port, raw ? "/webhook" : "/webhooks/payments", body, { "payment-signature": signPayload(webhookSecret, body) });
    if (r.status !== 200 || !r.text.includes("PAID")) throw new Error(`webhook ${r.status} ${r.text.slice(0, 300)}`);
  };

  const buyer = async (i) => {
    const { agent, port } = at(i);
    const input = { brandId, lines: [{ productId, quantity: 1 }], buyer: { name: `Buyer ${i}`, email: `buyer${i}@example.test` } };
    try {
      const t0 = performance.now();
      const o = raw
        ? await post(agent, port, "/order", JSON.stringify({ input })).then((r) => ({ status: r.status, json: JSON.parse(r.text), text: r.text }))
        : await gql(agent, port, tokens[i], CREATE_ORDER, { input }, i);
      const t1 = performance.now();
      if (errorCode(o.json) === "SOLD_OUT") {
        soldOut++;
        step.soldOut.push(t1 - t0);
        return;
      }
      const orderId = o.json?.data?.createOrder?.id;
      if (!orderId) throw new Error(`createOrder ${o.status} ${o.text.slice(0, 300)}`);
      const p = raw
        ? await post(agent, port, "/pay", JSON.stringify({ orderId })).then((r) => ({ status: r.status, json: JSON.parse(r.text), text: r.text }))
        : await gql(agent, port, tokens[i], ATTEMPT_TO_PAY, { orderId }, i);
      const t2 = performance.now();
      const a = p.json?.data?.attemptToPayForOrder;
      if (!a?.externalId) throw new Error(`attemptToPayForOrder ${p.status} ${p.text.slice(0, 300)}`);
      await webhook(agent, port, a);
      const t3 = performance.now();
      paid++;
      lastPaidAt = t3;
      step.createOrder.push(t1 - t0);
      step.attemptToPay.push(t2 - t1);
      step.webhook.push(t3 - t2);
    } catch (e) {
      failures.push(String(e?.message ?? e).slice(0, 300));
    }
  };

  phase("measure");
  const started = performance.now();
  await pool(buyers, inFlight, buyer);
  const ended = performance.now();
  phase("done");
  for (const a of agents) a.destroy();
  const saleSeconds = ((paid ? lastPaidAt : ended) - started) / 1000;
  return {
    raw,
    buyers,
    inFlight,
    instances: targets.length,
    paid,
    soldOut,
    failures: failures.length,
    firstFailures: failures.slice(0, 3),
    saleSeconds, // first buyer started → last PAID webhook answered
    allSeconds: (ended - started) / 1000, // … → the last buyer answered (SOLD_OUT included)
    checkoutsPerSecond: paid / saleSeconds,
    buyersPerSecond: buyers / ((ended - started) / 1000),
    steps: Object.fromEntries(Object.entries(step).map(([k, v]) => [k, (({ count, p50, p99, max }) => ({ count, p50, p99, max }))(summarize(v))])),
  };
}

export async function watchersJob({ apis, sockets, brandId, connectConcurrency = 200, finalAvailable = 0, settleTimeoutMs = 15_000 }) {
  const clients = [];
  const errors = [];
  const perSocket = []; // per socket: [{ key, latency, available }]
  let connected = 0;

  const connectOne = (i) =>
    new Promise((resolve) => {
      const client = createClient({
        url: `${apis[i % apis.length].replace(/^http/, "ws")}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      const mine = [];
      perSocket.push(mine);
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      client.on("connected", () => {
        connected++;
        settle();
      });
      client.subscribe(
        { query: AVAILABILITY, variables: { brandId } },
        {
          next: (v) => {
            const now = Date.now();
            const e = v?.data?.availabilityChanged;
            if (!e) return void errors.push(JSON.stringify(v).slice(0, 200));
            mine.push({ key: `${e.product.id}|${e.at}|${e.available}`, latency: now - Date.parse(e.at), available: e.available });
          },
          error: (err) => {
            errors.push(String(err?.reason ?? err?.message ?? JSON.stringify(err)).slice(0, 200));
            settle();
          },
          complete: () => settle(),
        },
      );
    });

  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(connectConcurrency, sockets) }, async () => {
      while (next < sockets) await connectOne(next++);
    }),
  );
  // Acknowledged is not yet subscribed: wait until the instances count every subscription (/readyz).
  const counted = async () => {
    let total = 0;
    for (const base of apis) {
      try {
        total += (await (await fetch(`${base}/readyz`)).json()).subscriptions ?? 0;
      } catch {}
    }
    return total;
  };
  let active = 0;
  const deadline = performance.now() + 120_000;
  while ((active = await counted()) < sockets && performance.now() < deadline) await sleep(200);
  const connectMs = performance.now() - t0;

  // The parent measures memory now, then runs the buyers, then tells us the sale is over.
  const over = new Promise((resolve) => process.on("message", (m) => m?.saleOver && resolve()));
  phase("subscribed", { active, connectMs, connected, errors: errors.length });
  await over;
  // Coalesced events end on the true value: wait (bounded) until every socket has heard it.
  const settleBy = performance.now() + settleTimeoutMs;
  const atFinal = () => perSocket.filter((m) => m.at(-1)?.available === finalAvailable).length;
  while (atFinal() < perSocket.length && performance.now() < settleBy) await sleep(50);
  const endedOnTrueValue = atFinal();

  const all = perSocket.flat();
  const byEvent = new Map(); // event → latencies
  for (const { key, latency } of all) (byEvent.get(key) ?? byEvent.set(key, []).get(key)).push(latency);
  const lastArrivals = [...byEvent.values()].map((l) => Math.max(...l));
  const counts = perSocket.map((m) => m.length).sort((a, b) => a - b);
  await Promise.all(clients.map((c) => c.dispose()));
  return {
    sockets,
    connected,
    active,
    connectMs,
    events: byEvent.size,
    arrivals: all.length,
    latency: summarize(all.map((a) => a.latency)),
    lastSocketPerEvent: summarize(lastArrivals), // per event: commit → its last socket
    eventsPerSocket: { min: counts[0] ?? 0, p50: percentile(counts, 50), max: counts.at(-1) ?? 0 },
    endedOnTrueValue,
    errors: errors.length,
    firstErrors: errors.slice(0, 3),
  };
}
