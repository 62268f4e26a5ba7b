// Each product's availability, live: Product.available once, then availabilityChanged(brandId)
// over its own graphql-ws socket (public and coalesced by the server: at most 4 events per product
// per second, the last one true). A reconnect reloads the list: changes may have been missed.
import { print } from "graphql";
import { createClient } from "graphql-ws";
import { gql, wsUrl } from "./api";
import { byId, h, show } from "./dom";
import { BoardAvailabilityDocument, BoardProductsDocument, type BoardAvailabilitySubscription } from "./generated";

const text = (available: number | null) => (available === null ? "unlimited" : `${available} left`);

/** Shows a brand's products with their availability and keeps it live; returns the function that stops it. */
export function watchAvailability(brandId: string): () => void {
  const list = byId("availability-list");
  const cells = new Map<string, HTMLElement>();
  let stopped = false;

  const load = async () => {
    try {
      const data = await gql(BoardProductsDocument, { brandId });
      if (stopped) return;
      cells.clear();
      const products = data.brand?.products ?? [];
      list.replaceChildren(
        ...products.map((p) => {
          const cell = h("strong", { "data-available": p.available ?? "unlimited" }, text(p.available));
          cells.set(p.id, cell);
          return h("li", { "data-product": p.id }, `${p.name}: `, cell);
        }),
      );
      show(byId("availability"), products.length > 0);
    } catch {
      // The orders table reports errors; this list simply stays as it was.
    }
  };

  const client = createClient({
    url: wsUrl(),
    retryAttempts: Infinity,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 15_000))),
    on: { connected: () => void load() },
  });
  const unsubscribe = client.subscribe<BoardAvailabilitySubscription>(
    { query: print(BoardAvailabilityDocument), variables: { brandId } },
    {
      next: ({ data }) => {
        const e = data?.availabilityChanged;
        const cell = e && cells.get(e.product.id);
        if (!e || !cell || stopped) return;
        cell.textContent = text(e.available ?? null);
        cell.dataset.available = String(e.available ?? "unlimited");
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  return () => {
    stopped = true;
    unsubscribe();
    void client.dispose();
  };
}
