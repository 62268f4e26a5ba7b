import { describe, expect, it } from "vitest";
import { signPayload, verifySignature } from "../../src/services/payment/signature";

const SECRET = "whsec_unit_test_secret_0123456789abcdef";
const body = Buffer.from('{"id":"evt_1","type":"payment_attempt.updated"}');
const now = 1_800_000_000;

describe("payment webhook signatures", () => {
  it("accepts a correct signature within ±300 s", () => {
    for (const t of [now, now - 300, now + 300]) {
      expect(verifySignature(SECRET, signPayload(SECRET, body, t), body, now)).toEqual({ ok: true, timestamp: t });
    }
  });

  it("refuses stale and future timestamps", () => {
    expect(verifySignature(SECRET, signPayload(SECRET, body, now - 301), body, now)).toEqual({ ok: false, reason: "stale" });
    expect(verifySignature(SECRET, signPayload(SECRET, body, now + 301), body, now)).toEqual({ ok: false, reason: "future" });
  });

  it("refuses another secret, another body and a re-serialised body", () => {
    expect(verifySignature(SECRET, signPayload("another-secret-of-enough-length-000000", body, now), body, now)).toMatchObject({ reason: "mismatch" });
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    expect(verifySignature(SECRET, signPayload(SECRET, body, now), reserialised, now)).toMatchObject({ reason: "mismatch" });
  });

  it("refuses missing and malformed headers", () => {
    expect(verifySignature(SECRET, undefined, body, now)).toEqual({ ok: false, reason: "missing" });
    for (const h of ["", "t=abc,v1=00", `v1=${"a".repeat(64)}`, `t=${now}`, `t=${now},v1=xyz`]) {
      expect(verifySignature(SECRET, h, body, now)).toMatchObject({ ok: false });
    }
  });

  it("accepts any of several v1 values (secret rotation)", () => {
    const good = signPayload(SECRET, body, now).split(",")[1];
    expect(verifySignature(SECRET, `t=${now},v1=${"0".repeat(64)},${good}`, body, now)).toMatchObject({ ok: true });
  });
});
