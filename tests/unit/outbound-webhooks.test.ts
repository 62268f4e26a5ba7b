import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REASONS, publicReason, shownDeliveryError, shownEmailError } from "../../src/webhooks/delivery-errors";
import { BlockedAddressError, isPrivateAddress, isPrivateHost, isRefusedAddress, isRefusedHost, postWebhook } from "../../src/webhooks/outbound";

describe("private addresses", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::",
    "fd00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
  ])("%s is private", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])("%s is public", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it("treats local names and IP literals in URLs as private hosts", () => {
    for (const host of ["localhost", "LOCALHOST.", "api.localhost", "printer.local", "metadata.google.internal", "[::1]", "127.0.0.1"]) {
      expect(isPrivateHost(host), host).toBe(true);
    }
    expect(isPrivateHost("shop.example.com")).toBe(false);
  });
});

describe("loopback-only private targets (the default outside production)", () => {
  it("allows loopback and refuses every other private range, as literals, names and resolved addresses", () => {
    for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) expect(isRefusedAddress(a, "loopback"), a).toBe(false);
    for (const a of ["10.1.2.3", "192.168.1.1", "169.254.169.254", "fd00::1", "::ffff:10.1.2.3", "::ffff:a01:203", "0.0.0.0"])
      expect(isRefusedAddress(a, "loopback"), a).toBe(true);
    for (const h of ["localhost", "api.localhost", "127.0.0.1", "[::1]"]) expect(isRefusedHost(h, "loopback"), h).toBe(false);
    for (const h of ["10.0.0.7", "printer.local", "db.internal", "[fd00::1]"]) expect(isRefusedHost(h, "loopback"), h).toBe(true);
    expect(isRefusedHost("localhost", false)).toBe(true);
    expect(isRefusedHost("10.0.0.7", true)).toBe(false);
    expect(isRefusedHost("shop.example.com", "loopback")).toBe(false);
  });
});

describe("delivery errors shown to brand members", () => {
  const errno = (code: string) => Object.assign(new Error(`connect ${code} 10.1.2.3:5432`), { code });
  it("are a fixed vocabulary without addresses, ports or errno codes", () => {
    expect(publicReason(new BlockedAddressError("10.1.2.3"))).toBe(REASONS.notAllowed);
    expect(publicReason(Object.assign(new Error("x"), { name: "TimeoutError" }))).toBe(REASONS.timedOut);
    expect(publicReason(errno("ECONNREFUSED"))).toBe(REASONS.cannotConnect);
    expect(publicReason(errno("ENOTFOUND"))).toBe(REASONS.nameNotFound);
    expect(publicReason(errno("ECONNRESET"))).toBe(REASONS.connectionLost);
    expect(publicReason(errno("CERT_HAS_EXPIRED"))).toBe(REASONS.tls);
    expect(publicReason(errno("HPE_INVALID_CONSTANT"))).toBe(REASONS.badAnswer);
    expect(publicReason(new Error("connect to 10.1.2.3 went wrong"))).toBe(REASONS.other);
  });

  it("map rows stored before the vocabulary, and anything unknown, to it", () => {
    expect(shownDeliveryError("refused to connect to a private address (10.1.2.3)")).toBe("address not allowed");
    expect(shownDeliveryError("request failed: ECONNREFUSED")).toBe("could not connect");
    expect(shownDeliveryError("request failed: getaddrinfo ENOTFOUND shop.internal")).toBe("request failed");
    expect(shownDeliveryError("no answer in 10 s")).toBe("timed out");
    expect(shownDeliveryError("HTTP 503")).toBe("HTTP 503");
    expect(shownDeliveryError("could not connect")).toBe("could not connect");
    expect(shownDeliveryError(null)).toBeNull();
    expect(shownEmailError("Postmark 422 ErrorCode 406: You tried to send to a recipient that has been marked as inactive.")).toMatch(
      /^Postmark 422 ErrorCode 406/,
    );
    expect(shownEmailError("Postmark (no response): connect ECONNREFUSED 10.0.0.5:443")).toBe("could not reach the mail provider");
    expect(shownEmailError("network error: socket hang up")).toBe("could not reach the mail provider");
    expect(shownEmailError("Cannot read properties of undefined (reading 'x')")).toBe("sending failed");
  });
});

describe("postWebhook", () => {
  let server: Server;
  let port: number;
  let received = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      received++;
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("refuses a private IP literal and a name that resolves to loopback without sending anything", async () => {
    const before = received;
    const opts = { timeoutMs: 2_000, allowPrivate: false };
    await expect(postWebhook(`http://127.0.0.1:${port}/hook`, {}, "{}", opts)).rejects.toBeInstanceOf(BlockedAddressError);
    // A name is checked on the address it resolves to, when connecting (as for a shop's hostname
    // whose DNS later points inside): localhost resolves to loopback.
    await expect(postWebhook(`http://localhost:${port}/hook`, {}, "{}", opts)).rejects.toThrow(/private address/);
    expect(received).toBe(before);
  });

  it("with loopback allowed, delivers to loopback and refuses a private literal without sending", async () => {
    const before = received;
    const opts = { timeoutMs: 2_000, allowPrivate: "loopback" as const };
    await expect(postWebhook(`http://localhost:${port}/hook`, {}, "{}", opts)).resolves.toEqual({ status: 204 });
    await expect(postWebhook("http://10.1.2.3:9/hook", {}, "{}", opts)).rejects.toBeInstanceOf(BlockedAddressError);
    expect(received).toBe(before + 1);
  });

  it("delivers when private targets are allowed (development, tests)", async () => {
    const before = received;
    await expect(
      postWebhook(`http://localhost:${port}/hook`, { "content-type": "application/json" }, '{"a":1}', { timeoutMs: 2_000, allowPrivate: true }),
    ).resolves.toEqual({ status: 204 });
    expect(received).toBe(before + 1);
  });

  it("rejects with TimeoutError when the target does not answer in time", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      await expect(postWebhook(url, {}, "{}", { timeoutMs: 200, allowPrivate: true })).rejects.toMatchObject({ name: "TimeoutError" });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
