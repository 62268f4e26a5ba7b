/**
 * Observability (issue #7): Prometheus metrics at GET /metrics. Logs are pino JSON lines
 * (src/logger.ts; the GraphQL log line is written by graphql.ts's loggingPlugin).
 *
 * ws.ts should import from "../observability/metrics" directly: this index also loads
 * endpoint.ts, which reads ws.ts.
 */
export { metricsHandler } from "./endpoint";
export { metricsPlugin } from "./graphql-plugin";
export { recordEmailOutcome, recordErrorCode, recordOperation, registry } from "./metrics";
