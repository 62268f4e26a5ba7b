import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CHARSET_MESSAGE, ENCODED_MESSAGE } from "../../src/http/body-limit";
import { MAX_COMPILED, MAX_COMPILED_CHARS, MAX_DOCUMENT_CHARS, MAX_DOCUMENTS } from "../../src/http/engine-cache";
import { apiUrl, count, testClientIp } from "../helpers/api";
import { startApi, type ApiProcess } from "../helpers/processes";

/**
 * POST /graphql has one way in (src/http/serve-graphql.ts): one body reader, then Apollo over the
 * engine, whose caches hold the documents and compiled operations of HTTP with fixed caps.
 */

const CLIENT_IP = testClientIp();
const post = (body: string | Buffer | ReadableStream, headers: Record<string, string> = {}, extra: RequestInit = {}, base = apiUrl()) =>
  fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": CLIENT_IP, ...headers },
    body,
    ...extra,
  } as RequestInit);

const refusal = (message: string) => ({ errors: [{ message, extensions: { code: "BAD_REQUEST" } }] });
const signUp = (email: string) =>
  JSON.stringify({ query: `mutation { signUp(input: {email: "${email}", password: "long enough pw 1", name: "Zip"}) { token } }` });

/** The engine's cache gauges at /metrics for HTTP: cache → { entries, chars }. */
async function httpCaches(base: string): Promise<Record<"documents" | "compiled", { entries: number; chars: number }>> {
  const text = await (await fetch(`${base}/metrics`)).text();
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

describe("the engine's caches under 1,000 distinct documents from one client", () => {
  // An API of this file's own: its caches hold only these documents, and the flood does not slow
  // the run's shared API down for the other files.
  let api: ApiProcess;
  beforeAll(async () => {
    api = await startApi({ DATABASE_URL: inject("databaseUrl"), RUN_WORKER: "false" });
  });
  afterAll(async () => {
    await api?.stop();
  });

  it("stay within their caps (entries and characters), are what HTTP uses, and the API keeps answering", { timeout: 120_000 }, async () => {
    // Each document valid, distinct and of the same length (a comment pads it to ~1.5 KB without
    // adding tokens): 1.5 MB of text in all, more than either cache may hold.
    const doc = (i: number) => `{ __typename }\n# ${String(i).padStart(4, "0")} ${"x".repeat(1_500)}`;
    const total = 1_000;
    const size = doc(0).length;
    let answered = 0;
    for (let start = 0; start < total; start += 20) {
      const batch = Array.from({ length: 20 }, async (_, k) => {
        const res = await post(JSON.stringify({ query: doc(start + k) }), {}, {}, api.url);
        const body = (await res.json()) as { data?: { __typename?: string } };
        if (res.status === 200 && body.data?.__typename === "Query") answered++;
      });
      await Promise.all(batch);
    }
    expect(answered).toBe(total);

    const caches = await httpCaches(api.url);
    // Full, and no fuller: the least recently used documents were dropped.
    expect(caches.documents).toEqual({ entries: Math.floor(MAX_DOCUMENT_CHARS / size), chars: Math.floor(MAX_DOCUMENT_CHARS / size) * size });
    // A compiled operation is keyed by its name (none here) and text: one character more.
    expect(caches.compiled).toEqual({ entries: Math.floor(MAX_COMPILED_CHARS / (size + 1)), chars: Math.floor(MAX_COMPILED_CHARS / (size + 1)) * (size + 1) });
    expect(caches.documents.entries).toBeLessThan(MAX_DOCUMENTS);
    expect(caches.compiled.entries).toBeLessThan(MAX_COMPILED);

    const again = await post(JSON.stringify({ query: "{ __typename }" }), {}, {}, api.url);
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
