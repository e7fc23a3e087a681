/**
 * Cost of one policy-core decision, host side included (string to UTF-8 in wasm memory, the call,
 * decoding the result into a Decision).
 *
 * Usage: `deno run -A scripts/bench_policy_core.ts [iterations]` or
 * `bun run scripts/bench_policy_core.ts [iterations]` (default 1e6). Prints ns per decision; no
 * assertions (machines are shared and noisy: compare figures from one run).
 *
 * @module
 */
import process from "node:process";
import { PolicyCore } from "../lib/policy/core.ts";

const iterations = Number(process.argv[2] ?? 1e6);
const runtime = "Bun" in globalThis
  ? `bun ${process.versions.bun}`
  : "Deno" in globalThis
  ? `deno ${process.versions.deno}`
  : `node ${process.versions.node}`;

const FP = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const tools = Array.from({ length: 100 }, (_, i) => ({ name: `tool_${i}`, fingerprint: `${FP}#${i}` }));
tools.push({ name: "read_file", fingerprint: FP });
const templates = [
  "db://table/{table_name}",
  "api://endpoint/{endpoint_path}",
  "users://{id}/profile",
  "repo://x/{owner}/issues/{n}",
  "file:///srv/data/{path}",
].map((uriTemplate) => ({ uriTemplate, fingerprint: FP }));

const core = PolicyCore.load();
core.setAllowlist({ tools, templates });
core.verifyList("tool", tools.map((t) => ({ key: t.name, fingerprint: t.fingerprint })));
core.verifyList("template", templates.map((t) => ({ key: t.uriTemplate, fingerprint: t.fingerprint })));

const params = { name: "read_file", arguments: { path: "/srv/data/a.txt" } };
const cases: [string, () => boolean][] = [
  ["tool call by name (decideToolCall)", () => core.decideToolCall("read_file").allow],
  ["tools/call message (decideMethod)", () => core.decideMethod("tools/call", params).allow],
  ["protocol method (decideMethod ping)", () => core.decideMethod("ping").allow],
  [
    "URI match, 5 templates (decideResourceUri)",
    () => core.decideResourceUri("file:///srv/data/reports/2024/q3.txt").allow,
  ],
  ["URI traversal refused", () => core.decideResourceUri("file:///srv/data/..%2f..%2fetc/passwd").allow],
  ["list item verify (verifyListItem)", () => core.verifyListItem("tool", "read_file", FP).allow],
];

function measure(run: () => boolean, n: number): number {
  let allowed = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) if (run()) allowed++;
  const ns = ((performance.now() - start) * 1e6) / n;
  if (allowed < 0) process.stdout.write("unreachable\n"); // keeps the result live
  return ns;
}

process.stdout.write(`policy core decision cost, ${runtime}, ${iterations} iterations each\n`);
for (const [name, run] of cases) {
  measure(run, Math.min(iterations, 100_000)); // warm-up: let the JIT settle
  const ns = measure(run, iterations);
  process.stdout.write(`  ${name.padEnd(46)} ${ns.toFixed(0).padStart(6)} ns/decision\n`);
}
if (core.failure) throw new Error(`core failed during the benchmark: ${core.failure}`);
