/**
 * The proxy session in-process, with a stub policy and no I/O: lifecycle and defaults the end-to-end
 * tests cannot reach directly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildLockfile } from "../lockfile/build.ts";
import { parseLockfile, serializeLockfile } from "../lockfile/load.ts";
import type { ServerInterface } from "../mcp/types.ts";
import type { AuditRecord } from "../observe/audit_log.ts";
import type { ProxyPolicy } from "./policy_port.ts";
import { ProxySession } from "./session.ts";

const iface: ServerInterface = {
  serverInfo: { name: "s" },
  protocolVersion: "2025-06-18",
  capabilities: { tools: {} },
  tools: [{ name: "echo" }],
  prompts: [],
  resources: [],
  resourceTemplates: [],
};
const lockfile = parseLockfile(
  new TextEncoder().encode(
    serializeLockfile(buildLockfile(iface, { generator: "t", updatedAt: "2026-01-01T00:00:00Z" })),
  ),
  "l.json",
);
const allowAll: ProxyPolicy = {
  checkHostMessage: () => ({ allow: true }),
  checkServerMessage: () => ({ allow: true }),
  checkList: (_k, items) => items.map(() => ({ allow: true })),
  markStale() {},
};
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

function harness(extra: Record<string, unknown> = {}) {
  const toHost: string[] = [];
  const toServer: string[] = [];
  const logs: AuditRecord[] = [];
  const session = new ProxySession({
    mode: "enforce",
    failOn: "critical",
    lockfile,
    policy: allowAll,
    log: { write: (r) => logs.push(r), close() {} },
    toHost: (l) => toHost.push(l),
    toServer: (l) => toServer.push(l),
    // Explicitly undefined options, as a library caller may pass them, keep their defaults.
    maxPending: undefined,
    requestTtlMs: undefined,
    preflightTimeoutMs: undefined,
    ...extra,
  });
  /** Answers every request the server received so far, as a server with `iface` would. */
  const serve = () => {
    for (const line of toServer.splice(0)) {
      const m = JSON.parse(line);
      if (!("id" in m) || !m.method) continue;
      const result = m.method === "initialize"
        ? { protocolVersion: "2025-06-18", capabilities: iface.capabilities, serverInfo: iface.serverInfo }
        : m.method === "tools/list"
        ? { tools: iface.tools }
        : { ok: true };
      session.onServerLine(enc({ jsonrpc: "2.0", id: m.id, result }));
    }
  };
  return { session, toHost, toServer, logs, serve };
}

test("options passed as undefined keep their defaults: the preflight runs and requests are served", async () => {
  const h = harness();
  h.session.onHostLine(enc({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }));
  h.serve();
  h.session.onHostLine(enc({ jsonrpc: "2.0", method: "notifications/initialized" }));
  h.session.onHostLine(enc({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo" } }));
  // A server that takes a few milliseconds to list: within the default 10 s preflight deadline.
  await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 10 && h.toHost.length < 2; i++) {
    h.serve();
    await new Promise((r) => setTimeout(r, 0));
  }
  h.serve();
  h.session.close();
  const answers = h.toHost.map((l) => JSON.parse(l));
  assert.deepEqual(answers.map((a) => a.id), [1, 2]);
  assert.deepEqual(answers[1].result, { ok: true }, JSON.stringify(h.logs));
});

test("requests sent before the preflight finished are held, then answered in order", async () => {
  const h = harness();
  h.session.onHostLine(enc({ jsonrpc: "2.0", id: "init", method: "initialize", params: {} }));
  // Pipelined: the host does not wait for the initialize answer.
  h.session.onHostLine(enc({ jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "echo" } }));
  assert.equal(h.toServer.length, 1, "only initialize reaches the server before it is verified");
  for (let i = 0; i < 10 && h.toHost.length < 2; i++) {
    h.serve();
    await new Promise((r) => setTimeout(r, 0));
  }
  h.session.close();
  assert.deepEqual(h.toHost.map((l) => JSON.parse(l).id), ["init", "a"]);
});
