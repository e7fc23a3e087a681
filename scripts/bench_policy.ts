/**
 * Benchmark: `mcptrust policy check` wall time on server-everything beside `mcptrust check` without a
 * policy, in the same run (alternating, so machine noise hits both alike), plus the in-process cost of the
 * policy itself: compiling each preset, evaluating it, and `matches()` with and without the regex cache.
 * Prints figures; asserts nothing.
 * Run: deno run -A scripts/bench_policy.ts [runs] (builds nothing: uses dist/mcptrust or MCPTRUST_BIN).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { RE2JS } from "@bufbuild/re2";
import { CelCompiler } from "../lib/policy/cel/compiler.ts";
import { buildPolicyInput, POLICY_INPUT_SHAPE } from "../lib/policy/cel/input.ts";
import { compilePolicy, evaluatePolicy, loadPolicy } from "../lib/policy/cel/policy.ts";
import { scanServer } from "../lib/scan/scan_server.ts";

const bin = process.env.MCPTRUST_BIN ?? "dist/mcptrust";
const runs = Number(Deno.args[0] ?? 10);
const server = ["node", "node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function wall(args: string[]): number {
  const t0 = performance.now();
  try {
    execFileSync(bin, args, { stdio: "ignore" });
  } catch (err) {
    // policy check exits 1 when the policy fails (strict); that is still a complete run.
    if ((err as { status?: number }).status !== 1) throw err;
  }
  return performance.now() - t0;
}

function perCall(fn: () => void, iterations: number): number {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return ((performance.now() - t0) / iterations) * 1000;
}

const dir = mkdtempSync(join(tmpdir(), "mcptrust-bench-policy-"));
const lock = join(dir, "mcp-lock.json");
try {
  execFileSync(bin, ["lock", "-o", lock, "--", ...server], { stdio: "ignore" });
  const variants: [string, string[]][] = [
    ["check (no policy)", ["check", "--lock", lock, "--", ...server]],
    ["policy check --preset baseline", ["policy", "check", "--preset", "baseline", "--", ...server]],
    ["policy check --preset strict --lock", [
      "policy",
      "check",
      "--preset",
      "strict",
      "--lock",
      lock,
      "--",
      ...server,
    ]],
    ["check --policy strict", ["check", "--lock", lock, "--policy", "strict", "--", ...server]],
  ];
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of variants) times.get(name)!.push(wall(args));
  }
  const base = median(times.get("check (no policy)")!);
  console.log(`wall time on server-everything, median of ${runs} (${bin}):`);
  for (const [name] of variants) {
    const m = median(times.get(name)!);
    console.log(`  ${name.padEnd(38)} ${m.toFixed(1).padStart(7)} ms   x${(m / base).toFixed(2)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// In process: what the policy adds to a run once the server has been listed.
const iface = await scanServer(server, { timeoutMs: 10_000 });
const input = buildPolicyInput({ argv: server, iface });
console.log(`\nin process (server-everything: ${iface.tools.length} tools):`);
for (const preset of ["baseline", "strict"]) {
  const doc = loadPolicy({ preset });
  const compileUs = perCall(() => compilePolicy(doc), 200);
  const compiled = compilePolicy(doc);
  const evalUs = perCall(() => evaluatePolicy(compiled, input), 2000);
  console.log(
    `  ${preset.padEnd(9)} ${doc.rules.length} rules: compile ${compileUs.toFixed(0)} µs, evaluate ${
      evalUs.toFixed(1)
    } µs`,
  );
}
const inputUs = perCall(() => buildPolicyInput({ argv: server, iface }), 500);
console.log(`  building the input: ${inputUs.toFixed(1)} µs`);

const pattern = "^(get|read|list|search)[-_][a-z-]+$";
const cached = new CelCompiler().compile(`input.tools.all(t, t.name.matches("${pattern}") || true)`, {
  input: POLICY_INPUT_SHAPE,
});
const cachedUs = perCall(() => cached.evaluate({ input }), 2000);
const names = iface.tools.map((t) => t.name);
const uncachedUs = perCall(() => names.forEach((n) => RE2JS.compile(pattern).test(n)), 2000);
const onlyMatchUs = perCall(() => {
  const re = RE2JS.compile(pattern);
  names.forEach((n) => re.test(n));
}, 2000);
console.log(
  `  matches() over ${names.length} names: rule with cached regex ${cachedUs.toFixed(1)} µs; ` +
    `recompiling per call (the library default) ${uncachedUs.toFixed(1)} µs of matching alone, vs ${
      onlyMatchUs.toFixed(1)
    } µs compiled once`,
);
