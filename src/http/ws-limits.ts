import type { Socket } from "node:net";
import type { WebSocket } from "ws";

/** The close code of a socket without a subscription for WS_IDLE_TIMEOUT_MS (as graphql-ws's own init timeout). */
export const IDLE_CLOSE_CODE = 4408;

/**
 * Open WebSockets per client address (`addressKey`: IPv6 by /64). A slot is taken when the upgrade
 * is accepted and given back when its TCP connection closes, whatever happens in between (a
 * handshake that fails after the check frees it too), so the count cannot drift.
 */
export class SocketsPerAddress {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a slot for `key`, freed when `tcp` closes; false (nothing taken) when the address is full. */
  take(key: string, tcp: Socket): boolean {
    const n = this.open.get(key) ?? 0;
    if (n >= this.max) return false;
    this.open.set(key, n + 1);
    tcp.once("close", () => {
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    });
    return true;
  }
}

/**
 * How many new subscription documents graphql-jit compiles per client address and minute, and in
 * all (ten times that). A compile costs ~1.3 ms and ~7 KB for the board's document and up to ~50 ms
 * and ~210 KB for the largest document the limits accept (15 aliases of a whole order; measured
 * with bench/jit-compile.cjs), so a stream of unique documents over one socket would otherwise cost
 * that on every subscribe. Over the budget the subscription still works: graphql-js executes it.
 */
export class CompileBudget {
  private readonly used = new Map<string, { n: number; resetAt: number }>();

  constructor(
    private readonly perAddress: number,
    private readonly total = perAddress * 10,
    private readonly windowMs = 60_000,
  ) {}

  /** Spends one compile of `key`'s budget (and of the total); false when either is used up. */
  take(key: string, now = Date.now()): boolean {
    if (this.used.size > 10_000) this.prune(now);
    const all = this.entry("*", now);
    const mine = this.entry(key, now);
    if (all.n >= this.total || mine.n >= this.perAddress) return false;
    all.n++;
    mine.n++;
    return true;
  }

  private entry(key: string, now: number) {
    let e = this.used.get(key);
    if (!e || e.resetAt <= now) this.used.set(key, (e = { n: 0, resetAt: now + this.windowMs }));
    return e;
  }

  private prune(now: number) {
    for (const [key, e] of this.used) if (e.resetAt <= now) this.used.delete(key);
  }
}

/**
 * Closes a socket that has had no subscription for `ms` (from its connection_init, or since its
 * last subscription ended) with 4408: an idle socket costs memory and a slot and does nothing.
 */
export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly ms: number,
  ) {
    socket.once("close", () => this.stop());
  }

  /** (Re)starts the countdown: call when the socket has no subscription. */
  start(): void {
    this.stop();
    this.timer = setTimeout(() => this.socket.close(IDLE_CLOSE_CODE, `Idle: no subscription for ${this.ms / 1000} s`), this.ms);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
