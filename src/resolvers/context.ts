import type { Logger } from "pino";
import type { Deadline } from "../http/deadline";
import type { ServiceContext } from "../services/context";

/** The GraphQL context: a service context plus request bookkeeping. */
export interface GraphQLContext extends ServiceContext {
  requestId: string;
  log: Logger;
  /** The client's address: the socket's, or from X-Forwarded-For when TRUST_PROXY allows it. */
  clientIp: string;
  /** Set by the executor (HTTP request, subscription event): past it, resolvers do not start. */
  deadline?: Deadline & { ms: number };
}
