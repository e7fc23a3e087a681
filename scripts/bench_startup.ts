/**
 * Benchmark: start-up of the compiled binary, beside the bare Bun runtime embedded in the same binary
 * (`BUN_BE_BUN=1 mcptrust -e 0`), medians over N runs taken round-robin so load changes hit every row
 * alike. Each row is one process from spawn to exit; ratios are to the bare runtime.
 *
 * - `--version`, `--help`, `check --help`: commander only (main.ts builds just the command named).
 * - `check --lock <missing>`: loads what check runs (lockfile, scan, drift; not CEL) and fails before
 *   spawning a server (exit 2, message on stderr).
 * - `check --lock <lockfile> -- true`: reads and validates a real lockfile (locked from
 *   testdata/servers/echo_server.mjs at the start), spawns the server, which exits at once (exit 2):
 *   start-up up to and including the spawn.
 *
 * stdout and stderr are pipes, as in CI and scripts. On a terminal, `--help` also builds
 * `process.stdout` to ask for the width (about 2 ms).
 *
 * Run: make bench (or deno run -A scripts/bench_startup.ts [runs]; MCPTRUST_BIN=... for another binary).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = resolve(process.env.MCPTRUST_BIN ?? join(ROOT, "dist/mcptrust"));
const RUNS = Number(Deno.args[0] ?? 50);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Row {
  label: string;
  args: string[];
  env?: Record<string, string>;
  /** Expected exit code and a stream pattern: the run must take the path the row names. */
  code: number;
  expect: RegExp;
  ms: number[];
}

function once(row: Row): { ms: number; code: number | null; out: string } {
  const t0 = performance.now();
  const r = spawnSync(BIN, row.args, {
    cwd: ROOT,
    env: row.env ? { ...process.env, ...row.env } : process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ms = performance.now() - t0;
  return { ms, code: r.status, out: `${r.stdout}${r.stderr}` };
}

const dir = mkdtempSync(join(tmpdir(), "bench-startup-"));
const lockfile = join(dir, "echo.lock.json");
const lock = spawnSync(BIN, ["lock", "-o", lockfile, "--", "node", "testdata/servers/echo_server.mjs"], {
  cwd: ROOT,
  encoding: "utf8",
});
if (lock.status !== 0) throw new Error(`mcptrust lock failed: ${lock.stderr}`);

const rows: Row[] = [
  {
    label: "bare runtime (BUN_BE_BUN=1 mcptrust -e 0)",
    args: ["-e", "0"],
    env: { BUN_BE_BUN: "1" },
    code: 0,
    expect: /^$/,
    ms: [],
  },
  { label: "mcptrust --version", args: ["--version"], code: 0, expect: /^mcptrust \S+ \(commit/, ms: [] },
  { label: "mcptrust --help", args: ["--help"], code: 0, expect: /^Usage: mcptrust /, ms: [] },
  {
    label: "mcptrust check --help",
    args: ["check", "--help"],
    code: 0,
    expect: /^Usage: mcptrust check/,
    ms: [],
  },
  {
    label: "mcptrust check --lock <missing> (fails before spawning)",
    args: ["check", "--lock", join(dir, "missing.json"), "--", "true"],
    code: 2,
    expect: /cannot read lockfile/,
    ms: [],
  },
  {
    label: "mcptrust check --lock <lockfile> -- true (to the spawn)",
    args: ["check", "--lock", lockfile, "--", "true"],
    code: 2,
    expect: /server exited with code 0 before answering initialize/,
    ms: [],
  },
];

for (const row of rows) {
  const r = once(row); // warm the page cache; check the row takes the path it names
  if (r.code !== row.code || !row.expect.test(r.out)) {
    throw new Error(`${row.label}: exit ${r.code}, output ${JSON.stringify(r.out.slice(0, 200))}`);
  }
}
for (let i = 0; i < RUNS; i++) for (const row of rows) row.ms.push(once(row).ms);
rmSync(dir, { recursive: true });

const version = spawnSync(BIN, ["--version"], { encoding: "utf8" }).stdout.trim();
const bare = median(rows[0].ms);
console.log(`${version} (${BIN}), median of ${RUNS} runs each, round-robin:`);
for (const row of rows) {
  const m = median(row.ms);
  console.log(
    `  ${row.label.padEnd(58)} ${m.toFixed(1).padStart(6)} ms  x${(m / bare).toFixed(2)}  (min ${
      Math.min(...row.ms).toFixed(1)
    })`,
  );
}
