import { inject } from "vitest";
import type { ReceivedMail, ScriptedAnswer } from "./fake-postmark";

/** Every request the fake Postmark got for this recipient (accepted or not), oldest first. */
export async function mailTo(address: string): Promise<ReceivedMail[]> {
  const res = await fetch(`${inject("postmarkUrl")}/__mail?to=${encodeURIComponent(address)}`);
  return (await res.json()) as ReceivedMail[];
}

export const delivered = async (address: string) => (await mailTo(address)).filter((m) => m.status === 200);

/** Makes the next requests for this recipient fail as scripted (then they are accepted again). */
export async function scriptPostmark(address: string, answers: ScriptedAnswer[]): Promise<void> {
  await fetch(`${inject("postmarkUrl")}/__script`, { method: "POST", body: JSON.stringify({ to: address, answers }) });
}

/** Polls until `check` passes (the worker sends asynchronously), or fails with its last error. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
