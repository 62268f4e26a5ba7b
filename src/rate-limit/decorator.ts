import { createMethodMiddlewareDecorator } from "type-graphql";
import type { GraphQLContext } from "../resolvers/context";
import { customerId } from "../services/auth/viewer";
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

/** The client's IP: the socket address, or X-Forwarded-For only when TRUST_PROXY allows it (Express req.ip). */
export const perIp: IdentityOf = (ctx) => `ip:${ctx.clientIp}`;

/** A field argument (a dotted path into the arguments, e.g. "input.email"), lowercased. */
export const perArg =
  (path: string): IdentityOf =>
  (_ctx, args) => {
    const v = path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), args);
    return typeof v === "string" && v.trim() ? `${path}:${v.trim().toLowerCase()}` : null;
  };

/**
 * `@RateLimit(rules)` on a resolver method: every rule is checked and recorded exactly (see
 * enforceLimits) before the method runs; over a limit the call is RATE_LIMITED (HTTP 429).
 */
export function RateLimit(...rules: RateRule[]) {
  return createMethodMiddlewareDecorator<GraphQLContext>(async ({ context, args, info }, next) => {
    const limits: Limit[] = [];
    for (const r of rules) {
      const identity = r.per(context, args);
      if (identity) limits.push({ scope: r.scope, identity, max: r.max, window: r.window });
    }
    await enforceLimits(context.em, info.fieldName, limits);
    return next();
  });
}
