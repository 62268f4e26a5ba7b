import { perAccount, perApiKey, perArg, perCaller, perIp, perIpUnlessKey, when, type RateRule } from "./decorator";

/*
 * The limits on writes, in one place (README "Rate limits" lists them). A person (account or
 * anonymous session) gets a budget that a real buyer or a member of staff does not reach; a brand's
 * API key (a shop's server acting for many buyers) a larger one; a client address a much larger
 * one than a person, since a venue's visitors may share one address, but one that still bounds an
 * attacker who starts a new anonymous session for every call.
 */

const hasCoupon = (args: Record<string, unknown>) => {
  const code = (args.input as { couponCode?: unknown } | undefined)?.couponCode;
  return typeof code === "string" && code.trim() !== "";
};

export const CREATE_ORDER: RateRule[] = [
  // 60: also a box office ordering for walk-in buyers every 10 s.
  { scope: "user", per: perAccount, max: 60, window: "10m" },
  { scope: "api-key", per: perApiKey, max: 600, window: "10m" },
  { scope: "ip", per: perIpUnlessKey, max: 300, window: "10m" },
  // Orders that carry a code, per address: bounds how many uses of a code one address can hold
  // in unpaid orders through many anonymous sessions (60 per ORDER_TTL_MINUTES at the default 30).
  { scope: "ip-coupon", per: when(hasCoupon, perIpUnlessKey), max: 60, window: "30m" },
];

export const ATTEMPT_TO_PAY: RateRule[] = [
  { scope: "user", per: perAccount, max: 60, window: "10m" },
  { scope: "api-key", per: perApiKey, max: 600, window: "10m" },
  { scope: "ip", per: perIpUnlessKey, max: 300, window: "10m" },
];

export const CREATE_BRAND: RateRule[] = [
  { scope: "user", per: perAccount, max: 10, window: "1h" },
  { scope: "ip", per: perIpUnlessKey, max: 30, window: "1h" },
];

export const CREATE_PRODUCT: RateRule[] = [
  { scope: "user", per: perAccount, max: 300, window: "1h" },
  { scope: "api-key", per: perApiKey, max: 1000, window: "1h" },
  { scope: "ip", per: perIpUnlessKey, max: 1000, window: "1h" },
];

/** resendConfirmation: each call emails the buyer and every ticket holder again. */
export const RESEND_CONFIRMATION: RateRule[] = [
  { scope: "user", per: perCaller, max: 5, window: "1m" },
  { scope: "ip", per: perIp, max: 60, window: "1m" },
];

/**
 * Coupon codes that cannot be used, counted per caller and per address (reserved before the code
 * is looked at, given back when it is accepted: only failures count). Probing codes is RATE_LIMITED.
 */
export const COUPON_FAILURES = {
  perCaller: { max: 10, window: "10m" },
  perAddress: { max: 30, window: "10m" },
};

/** Uses of one code that one buyer (account or anonymous session) may hold at once in PENDING orders. */
export const COUPON_HOLDS_PER_BUYER = 1;

/**
 * Failed log-ins (successes are given back). Per address and email: the guesses one client gets at
 * one account. Per address: guesses across accounts. Per email: a ceiling that, once reached,
 * refuses only the addresses that themselves failed for that email within its window, so the
 * owner on a clean address still gets in.
 */
export const LOGIN_FAILURES = {
  perAddressAndEmail: { max: 10, window: "15m" },
  perAddress: { max: 20, window: "10m" },
  perEmail: { max: 50, window: "1h" },
};

/**
 * requestPasswordReset: each call emails the address (when it has an account). Per address: the
 * mails one client can make us send to anyone; per email: the mails one inbox can get. Counted for
 * every call, whoever the address belongs to, so a RATE_LIMITED answer says nothing either.
 */
export const REQUEST_PASSWORD_RESET: RateRule[] = [
  { scope: "ip", per: perIp, max: 20, window: "1h" },
  { scope: "email", per: perArg("email"), max: 3, window: "1h" },
];

/** resetPassword: a valid token is 256 bits (no guessing); this bounds the password hashing of valid ones. */
export const RESET_PASSWORD: RateRule[] = [{ scope: "ip", per: perIp, max: 30, window: "10m" }];

/**
 * checkIn: a door scans a ticket every second or two; 1,200 a minute per staff account or key is 20
 * a second, more than a door reaches, and keeps guessing codes (60-bit HMACs) out of reach.
 */
export const CHECK_IN: RateRule[] = [
  { scope: "user", per: perAccount, max: 1200, window: "1m" },
  { scope: "api-key", per: perApiKey, max: 1200, window: "1m" },
];

/**
 * CSV exports (GET /brands/:brandId/orders.csv, tickets.csv): each reads every matching order, so
 * they are counted per caller (account or key) and per client address (not for keys), and at most
 * `concurrentPerCaller` run at once per caller and `concurrentPerInstance` per API instance (more:
 * 429 / 503 at once, nothing read). An export holds a read-pool connection only while a batch is
 * read, so four exports leave the pool's other connections to the API.
 */
export const EXPORTS = {
  perCaller: { max: 30, window: "10m" },
  perAddress: { max: 60, window: "10m" },
  concurrentPerCaller: 2,
  concurrentPerInstance: 4,
};
