import { randomBytes } from "node:crypto";
import type { Config } from "../../config/env";

/** What a payment provider gives us for a new attempt: its checkout session id and where to pay. */
export interface Checkout {
  externalId: string;
  checkoutUrl: string | null;
}

/**
 * The checkout session an attempt points at. The development provider (on unless production)
 * serves `/dev/checkout/:externalId`, whose Pay and Fail buttons post signed webhooks to us.
 * A real provider integration would create its session here and return its id and URL.
 */
export function createCheckout(config: Config): Checkout {
  const externalId = `cs_${config.devPaymentProvider ? "dev" : "live"}_${randomBytes(16).toString("hex")}`;
  return { externalId, checkoutUrl: checkoutUrl(config, externalId) };
}

export function checkoutUrl(config: Config, externalId: string): string | null {
  return config.devPaymentProvider && externalId.startsWith("cs_dev_") ? `${config.publicUrl}/dev/checkout/${externalId}` : null;
}
