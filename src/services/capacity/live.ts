import { Product } from "../../entities";
import { notFound } from "../../errors";
import { availabilityStream, type AvailabilityMessage } from "../../pubsub/availability";
import type { ServiceContext } from "../context";
import { isUuid } from "../pagination";

/**
 * `availabilityChanged(brandId)`: public (availability is what a storefront shows anyone); an
 * unknown brand is NOT_FOUND when subscribing. One read per coalesced batch and instance feeds
 * every subscriber (src/pubsub/availability.ts).
 */
export async function watchAvailability(ctx: ServiceContext, brandId: string): Promise<AsyncIterable<AvailabilityMessage>> {
  const found = isUuid(brandId) ? await ctx.sql.query("select 1 from brand where id = $1", [brandId]) : { rows: [] };
  if (!found.rows.length) throw notFound("brandId: no such brand");
  return availabilityStream(brandId.toLowerCase());
}

/**
 * The event as one execution sees it: the product as read for the batch (no query of its own) and
 * its availability primed into this execution's loader, so `product { available }` agrees with
 * `available` without another read.
 */
export function availabilityEvent(ctx: ServiceContext, m: AvailabilityMessage) {
  const p = m.product;
  const product = ctx.em.merge(
    Product,
    { id: p.id, brand: p.brandId, name: p.name, unitPrice: p.unitPrice, currency: p.currency, createdAt: new Date(p.createdAt) },
    { refresh: false },
  );
  ctx.loaders.productAvailable.prime(p.id, p.available);
  return { product, available: p.available, at: new Date(m.at) };
}
