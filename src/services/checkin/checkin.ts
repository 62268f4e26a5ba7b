import { CHECK_INS_CHANNEL, checkInStream, type CheckInMessage } from "../../pubsub/check-ins";
import { Permission } from "../access/permissions";
import { requireAccess } from "../access/require";
import type { ServiceContext } from "../context";
import { checkInByCode, checkInCounts, ticketByCode, ticketById, TicketStatus, type TicketView } from "./ticket.repository";

/** Longer codes are UNKNOWN without a query (ours are about 25 characters; the column holds 100). */
export const MAX_CODE_LENGTH = 100;

export enum CheckInOutcome {
  OK = "OK",
  ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN",
  VOID = "VOID",
  UNKNOWN = "UNKNOWN",
}

export interface CheckInResultView {
  outcome: CheckInOutcome;
  ticket: TicketView | null;
  checkedInAt: Date | null;
}

export interface CheckInStatsView {
  brandId: string;
  tickets: number;
  checkedIn: number;
}

/** One frozen answer for every code we cannot vouch for (forged, malformed, another brand's): nothing to tell them apart. */
const UNKNOWN: CheckInResultView = Object.freeze({ outcome: CheckInOutcome.UNKNOWN, ticket: null, checkedInAt: null });

/**
 * `checkIn(brandId, code)` (COORGANIZER+ or the brand's key): OK the first time (one conditional
 * UPDATE decides, so of concurrent scans on any instances exactly one is OK); then
 * ALREADY_CHECKED_IN with the first scan's time, VOID when its order no longer admits (not PAID or
 * FULFILLED), UNKNOWN otherwise. A scanner never gets an error for a bad code.
 */
export async function checkIn(ctx: ServiceContext, brandId: string, rawCode: string): Promise<CheckInResultView> {
  const [brand] = await requireAccess(ctx, Permission.BRAND_CHECK_IN, [brandId]);
  const code = rawCode.trim();
  if (!code || code.length > MAX_CODE_LENGTH) return UNKNOWN;
  const hit = await checkInByCode(ctx.em, CHECK_INS_CHANNEL, brand, code);
  const ticket = await ticketByCode(ctx.sql, brand, code);
  if (!ticket) return UNKNOWN;
  if (hit) return { outcome: CheckInOutcome.OK, ticket, checkedInAt: hit.checkedInAt };
  if (ticket.status === TicketStatus.VOID) return { outcome: CheckInOutcome.VOID, ticket, checkedInAt: ticket.checkedInAt };
  // Not updated and admitting: another scan was first (a VALID here would mean the order began to
  // admit after the UPDATE looked, which no transition does; it is then answered as in).
  return { outcome: CheckInOutcome.ALREADY_CHECKED_IN, ticket, checkedInAt: ticket.checkedInAt };
}

/** `checkInStats(brandId)`: the tickets of the brand's PAID and FULFILLED orders, and how many are in. */
export async function checkInStats(ctx: ServiceContext, brandId: string): Promise<CheckInStatsView> {
  const [brand] = await requireAccess(ctx, Permission.BRAND_CHECK_IN, [brandId]);
  return { brandId: brand, ...(await checkInCounts(ctx.sql, brand)) };
}

/** `checkInsChanged(brandId)`: the same permission, checked when subscribing (outsiders NOT_FOUND). */
export async function watchCheckIns(ctx: ServiceContext, brandId: string): Promise<AsyncIterable<CheckInMessage>> {
  const [brand] = await requireAccess(ctx, Permission.BRAND_CHECK_IN, [brandId]);
  return checkInStream(brand);
}

// One read of the ticket and the counts per check-in and instance, shared by every subscriber (as
// orderAsOf in order/live.ts): a door screen per viewer costs no extra queries. Kept briefly.
const SHARED_LOAD_MS = 10_000;
const sharedLoads = new Map<string, Promise<{ ticket: TicketView | null; stats: CheckInStatsView }>>();

function loadEvent(ctx: ServiceContext, m: CheckInMessage) {
  const key = `${m.ticketId}:${m.at}`;
  let load = sharedLoads.get(key);
  if (!load) {
    load = Promise.all([ticketById(ctx.sql, m.ticketId), checkInCounts(ctx.sql, m.brandId)]).then(([ticket, counts]) => ({
      ticket,
      stats: { brandId: m.brandId, ...counts },
    }));
    sharedLoads.set(key, load);
    setTimeout(() => sharedLoads.delete(key), SHARED_LOAD_MS).unref();
  }
  return load;
}

/** The CheckInEvent subscribers receive: the ticket and the counts as read after the check-in committed. */
export async function checkInEvent(ctx: ServiceContext, m: CheckInMessage) {
  const { ticket, stats } = await loadEvent(ctx, m);
  return { ticket, stats, at: new Date(m.at) };
}
