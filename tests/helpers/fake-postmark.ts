import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface PostmarkBody {
  From: string;
  To: string;
  Subject: string;
  TextBody: string;
  HtmlBody: string;
  MessageStream: string;
  Tag?: string;
  Metadata?: Record<string, string>;
  Attachments?: { Name: string; Content: string; ContentType: string }[];
}

export interface ReceivedMail {
  messageId: string;
  /** The HTTP status the fake answered with. */
  status: number;
  body: PostmarkBody;
}

/** One scripted answer: a Postmark error (status + ErrorCode), optionally after a delay. */
export interface ScriptedAnswer {
  status: number;
  errorCode: number;
  message?: string;
  delayMs?: number;
}

export interface FakePostmark {
  url: string;
  token: string;
  close(): Promise<void>;
}

/**
 * A stand-in for the Postmark HTTP API on 127.0.0.1. `POST /email` with the server token header is
 * answered like Postmark (PascalCase JSON; ErrorCode + Message on errors). Tests in other processes
 * use its control routes: `POST /__script {to, answers}` makes the next requests for that recipient
 * fail as scripted; `GET /__mail?to=` lists every request for that recipient with its answer.
 */
export async function startFakePostmark(token = `fake-token-${randomUUID()}`): Promise<FakePostmark> {
  const received: ReceivedMail[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();
  const key = (to: string) => to.trim().toLowerCase();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const url = new URL(req.url ?? "/", "http://fake");
      try {
        if (req.method === "POST" && url.pathname === "/__script") {
          const { to, answers } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          scripts.set(key(to), [...answers]);
          return send(200, { ok: true });
        }
        if (req.method === "GET" && url.pathname === "/__mail") {
          const to = key(url.searchParams.get("to") ?? "");
          return send(
            200,
            received.filter((m) => key(m.body.To) === to),
          );
        }
        if (req.method !== "POST" || url.pathname !== "/email") return send(404, { ErrorCode: 404, Message: "Not found" });
        if (req.headers["x-postmark-server-token"] !== token) return send(401, { ErrorCode: 10, Message: "Bad or missing Server API token." });
        const body: PostmarkBody = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const answer = scripts.get(key(body.To))?.shift();
        if (answer?.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
        const mail: ReceivedMail = { messageId: randomUUID(), status: answer?.status ?? 200, body };
        received.push(mail);
        if (answer) return send(answer.status, { ErrorCode: answer.errorCode, Message: answer.message ?? "Scripted failure" });
        send(200, { To: body.To, SubmittedAt: new Date().toISOString(), MessageID: mail.messageId, ErrorCode: 0, Message: "OK" });
      } catch (e) {
        send(500, { ErrorCode: 0, Message: `fake Postmark: ${(e as Error).message}` });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, token, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Pages of a PDF produced by pdfkit (one `/Type /Page` object per page). */
export function pdfPageCount(pdf: Buffer): number {
  return (pdf.toString("latin1").match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}
