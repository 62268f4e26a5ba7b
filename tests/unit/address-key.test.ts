import { describe, expect, it } from "vitest";
import { addressKey } from "../../src/rate-limit/address";

describe("addressKey: what a per-address limit counts a client under", () => {
  it("keeps an IPv4 address as it is, also when it comes IPv4-mapped", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts every address of one IPv6 /64 as one client", () => {
    const a = addressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
    expect(a).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002::1")).toBe(a);
    expect(addressKey("2001:DB8:1:2:ffff::")).toBe(a);
    expect(addressKey("2001:db8:1:3::1")).not.toBe(a);
  });

  it("expands compressed forms, zone ids and embedded IPv4 before taking the /64", () => {
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  });

  it("returns what is not an address unchanged", () => {
    expect(addressKey("unknown")).toBe("unknown");
  });
});
