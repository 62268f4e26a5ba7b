/**
 * Issue #12, item 14: WebSockets are capped per client address (IPv6 by /64; the address resolved
 * as for HTTP, through TRUST_PROXY), and a socket without a subscription is closed with 4408.
 * A second API process with small limits: WS_MAX_PER_ADDRESS=3, WS_IDLE_TIMEOUT_MS=1000.
 */
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CancelOrderDocument } from "../graphql/generated";
import { ok } from "../helpers/api";
import { anonymous, brandWithProducts, placeOrder } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { startApi, type ApiProcess } from "../helpers/processes";
import { MY_ORDER_EVENTS, acknowledgedSocket, closedWithin, subscribe, wsUrl } from "../helpers/ws";

const MAX = 3;
let api: ApiProcess;
beforeAll(async () => {
  api = await startApi({
    DATABASE_URL: inject("databaseUrl"),
    TRUST_PROXY: "loopback",
    WS_MAX_PER_ADDRESS: String(MAX),
    WS_IDLE_TIMEOUT_MS: "1000",
    RUN_WORKER: "false",
  });
});
afterAll(async () => api?.stop());

/** Opens a socket as a client at `ip` (behind the trusted local proxy): "open", or the HTTP status of a refused upgrade. */
function connect(ip: string): Promise<{ outcome: "open" | number; ws: WebSocket }> {
  const ws = new WebSocket(wsUrl(api.url), "graphql-transport-ws", { headers: { "x-forwarded-for": ip } });
  ws.on("error", () => undefined);
  return new Promise((resolve) => {
    ws.once("open", () => resolve({ outcome: "open", ws }));
    ws.once("unexpected-response", (_req, res) => {
      resolve({ outcome: res.statusCode ?? 0, ws });
      res.resume();
    });
  });
}

describe("sockets per client address", () => {
  it(`lets ${MAX} of 10 concurrent sockets from one /64 open, refuses the rest with 429, and not another address`, async () => {
    // Ten addresses of one /64: one client, as far as the cap goes.
    const attempts = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(`2001:db8:5:6::${i + 1}`)));
    try {
      const outcomes = attempts.map((a) => a.outcome);
      expect(outcomes.filter((o) => o === "open")).toHaveLength(MAX);
      expect(outcomes.filter((o) => o === 429)).toHaveLength(10 - MAX);
      const other = await connect("2001:db8:5:7::1"); // the next /64
      expect(other.outcome).toBe("open");
      other.ws.close();
      // A closed socket gives its slot back.
      attempts.find((a) => a.outcome === "open")!.ws.close();
      const again = await eventually(async () => {
        const c = await connect("2001:db8:5:6::99");
        if (c.outcome !== "open") throw new Error(`refused: ${c.outcome}`);
        return c;
      });
      again.ws.close();
    } finally {
      for (const a of attempts) a.ws.close();
    }
  });
});

describe("idle sockets", () => {
  it("closes a socket that does not subscribe with 4408, and keeps one that has a subscription", async () => {
    const customer = await anonymous();
    const order = await placeOrder(await brandWithProducts(), customer.token);
    const live = await subscribe(MY_ORDER_EVENTS, { orderId: order.id }, { token: customer.token, base: api.url });
    try {
      // Opened after the subscriber was acknowledged: its countdown ends after the subscriber's would have.
      const idle = await acknowledgedSocket({}, api.url);
      const closed = await closedWithin(idle, 15_000);
      expect(closed).toEqual({ code: 4408, reason: "Idle: no subscription for 1 s" });
      // The subscribed socket is still there: it hears the next change.
      await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
      await eventually(async () => expect(live.events.map((e) => e.data?.myOrderStatusChanged?.status)).toEqual(["CANCELLED"]));
    } finally {
      await live.close();
    }
  });
});
