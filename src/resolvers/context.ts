import type { Logger } from "pino";
import type { ServiceContext } from "../services/context";

/** The GraphQL context: a service context plus request bookkeeping. */
export interface GraphQLContext extends ServiceContext {
  requestId: string;
  log: Logger;
}
