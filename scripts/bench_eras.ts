/**
 * The proxy session's own CPU cost per tools/call round trip in each pairing of MCP eras, in one run:
 * a 2025 (session) host and server as the baseline, a 2026-07-28 (stateless) host and server (every
 * request carries the `_meta` envelope, which the proxy validates; every result `resultType` and the
 * server's identity in `_meta`, which the proxy pins), and the two mixed pairs (the proxy rewrites each
 * request and result). In-process like scripts/bench/session_cost.ts: lines are fed to
 * lib/proxy/session.ts directly with the real policy core, the server's answers computed here; the
 * pairs run interleaved, round after round, so machine noise hits them alike. Prints figures.
 *
 * Run: tools/node_modules/.bin/bun scripts/bench_eras.ts [calls per pair, default 200000]
 */
import process from "node:process";
import { buildLockfile } from "../lib/lockfile/build.ts";
import { type LoadedLockfile, parseLockfile, serializeLockfile } from "../lib/lockfile/load.ts";
import type { LockfileV3 } from "../lib/lockfile/types.ts";
import type { ServerInterface } from "../lib/mcp/types.ts";
import type { AuditLog } from "../lib/observe/audit_log.ts";
import { envelopeProblem } from "../lib/mcp/era.ts";
import { requestCollision } from "../lib/proxy/collisions.ts";
import { createCorePolicy } from "../lib/proxy/core_policy.ts";
import { ProxySession } from "../lib/proxy/session.ts";

type Era = "session" | "stateless";
const calls = Number(process.argv[2] ?? 200_000);
const enc = new TextEncoder();

const TOOLS = [{
  name: "echo",
  description: "Echo the text back.",
  inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
}];
const SERVER_INFO = { name: "echo-server", version: "1.0.0" };
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": { roots: {}, sampling: {}, elicitation: {} },
  "io.modelcontextprotocol/clientInfo": { name: "bench-host", version: "1.0.0" },
};

function lockfileFor(era: Era): LoadedLockfile {
  const iface: ServerInterface = {
    serverInfo: SERVER_INFO,
    protocolVersion: era === "stateless" ? "2026-07-28" : "2025-06-18",
    era,
    capabilities: { tools: {} },
    tools: TOOLS,
    prompts: [],
    resources: [],
    resourceTemplates: [],
  };
  const lock = buildLockfile(iface, { generator: "bench", updatedAt: "2026-01-01T00:00:00Z" });
  return parseLockfile(enc.encode(serializeLockfile(lock)), "bench.lock.json");
}

/** The echo server's answer to one request line, as a server of `era` writes it (the SDKs' layouts). */
function answer(era: Era, line: string): string | undefined {
  const { id, method, params } = JSON.parse(line);
  if (id === undefined) return undefined;
  const stateless = era === "stateless";
  const meta = stateless ? { _meta: { "io.modelcontextprotocol/serverInfo": SERVER_INFO } } : {};
  let result: unknown;
  if (method === "tools/call") {
    result = {
      content: [{ type: "text", text: String(params?.arguments?.text ?? "") }],
      ...(stateless ? { resultType: "complete" } : {}),
      ...meta,
    };
  } else if (method === "tools/list") {
    result = {
      tools: TOOLS,
      ...(stateless ? { resultType: "complete", ttlMs: 0, cacheScope: "private" } : {}),
      ...meta,
    };
  } else if (method === "initialize") {
    if (stateless) {
      return JSON.stringify({
        jsonrpc: "2.0",
        id,
        error: { code: -32022, message: "Unsupported", data: { supported: ["2026-07-28"], requested: "x" } },
      });
    }
    result = { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: SERVER_INFO };
  } else if (method === "server/discover") {
    if (!stateless) {
      return JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } });
    }
    result = {
      resultType: "complete",
      ttlMs: 0,
      cacheScope: "private",
      supportedVersions: ["2026-07-28"],
      capabilities: { tools: {} },
      ...meta,
    };
  } else {
    result = stateless ? { resultType: "complete" } : {};
  }
  return JSON.stringify({ result, jsonrpc: "2.0", id });
}

