// One brand's orders: the list (newest first, "Load more"), the live feed applied to it, and the
// Fulfil / Resend confirmation actions with their messages.
import { ApiError, gql } from "./api";
import { byId, show } from "./dom";
import { BoardFulfilDocument, BoardResendDocument, type BoardOrderFragment as Order } from "./generated";
import { askRefund } from "./refund";
import { watchBrand, type LiveState, type StatusEvent } from "./live";
import { announce, describeError, isUnauthenticated, rateLimitText } from "./messages";
import { OrderTable, type Action } from "./table";
import { filtered, ordersPage } from "./search";

export interface Brand {
  id: string;
  name: string;
}

const PAGE = 50;
const MAX_PAGE = 100; // the API's limit for `first`

/** Newest first, as the API pages: by createdAt, then id, descending. */
const newerFirst = (a: Order, b: Order) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1);

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline — live updates stopped",
};

export class Board {
  private orders: Order[] = [];
  private hasNextPage = false;
  private endCursor: string | null = null;
  private totalCount = 0;
  /** The last event sequence number applied, per order (a jump means a missed event). */
  private seqs = new Map<string, number>();
  /** When an order was last changed by an event or our own mutation (a reload must not undo it). */
  private touched = new Map<string, number>();
  private stopLive: (() => void) | null = null;
  private generation = 0;
  private reloading: Promise<boolean> | null = null;
  private reloadAgain = false;
  private readonly table: OrderTable;

  constructor(
    private readonly token: string,
    private readonly brand: Brand,
    private readonly onUnauthenticated: () => void,
  ) {
    this.table = new OrderTable(byId<HTMLTableSectionElement>("orders-body"), { action: (a, o) => void this.act(a, o) });
    byId("caption-brand").textContent = brand.name;
  }

  /** Loads the first page and starts the live feed (which reloads on every (re)connection). */
  start(): void {
    this.draw();
    byId("orders-note").textContent = "Loading orders…";
    this.setLive("connecting");
    void this.reload();
    this.startLive();
  }

  stop(): void {
    this.generation++;
    this.stopLive?.();
    this.stopLive = null;
  }

  startLive(): void {
    this.stopLive?.();
    this.stopLive = watchBrand(this.token, this.brand.id, {
      event: (e) => this.apply(e),
      state: (s) => this.setLive(s),
      connected: () => void this.reload(),
      unauthenticated: () => this.onUnauthenticated(),
      failed: (message) => announce(`Live updates stopped: ${message}. Use “Reload orders” to try again.`, "error"),
    });
  }

  get liveStopped(): boolean {
    return byId("live").dataset.state === "offline";
  }

  private setLive(state: LiveState): void {
    const el = byId("live");
    el.dataset.state = state;
    byId("live-text").textContent = LIVE_TEXT[state];
  }

  // ---- loading ----------------------------------------------------------------------------------

