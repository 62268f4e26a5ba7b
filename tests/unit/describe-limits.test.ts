import { describe, expect, it } from "vitest";
import { describeLimits, perIp } from "../../src/rate-limit/decorator";
import { CREATE_PRODUCT, RESEND_CONFIRMATION } from "../../src/rate-limit/rules";

// Field descriptions say the limits from the rules themselves (src/rate-limit/decorator.ts).
describe("describeLimits", () => {
  it("writes resendConfirmation's sentence from its rules", () => {
    expect(describeLimits(RESEND_CONFIRMATION)).toBe("At most 5 per minute per user and 60 per minute per client IP.");
  });

  it("counts windows, groups thousands and lists three rules", () => {
    expect(describeLimits(CREATE_PRODUCT)).toBe("At most 300 per hour per user, 1,000 per hour per brand API key and 1,000 per hour per client IP.");
    expect(describeLimits([{ scope: "ip", per: perIp, max: 60, window: "30m" }])).toBe("At most 60 per 30 minutes per client IP.");
  });

  it("refuses a window it cannot say", () => {
    expect(() => describeLimits([{ scope: "ip", per: perIp, max: 1, window: "1w" }])).toThrow(/window "1w"/);
  });
});
