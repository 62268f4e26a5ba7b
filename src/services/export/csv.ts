/**
 * CSV as RFC 4180 says it, for spreadsheets: CRLF line ends, a cell quoted when it holds a comma,
 * a quote, CR or LF (quotes doubled inside), and UTF-8 with a byte-order mark so Excel reads it as
 * UTF-8. Cells that a spreadsheet would run as a formula are neutralised (CSV injection, OWASP):
 * a buyer named `=HYPERLINK(...)` or `+1 555` must reach the accountant as text.
 */

/** The byte-order mark written first: Excel otherwise reads the file in the machine's code page. */
export const BOM = "\uFEFF";

// What a spreadsheet takes for a formula at the start of a cell (tab and CR too: some strip them first).
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** An amount the export formatted itself ("-12.50"): written as a number, not neutralised. */
export interface Decimal {
  decimal: string;
}
export type Cell = string | number | Decimal | null | undefined;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** One cell: neutralised with a leading single quote when it would start a formula, then quoted when needed. */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return "";
  // Numbers the export writes itself (amounts, positions) are data, not text someone typed: a
  // negative amount stays a number.
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "object") return DECIMAL.test(value.decimal) ? value.decimal : csvCell(value.decimal);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record with its CRLF. */
export const csvRow = (cells: readonly Cell[]): string => `${cells.map(csvCell).join(",")}\r\n`;
