import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { BODY_LIMITS, DISCARD_AFTER_413 } from "../../src/http/body-limit";
import { apiUrl, count, TEST_CLIENT_IP } from "../helpers/api";

// A body over the limit is answered 413 at once; the server then reads and throws away the rest of
// the upload (up to DISCARD_AFTER_413) so that clients that are still sending, like Node's fetch
// (undici) and browsers, receive the answer instead of a reset connection.

const MiB = 1024 * 1024;
const TOO_LARGE_GRAPHQL = { errors: [{ message: "request body too large", extensions: { code: "BAD_REQUEST" } }] };

/** A JSON body of `bytes` bytes: a signUp whose password pads it (never executed). */
function bigBody(bytes: number, email: string): string {
  const head = `{"query":"mutation { signUp(input: {email: \\"${email}\\", password: \\"`;
  const tail = `\\", name: \\"Big\\"}) { token } }"}`;
  return head + "x".repeat(bytes - head.length - tail.length) + tail;
}

const post = (path: string, body: string | ReadableStream, contentType = "application/json", extra: RequestInit = {}) =>
  fetch(`${apiUrl()}${path}`, {
    method: "POST",
    headers: { "content-type": contentType, "x-forwarded-for": TEST_CLIENT_IP },
    body,
    ...extra,
  } as RequestInit);

describe("a body over the limit, sent with Node's fetch", () => {
  it.each([2 * MiB, 20 * MiB])("POST /graphql with %i bytes gets 413 and its coded JSON error, and records nothing", async (bytes) => {
    const email = `big-${bytes}@example.test`;
    const res = await post("/graphql", bigBody(bytes, email));
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual(TOO_LARGE_GRAPHQL);
    expect(await count(`select 1 from users where email = '${email}'`)).toBe(0);
  });

  it("gets the same answer through Express (a content type the fast path leaves to it) and on the payment webhook", async () => {
    const viaExpress = await post("/graphql", bigBody(2 * MiB, "big-express@example.test"), "application/json; charset=UTF-8; x=1");
    expect(viaExpress.status).toBe(413);
    expect(await viaExpress.json()).toEqual(TOO_LARGE_GRAPHQL);
    const webhook = await post("/webhooks/payments", "x".repeat(BODY_LIMITS.paymentWebhook * 4));
    expect(webhook.status).toBe(413);
    expect(await webhook.json()).toEqual({ error: "request body too large" });
  });

  it("gets 413 for a streamed body (no Content-Length) that grows to 20 MiB, on both paths", async () => {
    for (const contentType of ["application/json", "application/json; charset=UTF-8; x=1"]) {
      const res = await post("/graphql", new Blob([bigBody(20 * MiB, "big-stream@example.test")]).stream(), contentType, { duplex: "half" } as RequestInit);
      expect(res.status, contentType).toBe(413);
      expect(await res.json()).toEqual(TOO_LARGE_GRAPHQL);
    }
  });

  it("answers 30 concurrent 2 MiB uploads from one client with 30 × 413, and the API still serves", async () => {
    const body = bigBody(2 * MiB, "big-many@example.test");
    const answers = await Promise.all(Array.from({ length: 30 }, () => post("/graphql", body).then(async (r) => [r.status, await r.json()])));
    expect(answers.filter(([status, json]) => status === 413 && JSON.stringify(json) === JSON.stringify(TOO_LARGE_GRAPHQL))).toHaveLength(30);
    const ok = await post("/graphql", JSON.stringify({ query: "{ __typename }" }));
    expect(await ok.json()).toEqual({ data: { __typename: "Query" } });
  });
});

/**
 * Sends `head`, then writes body bytes as fast as the socket takes them, without end. Resolves once
 * the server closes the connection, with the answer it read and how many bytes the socket took.
 */
function endlessUpload(head: string, chunked: boolean): Promise<{ answer: string; written: number }> {
  const { hostname, port } = new URL(apiUrl());
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname);
    let answer = "";
    let written = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, "x");
    const framed = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk;
    // A bound on the test itself: the server must have cut the connection well before this.
    const cap = DISCARD_AFTER_413.bytes * 4;
    const pump = () => {
      while (!closed && written < cap) {
        written += framed.length;
        if (!socket.write(framed)) return void socket.once("drain", pump);
      }
      if (written >= cap) {
        socket.destroy();
        reject(new Error(`the server read more than ${cap} bytes of an endless body`));
      }
    };
    socket.on("data", (d) => (answer += d.toString()));
    socket.on("error", () => {}); // EPIPE / ECONNRESET once the server cuts the connection: expected
    socket.on("close", () => {
      closed = true;
      resolve({ answer, written });
    });
    socket.write(head, pump);
  });
}

describe("a client that never stops sending", () => {
  const head = (framing: string) =>
    `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Forwarded-For: ${TEST_CLIENT_IP}\r\n${framing}\r\n\r\n`;

  it.each([
    ["announcing 10 GiB", `Content-Length: ${10 * 1024 * MiB}`, false],
    ["sending an endless chunked body", "Transfer-Encoding: chunked", true],
  ] as const)("is answered 413, then cut off after the discard bound (%s)", async (_label, framing, chunked) => {
    const { answer, written } = await endlessUpload(head(framing), chunked);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer.slice(answer.indexOf("\r\n\r\n") + 4)).toBe(JSON.stringify(TOO_LARGE_GRAPHQL));
    // The server read up to the bound (so it did linger), and not much more: what the socket took
    // beyond it sits in the kernel's buffers (a few MiB on loopback).
    expect(written).toBeGreaterThan(DISCARD_AFTER_413.bytes);
    expect(written).toBeLessThan(DISCARD_AFTER_413.bytes + 16 * MiB);
  });
});
