import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/env";

const tmp = () => mkdtempSync(join(tmpdir(), "orderline-config-"));

describe("configuration", () => {
  it("has working defaults in development and keeps generated secrets in DATA_DIR", () => {
    const dir = tmp();
    const a = loadConfig({ DATA_DIR: dir });
    expect(a).toMatchObject({ nodeEnv: "development", port: 4000, orderTtlMinutes: 30, trustProxy: false, databaseUrl: undefined, devPaymentProvider: true });
    expect(a.publicUrl).toBe("http://localhost:4000");
    expect(a.authSecret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(dir, "auth_secret.txt"), "utf8")).toBe(a.authSecret);
    expect(loadConfig({ DATA_DIR: dir }).authSecret).toBe(a.authSecret); // the same on the next start
  });

  it("names every bad variable in one error", () => {
    try {
      loadConfig({
        DATA_DIR: tmp(),
        PORT: "70000",
        ORDER_TTL_MINUTES: "0",
        DATABASE_URL: "mysql://x",
        LOG_LEVEL: "loud",
        PUBLIC_URL: "ftp://x",
        AUTH_SECRET: "short",
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const names = (e as ConfigError).problems.map((p) => p.split(" ")[0]);
      expect(names.sort()).toEqual(["AUTH_SECRET", "DATABASE_URL", "LOG_LEVEL", "ORDER_TTL_MINUTES", "PORT", "PUBLIC_URL"]);
    }
  });

  it("requires real secrets in production and turns the development payment provider off", () => {
    expect(() => loadConfig({ NODE_ENV: "production", DATA_DIR: tmp() })).toThrow(
      /POSTMARK_SERVER_TOKEN is required in production[\s\S]*AUTH_SECRET is required in production[\s\S]*PAYMENT_WEBHOOK_SECRET is required/,
    );
    const c = loadConfig({
      NODE_ENV: "production",
      AUTH_SECRET: "x".repeat(32),
      PAYMENT_WEBHOOK_SECRET: "y".repeat(32),
      POSTMARK_SERVER_TOKEN: "t",
      DATA_DIR: tmp(),
    });
    expect(c.devPaymentProvider).toBe(false);
  });

  it("keeps the development payment provider out of production, and lets development turn it off", () => {
    const prod = { NODE_ENV: "production", AUTH_SECRET: "x".repeat(32), PAYMENT_WEBHOOK_SECRET: "y".repeat(32), POSTMARK_SERVER_TOKEN: "t", DATA_DIR: tmp() };
    expect(() => loadConfig({ ...prod, DEV_PAYMENT_PROVIDER: "true" })).toThrow(/DEV_PAYMENT_PROVIDER cannot be on in production/);
    expect(loadConfig({ DATA_DIR: tmp(), DEV_PAYMENT_PROVIDER: "false" }).devPaymentProvider).toBe(false);
    expect(() => loadConfig({ DATA_DIR: tmp(), DEV_PAYMENT_PROVIDER: "maybe" })).toThrow(/DEV_PAYMENT_PROVIDER must be true or false/);
  });

  it("parses TRUST_PROXY as a boolean, a hop count or addresses", () => {
    const base = { DATA_DIR: tmp() };
    expect(loadConfig({ ...base, TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ ...base, TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ ...base, TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).toBe("loopback, 10.0.0.0/8");
  });

  it("closes schema details, private webhook targets and GraphiQL in production by default, with timeouts on everywhere", () => {
    const prod = { NODE_ENV: "production", AUTH_SECRET: "x".repeat(32), PAYMENT_WEBHOOK_SECRET: "y".repeat(32), POSTMARK_SERVER_TOKEN: "t", DATA_DIR: tmp() };
    expect(loadConfig(prod)).toMatchObject({
      introspection: false,
      fieldSuggestions: false,
      graphiql: false,
      webhookAllowPrivate: false,
      statementTimeoutMs: 5_000,
      requestTimeoutMs: 10_000,
    });
    expect(loadConfig({ DATA_DIR: tmp() })).toMatchObject({
      introspection: true,
      fieldSuggestions: true,
      graphiql: true,
      webhookAllowPrivate: "loopback",
      devRoutes: "local",
    });
    expect(loadConfig({ ...prod, INTROSPECTION: "true", FIELD_SUGGESTIONS: "1" })).toMatchObject({ introspection: true, fieldSuggestions: true });
    // Turning introspection off in development turns GraphiQL's default off with it; asking for both is an error.
    expect(loadConfig({ DATA_DIR: tmp(), INTROSPECTION: "false" }).graphiql).toBe(false);
    expect(() => loadConfig({ DATA_DIR: tmp(), INTROSPECTION: "false", GRAPHIQL: "true" })).toThrow(/GRAPHIQL=true needs INTROSPECTION/);
    expect(() => loadConfig({ DATA_DIR: tmp(), STATEMENT_TIMEOUT_MS: "-1", REQUEST_TIMEOUT_MS: "5" })).toThrow(/STATEMENT_TIMEOUT_MS[\s\S]*REQUEST_TIMEOUT_MS/);
  });

  it("keeps development doors local and private webhook targets to loopback outside production (issue #12, items 13 and 14)", () => {
    const prod = { NODE_ENV: "production", AUTH_SECRET: "x".repeat(32), PAYMENT_WEBHOOK_SECRET: "y".repeat(32), POSTMARK_SERVER_TOKEN: "t", DATA_DIR: tmp() };
    expect(loadConfig({ DATA_DIR: tmp(), DEV_ROUTES: "open", WEBHOOK_ALLOW_PRIVATE: "true" })).toMatchObject({ devRoutes: "open", webhookAllowPrivate: true });
    expect(loadConfig({ DATA_DIR: tmp(), WEBHOOK_ALLOW_PRIVATE: "false" }).webhookAllowPrivate).toBe(false);
    expect(loadConfig({ ...prod, WEBHOOK_ALLOW_PRIVATE: "true" }).webhookAllowPrivate).toBe(true);
    expect(() => loadConfig({ ...prod, DEV_ROUTES: "open" })).toThrow(/DEV_ROUTES=open cannot be used in production/);
    expect(() => loadConfig({ DATA_DIR: tmp(), DEV_ROUTES: "public" })).toThrow(/DEV_ROUTES must be local or open/);
    expect(loadConfig({ DATA_DIR: tmp() })).toMatchObject({ wsMaxPerAddress: 200, wsIdleTimeoutMs: 60_000, wsCompilesPerMinute: 10 });
    expect(() => loadConfig({ DATA_DIR: tmp(), WS_MAX_PER_ADDRESS: "0", WS_IDLE_TIMEOUT_MS: "10" })).toThrow(/WS_MAX_PER_ADDRESS[\s\S]*WS_IDLE_TIMEOUT_MS/);
  });

  it("scales rate limits only when told to (RATE_LIMIT_SCALE, 1 to 10000)", () => {
    expect(loadConfig({ DATA_DIR: tmp() }).rateLimitScale).toBe(1);
    expect(loadConfig({ DATA_DIR: tmp(), RATE_LIMIT_SCALE: "1000" }).rateLimitScale).toBe(1000);
    expect(() => loadConfig({ DATA_DIR: tmp(), RATE_LIMIT_SCALE: "0" })).toThrow(/RATE_LIMIT_SCALE/);
    expect(() => loadConfig({ DATA_DIR: tmp(), RATE_LIMIT_SCALE: "2.5" })).toThrow(/RATE_LIMIT_SCALE/);
    expect(loadConfig({ DATA_DIR: tmp() }).queryMaxCost).toBe(5_000);
    expect(loadConfig({ DATA_DIR: tmp(), QUERY_MAX_COST: "30000" }).queryMaxCost).toBe(30_000);
    expect(() => loadConfig({ DATA_DIR: tmp(), QUERY_MAX_COST: "10" })).toThrow(/QUERY_MAX_COST/);
  });
});
