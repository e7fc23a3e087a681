/**
 * Helper of scripts/bench_proxy.ts: the cost of policy-core operations (lib/policy/core.ts) on the
 * runtime that runs this file. Runs under Deno (V8) and Bun (JavaScriptCore, the runtime of the
 * compiled binary), so the figure that matters for the proxy is the Bun one.
 * Prints one JSON object: { runtime, loadMs, loadColdMs, setAllowlistUs: {...}, ns: {...} }.
 * Run: deno run -A scripts/bench/policy_core.ts [iterations]  |  bun scripts/bench/policy_core.ts [iterations]
 */
import process from "node:process";
import { type Allowlist, PolicyCore } from "../../lib/policy/core.ts";

const iterations = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let sink = 0;

/** ns per call of `f`: warm-up, then the median of ROUNDS timed rounds of `iterations` calls. */
function nsPerCall(f: () => { allow: boolean }): number {
  for (let i = 0; i < Math.min(100_000, iterations); i++) sink += f().allow ? 1 : 0;
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) sink += f().allow ? 1 : 0;
    rounds.push(((performance.now() - t0) * 1e6) / iterations);
  }
  return median(rounds);
}

// PolicyCore.load(): compile + instantiate + self-test. The first one is cold (decode of the embedded
// base64, compile caches); the rest show the steady cost.
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
const echoAllowlist = { tools: [{ name: "echo", fingerprint: fp }] };
const bigAllowlist: Full = {
  tools: Array.from({ length: 1000 }, (_, i) => ({ name: `tool_${i}`, fingerprint: fp })),
  prompts: Array.from({ length: 100 }, (_, i) => ({ name: `prompt_${i}`, fingerprint: fp })),
  resources: Array.from({ length: 100 }, (_, i) => ({ uri: `mem://notes/${i}`, fingerprint: fp })),
  templates: [
    ...Array.from({ length: 99 }, (_, i) => ({ uriTemplate: `file:///srv/t${i}/{path}`, fingerprint: fp })),
    { uriTemplate: "file:///srv/data/{+path}", fingerprint: fp },
  ],
};

const core = PolicyCore.load();
function timeSetAllowlist(a: Allowlist, n: number): number {
  core.setAllowlist(a);
  t0 = performance.now();
  for (let i = 0; i < n; i++) core.setAllowlist(a);
  return ((performance.now() - t0) * 1000) / n;
}
const setEchoUs = timeSetAllowlist(echoAllowlist, 2000);
const setBigUs = timeSetAllowlist(bigAllowlist, 20);

// Decisions with everything verified (the proxy's steady state), against a small lockfile and a big
// one: tools and static resources are looked up by key, but a URI is matched against every template.
type Full = Required<Allowlist>;
const smallAllowlist: Full = {
  prompts: [],
  tools: [{ name: "tool_500", fingerprint: fp }],
  resources: [{ uri: "mem://notes/42", fingerprint: fp }],
  templates: [{ uriTemplate: "file:///srv/data/{+path}", fingerprint: fp }],
};
const check = (d: { allow: boolean; code: string }, allow: boolean, what: string) => {
  if (d.allow !== allow) throw new Error(`${what}: unexpected decision ${d.code}`);
};
const callParams = { name: "tool_500", arguments: { text: "hello, world" } };

function decisions(allowlist: Full): Record<string, number> {
  core.setAllowlist(allowlist);
  core.verifyList("tool", allowlist.tools.map((t) => ({ key: t.name, fingerprint: t.fingerprint })));
  core.verifyList("resource", allowlist.resources.map((r) => ({ key: r.uri, fingerprint: r.fingerprint })));
  core.verifyList(
    "template",
    allowlist.templates.map((t) => ({ key: t.uriTemplate, fingerprint: t.fingerprint })),
  );
  check(core.decideToolCall("tool_500"), true, "decideToolCall(tool_500)");
  check(core.decideToolCall("nope"), false, "decideToolCall(nope)");
  check(core.decideResourceUri("file:///srv/data/a/b/report.txt"), true, "decideResourceUri(template)");
  check(core.decideResourceUri("mem://notes/42"), true, "decideResourceUri(static)");
  check(core.decideResourceUri("file:///etc/passwd"), false, "decideResourceUri(/etc/passwd)");
  return {
    "decideToolCall allow": nsPerCall(() => core.decideToolCall("tool_500")),
    "decideToolCall deny (not locked)": nsPerCall(() => core.decideToolCall("nope")),
    "decideResourceUri static match": nsPerCall(() => core.decideResourceUri("mem://notes/42")),
    "decideResourceUri template match": nsPerCall(() =>
      core.decideResourceUri("file:///srv/data/a/b/report.txt")
    ),
    "decideResourceUri deny": nsPerCall(() => core.decideResourceUri("file:///etc/passwd")),
    // What the proxy calls for every host request (lib/proxy/core_policy.ts checkHostMessage).
    "decideMethod tools/call": nsPerCall(() => core.decideMethod("tools/call", callParams, "host")),
  };
}
const ns = {
  "small lockfile (1 tool, 1 resource, 1 template)": decisions(smallAllowlist),
  "big lockfile (1000 tools, 100 resources, 100 templates)": decisions(bigAllowlist),
};

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
  ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : `node ${process.version}`;

console.log(JSON.stringify({
  runtime,
  iterations,
  loadColdMs,
  loadMs: median(loads),
  setAllowlistUs: {
    "1 tool": setEchoUs,
    "1000 tools + 100 prompts + 100 resources + 100 templates": setBigUs,
  },
  ns,
  sink: sink > 0,
}));
