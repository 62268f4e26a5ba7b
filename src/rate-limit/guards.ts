import type { EntityManager } from "@mikro-orm/postgresql";
import { addressKey } from "./address";
import { release, reserve, type Bucket, type Hit } from "./limiter";
import { COUPON_FAILURES, LOGIN_FAILURES } from "./rules";

/**
 * Budgets on failures (wrong passwords, unusable coupon codes). Each guard reserves a hit in its
 * buckets BEFORE the attempt is evaluated (so concurrent attempts cannot evaluate more guesses than
 * a bucket allows) and the caller gives it back with `forgive` when the attempt succeeded.
 */
export { release as forgive, type Hit };

/**
 * A log-in attempt for `email` from `clientIp`. A client address that keeps failing for an email is
 * refused (scope `ip+email`), as is one that fails across many emails (scope `ip`); but failures from
 * other addresses never refuse a clean one: past the per-email ceiling only addresses that have
 * themselves failed for that email (within `perAddressAndEmail.window`) are refused (scope `email`).
 */
export function reserveLogIn(em: EntityManager, clientIp: string, email: string): Promise<Hit[]> {
  const address = `ip:${addressKey(clientIp)}`;
  const who = `email:${email.trim().toLowerCase()}`;
  const { perAddressAndEmail, perAddress, perEmail } = LOGIN_FAILURES;
  const buckets: Bucket[] = [
    // First: the email ceiling below reads how often this address failed for this email (all[0]).
    { scope: "ip+email", identity: `${address}|${who}`, ...perAddressAndEmail },
    { scope: "ip", identity: address, ...perAddress },
    // Over the ceiling a clean address still gets its attempt; it is not recorded here (the
    // ceiling is already reached, and the list must not grow without bound).
    { scope: "email", identity: who, ...perEmail, refuse: (live, all) => live >= perEmail.max && all[0] > 0, record: (live) => live < perEmail.max },
  ];
  return reserve(em, "logIn.failures", buckets);
}

/** A coupon code about to be tried, by `caller` (null: none, e.g. a script) from `clientIp` (null: not over HTTP). */
export function reserveCouponTry(em: EntityManager, caller: string | null, clientIp: string | null): Promise<Hit[]> {
  const buckets: Bucket[] = [];
  if (caller) buckets.push({ scope: "user", identity: caller, ...COUPON_FAILURES.perCaller });
  if (clientIp) buckets.push({ scope: "ip", identity: `ip:${addressKey(clientIp)}`, ...COUPON_FAILURES.perAddress });
  return reserve(em, "couponCode.failures", buckets);
}
