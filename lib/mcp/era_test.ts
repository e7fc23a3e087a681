import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpClient } from "./client.ts";
import {
  envelopeProblem,
  META_CLIENT_CAPABILITIES,
  META_PROTOCOL_VERSION,
  readDiscoverResult,
  readEnvelope,
  readInputRequired,
  withEnvelope,
  withoutEnvelope,
} from "./era.ts";
import { listInterface } from "./interface.ts";
import type { JsonRpcMessage } from "./jsonrpc.ts";
import { listAll } from "./list.ts";
import { withStdioServer } from "./stdio_session.ts";
import { scanServer } from "../scan/scan_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NEW_ERA = ["node", join(ROOT, "testdata/servers/new_era_server.mjs")];
const MEMORY = ["node", join(ROOT, "node_modules/@modelcontextprotocol/server-memory/dist/index.js")];

/** An in-memory server: `answer` maps each request to the messages the server writes back. */
function fakeServer(answer: (req: JsonRpcMessage) => JsonRpcMessage[]) {
  const sent: JsonRpcMessage[] = [];
  const client: McpClient = new McpClient({
    send(line) {
      const msg = JSON.parse(line) as JsonRpcMessage;
      sent.push(msg);
      if (msg.method === undefined || !("id" in msg)) return;
      queueMicrotask(() => {
        for (const m of answer(msg)) client.handleMessage(m);
      });
    },
  });
  return { client, sent };
}

const DISCOVER = {
  resultType: "complete",
  ttlMs: 0,
  cacheScope: "private",
  supportedVersions: ["2026-07-28"],
  capabilities: { tools: {} },
  instructions: "hi",
  _meta: { "io.modelcontextprotocol/serverInfo": { name: "s", version: "2" } },
};
const INIT = {
  protocolVersion: "2025-06-18",
  capabilities: { tools: {} },
  serverInfo: { name: "old", version: "1" },
};

test("connect: a discover result offering 2026-07-28 makes the client stateless, and every request carries the envelope", async () => {
  const { client, sent } = fakeServer((req) => [{
    jsonrpc: "2.0",
    id: req.id,
    result: req.method === "server/discover" ? DISCOVER : { resultType: "complete", tools: [{ name: "t" }] },
  }]);
  const info = await client.connect({ name: "mcptrust", version: "1" });
  assert.equal(info.era, "stateless");
  assert.equal(info.protocolVersion, "2026-07-28");
  assert.deepEqual(info.serverInfo, { name: "s", version: "2" });
  assert.equal(info.instructions, "hi");
  assert.equal(client.era, "stateless");
  const items = await listAll(client, "tools/list");
  assert.deepEqual(items, [{ name: "t" }]);
  assert.equal(sent.filter((m) => m.method === "initialize").length, 0, "no initialize in the stateless era");
  for (const m of sent) {
    const env = readEnvelope(m.params);
    assert.equal(env.protocolVersion, "2026-07-28", JSON.stringify(m));
    assert.ok(env.capabilities && "roots" in env.capabilities && "sampling" in env.capabilities);
    assert.deepEqual(env.clientInfo, { name: "mcptrust", version: "1" });
  }
});

test("connect falls back to initialize on method-not-found, another error, a malformed result or no common revision", async () => {
  const answers: unknown[] = [
    { error: { code: -32601, message: "Method not found" } },
    { error: { code: -32600, message: "Server not initialized" } },
    { result: { supportedVersions: "2026-07-28", capabilities: {} } },
    { result: { ...DISCOVER, supportedVersions: ["2025-06-18"] } },
  ];
  for (const a of answers) {
    const { client, sent } = fakeServer((req) => [
      req.method === "server/discover"
        ? { jsonrpc: "2.0", id: req.id, ...(a as object) }
        : { jsonrpc: "2.0", id: req.id, result: INIT },
    ]);
    const info = await client.connect({ name: "mcptrust", version: "1" });
    assert.equal(info.era, "session", JSON.stringify(a));
    assert.equal(client.era, "session");
    assert.deepEqual(sent.map((m) => m.method), [
      "server/discover",
      "initialize",
      "notifications/initialized",
    ]);
    // After the fallback no request carries an envelope.
    assert.equal(readEnvelope(sent[1].params).claimed, false);
  }
});

