import express, { Router } from "express";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/env";
import { logger } from "../logger";

/** Where `npm run build` puts the bundled pages (scripts/build-web.mjs). */
export const WEB_DIR = join(__dirname, "..", "web");

/**
 * The browser pages, served from dist/web (no CDN): the admin order board at /admin and, when
 * enabled, GraphiQL at GET /graphql for clients that prefer HTML (browsers).
 */
export function webRouter(config: Config): Router {
  const router = Router();
  if (!existsSync(join(WEB_DIR, "admin", "index.html"))) {
    logger().warn({ dir: WEB_DIR }, "web pages are not built (npm run build): /admin and GraphiQL are unavailable");
  }
  router.use("/web/assets", express.static(join(WEB_DIR, "assets"), { immutable: true, maxAge: "365d", index: false }));
  const page =
    (file: string): express.RequestHandler =>
    (_req, res) => {
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(join(WEB_DIR, file), (err) => err && !res.headersSent && res.status(404).json({ error: "not built" }));
    };
  router.get(["/admin", "/admin/"], page("admin/index.html"));
  if (config.graphiql) {
    router.get("/graphql", (req, res, next) => {
      // GraphQL GET requests (with ?query=) and JSON clients go on to Apollo.
      if (req.query.query !== undefined || req.accepts(["application/json", "application/graphql-response+json", "text/html"]) !== "text/html") return next();
      page("graphiql/index.html")(req, res, next);
    });
  }
  return router;
}
