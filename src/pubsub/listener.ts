import pg from "pg";
import { logger } from "../logger";
import { AVAILABILITY_CHANNEL, dispatchAvailability, type AvailabilityNotice } from "./availability";
import { CHECK_INS_CHANNEL, dispatchCheckIn, type CheckInMessage } from "./check-ins";
import { ORDER_STATUS_CHANNEL, dispatchOrderStatus, type OrderStatusMessage } from "./order-events";
import { SESSIONS_CHANNEL, dispatchSessionsNotice } from "./sessions";

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

export interface Listener {
  /** True while the LISTEN connection is up (reported by /readyz). */
  readonly connected: boolean;
  stop(): Promise<void>;
}

/**
 * One LISTEN connection per instance: every committed status change, made on any instance,
 * arrives here and goes to this instance's subscribers; so does every ended session, revoked key
 * and changed brand role (sockets close, cached accounts are dropped). When the connection drops it reconnects by
 * itself with backoff (250 ms doubling to 5 s).
 */
export function startListener(connectionString: string): Listener {
  const log = logger().child({ component: "listener" });
  let client: pg.Client | undefined;
  let connected = false;
  let stopping = false;
  let delay = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (stopping) return;
    // Named with the process id: an operator (or a test) can tell the instances' LISTEN connections apart.
    const c = new pg.Client({ connectionString, application_name: `orderline-listener ${process.pid}`, keepAlive: true });
    client = c;
    const lost = (why: string) => {
      if (client !== c) return;
      connected = false;
      client = undefined;
      c.removeAllListeners();
      c.end().catch(() => undefined);
      if (stopping) return;
      log.warn({ why, retryInMs: delay }, "LISTEN connection lost; reconnecting");
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    };
    c.on("error", (e) => lost(e.message));
    c.on("end", () => lost("connection ended"));
    c.on("notification", (n) => {
      if (n.channel === SESSIONS_CHANNEL) {
        try {
          dispatchSessionsNotice(n.payload);
        } catch (err) {
          log.error({ err }, "handling a session notification failed");
        }
        return;
      }
      if (n.channel === AVAILABILITY_CHANNEL && n.payload) {
        try {
          dispatchAvailability(JSON.parse(n.payload) as AvailabilityNotice);
        } catch (err) {
          log.error({ err }, "unreadable availability notification");
        }
        return;
      }
      if (n.channel === CHECK_INS_CHANNEL && n.payload) {
        try {
          dispatchCheckIn(JSON.parse(n.payload) as CheckInMessage);
        } catch (err) {
          log.error({ err }, "unreadable check-in notification");
        }
        return;
      }
      if (n.channel !== ORDER_STATUS_CHANNEL || !n.payload) return;
      try {
        dispatchOrderStatus(JSON.parse(n.payload) as OrderStatusMessage);
      } catch (err) {
        log.error({ err }, "unreadable order status notification");
      }
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${ORDER_STATUS_CHANNEL}; LISTEN ${SESSIONS_CHANNEL}; LISTEN ${AVAILABILITY_CHANNEL}; LISTEN ${CHECK_INS_CHANNEL}`);
      if (client !== c) return;
      connected = true;
      delay = RETRY_MIN_MS;
      log.info("listening for order status changes");
    } catch (e) {
      lost((e as Error).message);
    }
  };
  void connect();

  return {
    get connected() {
      return connected;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      connected = false;
      await c?.end().catch(() => undefined);
    },
  };
}
