// Bundles the browser pages (src/web: the admin board and GraphiQL) into dist/web with Vite, so
// they work offline (no CDN). Part of `npm run build` (and so of `npm start` and `npm test`);
// skipped when nothing under src/web, this script or the lock file changed since the last build.
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src", "web");
const out = join(root, "dist", "web");
const stamp = join(out, ".built");

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const inputs = Math.max(newest(src), newest(fileURLToPath(import.meta.url)), newest(join(root, "package-lock.json")));
if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs && !process.argv.includes("--force")) {
  process.exit(0);
}

const started = Date.now();
const { build } = await import("vite");
await build({
  root: src,
  base: "/web/",
  logLevel: "error", // graphiql's "use client" directives make harmless warnings
  configFile: false,
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: out,
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { admin: join(src, "admin", "index.html"), graphiql: join(src, "graphiql", "index.html") },
    },
  },
});
writeFileSync(stamp, new Date().toISOString());
console.log(`web pages built into dist/web in ${((Date.now() - started) / 1000).toFixed(1)} s`);
