import { createHmac, timingSafeEqual } from "node:crypto";

/** Seconds a signed webhook may be older (or newer) than our clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: "missing" | "malformed" | "stale" | "future" | "mismatch" };

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` */
export function signPayload(secret: string, rawBody: string | Buffer, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, rawBody)}`;
}

function hmac(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest("hex");
}

/**
 * Verifies a signature header over the exact bytes received, in constant time. Several `v1`
 * values are accepted (secret rotation); the timestamp must be within the tolerance both ways.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: Buffer,
  now = Math.floor(Date.now() / 1000),
  tolerance = SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  if (!header) return { ok: false, reason: "missing" };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [k, v] = part.trim().split("=", 2);
    if (k === "t" && /^\d{1,12}$/.test(v ?? "")) timestamp = Number(v);
    else if (k === "v1" && /^[0-9a-f]{64}$/i.test(v ?? "")) signatures.push(v.toLowerCase());
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: "malformed" };
  if (timestamp < now - tolerance) return { ok: false, reason: "stale" };
  if (timestamp > now + tolerance) return { ok: false, reason: "future" };
  const expected = Buffer.from(hmac(secret, timestamp, rawBody), "hex");
  const match = signatures.some((s) => timingSafeEqual(Buffer.from(s, "hex"), expected));
  return match ? { ok: true, timestamp } : { ok: false, reason: "mismatch" };
}
