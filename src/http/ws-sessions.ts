import type { WebSocket } from "ws";
import { onSessionsEnded } from "../pubsub/sessions";
import type { Viewer } from "../services/auth/viewer";

/** How a socket is closed when the token it was opened with ends (the code of a bad credential). */
export const SESSION_CLOSE_CODE = 4403;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (~24.8 days; anonymous tokens live 30)

// Open sockets by the account or anonymous session whose token opened them.
const socketsByUser = new Map<string, Set<WebSocket>>();

// Sessions ended lately, with the count of ended sessions at that moment: a socket whose caller was
// read before its session ended (the read raced the notification) is closed when it is tracked.
const RECENT_MS = 60_000;
let endedCount = 0;
const recentlyEnded = new Map<string, { count: number; at: number }>();

/** Take before resolving a socket's caller; pass to trackSession. */
export const sessionsMark = (): number => endedCount;

/**
 * Keeps a token-authenticated socket to its token's terms: it closes with 4403 when the token
 * expires, and when the session ends (logOutEverywhere, heard from any instance). False when the
 * socket must be refused instead: its session ended, or its token expired, while its caller was
 * being read (`markBefore`: sessionsMark() taken before). Sockets opened with an API key or without
 * credentials are not tracked.
 */
export function trackSession(socket: WebSocket, viewer: Viewer, markBefore: number): boolean {
  if (viewer.kind !== "user" && viewer.kind !== "anonymous") return true;
  const { userId, expiresAtMs } = viewer;
  if ((recentlyEnded.get(userId)?.count ?? 0) > markBefore || expiresAtMs <= Date.now()) return false;
  if (socket.readyState !== socket.OPEN) return true; // already closing: nothing to keep
  let sockets = socketsByUser.get(userId);
  if (!sockets) socketsByUser.set(userId, (sockets = new Set()));
  sockets.add(socket);
  let timer: NodeJS.Timeout | undefined;
  const expireLater = () => {
    const left = expiresAtMs - Date.now();
    if (left <= 0) return socket.close(SESSION_CLOSE_CODE, "Token expired");
    timer = setTimeout(expireLater, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  expireLater();
  socket.once("close", () => {
    clearTimeout(timer);
    sockets.delete(socket);
    if (sockets.size === 0 && socketsByUser.get(userId) === sockets) socketsByUser.delete(userId);
  });
  return true;
}

/** Closes this instance's sockets of a session that ended (and any being opened with it right now). */
export function endSessionSockets(userId: string): void {
  const now = Date.now();
  for (const [id, e] of recentlyEnded) {
    if (now - e.at < RECENT_MS) break; // oldest first: the rest are newer
    recentlyEnded.delete(id);
  }
  recentlyEnded.delete(userId); // re-inserted last, to keep the order by time
  recentlyEnded.set(userId, { count: ++endedCount, at: now });
  for (const socket of socketsByUser.get(userId) ?? []) socket.close(SESSION_CLOSE_CODE, "Session ended");
}

onSessionsEnded(endSessionSockets);
