import { isIPv4, isIPv6 } from "node:net";

/**
 * The key a client address is counted under by per-address limits: an IPv4 address as it is, an
 * IPv6 address by its /64 (one subscriber line or host usually holds a whole /64, so keying by the
 * full address would give one client 2^64 buckets). IPv4-mapped IPv6 (`::ffff:1.2.3.4`) counts as
 * its IPv4 address. Anything else (a unix socket, "unknown") is returned as it is.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(ip)) return ip;
  const bare = ip.replace(/%.*$/, ""); // a zone id (fe80::1%eth0) is not part of the address
  if (!isIPv6(bare)) return ip;
  return `${expandIPv6(bare).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lowercase, without leading zeros. */
function expandIPv6(ip: string): string[] {
  let text = ip.toLowerCase();
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split(".").map(Number);
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail === undefined ? [] : tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16).toString(16));
}
