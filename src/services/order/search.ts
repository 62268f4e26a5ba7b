import type { OrderStatus } from "../../entities";
import { InputCheck } from "../../errors";
import { Permission } from "../access/permissions";
import { requireAccess } from "../access/require";
import type { ServiceContext } from "../context";
import { decodeCursor, pageSize, type Connection } from "../pagination";
import { isCleanText } from "../validation";
import { orderPage, type OrderFilter, type OrderIncludes, type OrderView } from "./order.repository";

/** The longest search text: a fragment of a name or an email, never a document. */
export const MAX_SEARCH_LENGTH = 200;
/**
 * searchOrders counts at most this many matches: totalCount is exact up to 1,000 and reads 1,001
 * for "more than 1,000". Counting every match of "gmail" among a million orders would read them all
 * on every page; a person refines a search long before 1,000 hits.
 */
export const SEARCH_COUNT_LIMIT = 1_000;

/** What a caller may filter on (the GraphQL `OrderFilter`, or the query string of a CSV export). */
export interface SearchFilter {
  search?: string | null;
  createdFrom?: Date | null;
  createdTo?: Date | null;
}

// A trigram index finds a fragment by its runs of three letters or digits; without one, PostgreSQL
// would read every entry of the index (a scan in disguise), so such a search is refused.
const HAS_TRIGRAM = /[\p{L}\p{N}]{3}/u;

/**
 * The checked filter (without the brand): BAD_USER_INPUT naming `filter.search`, `filter.createdTo`
 * … (`prefix` names the argument: "filter" in GraphQL, "" for query parameters).
 */
export function checkedFilter(filter: SearchFilter, statuses: readonly OrderStatus[] | null | undefined, prefix = "filter."): OrderFilter {
  const check = new InputCheck();
  const search = filter.search?.trim() || null;
  if (search !== null) {
    const field = `${prefix}search`;
    check.check(search.length <= MAX_SEARCH_LENGTH, field, `must be at most ${MAX_SEARCH_LENGTH} characters`) &&
      check.check(isCleanText(search), field, "must not contain control characters or ill-formed Unicode") &&
      check.check(HAS_TRIGRAM.test(search), field, "needs at least 3 letters or digits in a row");
  }
  const { createdFrom, createdTo } = filter;
  if (createdFrom && createdTo) check.check(createdFrom.getTime() <= createdTo.getTime(), `${prefix}createdTo`, "must not be before createdFrom");
  check.throwIfAny();
  return { search, createdFrom: createdFrom ?? null, createdTo: createdTo ?? null, statuses: statuses?.length ? [...new Set(statuses)] : null };
}

/**
 * searchOrders: a brand's orders (COORGANIZER+ or its key) whose number, buyer or attendee name or
 * email contains `filter.search` (any case), created within [createdFrom, createdTo], of the given
 * statuses; newest first, keyset pages of 1..100.
 */
export async function searchOrders(
  ctx: ServiceContext,
  args: { brandId: string; filter: SearchFilter; status?: OrderStatus[] | null; first?: number | null; after?: string | null },
  inc: OrderIncludes = {},
): Promise<Connection<OrderView>> {
  const first = pageSize(args.first);
  const cursor = args.after ? decodeCursor(args.after) : null;
  const filter = checkedFilter(args.filter ?? {}, args.status);
  const [brandId] = await requireAccess(ctx, Permission.BRAND_ORDERS_SEARCH, [args.brandId]);
  return orderPage(ctx.sql, { ...filter, brandId }, first, cursor, inc, SEARCH_COUNT_LIMIT);
}
