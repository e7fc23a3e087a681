/**
 * What `proxy --policy` call rules add to each tools/call, in-process (no I/O): the proxy session's own
 * host -> server CPU time per tools/call with no policy, with argument validation (SchemaGuard), with 20
 * call rules, and with 20 call rules plus argument validation, and the added cost against no policy.
 * Two argument payloads: a small one (a path) and one with ~1 KiB of text over 10 fields (every string
 * is scanned by urlHosts). Prints a table and one JSON line. No assertions: figures only.
 *
 * Run (the compiled binary's runtime): tools/node_modules/.bin/bun scripts/bench_call_rules.ts [calls]
 *
 * @module
 */
import process from "node:process";
import { buildLockfile } from "../lib/lockfile/build.ts";
import { parseLockfile, serializeLockfile } from "../lib/lockfile/load.ts";
import type { LockfileV3 } from "../lib/lockfile/types.ts";
import type { ServerInterface } from "../lib/mcp/types.ts";
import type { AuditLog } from "../lib/observe/audit_log.ts";
import { compilePolicy } from "../lib/policy/cel/policy.ts";
import { parsePolicyText } from "../lib/policy/cel/policy_file.ts";
import { proxyCelPolicy } from "../lib/proxy/cel_policy.ts";
import { createCorePolicy } from "../lib/proxy/core_policy.ts";
import { SchemaGuard } from "../lib/proxy/schema_guard.ts";
import { ProxySession } from "../lib/proxy/session.ts";

const calls = Number(process.argv[2] ?? 50_000);

const iface: ServerInterface = {
  serverInfo: { name: "bench-server", version: "1.0.0" },
  protocolVersion: "2025-06-18",
  capabilities: { tools: {} },
  tools: [{
    name: "read_file",
    description: "Read a file from the data directory.",
    inputSchema: {
      type: "object",
      properties: {
        path: { type: "string", maxLength: 4096 },
        note: { type: "object", additionalProperties: { type: "string" } },
      },
      required: ["path"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  }],
  prompts: [],
  resources: [],
  resourceTemplates: [],
};
const loaded = parseLockfile(
  new TextEncoder().encode(
    serializeLockfile(buildLockfile(iface, { generator: "bench", updatedAt: "2026-01-01T00:00:00Z" })),
  ),
  "bench.lock.json",
);

/** 20 call rules of the kinds docs/POLICY.md shows; every one passes on the benchmark's calls. */
const RULES = [
  `tool.name != "read_file" || args.path.startsWith("/srv/data/")`,
  `tool.name != "read_file" || !args.path.matches("(^|/)[.][.](/|$)")`,
  `urlHosts(args).all(h, h in ["api.example.com", "docs.example.com"])`,
  `session.calls[tool.name] < 100000000`,
  `session.total_calls < 100000000`,
  `tool.risk_level != "HIGH"`,
  `tool.hints.readOnlyHint || !tool.hints.destructiveHint`,
  `!tool.hints.openWorldHint || tool.name in ["fetch", "search"]`,
  `session.client.name in ["bench-host", "claude-ai", "cursor"]`,
  `!has(args.command)`,
  `!has(args.path) || size(args.path) <= 1024`,
  `!has(args.path) || !args.path.endsWith(".env")`,
  `!has(args.path) || !args.path.matches("(?i)(id_rsa|id_ed25519|\\\\.pem|\\\\.key)$")`,
  `!has(args.path) || !args.path.contains("/.ssh/")`,
  `size(args) <= 16`,
  `tool.name != "write_file" || session.calls[tool.name] < 10`,
  `tool.name != "delete_file"`,
  `!(tool.name == "read_file" && session.client.version == "0.0.0")`,
  `!has(args.note) || size(args.note) <= 20`,
  `tool.title == "" || !tool.title.contains("admin")`,
];
const POLICY = `name: bench\ncall_rules:\n` +
  RULES.map((expr, i) => `  - name: rule_${i + 1}\n    expr: ${JSON.stringify(expr)}\n`).join("");

interface Config {
  name: string;
  guard: boolean;
  rules: boolean;
}
const CONFIGS: Config[] = [
  { name: "no policy", guard: false, rules: false },
  { name: "argument validation only", guard: true, rules: false },
  { name: "20 call rules", guard: false, rules: true },
  { name: "20 call rules + argument validation", guard: true, rules: true },
];

const enc = new TextEncoder();
const log: AuditLog = { write() {}, close() {} } as unknown as AuditLog;

function answer(line: string): string {
  const { id, method } = JSON.parse(line);
  const result = method === "tools/call"
    ? { content: [{ type: "text", text: "ok" }] }
    : method === "tools/list"
    ? { tools: iface.tools }
    : method === "initialize"
    ? { protocolVersion: "2025-06-18", capabilities: iface.capabilities, serverInfo: iface.serverInfo }
    : {};
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result)}}`;
}

/** A session past its preflight, with a way to time a batch of calls. */
async function ready(cfg: Config) {
  let toServer: string[] = [];
  let toHost: string[] = [];
  const compiled = cfg.rules
    ? compilePolicy(parsePolicyText(POLICY, { type: "file", name: "bench" }))
    : undefined;
  const session = new ProxySession({
    mode: "enforce",
    failOn: "critical",
    lockfile: loaded,
    policy: createCorePolicy(loaded.lockfile as LockfileV3),
    log,
    toHost: (l) => toHost.push(l),
    toServer: (l) => toServer.push(l),
    guard: cfg.guard ? new SchemaGuard() : undefined,
    celPolicy: compiled
      ? proxyCelPolicy(compiled, { argv: [], lockfile: { loaded, signature: "unsigned" } })
      : undefined,
  });
  const serve = () => {
    const lines = toServer;
    toServer = [];
    for (const l of lines) if (l.includes('"id"')) session.onServerLine(enc.encode(answer(l.trimEnd())));
  };
  session.onHostLine(enc.encode(JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bench-host", version: "1" },
    },
  })));
  serve();
  session.onHostLine(enc.encode(`{"jsonrpc":"2.0","method":"notifications/initialized"}`));
  let done = false;
  session.preflightDone.then(() => done = true);
  while (!done) {
    serve();
    await new Promise((r) => setTimeout(r, 1));
  }
  toHost = [];
  /** Sends `requests`, returns the ms spent in the session on the host -> server path; answers them. */
  const batch = (requests: Uint8Array[]): number => {
    const t0 = performance.now();
    for (const r of requests) session.onHostLine(r);
    const ms = performance.now() - t0;
    const n = toServer.length;
    serve();
    if (n !== requests.length || toHost.length !== requests.length || !toHost[0].includes('"result"')) {
      throw new Error(`${cfg.name}: a call did not pass: ${toHost.find((l) => !l.includes('"result"'))}`);
    }
    toHost = [];
    return ms;
  };
  return { batch, close: () => session.close() };
}

const PAYLOADS: Record<string, Record<string, unknown>> = {
  "small (path)": { path: "/srv/data/reports/2026-01.csv" },
  "~1 KiB text in 10 fields": {
    path: "/srv/data/reports/2026-01.csv",
    note: Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [
        `f${i}`,
        `Field ${i}: see https://docs.example.com/guide/${i} for details. ` + "lorem ipsum ".repeat(6),
      ]),
    ),
  },
};

