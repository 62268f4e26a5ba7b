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
 * answers with the scripted statuses in order (then 200).
 */
export async function startFakeShop() {
  const requests: ShopRequest[] = [];
  let script: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const status = script.shift() ?? 200;
      let body: any = null;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {}
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
    /** The next answers, in order (200 afterwards). */
    answer(...statuses: number[]) {
      script = [...statuses];
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
