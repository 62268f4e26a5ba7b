import express from "express";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { localOnly } from "../../src/http/local-only";

/** A tiny app behind the gate, listening on 127.0.0.1 (so every request's socket is loopback). */
const servers: { close(): void }[] = [];
afterAll(() => servers.forEach((s) => s.close()));
async function serve(trustProxy: boolean | string, devRoutes: "local" | "open" = "local"): Promise<string> {
  const app = express();
  app.set("trust proxy", trustProxy);
  app.use("/dev", localOnly({ devRoutes }));
  app.get("/dev/x", (_req, res) => res.json({ ok: true }));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/dev/x`;
}
const status = async (url: string, headers: Record<string, string> = {}) => (await fetch(url, { headers })).status;

describe("the development doors' loopback check", () => {
  it("without TRUST_PROXY: the socket's address, and a forwarded request (a proxy nobody trusts) is not local", async () => {
    const url = await serve(false);
    expect(await status(url)).toBe(200);
    expect(await status(url, { "x-forwarded-for": "127.0.0.1" })).toBe(404);
    expect(await status(url, { "x-forwarded-for": "203.0.113.7" })).toBe(404);
    expect(await status(url, { forwarded: "for=203.0.113.7" })).toBe(404);
  });

  it("with TRUST_PROXY=loopback: the client the local proxy reports", async () => {
    const url = await serve("loopback");
    expect(await status(url)).toBe(200);
    expect(await status(url, { "x-forwarded-for": "::1" })).toBe(200);
    expect(await status(url, { "x-forwarded-for": "203.0.113.7" })).toBe(404);
    // A client cannot claim loopback through the proxy: the proxy appends the real address last.
    expect(await status(url, { "x-forwarded-for": "127.0.0.1, 203.0.113.7" })).toBe(404);
  });

  it("DEV_ROUTES=open lets everyone in", async () => {
    const url = await serve(false, "open");
    expect(await status(url, { "x-forwarded-for": "203.0.113.7" })).toBe(200);
  });
});
