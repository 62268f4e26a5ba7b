// Summarises a sampling heap profile (bench/alloc-sample.cjs): bytes allocated by function, and
// optionally the call stacks behind one function.
//   node bench/alloc-summary.mjs <file.heapprofile> [top] [function name prefix]
import { readFileSync } from "node:fs";

const [file, top = "30", focus] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8"));
const where = (f) => `${f.functionName || "(anonymous)"} ${f.url.replace(/.*node_modules\//, "").replace(/.*\/dist\//, "dist/")}:${f.lineNumber}`;
const self = new Map();
const stacks = new Map();
let total = 0;
(function walk(node, stack) {
  const key = where(node.callFrame);
  const path = [...stack, key];
  total += node.selfSize;
  self.set(key, (self.get(key) ?? 0) + node.selfSize);
  if (focus && key.startsWith(focus) && node.selfSize) {
    const s = path.slice(-8, -1).reverse().join("\n      ← ");
    stacks.set(s, (stacks.get(s) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, path);
})(profile.head, []);
const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
console.log(`${(total / 1e6).toFixed(0)} MB allocated while sampling`);
for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`${pct(n)}  ${key}`);
for (const [s, n] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`\n${pct(n)}  ${focus}\n      ← ${s}`);
