import type { EntityManager } from "@mikro-orm/postgresql";
import { Brand } from "../../entities";
import { AppError, ErrorCode, forbidden, notFound } from "../../errors";
import type { Viewer } from "../auth/viewer";
import { isUuid } from "../pagination";
import { decide, roleOver, type Subject } from "./ladder";
import { ACCESS, forbiddenMessage, type Permission, type SubjectKind } from "./permissions";

/** What a check needs: the caller, and a way to read subjects it cannot decide from the caller alone. */
export interface AccessContext {
  em: EntityManager;
  viewer: Viewer;
}

/** `field`: the argument that carried the id, named in the NOT_FOUND of brands and keys (as before this module). */
export interface AccessOptions {
  field?: string;
}

/** The one NOT_FOUND of each kind of subject: unknown, malformed and someone else's ids answer alike. */
const NOT_FOUND: Record<SubjectKind, (field?: string) => AppError> = {
  brand: (field = "brandId") => new AppError(ErrorCode.NOT_FOUND, `${field}: no such brand`, { field }),
  order: () => notFound("Order not found"),
  paymentAttempt: () => notFound("Payment attempt not found"),
  discount: () => notFound("Discount not found"),
  fan: () => notFound("Fan not found"),
  quota: () => notFound("Quota not found"),
  refund: () => notFound("Refund not found"),
  apiKey: (field = "id") => new AppError(ErrorCode.NOT_FOUND, `${field}: no such API key`, { field }),
};

/** One statement per kind for all ids of a check: each found id with its brand and customer. */
const LOOKUP: Record<SubjectKind, string> = {
  brand: "select id, id as brand_id, null as owner_id from brand where id in (?)",
  order: "select id, brand_id, customer_id as owner_id from orders where id in (?)",
  paymentAttempt: "select a.id, o.brand_id, o.customer_id as owner_id from payment_attempt a join orders o on o.id = a.order_id where a.id in (?)",
  discount: "select id, brand_id, null as owner_id from discount where id in (?) and deleted_at is null",
  fan: "select id, brand_id, null as owner_id from fan where id in (?)",
  apiKey: "select id, brand_id, null as owner_id from api_key where id in (?)",
  quota: "select id, brand_id, null as owner_id from quota where id in (?)",
  refund: "select r.id, o.brand_id, o.customer_id as owner_id from refund r join orders o on o.id = r.order_id where r.id in (?)",
};

/**
 * Throws unless the viewer holds `permission` over the subject: NOT_FOUND (subject null, or no role
 * over it at all) or FORBIDDEN (seen, but the role is too low). For subjects a service has already
 * loaded (often under a row lock), so the check costs no query.
 */
export function assertAccess(viewer: Viewer, permission: Permission, subject: Subject | null, { field }: AccessOptions = {}): void {
  const decision = decide(viewer, ACCESS[permission], subject);
  if (decision === "NOT_FOUND") throw NOT_FOUND[ACCESS[permission].on](field);
  if (decision === "FORBIDDEN") throw forbidden(forbiddenMessage(permission));
}

/** True when the viewer holds `permission` over a loaded subject (for rules that change an answer rather than refuse). */
export function can(viewer: Viewer, permission: Permission, subject: Subject): boolean {
  return decide(viewer, ACCESS[permission], subject) === "ok";
}

/**
 * Throws unless the viewer holds `permission` over every id (Immich's requireAccess): the ids' brands
 * and customers are read in one statement. A brand the viewer is a member of (or the brand of its
 * key) needs no read, since the role proves the brand exists; an outsider is NOT_FOUND without
 * one. Ids are checked in the order given; the first refused one decides the error. Returns the
 * ids as stored (lower case), e.g. for keys of event streams.
 */
export async function requireAccess(ctx: AccessContext, permission: Permission, ids: readonly string[], opts: AccessOptions = {}): Promise<string[]> {
  const kind = ACCESS[permission].on;
  const wanted = ids.map((id) => (isUuid(id) ? id.toLowerCase() : null));
  const subjects = new Map<string, Subject>();
  const unread = wanted.filter((id): id is string => id !== null && !(kind === "brand" && knownBrand(ctx.viewer, id, subjects)));
  if (unread.length) {
    const rows: { id: string; brand_id: string; owner_id: string | null }[] = await ctx.em.execute(LOOKUP[kind], [[...new Set(unread)]]);
    for (const r of rows) subjects.set(r.id, { brandId: r.brand_id, ownerId: r.owner_id });
  }
  for (const id of wanted) assertAccess(ctx.viewer, permission, (id && subjects.get(id)) || null, opts);
  return wanted as string[];
}

/** Brand ids decided from the viewer alone; false when only the database can tell (ADMIN). */
function knownBrand(viewer: Viewer, brandId: string, subjects: Map<string, Subject>): boolean {
  if (viewer.kind === "user" && viewer.isAdmin) return false;
  if (roleOver(viewer, { brandId }) !== null) subjects.set(brandId, { brandId });
  return true; // an outsider: no subject, so NOT_FOUND whether or not the brand exists
}

/** requireAccess for one brand, returning the loaded Brand for services that write under it. */
export async function requireBrand(ctx: AccessContext, permission: Permission, brandId: string, opts: AccessOptions = {}): Promise<Brand> {
  const brand = isUuid(brandId) ? await ctx.em.findOne(Brand, brandId) : null;
  assertAccess(ctx.viewer, permission, brand && { brandId: brand.id }, opts);
  return brand!;
}

/** assertAccess for a row a service loaded itself (null when there is none); returns the row, now known to exist. */
export function accessible<T>(viewer: Viewer, permission: Permission, row: T | null, subjectOf: (row: T) => Subject, opts: AccessOptions = {}): T {
  assertAccess(viewer, permission, row === null ? null : subjectOf(row), opts);
  return row as T;
}
