import { createMethodMiddlewareDecorator } from "type-graphql";
import type { GraphQLContext } from "../resolvers/context";
import { customerId } from "../services/auth/viewer";
import { addressKey } from "./address";
import { enforceLimits, type Limit } from "./limiter";

/** Whose budget a call spends: a function of the context and the field's arguments (null: not limited by this rule). */
export type IdentityOf = (ctx: GraphQLContext, args: Record<string, unknown>) => string | null;

export interface RateRule {
  scope: string;
  per: IdentityOf;
  max: number;
  window: string;
}

/** The authenticated caller: never a client-supplied field. */
export const perCaller: IdentityOf = (ctx) => {
  const v = ctx.viewer;
  if (v.kind === "apiKey") return `api-key:${v.keyId}`;
  const id = customerId(v);
  return id ? `user:${id}` : null;
};

/** An account or anonymous session (not an API key: keys have budgets of their own). */
export const perAccount: IdentityOf = (ctx) => {
  const id = customerId(ctx.viewer);
  return id ? `user:${id}` : null;
};

/** A brand API key (server-to-server: a higher budget than a person's). */
export const perApiKey: IdentityOf = (ctx) => (ctx.viewer.kind === "apiKey" ? `api-key:${ctx.viewer.keyId}` : null);

/**
 * The client's address: the socket address, or X-Forwarded-For only when TRUST_PROXY allows it
 * (Express req.ip); an IPv6 client by its /64 (addressKey), since one host usually holds a whole /64.
 */
export const perIp: IdentityOf = (ctx) => `ip:${addressKey(ctx.clientIp)}`;

/** perIp, except for API keys: a shop's server may act for many buyers from one address; its key's budget bounds it. */
export const perIpUnlessKey: IdentityOf = (ctx, args) => (ctx.viewer.kind === "apiKey" ? null : perIp(ctx, args));

/** Applies `per` only to calls whose arguments match (e.g. orders that carry a coupon code). */
export const when =
  (matches: (args: Record<string, unknown>) => boolean, per: IdentityOf): IdentityOf =>
  (ctx, args) =>
    matches(args) ? per(ctx, args) : null;

/** A field argument (a dotted path into the arguments, e.g. "input.email"), lowercased. */
export const perArg =
  (path: string): IdentityOf =>
  (_ctx, args) => {
    const v = path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), args);
    return typeof v === "string" && v.trim() ? `${path}:${v.trim().toLowerCase()}` : null;
  };

const SCOPE_WORDS: Record<string, string> = { user: "user", ip: "client IP", "api-key": "brand API key" };
const UNIT_WORDS: Record<string, string> = { s: "second", m: "minute", h: "hour", d: "day" };

/**
 * The rules as a field description says them, from the numbers themselves: "At most 5 per minute
 * per user and 60 per minute per client IP." (`max` before RATE_LIMIT_SCALE, which only tests and
 * benchmarks change).
 */
export function describeLimits(rules: RateRule[]): string {
  const parts = rules.map((r) => {
    const [, count, unit] = /^(\d+)([smhd])$/.exec(r.window) ?? [];
    if (!unit) throw new Error(`describeLimits: window ${JSON.stringify(r.window)} is not <number><s|m|h|d>`);
    const window = count === "1" ? UNIT_WORDS[unit] : `${count} ${UNIT_WORDS[unit]}s`;
    return `${r.max.toLocaleString("en-US")} per ${window} per ${SCOPE_WORDS[r.scope] ?? r.scope}`;
  });
  return `At most ${parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}` : parts[0]}.`;
}

/**
 * `@RateLimit(rules)` on a resolver method: every rule is checked and recorded exactly (see
 * enforceLimits) before the method runs; over a limit the call is RATE_LIMITED (HTTP 429). Each
 * rule's `max` is multiplied by RATE_LIMIT_SCALE (1 by default).
 */
export function RateLimit(...rules: RateRule[]) {
  return createMethodMiddlewareDecorator<GraphQLContext>(async ({ context, args, info }, next) => {
    const limits: Limit[] = [];
    for (const r of rules) {
      const identity = r.per(context, args);
      if (identity) limits.push({ scope: r.scope, identity, max: r.max * context.config.rateLimitScale, window: r.window });
    }
    await enforceLimits(context.em, info.fieldName, limits);
    return next();
  });
}
