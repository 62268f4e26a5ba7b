import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CHARSET_MESSAGE, ENCODED_MESSAGE } from "../../src/http/body-limit";
import { MAX_COMPILED, MAX_COMPILED_CHARS, MAX_DOCUMENT_CHARS, MAX_DOCUMENTS } from "../../src/http/engine-cache";
import { apiUrl, count, testClientIp } from "../helpers/api";

/**
 * POST /graphql has one way in (src/http/serve-graphql.ts): one body reader, then Apollo over the
 * engine, whose caches hold the documents and compiled operations of HTTP with fixed caps.
 */

const CLIENT_IP = testClientIp();
const post = (body: string | Buffer | ReadableStream, headers: Record<string, string> = {}, extra: RequestInit = {}) =>
  fetch(`${apiUrl()}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": CLIENT_IP, ...headers },
    body,
    ...extra,
  } as RequestInit);

const refusal = (message: string) => ({ errors: [{ message, extensions: { code: "BAD_REQUEST" } }] });
const signUp = (email: string) =>
  JSON.stringify({ query: `mutation { signUp(input: {email: "${email}", password: "long enough pw 1", name: "Zip"}) { token } }` });

/** The engine's cache gauges at /metrics for HTTP: cache → { entries, chars }. */
async function httpCaches(): Promise<Record<"documents" | "compiled", { entries: number; chars: number }>> {
  const text = await (await fetch(`${apiUrl()}/metrics`)).text();
  const read = (metric: string, cache: string) => {
    const m = new RegExp(`^orderline_graphql_cache_${metric}\\{cache="${cache}",transport="http"\\} (\\d+)$`, "m").exec(text);
    if (!m) throw new Error(`no ${metric} gauge for ${cache} at /metrics`);
    return Number(m[1]);
  };
  return {
    documents: { entries: read("entries", "documents"), chars: read("chars", "documents") },
    compiled: { entries: read("entries", "compiled"), chars: read("chars", "compiled") },
  };
}

describe("the engine's caches under 1,200 distinct documents from one client", () => {
  it("stay within their caps (entries and characters), are what HTTP uses, and the API keeps answering", async () => {
    // Each document valid and distinct (a comment pads it to ~1.5 KB without adding tokens): 1.8 MB
    // of text in all, more than either cache may hold.
    const doc = (i: number) => `{ __typename }\n# ${i} ${"x".repeat(1_500)}`;
    const total = 1_200;
    const answers: number[] = [];
    for (let start = 0; start < total; start += 40) {
      const batch = Array.from({ length: Math.min(40, total - start) }, (_, k) =>
        post(JSON.stringify({ query: doc(start + k) })).then(async (r) => {
          const body = (await r.json()) as { data?: { __typename?: string } };
          return r.status === 200 && body.data?.__typename === "Query" ? 1 : 0;
        }),
      );
      answers.push(...(await Promise.all(batch)));
    }
    expect(answers.filter((ok) => ok === 1)).toHaveLength(total);

    const caches = await httpCaches();
    expect(caches.documents.entries).toBeLessThanOrEqual(MAX_DOCUMENTS);
    expect(caches.documents.chars).toBeLessThanOrEqual(MAX_DOCUMENT_CHARS);
    expect(caches.compiled.entries).toBeLessThanOrEqual(MAX_COMPILED);
    expect(caches.compiled.chars).toBeLessThanOrEqual(MAX_COMPILED_CHARS);
    // Full: HTTP's documents and compiled operations are the engine's (Apollo keeps no cache of its own).
    expect(caches.documents.chars).toBeGreaterThan(MAX_DOCUMENT_CHARS - 64 * 1024);
    expect(caches.compiled.chars).toBeGreaterThan(MAX_COMPILED_CHARS - 64 * 1024);

    const again = await post(JSON.stringify({ query: "{ __typename }" }));
    expect(await again.json()).toEqual({ data: { __typename: "Query" } });
  });
});

describe("one body reader for every POST /graphql", () => {
  it("refuses a compressed body (any Content-Encoding but identity) with 415 and a coded error, and runs nothing", async () => {
    for (const encoding of ["gzip", "deflate", "br", "gzip, gzip"]) {
      const email = `zip-${encoding.replace(/\W/g, "")}@example.test`;
      const res = await post(gzipSync(signUp(email)), { "content-encoding": encoding });
      expect(res.status, encoding).toBe(415);
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(await res.json()).toEqual(refusal(ENCODED_MESSAGE));
      expect(await count(`select 1 from users where email = '${email}'`)).toBe(0);
    }
    const identity = await post(JSON.stringify({ query: "{ __typename }" }), { "content-encoding": "identity" });
    expect(await identity.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("reads JSON only in UTF-8: another charset is 415, whatever the other parameters", async () => {
    for (const [contentType, body] of [
      ["application/json; charset=latin1", Buffer.from(signUp("latin1@example.test"), "latin1")],
      ["application/json; charset=utf-16le", Buffer.from(signUp("utf16@example.test"), "utf16le")],
      ['application/json; x=1; charset="ISO-8859-1"', Buffer.from(signUp("iso@example.test"), "latin1")],
    ] as const) {
      const res = await post(body, { "content-type": contentType });
      expect(res.status, contentType).toBe(415);
      expect(await res.json()).toEqual(refusal(CHARSET_MESSAGE));
    }
    expect(await count("select 1 from users where email in ('latin1@example.test', 'utf16@example.test', 'iso@example.test')")).toBe(0);
    for (const contentType of ["Application/JSON", 'application/json; charset="UTF-8"', "application/json; x=1; charset=utf-8"]) {
      const res = await post(JSON.stringify({ query: "{ __typename }" }), { "content-type": contentType });
      expect(await res.json(), contentType).toEqual({ data: { __typename: "Query" } });
    }
  });

  it("bounds every content type: a streamed 2 MiB text/plain body is 413, as a JSON one", async () => {
    for (const contentType of ["text/plain", "application/octet-stream", "application/json"]) {
      const res = await post(new Blob(["x".repeat(2 * 1024 * 1024)]).stream(), { "content-type": contentType }, { duplex: "half" } as RequestInit);
      expect(res.status, contentType).toBe(413);
      expect(await res.json()).toEqual(refusal("request body too large"));
    }
  });
});
