import { serverAudits, type AuditResult } from "graphql-http";
import { describe, expect, it } from "vitest";
import { graphqlUrl } from "../helpers/api";

/**
 * The GraphQL-over-HTTP conformance audits from `graphql-http`, run against the built server.
 * Every MUST and every SHOULD audit has to pass.
 */
const audits = serverAudits({ url: () => graphqlUrl() });
const level = (prefix: "MUST" | "SHOULD") => audits.filter((a) => a.name.startsWith(`${prefix} `));

const explain = (r: AuditResult) => (r.status === "ok" ? "" : `${r.status}: ${r.reason}`);

describe("GraphQL over HTTP: every MUST audit passes", () => {
  it("the audit suite contains MUST audits at all", () => {
    expect(level("MUST").length).toBeGreaterThanOrEqual(10); // 13 in graphql-http 1.23
  });

  it.each(level("MUST").map((a) => [`${a.id} ${a.name}`, a] as const))("%s", async (_, audit) => {
    const result = await audit.fn();
    expect(result.status, explain(result)).toBe("ok");
  });
});

describe("GraphQL over HTTP: every SHOULD audit passes", () => {
  it.each(level("SHOULD").map((a) => [`${a.id} ${a.name}`, a] as const))("%s", async (_, audit) => {
    const result = await audit.fn();
    expect(result.status, explain(result)).toBe("ok");
  });
});

/**
 * GET requests. Apollo's CSRF prevention stays ON: a GET (or a POST with a "simple" content type)
 * is executed only with a header a browser cannot add to a cross-site request without a CORS
 * preflight (`apollo-require-preflight`, `x-apollo-operation-name`) or a non-simple content type.
 * That is why the graphql-http MAY audits for bare GET requests (5A70, D6D5, 6A70) report a
 * notice: they send GETs with no such header. Clients that want GET queries send the header.
 */
describe("GET queries and CSRF prevention", () => {
  const get = (params: Record<string, string>, headers: Record<string, string> = {}) => {
    const url = new URL(graphqlUrl());
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return fetch(url, { headers: { accept: "application/json", ...headers } });
  };
  const query = `query TypeName($name: String!) { __type(name: $name) { name kind } }`;

  it("a GET query with variables and operationName runs when it carries the preflight header", async () => {
    const res = await get({ query, variables: JSON.stringify({ name: "Order" }), operationName: "TypeName" }, { "apollo-require-preflight": "true" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ data: { __type: { name: "Order", kind: "OBJECT" } } });
  });

  it("a GET query without a preflight header is refused as a possible CSRF, with 400", async () => {
    const res = await get({ query, variables: JSON.stringify({ name: "Order" }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/);
  });

  it("a mutation over GET is refused with 405 even with the preflight header", async () => {
    const res = await get({ query: "mutation { startAnonymousSession { token } }" }, { "apollo-require-preflight": "true" });
    expect(res.status).toBe(405);
    const body = (await res.json()) as any;
    expect(body.data).toBeUndefined();
    expect(body.errors[0].message).toMatch(/only support query operations/);
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])(
    "a POST with the simple content type %s is refused, so a cross-site form cannot run a mutation",
    async (contentType) => {
      const res = await fetch(graphqlUrl(), {
        method: "POST",
        headers: { "content-type": contentType },
        body: JSON.stringify({ query: "mutation { startAnonymousSession { token } }" }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(await res.text()).not.toMatch(/"token"/);
    },
  );

  it("a client that accepts only application/json gets 200 with the errors for a request error (legacy clients drop 4xx bodies)", async () => {
    for (const accept of ["application/json", undefined]) {
      const res = await fetch(graphqlUrl(), {
        method: "POST",
        headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
        body: JSON.stringify({ query: "{ doesNotExist }" }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body: any = await res.json();
      expect(body).not.toHaveProperty("data");
      expect(body.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    }
  });

  it("Accept: application/graphql-response+json is answered in that media type, with 400 on a validation failure", async () => {
    const res = await fetch(graphqlUrl(), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify({ query: "{ noSuchField }" }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/graphql-response+json");
    const body = (await res.json()) as any;
    expect(body).not.toHaveProperty("data");
    expect(body.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});
