import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * The NOTIFY channel of ended credentials. Payload: the id of an account or anonymous session
 * whose tokens ended (logOutEverywhere), or of a revoked brand API key.
 */
export const SESSIONS_CHANNEL = "orderline_sessions";

/** Publishes, on the transaction's own connection, that the credential `id` has ended (delivered on commit). */
export async function notifySessionsEnded(em: EntityManager, id: string): Promise<void> {
  await em.execute(`select pg_notify('${SESSIONS_CHANNEL}', ?)`, [id]);
}

type Handler = (userId: string) => void;
const handlers = new Set<Handler>();

/** Runs `handler` for every ended session heard on this instance (its own included). */
export function onSessionsEnded(handler: Handler): () => void {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** Called by the LISTEN connection for each notification on SESSIONS_CHANNEL. */
export function dispatchSessionsEnded(userId: string): void {
  for (const handler of handlers) handler(userId);
}
