import { describe, expect, it } from "vitest";
import { BrandRole, Role } from "../../src/entities/enums";
import type { Viewer } from "../../src/services/auth/viewer";
import { API_KEY_ROLE, decide } from "../../src/services/access/ladder";
import { ACCESS, Permission, forbiddenMessage } from "../../src/services/access/permissions";

/** The access table (src/services/access): invariants every row keeps. tests/unit/rule-homes.test.ts checks nothing else decides them. */

const user = (id: string, roles: [string, BrandRole][] = [], isAdmin = false): Viewer => ({
  kind: "user",
  userId: id,
  isAdmin,
  brandRoles: new Map(roles),
  expiresAtMs: Infinity,
});
const PERMISSIONS = Object.values(Permission);
const subjectOf = (p: Permission) => ({ brandId: "X", ownerId: ["order", "paymentAttempt"].includes(ACCESS[p].on) ? "customer" : null });

describe("the access table", () => {
  it("has a rule for every permission", () => {
    expect(Object.keys(ACCESS).sort()).toEqual([...PERMISSIONS].sort());
  });

  it("hides every subject from callers with no role over it (NOT_FOUND, never FORBIDDEN)", () => {
    const outsiders: Viewer[] = [{ kind: "none" }, { kind: "anonymous", userId: "a", expiresAtMs: Infinity }, user("b", [["Y", BrandRole.OWNER]])];
    outsiders.push({ kind: "apiKey", keyId: "k", brandId: "Y" });
    for (const p of PERMISSIONS) for (const v of outsiders) expect(decide(v, ACCESS[p], subjectOf(p)), `${p} for ${v.kind}`).toBe("NOT_FOUND");
  });

  it("gives ADMIN everything but the customer's own stream, and a brand key exactly what an ORGANIZER gets", () => {
    const admin = user("admin", [], true);
    const key: Viewer = { kind: "apiKey", keyId: "k", brandId: "X" };
    const organizer = user("o", [["X", BrandRole.ORGANIZER]]);
    for (const p of PERMISSIONS) {
      expect(decide(admin, ACCESS[p], subjectOf(p)), p).toBe(p === Permission.ORDER_WATCH_MINE ? "FORBIDDEN" : "ok");
      expect(decide(key, ACCESS[p], subjectOf(p)), p).toBe(decide(organizer, ACCESS[p], subjectOf(p)));
    }
    expect(API_KEY_ROLE).toBe(Role.ORGANIZER);
  });

  it("orders: the customer reads, cancels and pays; fulfilling and resending are staff's (FORBIDDEN to the customer)", () => {
    const customer = user("customer");
    const answers = Object.fromEntries(
      [Permission.ORDER_READ, Permission.ORDER_CANCEL, Permission.ORDER_PAY, Permission.ORDER_FULFIL, Permission.ORDER_RESEND_CONFIRMATION].map((p) => [
        p,
        decide(customer, ACCESS[p], subjectOf(p)),
      ]),
    );
    expect(answers).toEqual({ ORDER_READ: "ok", ORDER_CANCEL: "ok", ORDER_PAY: "ok", ORDER_FULFIL: "FORBIDDEN", ORDER_RESEND_CONFIRMATION: "FORBIDDEN" });
    // A customer who is also a COORGANIZER of the brand is staff there.
    const both = user("customer", [["X", BrandRole.COORGANIZER]]);
    expect(decide(both, ACCESS[Permission.ORDER_FULFIL], subjectOf(Permission.ORDER_FULFIL))).toBe("ok");
    expect(decide(both, ACCESS[Permission.ORDER_WATCH_MINE], subjectOf(Permission.ORDER_WATCH_MINE))).toBe("ok");
  });

  it("keeps the FORBIDDEN messages the services answered before the table", () => {
    expect(forbiddenMessage(Permission.PRODUCT_CREATE)).toBe("This needs the ORGANIZER role in the brand");
    expect(forbiddenMessage(Permission.API_KEY_REVOKE)).toBe("This needs the OWNER role in the brand");
    expect(forbiddenMessage(Permission.BRAND_OWNER_INVITE)).toBe("Only an owner can invite OWNERs");
    expect(forbiddenMessage(Permission.DISCOUNT_MANAGE)).toBe("Discounts need ORGANIZER or higher in the brand");
    expect(forbiddenMessage(Permission.FAN_READ)).toBe("Fans' personal data needs ORGANIZER or higher");
  });
});
