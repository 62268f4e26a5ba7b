import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { apiUrl } from "./api";

export interface Received {
  data?: any;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface LiveSubscription {
  events: Received[];
  /** Resolves when the server completes the subscription or it errors. */
  done: Promise<void>;
  client: Client;
  close(): Promise<void>;
}

export const wsUrl = (base = apiUrl()) => `${base.replace(/^http/, "ws")}/graphql`;

/** Subscriptions registered on an API instance since it started, as its /readyz counts them (only grows). */
export async function openedSubscriptions(base = apiUrl()): Promise<number> {
  const body = (await (await fetch(`${base}/readyz`)).json()) as { subscriptionsOpened: number };
  return body.subscriptionsOpened;
}

/**
 * Waits until the instance has registered more than `above` subscriptions: the moment a new one
 * hears events (a moment after the connection's ack, after the resolver's own reads). Stops
 * waiting when `done` settles (refused), and quietly after 10 s: a test that needed the
 * subscription then fails on what it expected to receive.
 */
export async function untilSubscribed(base: string, above: number, done?: Promise<unknown>): Promise<void> {
  let settled = false;
  void done?.finally(() => (settled = true));
  const until = Date.now() + 10_000;
  while (!settled && Date.now() < until && (await openedSubscriptions(base)) <= above) await new Promise((r) => setTimeout(r, 20));
}

/** A real graphql-ws client subscribed to one operation; collects what arrives. */
export async function subscribe(
  query: string,
  variables: Record<string, unknown>,
  opts: { token?: string; apiKey?: string; base?: string } = {},
): Promise<LiveSubscription> {
  const base = opts.base ?? apiUrl();
  const before = await openedSubscriptions(base);
  const client = createClient({
    url: wsUrl(base),
    webSocketImpl: WebSocket,
    connectionParams: opts.token ? { authorization: `Bearer ${opts.token}` } : opts.apiKey ? { apiKey: opts.apiKey } : {},
    retryAttempts: 0,
    lazy: true,
  });
  const events: Received[] = [];
  let acknowledged!: () => void;
  const ack = new Promise<void>((r) => (acknowledged = r));
  client.on("connected", () => acknowledged());
  const done = new Promise<void>((resolve) => {
    client.subscribe(
      { query, variables },
      {
        next: (v) => events.push(v as Received),
        error: (e) => {
          events.push({ errors: Array.isArray(e) ? e : [{ message: String((e as { reason?: string })?.reason ?? e) }] });
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  await Promise.race([ack, done]);
  await untilSubscribed(base, before, done);
  return { events, done, client, close: () => client.dispose() as Promise<void> };
}

/** Opens a raw WebSocket with the graphql-transport-ws protocol and reports how it closes. */
export function rawSocket(base = apiUrl()): { ws: WebSocket; closed: Promise<{ code: number; reason: string }>; opened: Promise<void> } {
  const ws = new WebSocket(wsUrl(base), "graphql-transport-ws");
  const opened = new Promise<void>((r) => ws.once("open", () => r()));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once("close", (code, reason) => r({ code, reason: reason.toString() })));
  ws.on("error", () => undefined);
  return { ws, closed, opened };
}

export const STATUS_EVENTS = `subscription ($brandId: ID!) {
  orderStatusChanged(brandId: $brandId) { previousStatus status at seq order { id number status paidAt fulfilledAt } }
}`;

export const MY_ORDER_EVENTS = `subscription ($orderId: ID!) {
  myOrderStatusChanged(orderId: $orderId) { previousStatus status seq order { id status } }
}`;

/** A raw socket acknowledged with these connection_init params; throws if it closes instead. */
export async function acknowledgedSocket(params: Record<string, unknown>, base?: string): Promise<ReturnType<typeof rawSocket>> {
  const s = rawSocket(base);
  await s.opened;
  const acked = new Promise<void>((r) => s.ws.on("message", (m) => JSON.parse(m.toString()).type === "connection_ack" && r()));
  s.ws.send(JSON.stringify({ type: "connection_init", payload: params }));
  await Promise.race([acked, s.closed.then((c) => Promise.reject(new Error(`socket closed before the ack: ${c.code} ${c.reason}`)))]);
  return s;
}

/** How a raw socket closed, or "still open" after `ms` (instead of hanging until the test's timeout). */
export const closedWithin = (s: ReturnType<typeof rawSocket>, ms = 10_000) =>
  Promise.race([s.closed, new Promise<string>((r) => setTimeout(() => r("still open"), ms))]);

/** One ping/pong round trip: anything the server sent before the pong has arrived. */
export const roundTrip = (s: ReturnType<typeof rawSocket>) =>
  new Promise<void>((r) => {
    s.ws.once("pong", () => r());
    s.ws.ping();
  });
