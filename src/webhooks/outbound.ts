import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Outbound webhooks (a shop's couponWebhookUrl) go to addresses chosen by our users. Unless
 * private targets are allowed (WEBHOOK_ALLOW_PRIVATE=true), a request to a private, link-local
 * (cloud metadata), carrier-grade NAT, multicast or reserved address is refused — checked on the
 * address actually connected to, after DNS, so a hostname that resolves (or later re-resolves) to
 * an internal address is refused too. Loopback is refused too in production; outside production
 * it is allowed by default (a shop on the developer's machine, the tests' fake shops), the rest of
 * the private ranges are not: a development server reachable from a network must not become a
 * way into it.
 */
export type PrivateTargets = boolean | "loopback";
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["64:ff9b::", 96],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** True for an address no webhook may reach when private targets are not allowed. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address); // IPv4-mapped IPv6
    if (mapped) return blocked.check(mapped[1], "ipv4");
    return blocked.check(address, "ipv6");
  }
  return false;
}

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** 127.0.0.0/8 and ::1 (also IPv4-mapped). */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family === 4 ? loopback.check(address, "ipv4") : family === 6 ? loopback.check(address, "ipv6") : false;
}

/** A private address this setting refuses (with "loopback", any private address but loopback). */
export function isRefusedAddress(address: string, allow: PrivateTargets): boolean {
  if (allow === true) return false;
  return isPrivateAddress(address) && !(allow === "loopback" && isLoopbackAddress(address));
}

/** For input validation: the URL's host is an IP literal in a private range, or a name for this machine. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
  return isPrivateAddress(host);
}

/** For input validation: a host this setting refuses ("localhost" and loopback literals pass with "loopback"). */
export function isRefusedHost(hostname: string, allow: PrivateTargets): boolean {
  if (allow === true) return false;
  const host = hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (allow === "loopback" && (host === "localhost" || host.endsWith(".localhost") || isLoopbackAddress(host))) return false;
  return isPrivateHost(hostname);
}

export class BlockedAddressError extends Error {
  constructor(readonly address: string) {
    super(`refused to connect to a private address (${address})`);
    this.name = "BlockedAddressError";
  }
}

/** dns.lookup that fails with BlockedAddressError when any resolved address is refused. */
const checkedLookup =
  (allow: PrivateTargets): LookupFunction =>
  (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      const bad = addresses.find((a) => isRefusedAddress(a.address, allow));
      if (bad) return callback(new BlockedAddressError(bad.address) as NodeJS.ErrnoException, "", 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

export interface PostResult {
  status: number;
}

/**
 * POSTs `body` and reads (then discards) the answer. No redirects are followed. Rejects on a
 * network error, a timeout (`TimeoutError`) or a blocked address (`BlockedAddressError`).
 */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  { timeoutMs, allowPrivate }: { timeoutMs: number; allowPrivate: PrivateTargets },
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) && isRefusedAddress(host, allowPrivate)) return reject(new BlockedAddressError(host));
    const request = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-length": Buffer.byteLength(body).toString() },
        lookup: allowPrivate === true ? undefined : checkedLookup(allowPrivate),
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.resume(); // drain
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
        res.on("error", reject);
      },
    );
    req.on("error", (e) => {
      // AbortSignal.timeout aborts with an AbortError whose cause is the TimeoutError.
      const cause = (e as { cause?: Error }).cause;
      reject(cause?.name === "TimeoutError" ? cause : e);
    });
    req.end(body);
  });
}
