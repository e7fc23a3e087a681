/**
 * `--policy` in the proxy session, in-process with the real policy core and argument validation: call
 * rules deny with -32001 naming the rule and the server never sees the call; audit-only logs and
 * forwards; only forwarded calls are counted; the host's clientInfo reaches `session.client`; a failing
 * rule at preflight denies every request; a policy without call rules leaves the call path alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildLockfile } from "../lockfile/build.ts";
import { parseLockfile, serializeLockfile } from "../lockfile/load.ts";
import type { ServerInterface } from "../mcp/types.ts";
import type { AuditRecord } from "../observe/audit_log.ts";
import { compilePolicy } from "../policy/cel/policy.ts";
import { parsePolicyText } from "../policy/cel/policy_file.ts";
import { proxyCelPolicy } from "./cel_policy.ts";
import { createCorePolicy } from "./core_policy.ts";
import { SchemaGuard } from "./schema_guard.ts";
import { type ProxyMode, ProxySession } from "./session.ts";

const iface: ServerInterface = {
  serverInfo: { name: "files", version: "1.0.0" },
  protocolVersion: "2025-06-18",
  capabilities: { tools: {} },
  tools: [
    {
      name: "read_file",
      description: "Read a file",
      inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
      annotations: { readOnlyHint: true },
    },
    { name: "echo", description: "Echo", inputSchema: { type: "object" } },
  ],
  prompts: [],
  resources: [],
  resourceTemplates: [],
};
const loaded = parseLockfile(
  new TextEncoder().encode(
    serializeLockfile(buildLockfile(iface, { generator: "t", updatedAt: "2026-01-01T00:00:00Z" })),
  ),
  "l.json",
);
if (loaded.version !== "3") throw new Error("v3 expected");

const POLICY = `name: runtime
rules:
  - name: has_tools
    expr: size(input.tools) > 0
call_rules:
  - name: data_dir_only
    expr: 'tool.name != "read_file" || args.path.startsWith("/srv/data/")'
    failure_msg: read_file may only read under /srv/data/
  - name: three_calls
    expr: session.calls[tool.name] < 3
    failure_msg: at most 3 calls of a tool per session
  - name: known_host
    expr: session.client.name == "test-host"
    failure_msg: only test-host may call tools
`;

async function session(opts: { mode?: ProxyMode; policy?: string; clientName?: string } = {}) {
  const toHost: string[] = [];
  const toServer: string[] = [];
  const logs: AuditRecord[] = [];
  const compiled = compilePolicy(parsePolicyText(opts.policy ?? POLICY, { type: "file", name: "p.yaml" }));
  const s = new ProxySession({
    mode: opts.mode ?? "enforce",
    failOn: "critical",
    lockfile: loaded,
    policy: createCorePolicy(loaded.lockfile as never),
    log: { write: (r) => logs.push(r), close() {} },
    toHost: (l) => toHost.push(l),
    toServer: (l) => toServer.push(l),
    guard: new SchemaGuard(),
    celPolicy: proxyCelPolicy(compiled, {
      argv: ["node", "server.js"],
      lockfile: { loaded, signature: "unsigned" },
    }),
  });
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  /** Calls the server received (tools/call only). */
  const received: unknown[] = [];
  const serve = () => {
    for (const line of toServer.splice(0)) {
      const m = JSON.parse(line);
      if (!("id" in m) || !m.method) continue;
      if (m.method === "tools/call") received.push(m.params);
      const result = m.method === "initialize"
        ? { protocolVersion: "2025-06-18", capabilities: iface.capabilities, serverInfo: iface.serverInfo }
        : m.method === "tools/list"
        ? { tools: iface.tools }
        : { content: [{ type: "text", text: "ok" }] };
      s.onServerLine(enc({ jsonrpc: "2.0", id: m.id, result }));
    }
  };
  s.onHostLine(enc({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: opts.clientName ?? "test-host", version: "1" },
    },
  }));
  serve();
  s.onHostLine(enc({ jsonrpc: "2.0", method: "notifications/initialized" }));
  let done = false;
  s.preflightDone.then(() => done = true);
  while (!done) {
    serve();
    await new Promise((r) => setTimeout(r, 1));
  }
  toHost.splice(0);
  let id = 1;
  /** Sends a tools/call and returns the host's answer. */
  const call = (name: string, args?: unknown) => {
    const n = id++;
    s.onHostLine(enc({ jsonrpc: "2.0", id: n, method: "tools/call", params: { name, arguments: args } }));
    serve();
    const answer = toHost.map((l) => JSON.parse(l)).find((m) => m.id === n);
    assert.ok(answer, `no answer to call ${n}`);
    return answer;
  };
  return { s, call, logs, received, close: () => s.close() };
}

