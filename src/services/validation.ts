import type { InputCheck } from "../errors";

const EMAIL = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]{2,}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * False for control characters and ill-formed Unicode (lone surrogates): PostgreSQL refuses NUL
 * and lone surrogates in jsonb, and the driver silently rewrites them in text, so neither may pass.
 */
export function isCleanText(value: string): boolean {
  return !CONTROL.test(value) && (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Trimmed text of 1..max characters, clean (see isCleanText); records a problem otherwise. */
export function text(check: InputCheck, field: string, value: string | null | undefined, max: number): string {
  const v = (value ?? "").trim();
  check.check(v.length > 0, field, "must not be empty") &&
    check.check(v.length <= max, field, `must be at most ${max} characters`) &&
    check.check(isCleanText(v), field, "must not contain control characters or ill-formed Unicode");
  return v;
}

/** A plausible email address (≤ 320 characters), trimmed. */
export function email(check: InputCheck, field: string, value: string | null | undefined): string {
  const v = (value ?? "").trim();
  check.check(v.length <= 320 && EMAIL.test(v) && isCleanText(v), field, "must be a valid email address");
  return v;
}

export function intRange(check: InputCheck, field: string, value: number, min: number, max: number): number {
  check.check(Number.isInteger(value) && value >= min && value <= max, field, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** ISO 4217 codes with their minor-unit digits that we accept (extend as brands need). */
export const CURRENCIES: Record<string, number> = {
  EUR: 2,
  USD: 2,
  GBP: 2,
  CHF: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  HUF: 2,
  CAD: 2,
  AUD: 2,
  NZD: 2,
  JPY: 0,
  KRW: 0,
  INR: 2,
  BRL: 2,
  MXN: 2,
  ZAR: 2,
  SGD: 2,
  HKD: 2,
  CNY: 2,
  ISK: 0,
  TRY: 2,
};

export function currency(check: InputCheck, field: string, value: string): string {
  const v = (value ?? "").trim().toUpperCase();
  check.check(v in CURRENCIES, field, "must be a supported ISO 4217 currency code (e.g. EUR, USD)");
  return v;
}

export function httpUrl(check: InputCheck, field: string, value: string | null | undefined): string | null {
  if (value == null || value.trim() === "") return null;
  const v = value.trim();
  let ok = false;
  try {
    const u = new URL(v);
    ok = (u.protocol === "https:" || u.protocol === "http:") && v.length <= 2000 && isCleanText(v);
  } catch {
    ok = false;
  }
  check.check(ok, field, "must be an http(s) URL of at most 2000 characters");
  return v;
}
