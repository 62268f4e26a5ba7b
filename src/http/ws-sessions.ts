import type { WebSocket } from "ws";
import { onRolesChanged, onSessionsEnded } from "../pubsub/sessions";
import type { Viewer } from "../services/auth/viewer";
import type { Sql } from "../db/sql";

/** How a socket is closed when the credential it was opened with ends (the code of a bad credential). */
export const SESSION_CLOSE_CODE = 4403;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (~24.8 days; anonymous tokens live 30)

/**
 * What a socket was opened with, as far as ending it goes: the account or anonymous session behind
 * a token (ended by logOutEverywhere, and by the token's expiry), or a brand API key (ended by
 * revokeApiKey). Nothing for a socket without credentials.
 */
function credentialOf(viewer: Viewer): { id: string; ended: string; expiresAtMs: number } | null {
  switch (viewer.kind) {
    case "user":
    case "anonymous":
      return { id: viewer.userId, ended: "Session ended", expiresAtMs: viewer.expiresAtMs };
    case "apiKey":
      return { id: viewer.keyId, ended: "API key revoked", expiresAtMs: Infinity };
    default:
      return null;
  }
}

// Open sockets by the credential that opened them, each with the reason it closes with when that ends.
const socketsByCredential = new Map<string, Map<WebSocket, string>>();
// The API keys among them (checked by the sweep below).
const keyIds = new Set<string>();

// Credentials ended lately, with the count of ended credentials at that moment: a socket whose
// caller was read before its credential ended (the read raced the notification) is refused.
const RECENT_MS = 60_000;
let endedCount = 0;
const recentlyEnded = new Map<string, { count: number; at: number }>();

/** Take before resolving a socket's caller; pass to trackSession. */
export const sessionsMark = (): number => endedCount;

/**
 * Keeps a socket to its credential's terms: it closes with 4403 when its token expires, when its
 * session ends (logOutEverywhere) and when its API key is revoked, as heard from any instance.
 * False when the socket must be refused instead: that happened while its caller was being read
 * (`markBefore`: sessionsMark() taken before).
 */
export function trackSession(socket: WebSocket, viewer: Viewer, markBefore: number): boolean {
  const credential = credentialOf(viewer);
  if (!credential) return true;
  const { id, ended, expiresAtMs } = credential;
  if ((recentlyEnded.get(id)?.count ?? 0) > markBefore || expiresAtMs <= Date.now()) return false;
  if (socket.readyState !== socket.OPEN) return true; // already closing: nothing to keep
  let sockets = socketsByCredential.get(id);
  if (!sockets) socketsByCredential.set(id, (sockets = new Map()));
  sockets.set(socket, ended);
  if (viewer.kind === "apiKey") keyIds.add(id);
  let timer: NodeJS.Timeout | undefined;
  const expireLater = () => {
    const left = expiresAtMs - Date.now();
    if (left <= 0) return socket.close(SESSION_CLOSE_CODE, "Token expired");
    timer = setTimeout(expireLater, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  if (Number.isFinite(expiresAtMs)) expireLater();
  socket.once("close", () => {
    clearTimeout(timer);
    sockets.delete(socket);
    if (sockets.size === 0 && socketsByCredential.get(id) === sockets) {
      socketsByCredential.delete(id);
      keyIds.delete(id);
    }
  });
  return true;
}

/**
 * A revocation whose notification this instance missed (its LISTEN connection was down) would
 * leave a key's sockets open for good: a key has no expiry. Every `everyMs` the keys of open
 * sockets are looked up, and those revoked meanwhile have their sockets closed. Returns the stop.
 */
export function sweepRevokedKeys(sql: Sql, everyMs: number, onError: (err: unknown) => void): () => void {
  const timer = setInterval(() => {
    if (keyIds.size === 0) return;
    sql
      .query<{ id: string }>("select id from api_key where id = any($1::uuid[]) and revoked_at is not null", [[...keyIds]])
      .then(({ rows }) => rows.forEach((r) => endSessionSockets(r.id)))
      .catch(onError);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Closes this instance's sockets of a session that ended or a key that was revoked (and refuses
 * any being opened with it right now).
 */
export function endSessionSockets(id: string): void {
  const now = Date.now();
  for (const [old, e] of recentlyEnded) {
    if (now - e.at < RECENT_MS) break; // oldest first: the rest are newer
    recentlyEnded.delete(old);
  }
  recentlyEnded.delete(id); // re-inserted last, to keep the order by time
  recentlyEnded.set(id, { count: ++endedCount, at: now });
  for (const [socket, reason] of socketsByCredential.get(id) ?? []) socket.close(SESSION_CLOSE_CODE, reason);
}

/**
 * How a socket is closed when its account's brand role changes: not 4403 (the credential is still
 * good), a code clients retry on, so they reconnect and subscribe again under the new role.
 */
export const ROLES_CHANGED_CLOSE_CODE = 4000;

/** Closes this instance's sockets opened with a token of this account (its roles changed). */
export function reconnectAccountSockets(userId: string): void {
  for (const socket of socketsByCredential.get(userId)?.keys() ?? []) socket.close(ROLES_CHANGED_CLOSE_CODE, "Permissions changed: reconnect");
}

onSessionsEnded(endSessionSockets);
onRolesChanged(reconnectAccountSockets);
