/**
 * Shared pieces of the fault tests: real processes we can kill, a PostgreSQL we can stop and start,
 * a Postmark that answers slowly, a shop that can go down. Every process started here is stopped by
 * its PID when the test process exits, whatever happened.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { AttemptToPayDocument, CreateBrandDocument, CreateOrderDocument, CreateProductDocument, SignUpDocument } from "../graphql/generated";
import { ok, uniqueEmail } from "../helpers/api";
import { eventId, sendWebhook } from "../helpers/fixtures";
import { ROOT, TEST_AUTH_SECRET, TEST_WEBHOOK_SECRET } from "../helpers/processes";

const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns without throwing; fails with its last error after `timeoutMs`. */
export async function until<T>(check: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(everyMs);
    }
  }
}

export interface NodeProcess {
  pid: number;
  logs: string[];
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9, by PID. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** `node dist/worker.js` (the standalone job worker), ready once it logs `Orderline worker ready`. */
export async function startWorkerProcess(env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [join(ROOT, "dist", "worker.js")], {
    cwd: tmpdir(), // not the repository: a developer's .env must not reach it
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      LOG_LEVEL: "info",
      AUTH_SECRET: TEST_AUTH_SECRET,
      PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once("exit", (code, signal) => {
      started.delete(child);
      r({ code, signal });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in 30 s:\n${logs.join("\n")}`)), 30_000);
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        if (logs.length > 5000) logs.shift();
        if (line.includes('"msg":"Orderline worker ready"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code ?? signal}) before it was ready:\n${logs.join("\n")}`));
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    logs,
    exited,
    async kill9() {
      if (alive()) process.kill(child.pid!, "SIGKILL");
      await exited;
    },
    async stop() {
      if (!alive()) return;
      const force = setTimeout(() => alive() && process.kill(child.pid!, "SIGKILL"), 10_000);
      process.kill(child.pid!, "SIGTERM");
      await exited;
      clearTimeout(force);
    },
  };
}

export interface OwnPostgres {
  url: string;
  port: number;
  /** Fast shutdown (every connection is cut), like a restart or failover of the server. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  start(): Promise<void>;
  /** Stops it for good and deletes its data. */
  destroy(): Promise<void>;
}

/** A PostgreSQL of this test alone (embedded, in a temporary directory), so it can be stopped and started. */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const { startEmbeddedPostgres } = await import("../../src/db/embedded.js");
  const dir = mkdtempSync(join(tmpdir(), "orderline-faults-"));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when we are root
  let db: { url: string; stop(): Promise<void> } | undefined = await startEmbeddedPostgres(join(dir, "pg"), { durable: false });
  const url = db.url;
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    async stop() {
      await db?.stop();
      db = undefined;
    },
    async start() {
      db ??= await startEmbeddedPostgres(join(dir, "pg"), { durable: false, port });
    },
    async destroy() {
      await db?.stop().catch(() => undefined);
      db = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SlowPostmark {
  url: string;
  token: string;
  /** Every request received: recipient, when it arrived, and whether its answer (200) was written. */
  requests: { to: string; emailId?: string; at: number; answeredAt?: number }[];
  /** Requests received and not answered yet. */
  inFlight(): number;
  /** Accepted (200) requests per recipient. */
  acceptedFor(to: string): number;
  /** Holds every answer (besides the delay) until release(): "still in flight" then holds however slow the sender is. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/**
 * A Postmark stand-in that accepts every email, but answers only after `delayMs`, as a slow
 * provider would. It accepts (and counts) a message even when the client is gone by the time it
 * answers: Postmark, too, sends a message whose sender died waiting for the answer.
 */
export async function startSlowPostmark(delayMs: number): Promise<SlowPostmark> {
  const token = `fake-token-${randomUUID()}`;
  const requests: SlowPostmark["requests"] = [];
  const sockets = new Set<Socket>();
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      if (req.method !== "POST" || req.url !== "/email" || req.headers["x-postmark-server-token"] !== token) {
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ ErrorCode: 10, Message: "Bad or missing Server API token." }));
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const entry: SlowPostmark["requests"][number] = { to: String(body.To).toLowerCase(), emailId: body.Metadata?.emailId, at: Date.now() };
      requests.push(entry);
      await Promise.all([sleep(delayMs), gate]);
      entry.answeredAt = Date.now();
      if (!res.destroyed) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ To: body.To, SubmittedAt: new Date().toISOString(), MessageID: randomUUID(), ErrorCode: 0, Message: "OK" }));
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    inFlight: () => requests.filter((r) => r.answeredAt === undefined).length,
    acceptedFor: (to) => requests.filter((r) => r.to === to.toLowerCase() && r.answeredAt !== undefined).length,
    hold: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    release: () => open(),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface ToggleShop {
  url: string;
  requests: { at: number; body: any; delivery: string | undefined }[];
  /** Closes the port: connections are refused, as for a shop that is down. */
  down(): Promise<void>;
  /** Listens on the same port again and answers 200. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A brand's shop (the coupon.issued receiver) that can go down (connection refused) and come back. */
export async function startToggleShop(): Promise<ToggleShop> {
  const requests: ToggleShop["requests"] = [];
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: import("node:http").ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let body: any = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {}
      requests.push({ at: Date.now(), body, delivery: req.headers["orderline-delivery"] as string | undefined });
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
  };
  let server: Server | undefined;
  const listen = async (port: number) => {
    const s = createServer(handler);
    s.on("connection", (c) => {
      sockets.add(c);
      c.on("close", () => sockets.delete(c));
    });
    await new Promise<void>((r, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => r());
    });
    server = s;
    return (s.address() as AddressInfo).port;
  };
  const port = await listen(0);
  const down = () =>
    new Promise<void>((r) => {
      const s = server;
      server = undefined;
      if (!s) return r();
      for (const c of sockets) c.destroy();
      s.close(() => r());
    });
  return {
    url: `http://127.0.0.1:${port}/coupons`,
    requests,
    down,
    async up() {
      if (!server) await listen(port);
    },
    close: down,
  };
}

