import { EventStream } from "./event-stream";
import { trackSubscription } from "./order-events";

/** The NOTIFY channel of check-ins: the check-in statement itself notifies (services/checkin/ticket.repository.ts). */
export const CHECK_INS_CHANNEL = "orderline_check_ins";

/** What travels through NOTIFY: ids and the time. Each instance reads the ticket and the counts itself. */
export interface CheckInMessage {
  ticketId: string;
  brandId: string;
  at: string;
}

// This instance's open streams, by brand.
const streams = new Map<string, Set<EventStream<CheckInMessage>>>();

/** Called by the LISTEN connection for each notification: the same frozen message to every local subscriber of the brand. */
export function dispatchCheckIn(message: CheckInMessage): void {
  if (typeof message?.brandId !== "string" || typeof message.ticketId !== "string") return;
  Object.freeze(message);
  const set = streams.get(message.brandId);
  if (set) for (const stream of set) stream.push(message);
}

/** The local stream of a brand's check-ins, listening from the moment it is created and counted while open. */
export function checkInStream(brandId: string): AsyncIterableIterator<CheckInMessage> {
  let set = streams.get(brandId);
  if (!set) streams.set(brandId, (set = new Set()));
  const own = set;
  const untrack = trackSubscription();
  const stream: EventStream<CheckInMessage> = new EventStream(() => {
    untrack();
    own.delete(stream);
    if (own.size === 0 && streams.get(brandId) === own) streams.delete(brandId);
  });
  own.add(stream);
  return stream;
}
