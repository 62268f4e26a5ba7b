// The live feed: orderStatusChanged(brandId) over graphql-ws, with the token in connection_init.
// It reconnects forever with capped backoff, pings to notice a frozen socket, and reports its
// state ("connecting", "live", "reconnecting", "offline") so the page can show it in words.
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import { wsUrl } from "./api";
import { BoardOrderStatusDocument, type BoardOrderStatusSubscription } from "./generated";

export type StatusEvent = BoardOrderStatusSubscription["orderStatusChanged"];
export type LiveState = "connecting" | "live" | "reconnecting" | "offline";

export interface LiveHandlers {
  event(e: StatusEvent): void;
  state(s: LiveState): void;
  /** The socket is (again) acknowledged: anything may have happened meanwhile, reload. */
  connected(wasRetry: boolean): void;
  /** The server refused the token (close 4403): the session is over. */
  unauthenticated(): void;
  /** The subscription ended for good (refused, e.g. no longer a member of the brand). */
  failed(message: string): void;
}

const FORBIDDEN = 4403;
const PING_EVERY_MS = 15_000;
const PONG_WITHIN_MS = 6_000;

const closeCode = (e: unknown) => (typeof e === "object" && e !== null && "code" in e ? Number((e as { code: unknown }).code) : undefined);

function errorText(err: unknown): string {
  if (Array.isArray(err)) return err.map((e) => (e as { message?: string }).message ?? String(e)).join("; ");
  const code = closeCode(err);
  if (code !== undefined) return `the connection closed (${code}${(err as { reason?: string }).reason ? `: ${(err as { reason: string }).reason}` : ""})`;
  return err instanceof Error ? err.message : String(err);
}

/** Starts watching a brand; returns the function that stops it. */
export function watchBrand(token: string, brandId: string, on: LiveHandlers): () => void {
  let stopped = false;
  let pongTimer: number | undefined;
  const state = (s: LiveState) => !stopped && on.state(s);

  const client: Client = createClient({
    url: wsUrl(),
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    // Retry every drop except a refused credential.
    shouldRetry: (e) => closeCode(e) !== FORBIDDEN,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 15_000) + Math.random() * 500)),
    keepAlive: PING_EVERY_MS,
    on: {
      connecting: (isRetry) => state(isRetry ? "reconnecting" : "connecting"),
      connected: (_socket, _payload, wasRetry) => {
        if (stopped) return;
        on.state("live");
        on.connected(wasRetry);
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        if (stopped) return;
        if (closeCode(event) === FORBIDDEN) on.unauthenticated();
        else on.state("reconnecting");
      },
      ping: (received) => {
        if (received) return;
        clearTimeout(pongTimer);
        pongTimer = window.setTimeout(() => client.terminate(), PONG_WITHIN_MS); // frozen socket: reconnect
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  const unsubscribe = client.subscribe<BoardOrderStatusSubscription>(
    { query: print(BoardOrderStatusDocument), variables: { brandId } },
    {
      next: (result) => {
        if (stopped) return;
        if (result.errors?.length) on.failed(errorText(result.errors));
        else if (result.data) on.event(result.data.orderStatusChanged);
      },
      error: (err) => {
        if (stopped) return;
        if (closeCode(err) === FORBIDDEN) return; // reported by `closed`
        on.state("offline");
        on.failed(errorText(err));
      },
      complete: () => state("offline"),
    },
  );

  return () => {
    stopped = true;
    clearTimeout(pongTimer);
    unsubscribe();
    void client.dispose();
  };
}
