/**
 * End-to-end: both MCP eras (docs/PROTOCOL_ERAS.md) through the compiled binary. The stateless server is
 * a real one built with the official SDK v2 (testdata/servers/new_era_server.mjs, @modelcontextprotocol/
 * server 2.x); the session-era servers are the real npm servers. Hosts: the official SDK v2 client
 * (@modelcontextprotocol/client, stateless or 2025) and the SDK 1.x client (@modelcontextprotocol/sdk).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client as V2Client } from "@modelcontextprotocol/client";
import { StdioClientTransport as V2StdioTransport } from "@modelcontextprotocol/client/stdio";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport as V1StdioTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/types.d.ts"
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { BIN, ROOT, run, serverEverything, serverMemory, tempDir } from "./helpers.ts";
import { type Json, withProxy } from "./proxy_harness.ts";

const DIR = tempDir("mcptrust-era-");

/** argv of the stateless fixture server (SDK v2), with its flags. */
function newEra(...flags: string[]): string[] {
  return ["node", join(ROOT, "testdata/servers/new_era_server.mjs"), ...flags];
}

/** Lines a server recorded with --record (parsed). */
// deno-lint-ignore no-explicit-any
function recordedLines(file: string): any[] {
  return readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

let newEraLock: Promise<string> | undefined;
/** The lockfile of the stateless server (made once). */
function lockNewEra(): Promise<string> {
  return newEraLock ??= (async () => {
    const lock = join(DIR, "new-era.lock.json");
    const r = await run(["lock", "-o", lock, "--", ...newEra()]);
    assert.equal(r.code, 0, r.stderr);
    return lock;
  })();
}

test("lock a stateless (2026-07-28) server: the era and revision are recorded; lock again is up to date; check passes", async () => {
  const lock = await lockNewEra();
  const doc = JSON.parse(readFileSync(lock, "utf8"));
  assert.deepEqual(doc.server.protocol, { era: "stateless", revision: "2026-07-28" });
  assert.equal(doc.server.name, "new-era-notes");
  assert.equal(doc.server.title, "Notes (2026-07-28)");
  assert.ok(doc.server.instructionsHash, "the discover result's instructions are pinned");
  assert.deepEqual(Object.keys(doc.tools).sort(), ["confirm_delete", "echo", "get_time", "read_note"]);
  assert.deepEqual(doc.resources.templates.map((t: { uriTemplate: string }) => t.uriTemplate), [
    "note://{id}",
  ]);
  assert.deepEqual(doc.resources.static.map((r: { uri: string }) => r.uri), ["note://welcome"]);
  assert.deepEqual(Object.keys(doc.prompts.definitions), ["summarize"]);
  const again = await run(["lock", "-o", lock, "--", ...newEra("--modern-only")]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /up to date/);
  const check = await run(["check", "--lock", lock, "--format", "json", "--", ...newEra()]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.deepEqual(JSON.parse(check.stdout).drift, []);
  const scan = await run(["scan", "--", ...newEra("--modern-only")]);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stdout, /2026-07-28/);
});

test("check against a drifted stateless server: an added tool and a poisoned description are critical", async () => {
  const lock = await lockNewEra();
  const added = await run([
    "check",
    "--lock",
    lock,
    "--format",
    "json",
    "--",
    ...newEra("--variant", "tool-added"),
  ]);
  assert.equal(added.code, 1, added.stdout + added.stderr);
  assert.deepEqual(
    JSON.parse(added.stdout).drift.map((d: { type: string; severity: string }) => [d.type, d.severity]),
    [["TOOL_ADDED", "critical"]],
  );
  const poisoned = await run([
    "check",
    "--lock",
    lock,
    "--format",
    "json",
    "--",
    ...newEra("--variant", "description"),
  ]);
  assert.equal(poisoned.code, 1);
  const d = JSON.parse(poisoned.stdout).drift;
  assert.equal(d[0].type, "TOOL_CHANGED");
  assert.equal(d[0].severity, "critical");
  assert.match(d[0].message, /suspicious text/);
  const instr = await run([
    "check",
    "--lock",
    lock,
    "--format",
    "json",
    "--",
    ...newEra("--variant", "instructions"),
  ]);
  assert.deepEqual(JSON.parse(instr.stdout).drift.map((x: { type: string }) => x.type), [
    "SERVER_INSTRUCTIONS_CHANGED",
  ]);
});

test("a server that changed era since it was locked is moderate drift: passes by default, fails --fail-on moderate", async () => {
  const lock = await lockNewEra();
  // The same server locked before the stateless era: a lockfile without server.protocol (session).
  const doc = JSON.parse(readFileSync(lock, "utf8"));
  delete doc.server.protocol;
  const old = join(DIR, "as-session.lock.json");
  writeFileSync(old, JSON.stringify(doc, null, 2) + "\n");
  const r = await run(["check", "--lock", old, "--format", "json", "--", ...newEra()]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const drift = JSON.parse(r.stdout).drift;
  assert.deepEqual(drift.map((d: { type: string; severity: string }) => [d.type, d.severity]), [[
    "SERVER_PROTOCOL_CHANGED",
    "moderate",
  ]]);
  assert.match(drift[0].message, /from the session era to the stateless era \(2026-07-28\)/);
  const strict = await run(["check", "--lock", old, "--fail-on", "moderate", "--", ...newEra()]);
  assert.equal(strict.code, 1, strict.stdout + strict.stderr);
  assert.match(strict.stdout, /protocol/);
});

test("policy check runs over a stateless server", async () => {
  const r = await run(["policy", "check", "--preset", "baseline", "--", ...newEra()]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  assert.doesNotMatch(r.stderr, /initialize|server\/discover/);
});

// ---------------------------------------------------------------------------------------------------
// The proxy: hosts and servers of both eras

/** The official SDK v2 client as the host, connected through `mcptrust proxy` (auto: probes, falls back). */
async function withV2Host<T>(
  proxyArgs: string[],
  fn: (client: V2Client) => Promise<T>,
  opts: { negotiation?: "auto" | "legacy"; capabilities?: Record<string, unknown> } = {},
): Promise<T> {
  const client = new V2Client({ name: "v2-host", version: "2.4.0" }, {
    capabilities: opts.capabilities ?? { roots: {}, sampling: {}, elicitation: {} },
    ...(opts.negotiation === "legacy" ? {} : { versionNegotiation: { mode: "auto" as const } }),
  });
  client.setRequestHandler("elicitation/create", () => ({ action: "accept", content: { confirm: true } }));
  const transport = new V2StdioTransport({ command: BIN, args: ["proxy", ...proxyArgs], stderr: "pipe" });
  await client.connect(transport);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** The SDK 1.x client (2025 revisions) as the host. */
async function withV1Host<T>(proxyArgs: string[], fn: (client: V1Client) => Promise<T>): Promise<T> {
  const client = new V1Client({ name: "v1-host", version: "1.32.2" }, {
    capabilities: { roots: {}, sampling: {}, elicitation: {} },
  });
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: "accept", content: { confirm: true } }));
  const transport = new V1StdioTransport({ command: BIN, args: ["proxy", ...proxyArgs], stderr: "pipe" });
  await client.connect(transport);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

// deno-lint-ignore no-explicit-any
const textOf = (r: any): string => r.content?.[0]?.text ?? JSON.stringify(r);

let everythingLock: Promise<string> | undefined;
function lockEverything(): Promise<string> {
  return everythingLock ??= (async () => {
    const lock = join(DIR, "everything.lock.json");
    const r = await run(["lock", "-o", lock, "--", ...serverEverything()]);
    assert.equal(r.code, 0, r.stderr);
    return lock;
  })();
}

test("stateless host (SDK v2) -> proxy -> stateless server (SDK v2): listed, called, and an input-required retry completes", async () => {
  const lock = await lockNewEra();
  const log = join(DIR, "v2-v2.log");
  const rec = join(DIR, "v2-v2.jsonl");
  await withV2Host(
    ["--lock", lock, "--log-output", log, "--", ...newEra("--record", rec)],
    async (client) => {
      assert.equal(client.getProtocolEra(), "modern");
      assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
      assert.equal(client.getServerVersion()?.name, "new-era-notes");
      assert.equal(client.getInstructions(), "Notes server: read, echo and delete notes.");
      const tools = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(tools, ["confirm_delete", "echo", "get_time", "read_note"]);
      assert.equal(
        textOf(await client.callTool({ name: "echo", arguments: { text: "hi" } })),
        '{"text":"hi"}',
      );
      // The server answers input_required (an elicitation); the SDK fulfils it and retries: the proxy
      // decides the retry again and passes it.
      assert.match(
        textOf(await client.callTool({ name: "confirm_delete", arguments: { id: "1" } })),
        /^deleted 1 \(state delete:1\)$/,
      );
      const read = await client.readResource({ uri: "note://1" });
      assert.equal((read.contents[0] as { text: string }).text, "first note");
      // Structured output is validated against the approved outputSchema in this era too.
      const time = await client.callTool({ name: "get_time", arguments: {} });
      assert.deepEqual(time.structuredContent, { iso: "2026-07-28T00:00:00.000Z" });
    },
  );
  const seen = recordedLines(rec).filter((m) => m.method === "tools/call");
  assert.equal(seen.length, 4, "echo, confirm_delete, its retry, get_time");
  for (const m of seen) {
    assert.equal(m.params._meta["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
    assert.match(m.id, /^mcpt-[0-9a-f]{32}$/, "host ids never reach the server");
  }
  assert.equal(seen[2].params.requestState, "delete:1");
  assert.deepEqual(seen[2].params.inputResponses, {
    confirm: { action: "accept", content: { confirm: true } },
  });
  assert.equal(recordedLines(rec).filter((m) => m.method === "initialize").length, 0, "no handshake");
});

test("stateless host (SDK v2) -> proxy -> 2025 server-everything: discover answered from initialize, results translated", async () => {
  const lock = await lockEverything();
  await withV2Host(["--lock", lock, "--", ...serverEverything()], async (client) => {
    assert.equal(client.getProtocolEra(), "modern");
    assert.equal(client.getServerVersion()?.name, "mcp-servers/everything");
    assert.ok(client.getInstructions()?.includes("Everything Server"));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes("echo") && tools.includes("get-sum"), JSON.stringify(tools));
    assert.equal(textOf(await client.callTool({ name: "echo", arguments: { message: "hi" } })), "Echo: hi");
    const sum = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } });
    assert.match(textOf(sum), /5/);
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    assert.ok(prompts.length > 0);
    const res = (await client.listResources()).resources;
    assert.ok(res.length > 0);
    const read = await client.readResource({ uri: res[0].uri });
    assert.ok(read.contents.length > 0);
  });
});