const N = 1000; // requests per batch, below the default max-pending (1024)
const rounds = Math.max(1, Math.ceil(calls / N));
const results: Record<string, Record<string, number>> = {};
for (const [payloadName, args] of Object.entries(PAYLOADS)) {
  const requests = Array.from({ length: N }, (_, i) =>
    enc.encode(JSON.stringify({
      jsonrpc: "2.0",
      id: i + 1,
      method: "tools/call",
      params: { name: "read_file", arguments: args },
    })));
  const sessions = await Promise.all(CONFIGS.map(ready));
  // Interleaved rounds, so machine noise hits every configuration alike; the median round counts.
  const perRound: number[][] = CONFIGS.map(() => []);
  for (let r = 0; r < rounds + 2; r++) {
    for (let c = 0; c < CONFIGS.length; c++) {
      const ms = sessions[c].batch(requests);
      if (r >= 2) perRound[c].push((ms * 1000) / N); // two warm-up rounds
    }
  }
  for (const s of sessions) s.close();
  results[payloadName] = Object.fromEntries(CONFIGS.map((cfg, c) => [cfg.name, median(perRound[c])]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const bun = (globalThis as { Bun?: { version: string } }).Bun;
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
const runtime = bun ? `bun ${bun.version}` : deno ? `deno ${deno.version.deno}` : `node ${process.version}`;
console.log(
  `proxy session, host -> server, µs per tools/call (median of ${rounds} rounds of ${N}; ${runtime})`,
);
for (const [payload, row] of Object.entries(results)) {
  const base = row["no policy"];
  console.log(`\nargs: ${payload}`);
  for (const [name, us] of Object.entries(row)) {
    const d = us - base;
    const added = name === "no policy" ? "" : `  (${d >= 0 ? "+" : ""}${d.toFixed(1)} µs)`;
    console.log(`  ${name.padEnd(38)} ${us.toFixed(1).padStart(7)} µs${added}`);
  }
}
console.log(JSON.stringify({ runtime, callsPerConfig: rounds * N, rules: RULES.length, usPerCall: results }));
