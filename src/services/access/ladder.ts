import { Role, type BrandRole } from "../../entities/enums";
import { customerId, type Viewer } from "../auth/viewer";

/*
 * The role ladder, from lowest to highest: USER (the customer an object belongs to) < COORGANIZER <
 * ORGANIZER < OWNER < ADMIN. Every check (the access table in permissions.ts and the @auth
 * directive) compares roles through this one ordering.
 */
const RANK: Record<Role, number> = {
  [Role.USER]: 1,
  [Role.COORGANIZER]: 2,
  [Role.ORGANIZER]: 3,
  [Role.OWNER]: 4,
  [Role.ADMIN]: 5,
};

/** True when `role` is at least `required` on the ladder (brand roles are rungs of it). */
export function atLeast(role: Role | BrandRole, required: Role | BrandRole): boolean {
  return RANK[role as Role] >= RANK[required as Role];
}

/** A brand API key acts for its brand with ORGANIZER rights (it cannot read the webhook secret or manage members). */
export const API_KEY_ROLE = Role.ORGANIZER;

/** What an access check is about: the brand an object belongs to and the customer who owns it. */
export interface Subject {
  brandId?: string | null;
  ownerId?: string | null;
}

/** The highest role the viewer holds over the subject, or null when it holds none. */
export function roleOver(viewer: Viewer, subject: Subject): Role | null {
  switch (viewer.kind) {
    case "none":
      return null;
    case "apiKey":
      return subject.brandId && subject.brandId === viewer.brandId ? API_KEY_ROLE : null;
    case "anonymous":
      return isCustomer(viewer, subject) ? Role.USER : null;
    case "user": {
      if (viewer.isAdmin) return Role.ADMIN;
      const brandRole = subject.brandId ? viewer.brandRoles.get(subject.brandId) : undefined;
      if (brandRole) return brandRole as unknown as Role;
      return isCustomer(viewer, subject) ? Role.USER : null;
    }
  }
}

/** The viewer is the subject's own customer (account or anonymous session). */
export function isCustomer(viewer: Viewer, subject: Subject): boolean {
  return !!subject.ownerId && customerId(viewer) === subject.ownerId;
}

/** What a grant asks for: a rung of the ladder over the subject, and/or being its customer. */
export interface Grant {
  /** The lowest role over the subject that grants it; null: no role does (only `customer`). */
  role: Role | null;
  /** The subject's customer is granted it too, whatever their role in the brand. */
  customer?: boolean;
}

/**
 * "ok", or why not: NOT_FOUND when the viewer holds no role over the subject at all (or it does not
 * exist: `subject` null), so the answer never tells whether an id exists; FORBIDDEN when the viewer
 * may see the subject but the grant asks for more.
 */
export type Decision = "ok" | "NOT_FOUND" | "FORBIDDEN";

export function decide(viewer: Viewer, grant: Grant, subject: Subject | null): Decision {
  if (!subject) return "NOT_FOUND";
  const role = roleOver(viewer, subject);
  if (role === null) return "NOT_FOUND";
  if (grant.customer && isCustomer(viewer, subject)) return "ok";
  return grant.role && atLeast(role, grant.role) ? "ok" : "FORBIDDEN";
}
