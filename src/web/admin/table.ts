// The orders table: one <tr data-order-id> per order, updated in place (rows and buttons are
// reused, so keyboard focus survives live updates and reloads).
import { h, isBusy, setBusy } from "./dom";
import { formatMoney, statusLabel, timeElement } from "./format";
import type { BoardOrderFragment as Order } from "./generated";
import { canRefund, refundedNote } from "./refund";

export type Action = "fulfil" | "resend" | "refund";

export interface TableCallbacks {
  action(action: Action, order: Order): void;
}

/** Which buttons a row shows for an order. */
function actionsFor(order: Order): Action[] {
  const refund: Action[] = canRefund(order) ? ["refund"] : [];
  if (order.status === "PAID") return ["fulfil", "resend", ...refund];
  if (order.status === "FULFILLED") return ["resend", ...refund];
  return [];
}

const BUTTON_TEXT: Record<Action, string> = { fulfil: "Fulfil", resend: "Resend confirmation", refund: "Refund…" };
const BUTTON_NAME: Record<Action, (number: string) => string> = {
  fulfil: (n) => `Fulfil order ${n}`,
  resend: (n) => `Resend confirmation for ${n}`,
  refund: (n) => `Refund order ${n}`,
};
const buttonName = (action: Action, number: string) => BUTTON_NAME[action](number);

export class OrderTable {
  private readonly rows = new Map<string, { tr: HTMLTableRowElement; key: string; order: Order }>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly callbacks: TableCallbacks,
  ) {
    tbody.replaceChildren(); // a new brand: nothing of the previous one stays
  }

  get size(): number {
    return this.rows.size;
  }

  /** Shows exactly these orders in this order, reusing the rows already there. */
  render(orders: readonly Order[]): void {
    const keep = new Set(orders.map((o) => o.id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    let previous: HTMLTableRowElement | null = null;
    for (const order of orders) {
      const tr = this.upsert(order, false);
      const expected: Element | null = previous ? previous.nextElementSibling : this.tbody.firstElementChild;
      if (expected !== tr) this.tbody.insertBefore(tr, expected);
      previous = tr;
    }
  }

  /** Updates (or creates, detached) the row of an order; `highlight` marks a live change. */
  upsert(order: Order, highlight: boolean): HTMLTableRowElement {
    const key = JSON.stringify(order);
    let row = this.rows.get(order.id);
    if (!row) {
      const tr = h("tr", { "data-order-id": order.id });
      row = { tr, key: "", order };
      this.rows.set(order.id, row);
    }
    if (row.key !== key) {
      const changed = row.key !== "";
      row.key = key;
      row.order = order;
      this.fill(row.tr, order);
      if (highlight && changed) flash(row.tr);
    }
    return row.tr;
  }

  /** Draws attention to a row that changed live (a short, motion-safe highlight). */
  highlight(orderId: string): void {
    const tr = this.rows.get(orderId)?.tr;
    if (tr) flash(tr);
  }

  /** Marks an action of an order as in flight (its button stays focusable but inert). */
  setBusy(orderId: string, action: Action, busy: boolean): void {
    const id = `${orderId}:${action}`;
    if (busy) this.busy.add(id);
    else this.busy.delete(id);
    const button = this.rows.get(orderId)?.tr.querySelector<HTMLButtonElement>(`button[data-action="${action}"]`);
    if (button) setBusy(button, busy);
  }

  isBusy(orderId: string, action: Action): boolean {
    return this.busy.has(`${orderId}:${action}`);
  }

  /** Puts focus on the row's remaining button (or its number) after its buttons changed. */
  focusRow(orderId: string): void {
    const tr = this.rows.get(orderId)?.tr;
    if (!tr) return;
    const target = tr.querySelector<HTMLElement>("button") ?? tr.querySelector<HTMLElement>("th");
    target?.focus();
  }

  private fill(tr: HTMLTableRowElement, order: Order): void {
    const hadFocus = tr.contains(document.activeElement);
    const actionsCell = tr.cells[6] ?? h("td", { class: "actions" });
    const cells = [
      h("th", { scope: "row", class: "number", tabindex: -1 }, order.number),
      h("td", { class: "buyer" }, h("span", { class: "name" }, order.buyer.name), h("span", { class: "email" }, order.buyer.email)),
      h("td", { class: "money" }, formatMoney(order.total, order.currency), refundedNote(order)),
      h("td", {}, h("span", { class: `status status-${order.status.toLowerCase()}` }, statusLabel(order.status))),
      h("td", {}, timeElement(order.paidAt)),
      h("td", {}, timeElement(order.fulfilledAt)),
    ];
    // Replace the data cells but keep the actions cell (and the buttons in it) in place.
    while (tr.firstChild && tr.firstChild !== actionsCell) tr.firstChild.remove();
    tr.prepend(...cells);
    if (!actionsCell.isConnected || actionsCell.parentNode !== tr) tr.append(actionsCell);
    this.fillActions(actionsCell, order);
    if (hadFocus && !tr.contains(document.activeElement)) this.focusRow(order.id);
  }

  private fillActions(cell: HTMLTableCellElement, order: Order): void {
    const wanted = actionsFor(order);
    for (const button of [...cell.querySelectorAll<HTMLButtonElement>("button")]) {
      if (!wanted.includes(button.dataset.action as Action)) button.remove();
    }
    let previous: HTMLButtonElement | null = null;
    for (const action of wanted) {
      let button = cell.querySelector<HTMLButtonElement>(`button[data-action="${action}"]`);
      if (!button) {
        button = h("button", { type: "button", "data-action": action, class: action === "fulfil" ? "primary" : "secondary" }, BUTTON_TEXT[action]);
        const b = button;
        b.addEventListener("click", () => {
          const row = this.rows.get(order.id);
          if (!isBusy(b) && row) this.callbacks.action(action, row.order);
        });
      }
      button.setAttribute("aria-label", buttonName(action, order.number));
      setBusy(button, this.busy.has(`${order.id}:${action}`));
      const expected: Element | null = previous ? previous.nextElementSibling : cell.firstElementChild;
      if (expected !== button) cell.insertBefore(button, expected);
      previous = button;
    }
    if (!wanted.length && !cell.querySelector(".none")) {
      cell.append(h("span", { class: "none" }, h("span", { "aria-hidden": "true" }, "—"), h("span", { class: "visually-hidden" }, "no actions")));
    } else if (wanted.length) cell.querySelector(".none")?.remove();
  }
}

function flash(tr: HTMLTableRowElement): void {
  tr.classList.remove("changed");
  void tr.offsetWidth; // restart the animation
  tr.classList.add("changed");
}
