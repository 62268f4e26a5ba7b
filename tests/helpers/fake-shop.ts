import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ShopRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The exact bytes received (what a signature is computed over). */
  raw: Buffer;
  body: any;
  answeredWith: number;
}

/**
 * A brand's shop system (the coupon "realization service") on 127.0.0.1: records every POST and
 * answers the scripted statuses for the fan's email in order (then 200). Scripts are per email, so
 * a delivery left over from another test never takes one.
 */
export async function startFakeShop() {
  const requests: ShopRequest[] = [];
  const scripts = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let body: any = null;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {}
      // Coupon deliveries are scripted by the fan's email, order webhooks by the order's id.
      const key = typeof body?.data?.email === "string" ? body.data.email.toLowerCase() : String(body?.data?.order?.id ?? "");
      const status = scripts.get(key)?.shift() ?? 200;
      requests.push({ headers: req.headers, raw, body, answeredWith: status });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: status < 300 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/coupons`,
    requests,
    /** The next answers to deliveries for this email (or order id), in order (200 afterwards). */
    answer(email: string, ...statuses: number[]) {
      scripts.set(email.toLowerCase(), [...statuses]);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
