// Preloaded into the on-sale's API processes (node --expose-gc -r ./bench/heap-probe.cjs): on
// SIGUSR2 it collects garbage and writes process.memoryUsage() to
// <tmpdir>/orderline-heap-<pid>.json, so bench (i) can tell the memory of idle sockets
// (after − before opening them, both after a full GC) without any route in the API.
const { writeFileSync, renameSync } = require("node:fs");
const { join } = require("node:path");
const { tmpdir } = require("node:os");

process.on("SIGUSR2", () => {
  global.gc?.();
  global.gc?.(); // a second pass frees what the first one's finalizers released
  const file = join(tmpdir(), `orderline-heap-${process.pid}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
  renameSync(`${file}.tmp`, file); // whole or absent for the reader
});
