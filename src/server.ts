import type { MikroORM } from "@mikro-orm/postgresql";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config/env";
import proxyAddr from "proxy-addr";
import { createApp, type Health } from "./http/app";
import { createEngine } from "./http/engine";
import { contextFactory, createGraphQLServer } from "./http/graphql";
import { graphqlHttp, isGraphQLPost } from "./http/serve-graphql";
import { attachWebSocket } from "./http/ws";
import { buildAppSchema } from "./schema/build";
import type { Sql } from "./db/sql";

export interface RunningServer {
  httpServer: Server;
  port: number;
  /** Closes sockets (1001), stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

/** Builds the schema, mounts everything on one HTTP server and listens on `config.port` (0: any free port). */
export async function startServer(config: Config, orm: MikroORM, sql: Sql, health: Health): Promise<RunningServer> {
  const schema = await buildAppSchema();
  const httpServer = createServer();
  // One engine per transport (their caches apart: a flood on one does not evict the other's).
  const engine = createEngine(schema, config, "http");
  const apollo = await createGraphQLServer(engine, httpServer, config);
  const graphql = graphqlHttp(apollo, engine, contextFactory(orm, sql, config));
  const app = createApp(graphql, orm, sql, config, health);
  const trustProxy = app.get("trust proxy fn");
  // POST /graphql goes straight to its handler; everything else through Express.
  httpServer.on("request", (req, res) => {
    if (isGraphQLPost(req)) graphql(req, res, proxyAddr(req, trustProxy));
    else app(req, res);
  });
  const ws = attachWebSocket(httpServer, createEngine(schema, config, "ws"), orm, sql, config, trustProxy);
  httpServer.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts (60 s)
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, () => resolve());
  });
  return {
    httpServer,
    port: (httpServer.address() as AddressInfo).port,
    async close() {
      await ws.close();
      await apollo.stop();
    },
  };
}
