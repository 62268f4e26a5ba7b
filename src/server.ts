import type { MikroORM } from "@mikro-orm/postgresql";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config/env";
import { createApp, type Health } from "./http/app";
import { fastGraphQL, serveGraphQL } from "./http/fast-graphql";
import { contextFactory, createGraphQLServer } from "./http/graphql";
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
  const apollo = await createGraphQLServer(schema, httpServer, config);
  const makeContext = contextFactory(orm, sql, config);
  const app = createApp(apollo, orm, sql, config, health, makeContext);
  // POST /graphql with JSON goes straight to Apollo; everything else through Express.
  const fast = fastGraphQL(serveGraphQL(apollo, makeContext), app.get("trust proxy fn"));
  httpServer.on("request", (req, res) => {
    if (!fast(req, res)) app(req, res);
  });
  const ws = attachWebSocket(httpServer, schema, orm, sql, config, app.get("trust proxy fn"));
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
