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

/** A real graphql-ws client subscribed to one operation; collects what arrives. */
export async function subscribe(query: string, variables: Record<string, unknown>, opts: { token?: string; apiKey?: string; base?: string } = {}): Promise<LiveSubscription> {
  const client = createClient({
    url: wsUrl(opts.base),
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
  // The subscription is registered on the server a moment after the ack.
  await new Promise((r) => setTimeout(r, 150));
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
