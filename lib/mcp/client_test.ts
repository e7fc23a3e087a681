import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { McpClient, ServerRpcError } from "./client.ts";
import { listAll } from "./list.ts";
import { withStdioServer } from "./stdio_session.ts";
import { listInterface } from "./interface.ts";
import type { JsonRpcMessage } from "./jsonrpc.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const fixture = (name: string) => [
  "node",
  join(ROOT, "testdata/servers/fixture_server.mjs"),
  join(ROOT, `testdata/servers/scenarios/${name}.json`),
];

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

test("responses are matched by id: notifications and server requests interleaved before them are handled", async () => {
  const { client, sent } = fakeServer((req) => [
    { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "hi" } },
    { jsonrpc: "2.0", id: "srv-1", method: "ping" },
    { jsonrpc: "2.0", id: "srv-2", method: "roots/list" },
    { jsonrpc: "2.0", id: "srv-3", method: "sampling/createMessage" },
    { jsonrpc: "2.0", id: "someone-else", result: { bogus: true } },
    { jsonrpc: "2.0", id: req.id, result: { ok: req.method } },
  ]);
  assert.deepEqual(await client.request("tools/list"), { ok: "tools/list" });
  const replies = Object.fromEntries(
    sent.filter((m) => typeof m.id === "string" && m.id.startsWith("srv-")).map((m) => [m.id, m]),
  );
  assert.deepEqual(replies["srv-1"].result, {});
  assert.deepEqual(replies["srv-2"].result, { roots: [] });
  assert.equal(replies["srv-3"].error?.code, -32601);
});

test("pagination follows nextCursor across pages", async () => {
  const pages: Record<string, { tools: { name: string }[]; nextCursor?: string }> = {
    "": { tools: [{ name: "a" }], nextCursor: "p2" },
    p2: { tools: [{ name: "b" }], nextCursor: "p3" },
    p3: { tools: [{ name: "c" }] },
  };
  const { client } = fakeServer((req) => [{
    jsonrpc: "2.0",
    id: req.id,
    result: pages[(req.params as { cursor?: string })?.cursor ?? ""],
  }]);
  const items = await listAll(client, "tools/list");
  assert.deepEqual(items.map((t) => t.name), ["a", "b", "c"]);
});

test("a cursor loop, too many pages and too many items are refused", async () => {
  const loop = fakeServer((
    req,
  ) => [{ jsonrpc: "2.0", id: req.id, result: { tools: [{ name: "x" }], nextCursor: "same" } }]);
  await assert.rejects(listAll(loop.client, "tools/list"), /pagination loops/);
  let n = 0;
  const endless = fakeServer((
    req,
  ) => [{ jsonrpc: "2.0", id: req.id, result: { tools: [], nextCursor: `c${n++}` } }]);
  await assert.rejects(listAll(endless.client, "tools/list", { maxPages: 5 }), /more than 5 pages/);
  const big = fakeServer((req) => [{
    jsonrpc: "2.0",
    id: req.id,
    result: { tools: Array.from({ length: 20 }, (_, i) => ({ name: `t${i}` })) },
  }]);
  await assert.rejects(listAll(big.client, "tools/list", { maxItems: 10 }), /more than 10 items/);
});

test("a JSON-RPC error answer rejects with the server's code", async () => {
  const { client } = fakeServer((
    req,
  ) => [{ jsonrpc: "2.0", id: req.id, error: { code: -32602, message: "bad" } }]);
  const err = await client.request("tools/list").catch((e) => e);
  assert.ok(err instanceof ServerRpcError);
  assert.equal(err.code, -32602);
});

test("against a real process: an oversize line is dropped and the scan still completes", async () => {
  const warnings: string[] = [];
  const iface = await withStdioServer(fixture("oversize_line"), {
    timeoutMs: 15_000,
    onWarning: (w) => warnings.push(w),
  }, async (c) => {
    await c.initialize();
    return await listInterface(c);
  });
  assert.ok(iface.tools.length > 0);
  assert.ok(warnings.some((w) => /dropped a line of \d+ bytes/.test(w)), warnings.join("\n"));
});

test("against a real process: early exit and garbage give one clear error naming the cause", async () => {
  const exit = withStdioServer(fixture("crash_on_start"), { timeoutMs: 5_000 }, (c) => c.initialize());
  await assert.rejects(exit, /exited with code 3 before answering initialize.*fatal: cannot open database/);
  const garbage = withStdioServer(fixture("garbage_only"), { timeoutMs: 1_000 }, (c) => c.initialize());
  await assert.rejects(garbage, /never sent a valid JSON-RPC message.*non-JSON line/);
  const afterInit = withStdioServer(fixture("exit_after_initialize"), { timeoutMs: 5_000 }, async (c) => {
    await c.initialize();
    return await listInterface(c);
  });
  await assert.rejects(afterInit, /exited with code \d+ while mcptrust was listing/);
});