test("2025 host (SDK 1.x) -> proxy -> stateless-only server: initialize answered from discover, input requests relayed as elicitation", async () => {
  const lock = await lockNewEra();
  const rec = join(DIR, "v1-v2.jsonl");
  await withV1Host(["--lock", lock, "--", ...newEra("--modern-only", "--record", rec)], async (client) => {
    assert.equal(client.getServerVersion()?.name, "new-era-notes");
    assert.equal(client.getInstructions(), "Notes server: read, echo and delete notes.");
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), [
      "confirm_delete",
      "echo",
      "get_time",
      "read_note",
    ]);
    // The server's input_required becomes an elicitation/create request to this host; its answer goes
    // back in the retry.
    assert.equal(
      textOf(await client.callTool({ name: "confirm_delete", arguments: { id: "7" } })),
      "deleted 7 (state delete:7)",
    );
    const prompt = await client.getPrompt({ name: "summarize", arguments: { text: "x" } });
    assert.match(JSON.stringify(prompt.messages), /Summarize: x/);
    assert.deepEqual(await client.ping(), {}, "ping is answered by the proxy (2026-07-28 has none)");
  });
  const lines = recordedLines(rec);
  assert.equal(lines.filter((m) => m.method === "initialize" || m.method === "ping").length, 0);
  for (const m of lines.filter((m) => "id" in m && m.method !== "server/discover")) {
    assert.equal(m.params?._meta?.["io.modelcontextprotocol/clientInfo"]?.name, "v1-host", JSON.stringify(m));
  }
});

