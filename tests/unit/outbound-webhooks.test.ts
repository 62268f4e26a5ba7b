import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlockedAddressError, isPrivateAddress, isPrivateHost, postWebhook } from "../../src/webhooks/outbound";

describe("private addresses", () => {
  it.each([
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
    "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
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

  it("delivers when private targets are allowed (development, tests)", async () => {
    const before = received;
    await expect(postWebhook(`http://localhost:${port}/hook`, { "content-type": "application/json" }, '{"a":1}', { timeoutMs: 2_000, allowPrivate: true })).resolves.toEqual({ status: 204 });
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
