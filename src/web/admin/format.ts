// Money (minor units + ISO 4217 code) and times, in the browser's locale.

/**
 * Minor-unit digits of the currencies the API accepts (src/services/validation.ts: all 2 except
 * these); anything else falls back to what Intl knows about the code.
 */
const DIGITS: Record<string, number> = { JPY: 0, KRW: 0, ISK: 0 };

export function digitsOf(currency: string): number {
  if (currency in DIGITS) return DIGITS[currency];
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** 123450 EUR → "€1,234.50"; 1200 JPY → "¥1,200". */
export function formatMoney(minor: number, currency: string): string {
  const digits = digitsOf(currency);
  const value = minor / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency}`;
  }
}

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

/** A <time> element (date, then time of day) for an ISO date-time, or a dash that reads as "not yet". */
export function timeElement(iso: string | null): HTMLElement {
  if (!iso) {
    const none = document.createElement("span");
    none.className = "none";
    none.innerHTML = '<span aria-hidden="true">—</span><span class="visually-hidden">not yet</span>';
    return none;
  }
  const el = document.createElement("time");
  el.dateTime = iso;
  const at = new Date(iso);
  const date = document.createElement("span");
  date.className = "date";
  date.textContent = dateOnly.format(at);
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = timeOnly.format(at);
  el.append(date, " ", time);
  el.title = iso;
  return el;
}

const STATUS_LABELS: Record<string, string> = {
  PENDING: "Pending",
  PAID: "Paid",
  FULFILLED: "Fulfilled",
  CANCELLED: "Cancelled",
  EXPIRED: "Expired",
  REFUNDED: "Refunded",
};

export const statusLabel = (status: string) => STATUS_LABELS[status] ?? status;
