import type { MikroORM } from "@mikro-orm/postgresql";
import { Router, type Request, type Response } from "express";
import { once } from "node:events";
import type { Config } from "../config/env";
import type { Sql } from "../db/sql";
import { AppError, ErrorCode } from "../errors";
import { logger } from "../logger";
import { addressKey } from "../rate-limit/address";
import { enforceLimits, type Limit } from "../rate-limit/limiter";
import { EXPORTS } from "../rate-limit/rules";
import { actorOf, resolveViewer, type Viewer } from "../services/auth/viewer";
import { exportCsv, planExport, type ExportKind, type ExportPlan } from "../services/export/exports";
import { isDatabaseUnavailable } from "./errors";
import { requestIdOf } from "./request-id";

/** HTTP status of each coded refusal (the API's codes; the body is `{ error, code }`, never a stack). */
const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.BAD_USER_INPUT]: 400,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
};

// Exports running on this instance, per caller and in all (EXPORTS in rules.ts).
const running = new Map<string, number>();
let runningTotal = 0;

/**
 * `GET /brands/:brandId/orders.csv` and `/tickets.csv`: the searchOrders filters as query
 * parameters, with the API's credentials (bearer token or X-API-Key). 401 without or with invalid
 * credentials; 404 for a brand the caller is not staff of (as the API's NOT_FOUND: an existing
 * brand and an unknown one answer alike), 403 for a role below COORGANIZER; 400 for a bad filter;
 * 429 past the export limits. The body is streamed chunk by chunk with backpressure.
 */
export function exportsRouter(orm: MikroORM, sql: Sql, config: Config): Router {
  const router = Router();
  for (const kind of ["orders", "tickets"] as const) {
    router.get(`/brands/:brandId/${kind}.csv`, (req, res) => void serve(req, res, kind));
  }

  async function serve(req: Request, res: Response, kind: ExportKind) {
    const requestId = requestIdOf(req, res);
    res.setHeader("cache-control", "no-store");
    let slot: string | null = null;
    try {
      const em = orm.em.fork();
      const viewer = await resolveViewer(em, config.authSecret, { authorization: req.get("authorization"), apiKey: req.get("x-api-key") });
      const caller = callerOf(viewer);
      if (!caller) throw new AppError(ErrorCode.UNAUTHENTICATED, "Send a bearer token or the brand's API key (X-API-Key)");
      const plan = await planExport({ em, viewer }, String(req.params.brandId), kind, req.query as Record<string, string | string[]>);
      slot = takeSlot(caller);
      await enforceLimits(em, "csvExport", limitsOf(caller, viewer, req.ip ?? "unknown", config.rateLimitScale));
      await stream(res, plan);
    } catch (err) {
      refuse(res, err, requestId);
    } finally {
      if (slot) giveSlot(slot);
    }
  }

  async function stream(res: Response, plan: ExportPlan) {
    let closed = false;
    res.on("close", () => (closed = true));
    const chunks = exportCsv(sql, plan);
    const first = await chunks.next(); // the header: nothing is sent before the first read could fail
    res.status(200);
    res.setHeader("content-type", "text/csv; charset=utf-8");
    res.setHeader("content-disposition", `attachment; filename="${plan.kind}-${plan.filter.brandId.slice(0, 8)}.csv"`);
    res.setHeader("x-content-type-options", "nosniff");
    let next = first;
    while (!next.done && !closed) {
      // Backpressure: wait until the socket took the chunk before reading the next batch.
      if (!res.write(next.value)) await Promise.race([once(res, "drain"), once(res, "close")]);
      if (closed) break;
      next = await chunks.next();
    }
    if (closed) return void (await chunks.return(undefined));
    res.end();
  }

  return router;
}

/** Whose export budget a call spends: an account or a key (anonymous sessions are no brand staff). */
const callerOf = (viewer: Viewer): string | null => (viewer.kind === "anonymous" ? null : actorOf(viewer));

function limitsOf(caller: string, viewer: Viewer, ip: string, scale: number): Limit[] {
  const limits: Limit[] = [{ scope: "caller", identity: caller, max: EXPORTS.perCaller.max * scale, window: EXPORTS.perCaller.window }];
  if (viewer.kind !== "apiKey")
    limits.push({ scope: "ip", identity: `ip:${addressKey(ip)}`, max: EXPORTS.perAddress.max * scale, window: EXPORTS.perAddress.window });
  return limits;
}

function takeSlot(caller: string): string {
  const mine = running.get(caller) ?? 0;
  if (mine >= EXPORTS.concurrentPerCaller) {
    throw new AppError(ErrorCode.RATE_LIMITED, `At most ${EXPORTS.concurrentPerCaller} exports at once per caller; wait for one to finish`, { retryAfter: 5 });
  }
  if (runningTotal >= EXPORTS.concurrentPerInstance) {
    throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, "The server is busy with other exports; try again shortly", { retryAfter: 5 });
  }
  running.set(caller, mine + 1);
  runningTotal++;
  return caller;
}

function giveSlot(caller: string): void {
  const mine = (running.get(caller) ?? 1) - 1;
  if (mine > 0) running.set(caller, mine);
  else running.delete(caller);
  runningTotal--;
}

/** A coded refusal as its status and `{ error, code }`; anything else logged and masked (500, or 503 when the database is away). */
function refuse(res: Response, err: unknown, requestId: string) {
  if (res.headersSent) {
    // Mid-stream: the CSV cannot carry an error; cut the connection so the download is seen to fail.
    logger().error({ err, requestId }, "CSV export failed while streaming");
    res.destroy();
    return;
  }
  const code = err instanceof AppError ? String(err.extensions.code) : null;
  const status = code ? STATUS[code] : undefined;
  if (code && status) {
    const retryAfter = err instanceof AppError ? err.extensions.retryAfter : undefined;
    if (typeof retryAfter === "number") res.setHeader("retry-after", String(retryAfter));
    res.status(status).json({ error: (err as AppError).message, code });
    return;
  }
  logger().error({ err, requestId }, "CSV export failed");
  if (isDatabaseUnavailable(err)) res.status(503).setHeader("retry-after", "5").json({ error: "service unavailable", code: ErrorCode.SERVICE_UNAVAILABLE });
  else res.status(500).json({ error: "internal error", code: ErrorCode.INTERNAL_SERVER_ERROR, requestId });
}
