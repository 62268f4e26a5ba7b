// GraphiQL for Orderline, bundled locally (no CDN). Queries and mutations are POSTed to /graphql
// with the headers from the headers editor; subscriptions go over graphql-ws on the same path,
// with the editor's Authorization (or X-API-Key) sent in the connection_init payload.
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";
import { createClient, type Client } from "graphql-ws";
import { createElement } from "react";
import { createRoot } from "react-dom/client";

type Params = { query: string; operationName?: string | null; variables?: Record<string, unknown> | null };
type FetcherOpts = { headers?: Record<string, string> };

const httpUrl = `${location.origin}/graphql`;
const wsUrl = httpUrl.replace(/^http/, "ws");
const clients = new Map<string, Client>();

/** One graphql-ws client per set of credentials (changing the header opens a new connection). */
function wsClient(headers: Record<string, string>): Client {
  const auth = headers.Authorization ?? headers.authorization;
  const apiKey = headers["X-API-Key"] ?? headers["x-api-key"];
  const key = JSON.stringify([auth, apiKey]);
  let client = clients.get(key);
  if (!client) {
    client = createClient({ url: wsUrl, connectionParams: { ...(auth ? { authorization: auth } : {}), ...(apiKey ? { apiKey } : {}) } });
    clients.set(key, client);
  }
  return client;
}

function isSubscription(params: Params): boolean {
  const src = params.query.replace(/#[^\n]*/g, "");
  if (params.operationName) return new RegExp(`subscription\\s+${params.operationName}\\b`).test(src);
  return /^\s*subscription\b/.test(src);
}

function fetcher(params: Params, opts?: FetcherOpts) {
  const headers = opts?.headers ?? {};
  if (isSubscription(params)) {
    const client = wsClient(headers);
    return client.iterate({ query: params.query, operationName: params.operationName ?? undefined, variables: params.variables ?? undefined });
  }
  return fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...headers },
    body: JSON.stringify(params),
  }).then((r) => r.json());
}

const DEFAULT_QUERY = `# Welcome to the Orderline API.
#
# Sign in with logIn (or startAnonymousSession), then put the token in the Headers tab:
#   { "Authorization": "Bearer <token>" }
# Subscriptions (e.g. orderStatusChanged) use the same header over WebSocket.

query Me {
  me { anonymous user { email memberships { role brand { id name } } } }
}
`;

createRoot(document.getElementById("graphiql")!).render(
  createElement(GraphiQL, {
    fetcher: fetcher as never,
    defaultQuery: DEFAULT_QUERY,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  }),
);