test("a call rule denies with -32001 naming the rule; the server never sees the call; the block is logged", async () => {
  const h = await session();
  const denied = h.call("read_file", { path: "/etc/passwd" });
  assert.deepEqual(denied.error, {
    code: -32001,
    message: "MCPTRUST_DENIED: read_file may only read under /srv/data/ (rule data_dir_only)",
  });
  assert.deepEqual(h.received, []);
  const block = h.logs.find((r) => r.event === "block");
  assert.deepEqual(
    { method: block?.method, identifier: block?.identifier, rule: block?.rule, reason: block?.reason },
    {
      method: "tools/call",
      identifier: "read_file",
      rule: "data_dir_only",
      reason: "read_file may only read under /srv/data/ (rule data_dir_only)",
    },
  );
  const ok = h.call("read_file", { path: "/srv/data/a.txt" });
  assert.deepEqual(ok.result, { content: [{ type: "text", text: "ok" }] });
  assert.deepEqual(h.received, [{ name: "read_file", arguments: { path: "/srv/data/a.txt" } }]);
  h.close();
});

test("arguments are validated before call rules: invalid arguments get -32602, not a rule's denial", async () => {
  const h = await session();
  const r = h.call("read_file", { path: 7 });
  assert.equal(r.error.code, -32602);
  assert.match(r.error.message, /^MCPTRUST_INVALID_ARGUMENTS: /);
  h.close();
});

test("at most 3 calls per tool per session: the 4th is denied, denied calls are not counted", async () => {
  const h = await session();
  assert.ok(h.call("read_file", { path: "/etc/shadow" }).error); // denied, not counted
  for (let i = 0; i < 3; i++) assert.ok(h.call("read_file", { path: "/srv/data/x" }).result, `call ${i}`);
  const fourth = h.call("read_file", { path: "/srv/data/x" });
  assert.equal(
    fourth.error.message,
    "MCPTRUST_DENIED: at most 3 calls of a tool per session (rule three_calls)",
  );
  assert.ok(h.call("echo", {}).result, "another tool has its own count");
  assert.equal(h.received.length, 4);
  h.close();
});

test("session.client is the host's clientInfo", async () => {
  const h = await session({ clientName: "other-host" });
  assert.equal(
    h.call("echo", {}).error.message,
    "MCPTRUST_DENIED: only test-host may call tools (rule known_host)",
  );
  h.close();
});

test("audit-only: a failing call rule is logged as would_block and the call is forwarded", async () => {
  const h = await session({ mode: "audit-only" });
  assert.ok(h.call("read_file", { path: "/etc/passwd" }).result);
  assert.deepEqual(h.received, [{ name: "read_file", arguments: { path: "/etc/passwd" } }]);
  const rec = h.logs.find((r) => r.event === "would_block");
  assert.equal(rec?.rule, "data_dir_only");
  assert.equal(h.logs.some((r) => r.event === "block"), false);
  h.close();
});

test("a failing rule at preflight denies every request, naming the rule", async () => {
  const h = await session({
    policy: `name: pre\nrules:\n  - name: no_echo\n    expr: '!input.tools.exists(t, t.name == "echo")'\n` +
      `    failure_msg: echo tools are not allowed\n`,
  });
  const r = h.call("read_file", { path: "/srv/data/x" });
  assert.equal(r.error.code, -32001);
  assert.match(
    r.error.message,
    /^MCPTRUST_DENIED: the policy "pre" \(p\.yaml\) does not pass on this server: rule no_echo: echo tools are not allowed; /,
  );
  assert.deepEqual(h.received, []);
  assert.ok(h.logs.some((l) => l.event === "policy" && l.identifier === "no_echo"));
  assert.ok(h.logs.some((l) => l.event === "preflight.denied"));
  h.close();
});

test("a failing warn rule in warn mode is logged and does not deny", async () => {
  const h = await session({
    policy: `name: w\nmode: warn\nrules:\n  - name: advice\n    expr: "false"\n    severity: warn\n`,
  });
  assert.ok(h.call("echo", {}).result);
  assert.equal(h.logs.find((l) => l.event === "policy")?.status, "warn");
  h.close();
});

test("a policy without call_rules builds no call-rule engine; one without rules, no preflight step", () => {
  const only = (text: string) =>
    proxyCelPolicy(compilePolicy(parsePolicyText(text, { type: "file", name: "p.yaml" })), {
      argv: [],
      lockfile: { loaded, signature: "unsigned" },
    });
  const rulesOnly = only(`name: a\nrules:\n  - name: r\n    expr: "true"\n`);
  assert.equal(rulesOnly.calls, undefined);
  assert.equal(typeof rulesOnly.preflight, "function");
  const callsOnly = only(`name: a\ncall_rules:\n  - name: r\n    expr: "true"\n`);
  assert.equal(callsOnly.preflight, undefined);
  assert.ok(callsOnly.calls);
});