  /**
   * Reloads what is shown (at least one page); concurrent calls share one reload and one more
   * after it. Resolves to false when it failed (the message is shown).
   */
  reload(): Promise<boolean> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = this.doReload().finally(() => {
      this.reloading = null;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  private async doReload(): Promise<boolean> {
    const gen = this.generation;
    const startedAt = performance.now();
    const wanted = Math.max(PAGE, this.orders.length);
    const fetched: Order[] = [];
    let after: string | null = null;
    let page;
    this.setBusy(true);
    try {
      do {
        page = await ordersPage(this.brand.id, Math.min(MAX_PAGE, wanted - fetched.length), after);
        fetched.push(...page.edges.map((e) => e.node));
        after = page.pageInfo.endCursor;
      } while (page.pageInfo.hasNextPage && fetched.length < wanted);
    } catch (err) {
      if (gen === this.generation) this.fail(err, "load the orders");
      return false;
    } finally {
      if (gen === this.generation) this.setBusy(false);
    }
    if (gen !== this.generation) return false;
    // Orders changed by an event while the request was under way keep their newer state.
    const merged = new Map(fetched.map((o) => [o.id, o]));
    for (const o of this.orders) {
      if ((this.touched.get(o.id) ?? -1) > startedAt) merged.set(o.id, o);
    }
    this.hasNextPage = page.pageInfo.hasNextPage;
    this.endCursor = page.pageInfo.endCursor;
    this.totalCount = page.totalCount;
    this.orders = [...merged.values()].sort(newerFirst);
    this.draw();
    return true;
  }

  async loadMore(): Promise<void> {
    if (!this.hasNextPage) return;
    const gen = this.generation;
    const button = byId<HTMLButtonElement>("load-more");
    button.setAttribute("aria-disabled", "true");
    try {
      const page = await ordersPage(this.brand.id, PAGE, this.endCursor);
      if (gen !== this.generation) return;
      const known = new Set(this.orders.map((o) => o.id));
      this.orders.push(...page.edges.map((e) => e.node).filter((o) => !known.has(o.id)));
      this.orders.sort(newerFirst);
      this.hasNextPage = page.pageInfo.hasNextPage;
      this.endCursor = page.pageInfo.endCursor;
      this.totalCount = page.totalCount;
      this.draw();
      announce(`Showing ${this.orders.length} of ${this.totalCount} orders`, "info");
    } catch (err) {
      if (gen === this.generation) this.fail(err, "load more orders");
    } finally {
      button.removeAttribute("aria-disabled");
    }
  }

  private setBusy(busy: boolean): void {
    byId("orders").setAttribute("aria-busy", String(busy));
    if (busy && !this.orders.length) byId("orders-note").textContent = "Loading orders…";
  }

  private draw(): void {
    this.table.render(this.orders);
    const n = this.orders.length;
    byId("caption-count").textContent = n ? `newest first, ${n} of ${this.totalCount} shown` : "";
    byId("orders-note").textContent = n ? "" : "No orders yet for this brand.";
    show(byId("orders-wrap"), n > 0);
    show(byId("load-more"), this.hasNextPage);
  }

  // ---- live events ------------------------------------------------------------------------------

  private apply(e: StatusEvent): void {
    const order = e.order;
    const known = this.seqs.get(order.id);
    if (known !== undefined && e.seq <= known) return; // already applied (or older)
    const current = this.orders.find((o) => o.id === order.id);
    // The creation of an order the board already shows (a load raced the event): nothing new.
    if (e.previousStatus === null && current) {
      if (known === undefined) this.seqs.set(order.id, 0);
      return;
    }
    const missed = known !== undefined ? e.seq > known + 1 : current !== undefined && current.status !== e.previousStatus && current.status !== e.status;
    this.seqs.set(order.id, e.seq);
    this.touch(order, true);
    if (missed) void this.reload();
  }

  /** Puts a fresher copy of an order on the board: in place, or inserted where it belongs. */
  private touch(order: Order, live: boolean): void {
    this.touched.set(order.id, performance.now());
    const i = this.orders.findIndex((o) => o.id === order.id);
    if (i >= 0) {
      this.orders[i] = order;
      this.table.upsert(order, live);
      return;
    }
    // Not listed: a new order (newer than the oldest shown), or one on a page not loaded yet.
    if (filtered()) return; // a search shows what matched when it ran
    const oldest = this.orders.at(-1);
    if (this.hasNextPage && oldest && newerFirst(order, oldest) > 0) return;
    this.orders.push(order);
    this.orders.sort(newerFirst);
    this.totalCount++;
    this.draw();
    if (live) this.table.highlight(order.id);
  }

  // ---- actions ----------------------------------------------------------------------------------

  private async act(action: Action, order: Order): Promise<void> {
    if (this.table.isBusy(order.id, action)) return;
    const gen = this.generation;
    this.table.setBusy(order.id, action, true);
    try {
      if (action === "refund") {
        const refunded = await askRefund(order);
        if (!refunded || gen !== this.generation) return;
        this.touch(refunded, false);
      } else if (action === "fulfil") {
        const { fulfillOrder } = await gql(BoardFulfilDocument, { orderId: order.id });
        if (gen !== this.generation) return;
        this.touch(fulfillOrder, false);
        this.table.focusRow(order.id);
        announce(`Order ${order.number} fulfilled`, "success");
      } else {
        const { resendConfirmation } = await gql(BoardResendDocument, { orderId: order.id });
        if (gen !== this.generation) return;
        this.touch(resendConfirmation.order, false);
        announce(`Confirmation for ${order.number} sent to ${resendConfirmation.sentTo.join(", ")}`, "success");
      }
    } catch (err) {
      if (gen !== this.generation) return;
      if (err instanceof ApiError && err.code === "RATE_LIMITED" && action === "resend") {
        announce(rateLimitText(err, "resends"), "error");
      } else {
        this.fail(
          err,
          action === "fulfil"
            ? `fulfil order ${order.number}`
            : action === "refund"
              ? `refund order ${order.number}`
              : `resend the confirmation for ${order.number}`,
        );
        // The row was out of date (e.g. cancelled or fulfilled elsewhere): show the truth.
        if (err instanceof ApiError && (err.code === "FAILED_PRECONDITION" || err.code === "NOT_FOUND")) void this.reload();
      }
    } finally {
      this.table.setBusy(order.id, action, false);
    }
  }

  private fail(err: unknown, doing: string): void {
    if (isUnauthenticated(err)) this.onUnauthenticated();
    else announce(describeError(err, doing), "error");
  }
}
