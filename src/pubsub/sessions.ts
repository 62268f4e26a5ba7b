import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * The NOTIFY channel of changed credentials. Payload: `<id>` of an account or anonymous session
 * whose tokens ended (logOutEverywhere) or of a revoked brand API key; `roles:<id>` of an account
 * whose role in a brand changed.
 */
export const SESSIONS_CHANNEL = "orderline_sessions";
const ROLES_PREFIX = "roles:";

/** Publishes, on the transaction's own connection, that the credential `id` has ended (delivered on commit). */
export async function notifySessionsEnded(em: EntityManager, id: string): Promise<void> {
  await em.execute(`select pg_notify('${SESSIONS_CHANNEL}', ?)`, [id]);
}

/** Publishes, on the transaction's own connection, that an account's brand roles changed (delivered on commit). */
export async function notifyRolesChanged(em: EntityManager, userId: string): Promise<void> {
  await em.execute(`select pg_notify('${SESSIONS_CHANNEL}', ?)`, [ROLES_PREFIX + userId]);
}

type Handler = (id: string) => void;
const ended = new Set<Handler>();
const rolesChanged = new Set<Handler>();

/** Runs `handler` for every ended session or revoked key heard on this instance (its own included). */
export function onSessionsEnded(handler: Handler): () => void {
  ended.add(handler);
  return () => ended.delete(handler);
}

/** Runs `handler` for every account whose brand roles changed, heard on this instance (its own included). */
export function onRolesChanged(handler: Handler): () => void {
  rolesChanged.add(handler);
  return () => rolesChanged.delete(handler);
}

export function dispatchSessionsEnded(id: string): void {
  for (const handler of ended) handler(id);
}

export function dispatchRolesChanged(userId: string): void {
  for (const handler of rolesChanged) handler(userId);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Called by the LISTEN connection for each notification on SESSIONS_CHANNEL; ignores anything malformed. */
export function dispatchSessionsNotice(payload: string | undefined): void {
  if (!payload) return;
  const roles = payload.startsWith(ROLES_PREFIX);
  const id = roles ? payload.slice(ROLES_PREFIX.length) : payload;
  if (!UUID.test(id)) return;
  if (roles) dispatchRolesChanged(id.toLowerCase());
  else dispatchSessionsEnded(id.toLowerCase());
}
