const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A small self-contained page (no external assets). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}table{border-collapse:collapse;margin:1rem 0}td,th{padding:.25rem .75rem;text-align:left;border-bottom:1px solid #ddd}
button{font:inherit;padding:.5rem 1.25rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}
.pay{background:#0a7d32;color:#fff;border-color:#0a7d32}.fail{background:#b3261e;color:#fff;border-color:#b3261e}
.note{color:#555;font-size:.9rem}
</style></head><body>${body}</body></html>`;
}

/** 1234 EUR → "12.34 EUR" using the currency's minor-unit digits. */
export function formatMoney(minor: number, currency: string, digits = 2): string {
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}
