// The board's search box, status filter and Export button (issue #16). With a search or a status
// chosen, the board's pages come from searchOrders instead of orders; Export downloads orders.csv
// with the same filters. The token is a bearer header, so the file is fetched and handed to the
// browser as a blob (a plain link could not carry it).
import { gql, session } from "./api";
import { byId, isBusy, setBusy } from "./dom";
import { BoardOrdersDocument, BoardSearchDocument, type BoardOrdersQuery, type OrderStatus } from "./generated";
import { announce } from "./messages";

type Page = BoardOrdersQuery["orders"];

const filters: { search: string; status: OrderStatus | "" } = { search: "", status: "" };

/** True while a search or a status narrows the list (live events then update only the orders shown). */
export const filtered = (): boolean => filters.search !== "" || filters.status !== "";

/** One page of the brand's orders, through the filters when there are any. */
export async function ordersPage(brandId: string, first: number, after: string | null): Promise<Page> {
  if (!filtered()) return (await gql(BoardOrdersDocument, { brandId, first, after })).orders;
  const status = filters.status ? [filters.status] : null;
  return (await gql(BoardSearchDocument, { brandId, filter: { search: filters.search || null }, status, first, after })).searchOrders;
}

/** Wires the form: `apply` reloads the board; `brandId` names the brand shown (null before one is). */
export function mountSearch(apply: () => void, brandId: () => string | null): void {
  const form = byId<HTMLFormElement>("search-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters.search = byId<HTMLInputElement>("search").value.trim();
    filters.status = byId<HTMLSelectElement>("status-filter").value as OrderStatus | "";
    apply();
  });
  const exportButton = byId<HTMLButtonElement>("export");
  exportButton.addEventListener("click", async () => {
    const id = brandId();
    if (!id || isBusy(exportButton)) return;
    setBusy(exportButton, true);
    try {
      await download(id);
    } finally {
      setBusy(exportButton, false);
    }
  });
}

async function download(brandId: string): Promise<void> {
  const query = new URLSearchParams();
  const search = byId<HTMLInputElement>("search").value.trim();
  const status = byId<HTMLSelectElement>("status-filter").value;
  if (search) query.set("search", search);
  if (status) query.set("status", status);
  const qs = query.toString();
  let res: Response;
  try {
    res = await fetch(`/brands/${encodeURIComponent(brandId)}/orders.csv${qs ? `?${qs}` : ""}`, {
      headers: session.token ? { authorization: `Bearer ${session.token}` } : {},
    });
  } catch {
    return announce("Could not export the orders: the server could not be reached", "error");
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: string } | null;
    return announce(`Could not export the orders: ${body?.error ?? `HTTP ${res.status}`}`, "error");
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? "orders.csv";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  announce("Export downloaded", "success");
}
