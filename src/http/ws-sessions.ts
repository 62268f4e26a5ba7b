import type { WebSocket } from "ws";
import { onSessionsEnded } from "../pubsub/sessions";
import type { Viewer } from "../services/auth/viewer";

/** How a socket is closed when the token it was opened with ends (the code of a bad credential). */
export const SESSION_CLOSE_CODE = 4403;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (~24.8 days; anonymous tokens live 30)

// Open sockets by the account or anonymous session whose token opened them.
const socketsByUser = new Map<string, Set<WebSocket>>();

/**
 * Keeps a token-authenticated socket to its token's terms: it closes with 4403 when the token
 * expires, and when the session ends (logOutEverywhere, heard from any instance). Sockets opened
 * with an API key or without credentials are not tracked.
 */
export function trackSession(socket: WebSocket, viewer: Viewer): void {
  if ((viewer.kind !== "user" && viewer.kind !== "anonymous") || socket.readyState !== socket.OPEN) return;
  const { userId, expiresAtMs } = viewer;
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
}

/** Closes this instance's sockets of a session that ended. */
export function endSessionSockets(userId: string): void {
  for (const socket of socketsByUser.get(userId) ?? []) socket.close(SESSION_CLOSE_CODE, "Session ended");
}

onSessionsEnded(endSessionSockets);
