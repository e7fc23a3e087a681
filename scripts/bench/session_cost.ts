/**
 * Helper of scripts/bench_proxy.ts: the proxy session's own CPU cost per tools/call round trip, with no
 * I/O (lines are fed to lib/proxy/session.ts directly, the server's answers computed in-process), split
 * into host -> server and server -> host, plus the cost of the steps a small message goes through.
 * Runs under Bun (the compiled binary's runtime) or Deno. Prints one JSON object.
 * Run: bun scripts/bench/session_cost.ts <lockfile> [calls] [textBytes]
 */
import process from "node:process";
import { readLockfile } from "../../lib/lockfile/load.ts";
import type { LockfileV3 } from "../../lib/lockfile/types.ts";
import type { AuditLog } from "../../lib/observe/audit_log.ts";
import { createCorePolicy } from "../../lib/proxy/core_policy.ts";
import { freshId } from "../../lib/proxy/id_table.ts";
import { ProxySession } from "../../lib/proxy/session.ts";
import { scanTopLevel } from "../../lib/proxy/top_level.ts";

const [lockPath, callsArg, textArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 200_000);
const textBytes = Number(textArg ?? 12);
const loaded = readLockfile(lockPath);
const enc = new TextEncoder();
const dec = new TextDecoder();

// The echo server's answers (testdata/servers/echo_server.mjs), computed here.
const TOOLS = {
  tools: [{
    name: "echo",
    description: "Echo the text back.",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  }],
};
function answer(line: string): string {
  const { id, method, params } = JSON.parse(line);
  const result = method === "tools/call"
    ? { content: [{ type: "text", text: String(params?.arguments?.text ?? "") }] }
    : method === "tools/list"
    ? TOOLS
    : method === "initialize"
    ? {
      protocolVersion: "2025-06-18",
      capabilities: { tools: {} },
      serverInfo: { name: "echo-server", version: "1.0.0" },
    }
    : {};
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result)}}`;
}

const log: AuditLog = { write() {}, close() {} } as unknown as AuditLog;
let toServer: string[] = [];
let toHost: string[] = [];
const session = new ProxySession({
  mode: "enforce",
  failOn: "critical",
  lockfile: loaded,
  policy: createCorePolicy(loaded.lockfile as LockfileV3),
  log,
  toHost: (l) => toHost.push(l),
  toServer: (l) => toServer.push(l),
});
const serve = () => {
  const lines = toServer;
  toServer = [];
  for (const l of lines) if (l.includes('"id"')) session.onServerLine(enc.encode(answer(l.trimEnd())));
};

session.onHostLine(enc.encode(
  `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`,
));
serve();
session.onHostLine(enc.encode(`{"jsonrpc":"2.0","method":"notifications/initialized"}`));
let ready = false;
session.preflightDone.then(() => ready = true);
while (!ready) {
  serve();
  await new Promise((r) => setTimeout(r, 1));
}
toHost = [];

const text = textBytes === 12 ? "hello, world" : "x".repeat(textBytes);
const request = (id: number) =>
  enc.encode(
    `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{"text":${
      JSON.stringify(text)
    }}},"id":${id}}`,
  );
// Pre-built inputs, so only the session is timed.
const N = Math.min(calls, 1000); // below the default max-pending (1024)
const requests = Array.from({ length: N }, (_, i) => request(i + 1));
const responseFor = (proxyLine: string) => enc.encode(answer(proxyLine.trimEnd()));

let hostMs = 0, serverMs = 0;
const rounds = Math.ceil(calls / N);
for (let r = 0; r < rounds + 1; r++) { // round 0 is warm-up
  let t0 = performance.now();
  for (const req of requests) session.onHostLine(req);
  const h = performance.now() - t0;
  const responses = toServer.map(responseFor);
  toServer = [];
  t0 = performance.now();
  for (const res of responses) session.onServerLine(res);
  const s = performance.now() - t0;
  if (toHost.length !== N || !toHost[0].includes('"result"')) throw new Error(`unexpected: ${toHost[0]}`);
  toHost = [];
  if (r > 0) {
    hostMs += h;
    serverMs += s;
  }
}
const n = rounds * N;
session.close();

/** ns per call of a step, on the same small message. */
function step(f: () => unknown, iters = textBytes > 100_000 ? 50 : 200_000): number {
  for (let i = 0; i < iters / 10; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) f();
  return ((performance.now() - t0) * 1e6) / iters;
}
const reqBytes = requests[0];
const reqText = dec.decode(reqBytes);
const resText = answer(
  `{"id":"mcpt-0123456789abcdef0123456789abcdef","method":"tools/call","params":{"arguments":{"text":${
    JSON.stringify(text)
  }}}}`,
);
const resBytes = enc.encode(resText);
const rand = new Uint8Array(16);
const reqParsed = JSON.parse(reqText);
const steps = {
  "TextDecoder.decode(request line)": step(() => dec.decode(reqBytes)),
  "JSON.parse(request)": step(() => JSON.parse(reqText)),
  "scanTopLevel(request)": step(() => scanTopLevel(reqText)),
  "freshId (16 random bytes -> hex)": step(() => freshId("mcpt-", rand)),
  "JSON.stringify(parsed request)": step(() => JSON.stringify(reqParsed)),
  "TextDecoder.decode(response line)": step(() => dec.decode(resBytes)),
  "scanTopLevel(response)": step(() => scanTopLevel(resText)),
};

const bun = (globalThis as { Bun?: { version: string } }).Bun;
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
console.log(JSON.stringify({
  runtime: bun ? `bun ${bun.version}` : deno ? `deno ${deno.version.deno}` : `node ${process.version}`,
  calls: n,
  textBytes,
  hostToServerUs: (hostMs * 1000) / n,
  serverToHostUs: (serverMs * 1000) / n,
  stepsNs: steps,
}));
