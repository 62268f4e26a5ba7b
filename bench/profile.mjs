// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by module (npm
// package, the app's own dist/ files, node internals, GC). Used by `npm run bench -- --profile`;
// also runnable alone: node bench/profile.mjs <file.cpuprofile> [top] [fromUs toUs]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

function moduleOf(url, functionName) {
  if (!url) {
    if (functionName === "(garbage collector)") return "(garbage collector)";
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(program)") return "(program)";
    return "(native/V8)";
  }
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith("node:")) return "node (internals)";
  const d = url.indexOf("/dist/");
  if (d >= 0)
    return `app: ${url
      .slice(d + 1)
      .replace(/^dist\//, "")
      .replace(/\.js$/, "")}`;
  return url.replace(/^file:\/\//, "");
}

/**
 * { totalMs, busyMs, functions: [{ name, where, module, ms, pct }], modules: [{ module, ms, pct }] } (pct of busy time).
 * `window` ({ fromUs, toUs }, CLOCK_MONOTONIC microseconds as `process.hrtime.bigint() / 1000n` gives
 * them, the clock V8 stamps samples with on Linux) keeps only the samples taken in that interval.
 */
export function summarizeProfile(file, top = 15, window = null) {
  const prof = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const dt = (prof.timeDeltas[i] ?? 0) / 1000; // µs → ms
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const fn = new Map();
  const mod = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const name = cf.functionName || "(anonymous)";
    const module = moduleOf(cf.url, cf.functionName);
    total += ms;
    if (module === "(idle)") {
      idle += ms;
      continue;
    }
    const short = cf.url
      ? `${cf.url
          .replace(/^.*node_modules\//, "")
          .replace(/^.*\/dist\//, "dist/")
          .replace(/^file:\/\//, "")}:${cf.lineNumber + 1}`
      : "";
    const key = `${name} ${short}`;
    const f = fn.get(key) ?? { name, where: short, module, ms: 0 };
    f.ms += ms;
    fn.set(key, f);
    mod.set(module, (mod.get(module) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms) => Math.round((1000 * ms) / busy) / 10;
  return {
    totalMs: Math.round(total),
    busyMs: Math.round(busy),
    functions: [...fn.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, ms: Math.round(f.ms), pct: pct(f.ms) })),
    modules: [...mod.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([module, ms]) => ({ module, ms: Math.round(ms), pct: pct(ms) })),
  };
}

export function formatProfile(s, title) {
  const lines = [`${title}: ${(s.busyMs / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s sampled; self time:`];
  lines.push("  by module:   " + s.modules.map((m) => `${m.module} ${m.pct}%`).join(", "));
  lines.push("  by function:");
  for (const f of s.functions) lines.push(`    ${String(f.pct).padStart(5)}%  ${f.name}  (${f.where || f.module})`);
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top, fromUs, toUs] = process.argv.slice(2);
  if (!file) {
    console.error("usage: node bench/profile.mjs <file.cpuprofile> [top] [fromUs toUs]");
    process.exit(2);
  }
  const window = fromUs && toUs ? { fromUs: Number(fromUs), toUs: Number(toUs) } : null;
  console.log(formatProfile(summarizeProfile(file, Number(top) || 20, window), file));
}
