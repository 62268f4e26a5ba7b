import { RefundStatus } from "../entities";
import type { RefundEvent } from "../services/refund/refund-events";
import { isCleanText } from "../services/validation";

const text = (v: unknown, max: number) => typeof v === "string" && v.length >= 1 && v.length <= max && isCleanText(v);

/**
 * The `refund.updated` event of the payment webhook (id already checked), or what is wrong with it:
 * `{"id", "type": "refund.updated", "data": {"refundId"?, "refundExternalId", "attemptExternalId",
 * "status": "SUCCEEDED" | "FAILED", "amount", "currency"}}`.
 */
// Untrusted JSON, checked field by field before anything is taken from it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parseRefundEvent(id: string, d: any): RefundEvent | string {
  if (d?.refundId != null && !text(d.refundId, 100)) return "data.refundId must be a string of at most 100 printable characters";
  if (!text(d?.refundExternalId, 100)) return "data.refundExternalId must be a string of 1..100 printable characters";
  if (!text(d.attemptExternalId, 100)) return "data.attemptExternalId must be a string of 1..100 printable characters";
  if (d.status !== RefundStatus.SUCCEEDED && d.status !== RefundStatus.FAILED) return "data.status must be SUCCEEDED or FAILED";
  if (!Number.isInteger(d.amount) || d.amount < 1 || d.amount > 2_147_483_647) return "data.amount must be a positive integer (minor units)";
  if (typeof d.currency !== "string" || !/^[A-Z]{3}$/.test(d.currency)) return "data.currency must be an ISO 4217 code";
  return {
    id,
    type: "refund.updated",
    data: {
      refundId: d.refundId ?? null,
      refundExternalId: d.refundExternalId,
      attemptExternalId: d.attemptExternalId,
      status: d.status,
      amount: d.amount,
      currency: d.currency,
    },
  };
}
