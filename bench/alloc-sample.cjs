// Preload (node -r) that samples allocations — including objects already collected, which
// --heap-prof leaves out — from ALLOC_SAMPLE_FROM_MS to ALLOC_SAMPLE_TO_MS after start, and writes
// <ALLOC_SAMPLE_DIR>/<pid>.heapprofile. Summarise with bench/alloc-summary.mjs. Used to find what
// a request allocates (garbage collection was a quarter of the API's time under load):
//   BENCH_NODE_ARGS="--max-semi-space-size=32 -r ./bench/alloc-sample.cjs" node bench/run.mjs --only a
const inspector = require("node:inspector");
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");

const dir = process.env.ALLOC_SAMPLE_DIR || "/tmp";
const from = Number(process.env.ALLOC_SAMPLE_FROM_MS || 12_000);
const to = Number(process.env.ALLOC_SAMPLE_TO_MS || 24_000);
const session = new inspector.Session();
session.connect();
setTimeout(() => {
  session.post("HeapProfiler.startSampling", { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  setTimeout(() => {
    session.post("HeapProfiler.stopSampling", (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  }, to - from).unref();
}, from).unref();