// ---- GraphQL set-up against a given API process -------------------------------------------------

export interface Shop {
  api: string;
  owner: { token: string; email: string };
  brandId: string;
  productId: string;
}

/** An owner, a brand and one product (10.00 EUR), on `api`. */
export async function brandOn(api: string): Promise<Shop> {
  const email = uniqueEmail("owner");
  const { signUp } = await ok(SignUpDocument, { input: { email, password: "correct horse battery staple", name: "Owner" } }, { api });
  const { createBrand } = await ok(CreateBrandDocument, { input: { name: `Faults ${email}`, currency: "EUR" } }, { api, token: signUp.token });
  const { createProduct } = await ok(
    CreateProductDocument,
    { input: { brandId: createBrand.id, name: "Ticket", unitPrice: 1000 } },
    { api, token: signUp.token },
  );
  return { api, owner: { token: signUp.token, email }, brandId: createBrand.id, productId: createProduct.id };
}

/** A PENDING order for `buyer` (no other ticket holder: exactly one email once paid). */
export async function orderFor(shop: Shop, buyer: string, token: string) {
  const { createOrder } = await ok(
    CreateOrderDocument,
    { input: { brandId: shop.brandId, lines: [{ productId: shop.productId, quantity: 1 }], buyer: { name: "Buyer", email: buyer }, attendees: [] } },
    { api: shop.api, token },
  );
  return createOrder;
}

/** Pays an order the way production does: an attempt, then the provider's signed PAID webhook. */
export async function pay(shop: Shop, order: { id: string; total: number; currency: string }, token: string) {
  const { attemptToPayForOrder } = await ok(AttemptToPayDocument, { orderId: order.id }, { api: shop.api, token });
  const hook = await sendWebhook(
    { id: eventId(), data: { attemptExternalId: attemptToPayForOrder.externalId, status: "PAID", totalAmount: order.total, currency: order.currency } },
    { api: shop.api },
  );
  if (hook.status !== 200 || hook.body?.outcome !== "applied: order PAID") throw new Error(`payment not applied: ${JSON.stringify(hook)}`);
}

/** A plain pg pool on a database (direct SQL for counting and for moving the clock of jobs). */
export const sqlPool = (url: string) => {
  const p = new pg.Pool({ connectionString: url, max: 2 });
  p.on("error", () => undefined); // the server may be stopped on purpose
  return p;
};
