import type { Request, RequestHandler } from "express";
import type { Config } from "../config/env";
import { isLoopbackAddress } from "../webhooks/outbound";

/**
 * Whether a request comes from this machine, for the development doors (/dev/checkout, /dev/mail,
 * a token-less /metrics). The client address is Express's `req.ip`: the socket's address, or with
 * TRUST_PROXY the address the trusted proxies report, as for the rate limits. A request that
 * carries forwarding headers nobody trusts (TRUST_PROXY unset) came through a proxy we know
 * nothing of, say nginx on the same host serving the internet: its loopback socket says nothing
 * about the client, so it is not local.
 */
export function isLocalRequest(req: Request): boolean {
  if (!isLoopbackAddress(req.ip ?? "")) return false;
  const untrustedForwarding = !req.app.get("trust proxy") && (req.headers["x-forwarded-for"] !== undefined || req.headers.forwarded !== undefined);
  return !untrustedForwarding;
}

/**
 * Outside production the development doors answer loopback clients only, unless DEV_ROUTES=open.
 * Others get the 404 of an unknown path: nothing tells them the door exists.
 */
export function localOnly(config: Pick<Config, "devRoutes">): RequestHandler {
  return (req, res, next) => {
    if (config.devRoutes === "open" || isLocalRequest(req)) return next();
    res.status(404).json({ error: "not found" });
  };
}
