const MAX_DELAY_MS = 60 * 60_000; // 1 hour

/** Our jobs' retry backoff (emails, coupon deliveries): base, 2·base, 4·base … capped at one hour, ±20 % jitter. */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random): number {
  const raw = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}
