/**
 * Helper of scripts/bench_proxy.ts: the policy-core costs that scripts/bench_policy_core.ts (the cost
 * of one decision) does not cover: PolicyCore.load(), setAllowlist(), and how decideResourceUri grows
 * with the number of resource templates (every URI is matched against every template). Runs under Deno
 * (V8) and Bun (JavaScriptCore, the compiled binary's runtime).
 * Prints one JSON object: { runtime, loadColdMs, loadMs, setAllowlistUs: {...}, uriNsByTemplates: {...} }.
 * Run: deno run -A scripts/bench/policy_core.ts [iterations]  |  bun scripts/bench/policy_core.ts [iterations]
 */
import process from "node:process";
import { type Allowlist, PolicyCore } from "../../lib/policy/core.ts";

const iterations = Number(process.argv[2] ?? 1_000_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// PolicyCore.load(): compile + instantiate + self-test. The first is cold; the rest the steady cost.
let t0 = performance.now();
PolicyCore.load();
const loadColdMs = performance.now() - t0;
const loads: number[] = [];
for (let i = 0; i < 20; i++) {
  t0 = performance.now();
  PolicyCore.load();
  loads.push(performance.now() - t0);
}

const fp = "sha256:" + "ab".repeat(32);
const templatesN = (n: number) => [
  ...Array.from({ length: n - 1 }, (_, i) => ({ uriTemplate: `file:///srv/t${i}/{path}`, fingerprint: fp })),
  { uriTemplate: "file:///srv/data/{+path}", fingerprint: fp },
];
const small: Allowlist = { tools: [{ name: "echo", fingerprint: fp }] };
const big: Allowlist = {
  tools: Array.from({ length: 1000 }, (_, i) => ({ name: `tool_${i}`, fingerprint: fp })),
  prompts: Array.from({ length: 100 }, (_, i) => ({ name: `prompt_${i}`, fingerprint: fp })),
  resources: Array.from({ length: 100 }, (_, i) => ({ uri: `mem://notes/${i}`, fingerprint: fp })),
  templates: templatesN(100),
};

const core = PolicyCore.load();
function setAllowlistUs(a: Allowlist, n: number): number {
  core.setAllowlist(a);
  t0 = performance.now();
  for (let i = 0; i < n; i++) core.setAllowlist(a);
  return ((performance.now() - t0) * 1000) / n;
}
const setSmallUs = setAllowlistUs(small, 2000);
const setBigUs = setAllowlistUs(big, 20);

/** ns per decideResourceUri (a template match) with `n` verified templates. */
function uriNs(n: number): number {
  const templates = templatesN(n);
  core.setAllowlist({ templates });
  core.verifyList("template", templates.map((t) => ({ key: t.uriTemplate, fingerprint: t.fingerprint })));
  const uri = "file:///srv/data/a/b/report.txt";
  const d = core.decideResourceUri(uri);
  if (!d.allow) throw new Error(`decideResourceUri(${uri}) with ${n} templates: ${d.code}`);
  let allowed = 0;
  for (let i = 0; i < Math.min(100_000, iterations); i++) if (core.decideResourceUri(uri).allow) allowed++;
  const rounds: number[] = [];
  for (let r = 0; r < 3; r++) {
    t0 = performance.now();
    for (let i = 0; i < iterations; i++) if (core.decideResourceUri(uri).allow) allowed++;
    rounds.push(((performance.now() - t0) * 1e6) / iterations);
  }
  if (allowed < 0) process.stdout.write("unreachable\n"); // keeps the result live
  return median(rounds);
}

const uriNsByTemplates: Record<string, number> = {};
for (const n of [1, 10, 100]) uriNsByTemplates[String(n)] = uriNs(n);

const bun = (globalThis as { Bun?: { version: string } }).Bun;
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
const runtime = bun ? `bun ${bun.version}` : deno ? `deno ${deno.version.deno}` : `node ${process.version}`;

console.log(JSON.stringify({
  runtime,
  iterations,
  loadColdMs,
  loadMs: median(loads),
  setAllowlistUs: { "1 tool": setSmallUs, "1000 tools, 100 prompts, 100 resources, 100 templates": setBigUs },
  uriNsByTemplates,
}));
