import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { signPayload } from "../../src/services/payment/signature";

export interface RefundCall {
  headers: Record<string, string | string[] | undefined>;
  body: { refundId: string; attemptExternalId: string; amount: number; currency: string };
  answeredWith: number;
}

export type Outcome = "SUCCEEDED" | "FAILED" | "none";

/**
 * A payment provider's refund API on 127.0.0.1 (issue #11): records every `POST /refunds` and
 * answers the scripted statuses for the payment attempt in order (then 200 with a refund id). After
 * a 200 it reports the outcome on the API's signed payment webhook, as a provider does, unless the
 * attempt's outcome is "none" (the test reports by hand). The same Idempotency-Key gets the same
 * refund id and no second report.
 */
export async function startFakeProvider(webhookSecret: string) {
  const calls: RefundCall[] = [];
  const scripts = new Map<string, number[]>();
  const outcomes = new Map<string, Outcome>();
  const byKey = new Map<string, string>();
  let apiUrl = "";
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let body: any = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {}
      const status = req.url === "/refunds" && req.method === "POST" ? (scripts.get(body.attemptExternalId)?.shift() ?? 200) : 404;
      calls.push({ headers: req.headers, body, answeredWith: status });
      if (status !== 200) {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `scripted ${status}` }));
        return;
      }
      const key = String(req.headers["idempotency-key"] ?? "");
      const repeated = byKey.has(key);
      const id = byKey.get(key) ?? `re_fake_${process.pid}_${++seq}`;
      byKey.set(key, id);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id, status: "PENDING" }));
      const outcome = outcomes.get(body.attemptExternalId) ?? "SUCCEEDED";
      if (repeated || outcome === "none") return;
      // After the answer, as a provider's webhook comes on its own schedule.
      setTimeout(
        () =>
          void report({
            refundId: body.refundId,
            refundExternalId: id,
            attemptExternalId: body.attemptExternalId,
            status: outcome,
            amount: body.amount,
            currency: body.currency,
          }),
        20,
      );
    });
  });
  async function report(data: Record<string, unknown>, eventId = `evt_fake_${process.pid}_${++seq}`) {
    const body = JSON.stringify({ id: eventId, type: "refund.updated", data });
    const res = await fetch(`${apiUrl}/webhooks/payments`, {
      method: "POST",
      headers: { "content-type": "application/json", "payment-signature": signPayload(webhookSecret, body) },
      body,
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    /** Where the webhook reports go (the API starts after the provider, with its URL). */
    reportTo(url: string) {
      apiUrl = url;
    },
    /** The next answers to refunds of this attempt, in order (200 afterwards). */
    answer(attemptExternalId: string, ...statuses: number[]) {
      scripts.set(attemptExternalId, [...statuses]);
    },
    /** What the provider reports after accepting refunds of this attempt (default SUCCEEDED). */
    outcome(attemptExternalId: string, outcome: Outcome) {
      outcomes.set(attemptExternalId, outcome);
    },
    /** A signed refund.updated, sent now (also for refunds made "in the provider's dashboard"). */
    report,
    callsFor: (attemptExternalId: string) => calls.filter((c) => c.body?.attemptExternalId === attemptExternalId),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type FakeProvider = Awaited<ReturnType<typeof startFakeProvider>>;
