import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";

export type TokenKind = "user" | "anonymous";
export interface TokenClaims {
  sub: string;
  kind: TokenKind;
  /** The account's session version when the token was issued (0 in tokens from before versions). */
  sv: number;
}

/** A verified token's claims and when it expires. */
export interface VerifiedToken extends TokenClaims {
  expiresAtMs: number;
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
  return new SignJWT({ kind: claims.kind, sv: claims.sv })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(TOKEN_LIFETIME[claims.kind])
    .sign(keyFor(secret));
}

// Verified tokens, kept until they expire: a client sends the same token with every request, and
// verifying it (WebCrypto HMAC) showed up in profiles. A signature and an expiry never change, so
// remembering a successful verification changes nothing but the cost (revocation is checked
// against the account's session version, src/services/auth/viewer.ts). Bounded; the oldest go first.
const VERIFIED_MAX = 10_000;
const verified = new Map<string, { claims: VerifiedToken; secret: string }>();

/** The claims of a valid token, or null for anything forged, expired or malformed. */
export async function verifyToken(secret: string, token: string): Promise<VerifiedToken | null> {
  const known = verified.get(token);
  if (known && known.secret === secret) {
    if (known.claims.expiresAtMs > Date.now()) return known.claims;
    verified.delete(token);
  }
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), { issuer: ISSUER, algorithms: ["HS256"] });
    const kind = payload.kind;
    const sv = payload.sv ?? 0;
    if (typeof payload.sub !== "string" || (kind !== "user" && kind !== "anonymous") || typeof payload.exp !== "number") return null;
    if (!Number.isSafeInteger(sv) || (sv as number) < 0) return null;
    const claims: VerifiedToken = { sub: payload.sub, kind, sv: sv as number, expiresAtMs: payload.exp * 1000 };
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { claims, secret });
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
