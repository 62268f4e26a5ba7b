import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";

export type TokenKind = "user" | "anonymous";
export interface TokenClaims {
  sub: string;
  kind: TokenKind;
}

const ISSUER = "orderline";
export const TOKEN_LIFETIME = { user: "7d", anonymous: "30d" } as const;

let cachedKey: { secret: string; key: Uint8Array } | undefined;
function keyFor(secret: string) {
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: new TextEncoder().encode(secret) };
  return cachedKey.key;
}

/** A signed, expiring bearer token (JWT, HS256). */
export function signToken(secret: string, claims: TokenClaims): Promise<string> {
  return new SignJWT({ kind: claims.kind })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(TOKEN_LIFETIME[claims.kind])
    .sign(keyFor(secret));
}

// Verified tokens, kept until they expire: a client sends the same token with every request, and
// verifying it (WebCrypto HMAC) showed up in profiles. Tokens cannot be revoked, so remembering a
// successful verification changes nothing but the cost. Bounded; the oldest entries go first.
const VERIFIED_MAX = 10_000;
const verified = new Map<string, { claims: TokenClaims; expiresAtMs: number; secret: string }>();

/** The claims of a valid token, or null for anything forged, expired or malformed. */
export async function verifyToken(secret: string, token: string): Promise<TokenClaims | null> {
  const known = verified.get(token);
  if (known && known.secret === secret) {
    if (known.expiresAtMs > Date.now()) return known.claims;
    verified.delete(token);
  }
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), { issuer: ISSUER, algorithms: ["HS256"] });
    const kind = payload.kind;
    if (typeof payload.sub !== "string" || (kind !== "user" && kind !== "anonymous") || typeof payload.exp !== "number") return null;
    const claims: TokenClaims = { sub: payload.sub, kind };
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { claims, expiresAtMs: payload.exp * 1000, secret });
    return claims;
  } catch (e) {
    if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return null;
    throw e;
  }
}

// Brand API keys: "olk_<key id>_<secret>". Only SHA-256(secret) is stored: the secret has 256 bits
// of randomness, so a slow hash adds nothing and the lookup by id stays one indexed read.
const API_KEY_PATTERN = /^olk_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function newApiKeySecret(id: string): { key: string; secretHash: string } {
  const secret = randomBytes(32).toString("base64url");
  return { key: `olk_${id}_${secret}`, secretHash: sha256(secret) };
}

export function parseApiKey(key: string): { id: string; secret: string } | null {
  const m = API_KEY_PATTERN.exec(key);
  return m ? { id: m[1], secret: m[2] } : null;
}

export function apiKeyMatches(secret: string, secretHash: string): boolean {
  const a = Buffer.from(sha256(secret), "hex");
  const b = Buffer.from(secretHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
