/**
 * Benchmark: `mcptrust --version` startup of the compiled binary, median of repeated runs.
 * Run: make bench (or deno run -A scripts/bench_startup.ts [runs]).
 */
import { execFileSync } from "node:child_process";
import process from "node:process";

const bin = process.env.MCPTRUST_BIN ?? "dist/mcptrust";
const runs = Number(process.argv[2] ?? Deno.args[0] ?? 30);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(cmd: string, args: string[]): number {
  const t0 = performance.now();
  execFileSync(cmd, args, { stdio: "ignore" });
  return performance.now() - t0;
}

time(bin, ["--version"]); // warm the page cache
const ours: number[] = [];
const floor: number[] = [];
for (let i = 0; i < runs; i++) {
  ours.push(time(bin, ["--version"]));
  floor.push(time("/bin/true", []));
}
console.log(
  `mcptrust --version: median ${median(ours).toFixed(1)} ms over ${runs} runs (min ${
    Math.min(...ours).toFixed(1)
  } ms)`,
);
console.log(`/bin/true (spawn floor): median ${median(floor).toFixed(1)} ms`);