test("connect: a probe that is never answered falls back after the deadline, and its late answer is dropped quietly", async () => {
  const warnings: string[] = [];
  const late: JsonRpcMessage[] = [];
  const client: McpClient = new McpClient({
    onWarning: (w) => warnings.push(w),
    send(line) {
      const msg = JSON.parse(line) as JsonRpcMessage;
      if (msg.method === "server/discover") late.push(msg);
      else if (msg.method === "initialize") {
        queueMicrotask(() => client.handleMessage({ jsonrpc: "2.0", id: msg.id, result: INIT }));
      }
    },
  });
  const info = await client.connect({ name: "m", version: "1" }, { probeTimeoutMs: 20 });
  assert.equal(info.era, "session");
  assert.ok(warnings.some((w) => /did not answer server\/discover within/.test(w)), warnings.join("\n"));
  const n = warnings.length;
  assert.equal(client.handleMessage({ jsonrpc: "2.0", id: late[0].id, result: DISCOVER }), true);
  assert.equal(warnings.length, n, "the late probe answer is expected, not a stray response");
});

test("connect: -32022 naming only unknown stateless revisions is an error; initialize refused with -32022 naming 2026-07-28 probes again", async () => {
  const unknown = fakeServer((req) => [{
    jsonrpc: "2.0",
    id: req.id,
    error: {
      code: -32022,
      message: "Unsupported",
      data: { supported: ["2027-01-01"], requested: "2026-07-28" },
    },
  }]);
  await assert.rejects(unknown.client.connect(), /speaks only protocol revision\(s\) 2027-01-01/);
  // A slow modern-only server: the first probe timed out, initialize is refused, the second probe works.
  let discovers = 0;
  const sent: JsonRpcMessage[] = [];
  const slow: McpClient = new McpClient({
    send(line) {
      const msg = JSON.parse(line) as JsonRpcMessage;
      sent.push(msg);
      if (msg.method === "server/discover" && ++discovers === 1) return; // never answered
      queueMicrotask(() =>
        slow.handleMessage(
          msg.method === "initialize"
            ? {
              jsonrpc: "2.0",
              id: msg.id,
              error: {
                code: -32022,
                message: "x",
                data: { supported: ["2026-07-28"], requested: "2025-06-18" },
              },
            }
            : { jsonrpc: "2.0", id: msg.id, result: DISCOVER },
        )
      );
    },
  });
  const info = await slow.connect({ name: "m", version: "1" }, { probeTimeoutMs: 20 });
  assert.equal(info.era, "stateless");
  assert.deepEqual(sent.map((m) => m.method), ["server/discover", "initialize", "server/discover"]);
});

test("a list result whose resultType is not complete is refused", async () => {
  const { client } = fakeServer((req) => [{
    jsonrpc: "2.0",
    id: req.id,
    result: req.method === "server/discover"
      ? DISCOVER
      : { resultType: "input_required", inputRequests: {}, requestState: "x", tools: [{ name: "t" }] },
  }]);
  await client.connect();
  await assert.rejects(
    listAll(client, "tools/list"),
    /resultType "input_required"; a list result must be "complete"/,
  );
});

test("envelope helpers: claim detection, validation, adding and removing keep other _meta members", () => {
  assert.equal(readEnvelope({ _meta: { progressToken: 1 } }).claimed, false);
  assert.equal(readEnvelope({ _meta: { [META_PROTOCOL_VERSION]: 7 } }).claimed, true);
  assert.match(envelopeProblem({ _meta: { [META_PROTOCOL_VERSION]: "2026-07-28" } })!, /clientCapabilities/);
  const env = { [META_PROTOCOL_VERSION]: "2026-07-28", [META_CLIENT_CAPABILITIES]: {} };
  const p = withEnvelope({ name: "t", _meta: { progressToken: 3 } }, env);
  assert.equal(envelopeProblem(p), undefined);
  assert.deepEqual(withoutEnvelope(p), { name: "t", _meta: { progressToken: 3 } });
  assert.deepEqual(withoutEnvelope(withEnvelope({ name: "t" }, env)), { name: "t" });
  assert.equal(readDiscoverResult({ supportedVersions: [1], capabilities: {} }), undefined);
  assert.deepEqual(readDiscoverResult(DISCOVER)?.serverInfo, { name: "s", version: "2" });
});

