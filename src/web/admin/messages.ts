// The one status region (role="status", aria-live="polite") and the wording of every outcome.
import { ApiError } from "./api";
import { byId } from "./dom";

export type Tone = "success" | "error" | "info";
const ICONS: Record<Tone, string> = { success: "✓", error: "⚠", info: "ℹ" };
const PREFIX: Record<Tone, string> = { success: "Done:", error: "Problem:", info: "Note:" };

let pending: number | undefined;

/**
 * Replaces the message. The region is emptied first and filled a moment later, so a screen
 * reader announces a message again even when its text is the same as the previous one.
 */
export function announce(text: string, tone: Tone = "info"): void {
  const region = byId("messages");
  if (pending !== undefined) clearTimeout(pending);
  region.replaceChildren();
  region.dataset.tone = tone;
  pending = window.setTimeout(() => {
    pending = undefined;
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = ICONS[tone];
    const prefix = document.createElement("span");
    prefix.className = "visually-hidden";
    prefix.textContent = `${PREFIX[tone]} `;
    const body = document.createElement("span");
    body.textContent = text;
    region.replaceChildren(icon, prefix, body);
  }, 40);
}

export function clearMessage(): void {
  if (pending !== undefined) clearTimeout(pending);
  pending = undefined;
  byId("messages").replaceChildren();
}

const UNITS: Record<string, [string, string]> = { s: ["a second", "seconds"], m: ["a minute", "minutes"], h: ["an hour", "hours"], d: ["a day", "days"] };

/** "1m" → "a minute", "15m" → "every 15 minutes" (the API's `ms`-style windows). */
function per(window: string | undefined): string {
  const m = /^(\d+)\s*([smhd])$/.exec(window ?? "1m");
  if (!m) return `per ${window}`;
  const [one, many] = UNITS[m[2]];
  return m[1] === "1" ? one : `every ${m[1]} ${many}`;
}

/** "42 s"; long waits in minutes ("12 min"). */
const waitText = (seconds: number) => (seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`);

/** "Only 5 resends a minute — try again in 42 s" (the per-user limit; the per-address one says so). */
export function rateLimitText(err: ApiError, what: string): string {
  const max = err.details.limit?.max ?? 5;
  const from = err.details.limit?.scope === "ip" ? " from this network" : "";
  const wait = err.details.retryAfter !== undefined ? ` — try again in ${waitText(err.details.retryAfter)}` : " — try again shortly";
  return `Only ${max} ${what} ${per(err.details.limit?.window)}${from}${wait}`;
}

/**
 * A sentence for a failed action. `doing` completes "Could not …" (e.g. "fulfil order OL-1").
 * UNAUTHENTICATED is handled by the caller (back to the log-in form).
 */
export function describeError(err: unknown, doing: string): string {
  if (!(err instanceof ApiError)) return `Could not ${doing}: ${err instanceof Error ? err.message : String(err)}`;
  switch (err.code) {
    case "NETWORK":
      return `Could not ${doing}: the server could not be reached. Check your connection and try again.`;
    case "FORBIDDEN":
      return `You are not allowed to ${doing}. ${err.message}`;
    case "NOT_FOUND":
      return `Could not ${doing}: it was not found, or you no longer have access to it.`;
    case "FAILED_PRECONDITION":
      return `Could not ${doing}: ${err.message}`;
    case "RATE_LIMITED":
      return `Could not ${doing}: too many requests — try again in ${waitText(err.details.retryAfter ?? 5)}`;
    case "BAD_USER_INPUT":
      return `Could not ${doing}: ${err.message}`;
    case "INTERNAL_SERVER_ERROR":
      return `Could not ${doing}: something went wrong on the server${err.details.requestId ? ` (reference ${err.details.requestId})` : ""}. Please try again.`;
    default:
      return `Could not ${doing}: ${err.message}`;
  }
}

export const isUnauthenticated = (err: unknown) => err instanceof ApiError && err.code === "UNAUTHENTICATED";
