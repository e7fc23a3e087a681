/**
 * Benchmark: hashing a 50 MiB artifact, side by side (asserts nothing; prints figures and ratios).
 *
 * - `sha512sum` / `sha256sum` on the same file (coreutils, process start included: the native baseline);
 * - @noble/hashes sha512 / sha256, streamed in 64 KiB chunks;
 * - node:crypto `createHash` sha512 / sha256, streamed in 64 KiB chunks (the runtime's native code);
 * - lib/artifact/integrity's `IntegrityHasher` (sha512 + sha256 in one pass), what `run --lock` uses.
 *
 * Medians over several runs, with the minimum; the machines are shared and noisy, so compare ratios
 * within one run. Run: deno run -A scripts/bench_hash.ts   (or: bun scripts/bench_hash.ts)
 */
import { execFileSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { IntegrityHasher } from "../lib/artifact/integrity.ts";

const SIZE = 50 * 1024 * 1024;
const CHUNK = 64 * 1024;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function time(fn: () => unknown): { median: number; min: number } {
  fn(); // warm-up (JIT, page cache)
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return { median: median(xs), min: Math.min(...xs) };
}

function chunks(buf: Uint8Array, each: (c: Uint8Array) => void): void {
  for (let off = 0; off < buf.length; off += CHUNK) {
    each(buf.subarray(off, Math.min(off + CHUNK, buf.length)));
  }
}

const data = new Uint8Array(SIZE);
for (let off = 0; off < SIZE; off += 65536) randomFillSync(data.subarray(off, off + 65536));
const dir = mkdtempSync(join(tmpdir(), "mcptrust-bench-hash-"));
const file = join(dir, "artifact.bin");
writeFileSync(file, data);

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const rows: [string, { median: number; min: number }][] = [];
try {
  rows.push(["sha512sum (file, process start included)", time(() => execFileSync("sha512sum", [file]))]);
  rows.push(["sha256sum (file, process start included)", time(() => execFileSync("sha256sum", [file]))]);
  rows.push([
    "@noble/hashes sha512 (64 KiB chunks)",
    time(() => {
      const h = nobleSha512.create();
      chunks(data, (c) => h.update(c));
      h.digest();
    }),
  ]);
  rows.push([
    "@noble/hashes sha256 (64 KiB chunks)",
    time(() => {
      const h = nobleSha256.create();
      chunks(data, (c) => h.update(c));
      h.digest();
    }),
  ]);
  rows.push([
    "node:crypto sha512 (64 KiB chunks)",
    time(() => {
      const h = createHash("sha512");
      chunks(data, (c) => h.update(c));
      h.digest();
    }),
  ]);
  rows.push([
    "node:crypto sha256 (64 KiB chunks)",
    time(() => {
      const h = createHash("sha256");
      chunks(data, (c) => h.update(c));
      h.digest();
    }),
  ]);
  rows.push([
    "IntegrityHasher sha512+sha256 (one pass)",
    time(() => {
      const h = new IntegrityHasher();
      chunks(data, (c) => h.update(c));
      h.digest();
    }),
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const mibps = (ms: number) => (SIZE / 1024 / 1024) / (ms / 1000);
console.log(`hashing ${SIZE / 1024 / 1024} MiB under ${runtime}; ${RUNS} runs after a warm-up`);
for (const [label, t] of rows) {
  console.log(
    `${label.padEnd(44)} median ${t.median.toFixed(1).padStart(8)} ms  min ${
      t.min.toFixed(1).padStart(8)
    } ms  ` +
      `${mibps(t.median).toFixed(0).padStart(5)} MiB/s`,
  );
}
const get = (prefix: string) => rows.find(([l]) => l.startsWith(prefix))![1].median;
const ratio = (a: string, b: string) => console.log(`${a} / ${b}: ${(get(a) / get(b)).toFixed(2)}x the time`);
console.log("ratios (time; above 1 is slower than the right-hand side):");
ratio("@noble/hashes sha512", "sha512sum");
ratio("node:crypto sha512", "sha512sum");
ratio("@noble/hashes sha512", "node:crypto sha512");
ratio("@noble/hashes sha256", "sha256sum");
ratio("node:crypto sha256", "sha256sum");
ratio("IntegrityHasher", "sha512sum");
