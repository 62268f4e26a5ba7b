import type { EntityManager } from "@mikro-orm/postgresql";
import type { BrandRole } from "../../entities/enums";
import { invalidCredentials } from "../../errors";
import { onRolesChanged, onSessionsEnded } from "../../pubsub/sessions";
import { apiKeyMatches, parseApiKey, verifyToken } from "./tokens";

/** Who is calling. Resolved once per request from `Authorization: Bearer` or `X-API-Key`. */
export type Viewer =
  | { kind: "none" }
  | { kind: "user"; userId: string; isAdmin: boolean; brandRoles: Map<string, BrandRole>; expiresAtMs: number }
  | { kind: "anonymous"; userId: string; expiresAtMs: number }
  | { kind: "apiKey"; keyId: string; brandId: string };

export const NOBODY: Viewer = { kind: "none" };

export interface Credentials {
  authorization?: string | null;
  apiKey?: string | null;
}

/**
 * Turns request credentials into a Viewer with one indexed query. Credentials that are present
 * but invalid (forged, expired, revoked, unknown) are UNAUTHENTICATED with HTTP status 401.
 */
export async function resolveViewer(em: EntityManager | (() => EntityManager), secret: string, creds: Credentials): Promise<Viewer> {
  // A getter lets a request skip forking an EntityManager when the account is cached.
  const emOf = typeof em === "function" ? em : () => em;
  const apiKey = creds.apiKey?.trim();
  if (apiKey) return resolveApiKey(emOf(), apiKey);
  const authorization = creds.authorization?.trim();
  if (!authorization) return NOBODY;
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!m) throw invalidCredentials('The Authorization header must be "Bearer <token>"');
  const claims = await verifyToken(secret, m[1]);
  if (!claims) throw invalidCredentials("Invalid or expired token");
  const row = await accountRow(emOf, claims.sub);
  // A token from before the account's last logOutEverywhere (or an anonymous session's token once
  // it signed up) is over.
  if (!row || row.anonymous !== (claims.kind === "anonymous") || row.session_version !== claims.sv) throw invalidCredentials("Invalid or expired token");
  if (row.anonymous) return { kind: "anonymous", userId: claims.sub, expiresAtMs: claims.expiresAtMs };
  return { kind: "user", userId: claims.sub, isAdmin: row.is_admin, brandRoles: new Map(row.roles), expiresAtMs: claims.expiresAtMs };
}

type AccountRow = { is_admin: boolean; anonymous: boolean; session_version: number; roles: [string, BrandRole][] };

// The account row and brand roles behind a token, kept for 2 s: every request needs them, and the
// lookup was a fifth of a small request's cost. Changes made through this instance (sign-up,
// membership, logOutEverywhere) drop the entry at once; on other instances a new membership shows
// within 2 s, a changed role or an ended session at once (by notification: src/pubsub/sessions.ts).
const ACCOUNT_TTL_MS = 2_000;
const ACCOUNTS_MAX = 50_000;
const accounts = new Map<string, { row: AccountRow | undefined; until: number }>();
// Counts forgetAccount calls: a read that was under way when an account was forgotten may have
// seen the old row, so it is used for its own request but not cached.
let forgets = 0;

async function accountRow(emOf: () => EntityManager, userId: string): Promise<AccountRow | undefined> {
  const hit = accounts.get(userId);
  if (hit && hit.until > Date.now()) return hit.row;
  const forgetsBefore = forgets;
  const rows: AccountRow[] = await emOf().execute(
    `select u.is_admin, u.anonymous, u.session_version,
            coalesce(json_agg(json_build_array(m.brand_id, m.role)) filter (where m.id is not null), '[]') as roles
       from users u left join brand_member m on m.user_id = u.id
      where u.id = ? group by u.id`,
    [userId],
  );
  if (forgets !== forgetsBefore) return rows[0];
  if (accounts.size >= ACCOUNTS_MAX) accounts.delete(accounts.keys().next().value!);
  accounts.set(userId, { row: rows[0], until: Date.now() + ACCOUNT_TTL_MS });
  return rows[0];
}

/** Call after changing a user's account or brand roles: their next request reads them afresh. */
export function forgetAccount(userId: string): void {
  forgets++;
  accounts.delete(userId);
}

// A session ended or a brand role changed on any instance: the next request here reads the
// account afresh, not only when the cached entry runs out.
onSessionsEnded(forgetAccount);
onRolesChanged(forgetAccount);

async function resolveApiKey(em: EntityManager, key: string): Promise<Viewer> {
  const parsed = parseApiKey(key);
  if (!parsed) throw invalidCredentials("Invalid API key");
  const rows: { brand_id: string; secret_hash: string }[] = await em.execute("select brand_id, secret_hash from api_key where id = ? and revoked_at is null", [
    parsed.id,
  ]);
  if (!rows[0] || !apiKeyMatches(parsed.secret, rows[0].secret_hash)) throw invalidCredentials("Invalid API key");
  return { kind: "apiKey", keyId: parsed.id, brandId: rows[0].brand_id };
}

// Who may do what over which object (the role ladder, the access table) is src/services/access/.

/** The signed-in customer (account or anonymous session), if any. */
export function customerId(viewer: Viewer): string | null {
  return viewer.kind === "user" || viewer.kind === "anonymous" ? viewer.userId : null;
}

/** How the viewer is written into order events. */
export function actorOf(viewer: Viewer): string | null {
  switch (viewer.kind) {
    case "user":
      return `user:${viewer.userId}`;
    case "anonymous":
      return `anonymous:${viewer.userId}`;
    case "apiKey":
      return `api-key:${viewer.keyId}`;
    default:
      return null;
  }
}
