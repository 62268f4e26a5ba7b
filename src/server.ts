import type { MikroORM } from "@mikro-orm/postgresql";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config/env";
import { createApp } from "./http/app";
import { createGraphQLServer } from "./http/graphql";
import { buildAppSchema } from "./schema/build";

export interface RunningServer {
  httpServer: Server;
  port: number;
  /** Stops accepting connections and waits for in-flight requests (Apollo's drain plugin). */
  close(): Promise<void>;
}

/** Builds the schema, mounts everything on one HTTP server and listens on `config.port` (0: any free port). */
export async function startServer(config: Config, orm: MikroORM): Promise<RunningServer> {
  const schema = await buildAppSchema();
  const httpServer = createServer();
  const apollo = await createGraphQLServer(schema, httpServer, config);
  httpServer.on("request", createApp(apollo, orm, config));
  httpServer.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts (60 s)
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, () => resolve());
  });
  return {
    httpServer,
    port: (httpServer.address() as AddressInfo).port,
    close: () => apollo.stop(),
  };
}
