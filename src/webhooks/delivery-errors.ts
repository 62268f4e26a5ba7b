import { BlockedAddressError } from "./outbound";

/**
 * What brand members may read about a failed try (CouponDelivery.lastError, DeliveryAttempt.error,
 * Email.lastError): a small fixed vocabulary. A webhook URL is chosen by the brand, so the raw
 * error would let a member probe our network ("connect ECONNREFUSED 10.1.2.3:5432", which names
 * resolve, which ports are open). The raw error goes to the logs, with the delivery id.
 */
export const REASONS = {
  timedOut: "timed out",
  notAllowed: "address not allowed",
  nameNotFound: "name not found",
  cannotConnect: "could not connect",
  connectionLost: "connection lost",
  tls: "TLS handshake failed",
  badAnswer: "invalid HTTP answer",
  other: "request failed",
} as const;

const VOCABULARY = new Set<string>(Object.values(REASONS));
/** The shop's own answer: its HTTP status (that is the shop's, not our network's). */
const HTTP_STATUS = /^HTTP \d{3}$/;

/** The generic reason for an error thrown by postWebhook (or any network call). */
export function publicReason(err: unknown): string {
  const e = err as { name?: string; code?: unknown } | null;
  if (err instanceof BlockedAddressError) return REASONS.notAllowed;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return REASONS.timedOut;
  return reasonForCode(typeof e?.code === "string" ? e.code : "");
}

function reasonForCode(code: string): string {
  if (/^(ENOTFOUND|EAI_)/.test(code)) return REASONS.nameNotFound;
  if (/^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN|EADDRNOTAVAIL)$/.test(code)) return REASONS.cannotConnect;
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") return REASONS.timedOut;
  if (/^(ECONNRESET|EPIPE|ECONNABORTED|ERR_STREAM_PREMATURE_CLOSE|UND_ERR_SOCKET)$/.test(code)) return REASONS.connectionLost;
  if (/^HPE_/.test(code)) return REASONS.badAnswer;
  if (/CERT|TLS|SSL|^UNABLE_TO_/.test(code)) return REASONS.tls;
  return REASONS.other;
}

/**
 * A stored delivery error as brand members see it. Rows written before the vocabulary existed held
 * the raw text ("request failed: ECONNREFUSED", "refused to connect to a private address (10.1.2.3)",
 * "no answer in 10 s"): they are mapped here, and anything unknown becomes "request failed", so no
 * stored text can reach a member unfiltered.
 */
export function shownDeliveryError(stored: string | null): string | null {
  if (stored === null) return null;
  if (VOCABULARY.has(stored) || HTTP_STATUS.test(stored)) return stored;
  if (stored.startsWith("refused to connect to a private address")) return REASONS.notAllowed;
  if (stored.startsWith("no answer in")) return REASONS.timedOut;
  const code = /^request failed: ([A-Z][A-Z0-9_]+)$/.exec(stored)?.[1];
  return code ? reasonForCode(code) : REASONS.other;
}

/**
 * An email's last error as brand members see it. Postmark's own answers ("Postmark 422 ErrorCode
 * 300: Invalid 'To' address ...") are kept: they come from the provider and are about the message.
 * Failures without an answer from Postmark (network errors, which may name POSTMARK_API_URL's host
 * and port) show one generic text; the raw one is in the row and the logs.
 */
export function shownEmailError(stored: string | null): string | null {
  if (stored === null) return null;
  if (/^Postmark [1-5]\d\d\b/.test(stored) || stored.startsWith("nothing to send any more")) return stored;
  if (stored.startsWith("network error") || stored.startsWith("Postmark (no response)")) return "could not reach the mail provider";
  return "sending failed";
}