test("input_required results: shape, at least one member, and a bounded requestState", () => {
  const ok = readInputRequired({
    resultType: "input_required",
    inputRequests: { a: { method: "elicitation/create", params: { message: "?" } } },
    requestState: "s",
  });
  assert.ok(!("problem" in ok));
  assert.deepEqual(ok.inputRequests.map(([k, r]) => [k, r.method]), [["a", "elicitation/create"]]);
  const problem = (r: Record<string, unknown>) => {
    const v = readInputRequired(r);
    return "problem" in v ? v.problem : "";
  };
  assert.match(problem({}), /neither inputRequests nor requestState/);
  assert.match(problem({ requestState: "x".repeat(64 * 1024 + 1) }), /longer than 65536 bytes/);
  assert.match(problem({ requestState: "é".repeat(32 * 1024 + 1) }), /longer than 65536 bytes/);
  assert.equal(problem({ requestState: "x".repeat(64 * 1024) }), "");
  assert.match(problem({ inputRequests: { a: { params: {} } } }), /has no method/);
  assert.match(problem({ inputRequests: [] }), /not an object/);
});

test("against real processes: the v2 SDK server is listed statelessly (also modern-only), the 2025 server-memory by initialize", async () => {
  for (const argv of [NEW_ERA, [...NEW_ERA, "--modern-only"]]) {
    const iface = await scanServer(argv, { timeoutMs: 15_000 });
    assert.equal(iface.era, "stateless");
    assert.equal(iface.protocolVersion, "2026-07-28");
    assert.equal(iface.serverInfo.name, "new-era-notes");
    assert.deepEqual(iface.tools.map((t) => t.name).sort(), [
      "confirm_delete",
      "echo",
      "get_time",
      "read_note",
    ]);
    assert.deepEqual(iface.resourceTemplates.map((t) => t.uriTemplate), ["note://{id}"]);
  }
  const warnings: string[] = [];
  const old = await scanServer(MEMORY, { timeoutMs: 15_000, onWarning: (w) => warnings.push(w) });
  assert.equal(old.era, "session");
  assert.equal(old.serverInfo.name, "memory-server");
  assert.deepEqual(warnings, [], "the probe of a 2025 server is silent");
});

test("a stdio server that exits on the probe is started again and initialized", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-era-"));
  const script = join(dir, "strict.mjs");
  // Answers initialize and tools/list; any other first request makes it exit, as some SDKs do.
  writeFileSync(
    script,
    `import { createInterface } from "node:readline";
let ready = false;
createInterface({ input: process.stdin }).on("line", (l) => {
  const m = JSON.parse(l);
  if (!ready && m.method !== "initialize") process.exit(1);
  if (m.method === "initialize") { ready = true; return out(m.id, { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "strict", version: "1" } }); }
  if (m.method === "tools/list") return out(m.id, { tools: [{ name: "only" }] });
});
function out(id, result) { process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id, result }) + "\\n"); }
`,
  );
  const warnings: string[] = [];
  const iface = await scanServer(["node", script], { timeoutMs: 10_000, onWarning: (w) => warnings.push(w) });
  assert.equal(iface.era, "session");
  assert.deepEqual(iface.tools.map((t) => t.name), ["only"]);
  assert.ok(
    warnings.some((w) => /stopped on the server\/discover probe; it was started again/.test(w)),
    warnings.join("\n"),
  );
});

test("withStdioServer + connect({era: 'session'}) never probes (what the proxy and --url use)", async () => {
  const iface = await withStdioServer(NEW_ERA, { timeoutMs: 10_000 }, async (c) => {
    await c.connect(undefined, { era: "session" });
    return await listInterface(c);
  });
  // The v2 SDK server serves a 2025 client too: the same tools, listed in the session era.
  assert.equal(iface.era, "session");
  assert.deepEqual(iface.tools.map((t) => t.name).sort(), [
    "confirm_delete",
    "echo",
    "get_time",
    "read_note",
  ]);
});
