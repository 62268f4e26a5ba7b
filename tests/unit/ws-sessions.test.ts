import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { endSessionSockets, sessionsMark, trackSession } from "../../src/http/ws-sessions";
import type { Viewer } from "../../src/services/auth/viewer";
import { FakeSocket } from "../helpers/fake-socket";

const socket = () => new FakeSocket();
const asWs = (s: FakeSocket) => s.ws;

const DAY = 24 * 3_600_000;
const user = (userId: string, expiresAtMs: number): Viewer => ({ kind: "user", userId, isAdmin: false, brandRoles: new Map(), expiresAtMs });

describe("trackSession (sockets held to their credential's terms)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("closes a 30-day token's socket at its expiry, past setTimeout's 24.8-day limit, and not before", () => {
    const s = socket();
    expect(trackSession(asWs(s), { kind: "anonymous", userId: randomUUID(), expiresAtMs: Date.now() + 30 * DAY }, sessionsMark())).toBe(true);
    vi.advanceTimersByTime(25 * DAY); // a single 30-day setTimeout would have fired at once (overflow)
    expect(s.closes).toEqual([]);
    vi.advanceTimersByTime(5 * DAY - 1);
    expect(s.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.closes).toEqual([[4403, "Token expired"]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("closes every socket of a session that ends, and only those; a closed socket is forgotten with its timer", () => {
    const a = randomUUID();
    const [a1, a2, b1] = [socket(), socket(), socket()];
    trackSession(asWs(a1), user(a, Date.now() + DAY), sessionsMark());
    trackSession(asWs(a2), user(a, Date.now() + DAY), sessionsMark());
    trackSession(asWs(b1), user(randomUUID(), Date.now() + DAY), sessionsMark());
    a2.close(1000, "client went away");
    expect(vi.getTimerCount()).toBe(2);
    endSessionSockets(a);
    expect(a1.closes).toEqual([[4403, "Session ended"]]);
    expect(a2.closes).toEqual([[1000, "client went away"]]); // not tracked any more: not closed again
    expect(b1.closes).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
  });

  it("refuses a socket whose session ended while its caller was being read, not one read afterwards", () => {
    const a = randomUUID();
    const before = sessionsMark();
    endSessionSockets(a); // the notification arrives while resolveViewer still runs on the old row
    expect(trackSession(asWs(socket()), user(a, Date.now() + DAY), before)).toBe(false);
    expect(trackSession(asWs(socket()), user(randomUUID(), Date.now() + DAY), before)).toBe(true); // another session
    expect(trackSession(asWs(socket()), user(a, Date.now() + DAY), sessionsMark())).toBe(true); // read after the end: a new token
  });

  it("refuses a token that expired while its caller was being read", () => {
    expect(trackSession(asWs(socket()), user(randomUUID(), Date.now() - 1), sessionsMark())).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("closes an API key's sockets when the key is revoked (no expiry timer); a socket without credentials is not tracked", () => {
    const keyId = randomUUID();
    const [k1, other, nobody] = [socket(), socket(), socket()];
    expect(trackSession(asWs(k1), { kind: "apiKey", keyId, brandId: randomUUID() }, sessionsMark())).toBe(true);
    expect(trackSession(asWs(other), { kind: "apiKey", keyId: randomUUID(), brandId: randomUUID() }, sessionsMark())).toBe(true);
    expect(trackSession(asWs(nobody), { kind: "none" }, sessionsMark())).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    endSessionSockets(keyId);
    expect(k1.closes).toEqual([[4403, "API key revoked"]]);
    expect([other.closes, nobody.closes]).toEqual([[], []]);
  });
});