/** One proxy session between a host of `host` era and a server of `server` era, connected and verified. */
async function pair(host: Era, server: Era) {
  const loaded = lockfileFor(server);
  let toServer: string[] = [];
  let toHost: string[] = [];
  const session = new ProxySession({
    mode: "enforce",
    failOn: "critical",
    lockfile: loaded,
    policy: createCorePolicy(loaded.lockfile as LockfileV3),
    log: { write() {}, close() {} } as unknown as AuditLog,
    toHost: (l) => toHost.push(l),
    toServer: (l) => toServer.push(l),
  });
  const serve = () => {
    const lines = toServer;
    toServer = [];
    for (const l of lines) {
      const a = answer(server, l);
      if (a) session.onServerLine(enc.encode(a));
    }
  };
  if (host === "session") {
    session.onHostLine(enc.encode(
      `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{},"sampling":{},"elicitation":{}},"clientInfo":{"name":"bench-host","version":"1.0.0"}}}`,
    ));
    serve();
  }
  session.onHostLine(enc.encode(
    host === "session"
      ? `{"jsonrpc":"2.0","method":"notifications/initialized"}`
      : JSON.stringify({ jsonrpc: "2.0", id: 0, method: "tools/list", params: { _meta: ENVELOPE } }),
  ));
  let ready = false;
  session.preflightDone.then(() => ready = true);
  while (!ready) {
    serve();
    await new Promise((r) => setTimeout(r, 1));
  }
  serve();
  if (!toHost.length || !toHost[toHost.length - 1].includes('"result"')) {
    throw new Error(`${host}->${server}: not connected: ${toHost.join("")}`);
  }
  toHost = [];

  const request = (id: number) =>
    enc.encode(JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: {
        name: "echo",
        arguments: { text: "hello, world" },
        ...(host === "stateless" ? { _meta: ENVELOPE } : {}),
      },
    }));
  const N = 1000; // below the default max-pending (1024)
  const requests = Array.from({ length: N }, (_, i) => request(i + 1));
  let hostMs = 0, serverMs = 0, n = 0;
  let hostBytes = 0, serverBytes = 0;
  /** One batch of N round trips; `measure` false for warm-up. */
  const round = (measure: boolean) => {
    let t0 = performance.now();
    for (const req of requests) session.onHostLine(req);
    const h = performance.now() - t0;
    const responses = toServer.map((l) => enc.encode(answer(server, l.trimEnd())!));
    toServer = [];
    t0 = performance.now();
    for (const res of responses) session.onServerLine(res);
    const s = performance.now() - t0;
    if (toHost.length !== N || !toHost[0].includes('"hello, world"')) {
      throw new Error(`${host}->${server}: unexpected ${toHost[0]}`);
    }
    if (measure) {
      hostMs += h;
      serverMs += s;
      n += N;
      hostBytes = requests[0].length;
      serverBytes = responses[0].length;
    }
    toHost = [];
  };
  return {
    name: `${host} host -> ${server} server`,
    round,
    close: () => session.close(),
    stats: () => ({ hostMs, serverMs, n, hostBytes, serverBytes }),
  };
}

const pairs = [
  await pair("session", "session"),
  await pair("stateless", "stateless"),
  await pair("stateless", "session"),
  await pair("session", "stateless"),
];
for (const p of pairs) for (let i = 0; i < 5; i++) p.round(false);
const rounds = Math.ceil(calls / 1000);
for (let r = 0; r < rounds; r++) for (const p of pairs) p.round(true);
for (const p of pairs) p.close();

const bun = (globalThis as { Bun?: { version: string } }).Bun;
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
console.log(
  `proxy session CPU per tools/call round trip, no I/O, real policy core (${
    bun ? `bun ${bun.version}` : deno ? `deno ${deno.version.deno}` : `node ${process.version}`
  }, ${rounds * 1000} calls per pair, interleaved)`,
);
const base = pairs[0].stats();
const baseUs = ((base.hostMs + base.serverMs) * 1000) / base.n;
for (const p of pairs) {
  const s = p.stats();
  const h = (s.hostMs * 1000) / s.n;
  const v = (s.serverMs * 1000) / s.n;
  console.log(
    `  ${p.name.padEnd(34)} host->server ${h.toFixed(2).padStart(6)} us (${
      String(s.hostBytes).padStart(3)
    } B)  ` +
      `server->host ${v.toFixed(2).padStart(6)} us (${String(s.serverBytes).padStart(3)} B)  ` +
      `round trip ${(h + v).toFixed(2).padStart(6)} us  x${((h + v) / baseUs).toFixed(2)}`,
  );
}

/** ns per call of one step, on the same small message. */
function step(f: () => unknown, iters = 200_000): number {
  for (let i = 0; i < iters / 10; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) f();
  return ((performance.now() - t0) * 1e6) / iters;
}
const call = (meta: boolean) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "hello, world" }, ...(meta ? { _meta: ENVELOPE } : {}) },
  });
const [oldText, newText] = [call(false), call(true)];
const [oldMsg, newMsg] = [JSON.parse(oldText), JSON.parse(newText)];
console.log("  steps of a request, 2025 -> 2026-07-28 (ns):");
for (
  const [what, a, b] of [
    ["JSON.parse", () => JSON.parse(oldText), () => JSON.parse(newText)],
    ["requestCollision", () => requestCollision(oldText, oldMsg), () => requestCollision(newText, newMsg)],
    ["JSON.stringify", () => JSON.stringify(oldMsg), () => JSON.stringify(newMsg)],
    ["envelope check", () => undefined, () => envelopeProblem(newMsg.params)],
  ] as [string, () => unknown, () => unknown][]
) {
  console.log(
    `    ${what.padEnd(18)} ${step(a).toFixed(0).padStart(5)} -> ${step(b).toFixed(0).padStart(5)}`,
  );
}