test("2025 host (SDK v2, legacy) -> proxy -> stateless server, and a stateless host to server-memory: lock and check both", async () => {
  const lock = await lockNewEra();
  await withV2Host(["--lock", lock, "--", ...newEra()], async (client) => {
    assert.equal(client.getProtocolEra(), "legacy");
    assert.equal(textOf(await client.callTool({ name: "read_note", arguments: { id: "1" } })), "first note");
  }, { negotiation: "legacy" });
  const memLock = join(DIR, "memory.lock.json");
  const r = await run(["lock", "-o", memLock, "--", ...serverMemory()]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(memLock, "utf8")).server.protocol, undefined);
  const check = await run(["check", "--lock", memLock, "--", ...serverMemory()]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  await withV2Host(["--lock", memLock, "--", ...serverMemory()], async (client) => {
    assert.equal(client.getProtocolEra(), "modern");
    const graph = await client.callTool({ name: "read_graph", arguments: {} });
    assert.match(textOf(graph), /entities/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Enforcement in the stateless era, line by line

const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": { elicitation: {} },
  "io.modelcontextprotocol/clientInfo": { name: "raw-stateless-host", version: "1" },
};
const withMeta = (params: Record<string, unknown> = {}) => ({ ...params, _meta: ENVELOPE });

test("an input-required retry is decided again: a retry naming an unlocked tool is denied and never reaches the server", async () => {
  const lock = await lockNewEra();
  const rec = join(DIR, "retry.jsonl");
  // The server now also has exec_shell (not in the lockfile); --fail-on none lets the session run, so
  // only item-level enforcement stands between the host and it.
  const args = [
    "--lock",
    lock,
    "--fail-on",
    "none",
    "--",
    ...newEra("--variant", "tool-added", "--record", rec),
  ];
  await withProxy(args, async (p) => {
    const list = await p.request("1", "tools/list", withMeta());
    assert.deepEqual(list.result.tools.map((t: { name: string }) => t.name).sort(), [
      "confirm_delete",
      "echo",
      "get_time",
      "read_note",
    ]);
    assert.equal(list.result.resultType, "complete");
    assert.equal(typeof list.result.ttlMs, "number");
    const first = await p.request(
      "2",
      "tools/call",
      withMeta({ name: "confirm_delete", arguments: { id: "1" } }),
    );
    assert.equal(first.result.resultType, "input_required", JSON.stringify(first));
    const state = first.result.requestState;
    assert.equal(state, "delete:1");
    const answers = { confirm: { action: "accept", content: { confirm: true } } };
    // The retry targets another tool, one the lockfile does not allow: denied like any call to it.
    const forged = await p.request(
      "3",
      "tools/call",
      withMeta({
        name: "exec_shell",
        arguments: { command: "id" },
        inputResponses: answers,
        requestState: state,
      }),
    );
    assert.equal(forged.error?.code, -32001, JSON.stringify(forged));
    assert.match(forged.error.message, /MCPTRUST_DENIED: .*exec_shell/);
    // The same request state on a locked tool is decided on the tool, not on the state.
    const echo = await p.request(
      "4",
      "tools/call",
      withMeta({ name: "echo", arguments: { text: "x" }, requestState: state }),
    );
    assert.equal(echo.result.content[0].text, '{"text":"x"}');
    // A request state over 64 KiB is refused before the server sees it.
    const big = await p.request(
      "5",
      "tools/call",
      withMeta({
        name: "confirm_delete",
        arguments: { id: "1" },
        inputResponses: answers,
        requestState: "x".repeat(65537),
      }),
    );
    assert.equal(big.error?.code, -32602, JSON.stringify(big).slice(0, 300));
    assert.match(big.error.message, /requestState is longer than 65536 bytes/);
    const ok = await p.request(
      "6",
      "tools/call",
      withMeta({
        name: "confirm_delete",
        arguments: { id: "1" },
        inputResponses: answers,
        requestState: state,
      }),
    );
    assert.equal(ok.result.content[0].text, "deleted 1 (state delete:1)");
  });
  const calls = recordedLines(rec).filter((m) => m.method === "tools/call").map((m) => m.params.name);
  assert.deepEqual(
    calls,
    ["confirm_delete", "echo", "confirm_delete"],
    "exec_shell and the oversize state never arrived",
  );
});

test("the stateless envelope is required and its revision must be one the proxy speaks; initialize is refused", async () => {
  const lock = await lockNewEra();
  await withProxy(["--lock", lock, "--", ...newEra()], async (p) => {
    const first = await p.request("1", "tools/list", withMeta());
    assert.ok(first.result, JSON.stringify(first));
    const bare = await p.request("2", "tools/list", {});
    assert.equal(bare.error?.code, -32602);
    assert.match(bare.error.message, /_meta/);
    const noCaps = await p.request("3", "tools/list", {
      _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" },
    });
    assert.equal(noCaps.error?.code, -32602);
    assert.match(noCaps.error.message, /clientCapabilities/);
    const future = await p.request("4", "tools/list", {
      _meta: { ...ENVELOPE, "io.modelcontextprotocol/protocolVersion": "2030-01-01" },
    });
    assert.equal(future.error?.code, -32022);
    assert.deepEqual(future.error.data, { supported: ["2026-07-28"], requested: "2030-01-01" });
    const init = await p.request("5", "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "x", version: "1" },
    });
    assert.equal(init.error?.code, -32022);
  });
});

test("subscriptions/listen is decided by URI like resources/read; the stream carries the host's own id", async () => {
  const lock = await lockNewEra();
  const rec = join(DIR, "listen.jsonl");
  await withProxy(["--lock", lock, "--", ...newEra("--record", rec)], async (p) => {
    await p.request("0", "tools/list", withMeta());
    const denied = await p.request(
      '"sub-bad"',
      "subscriptions/listen",
      withMeta({ notifications: { resourceSubscriptions: ["note://welcome", "file:///etc/passwd"] } }),
    );
    assert.equal(denied.error?.code, -32001, JSON.stringify(denied));
    assert.match(denied.error.message, /file:\/\/\/etc\/passwd/);
    p.send({
      jsonrpc: "2.0",
      id: "sub-1",
      method: "subscriptions/listen",
      params: withMeta({
        notifications: { toolsListChanged: true, resourceSubscriptions: ["note://welcome"] },
      }),
    });
    const ack = await p.waitFor(
      (l) => (l.value as Json)?.method === "notifications/subscriptions/acknowledged",
      "acknowledging the subscription",
    );
    assert.equal((ack.value as Json).params._meta["io.modelcontextprotocol/subscriptionId"], "sub-1");
    // The listen stays open (no answer) and does not hold up other requests.
    const echo = await p.request("9", "tools/call", withMeta({ name: "echo", arguments: { text: "y" } }));
    assert.equal(echo.result.content[0].text, '{"text":"y"}');
    assert.equal(p.responsesTo('"sub-1"').length, 0);
    p.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "sub-1" } });
    await p.request("10", "tools/list", withMeta());
  });
  const lines = recordedLines(rec);
  const listens = lines.filter((m) => m.method === "subscriptions/listen");
  assert.equal(listens.length, 1, "the denied listen never reached the server");
  const cancel = lines.find((m) => m.method === "notifications/cancelled");
  assert.equal(cancel?.params.requestId, listens[0].id, "the cancel names the id the server saw");
});
