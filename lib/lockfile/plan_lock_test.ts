import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServerInterface } from "../mcp/types.ts";
import { buildLockfile } from "./build.ts";
import { parseLockfile, serializeLockfile } from "./load.ts";
import { planLock } from "./plan_lock.ts";

const iface = (): ServerInterface => ({
  serverInfo: { name: "s", version: "1" },
  protocolVersion: "2025-06-18",
  capabilities: { tools: {} },
  tools: [{ name: "read_file", description: "Read" }],
  prompts: [],
  resources: [],
  resourceTemplates: [],
});
const build = (i: ServerInterface, at = "2026-01-01T00:00:00Z") =>
  buildLockfile(i, { generator: "t", updatedAt: at });
const load = (i: ServerInterface) =>
  parseLockfile(new TextEncoder().encode(serializeLockfile(build(i))), "l.json");

test("no lockfile: create", () => {
  assert.equal(planLock(undefined, build(iface()), iface(), false).action, "create");
});

test("same content at a later time: unchanged (meta.updatedAt is not rewritten)", () => {
  assert.equal(
    planLock(load(iface()), build(iface(), "2030-01-01T00:00:00Z"), iface(), false).action,
    "unchanged",
  );
});

test("drift: refuse without --force, update with it", () => {
  const live = iface();
  live.tools.push({ name: "exec_shell" });
  const plan = planLock(load(iface()), build(live), live, false);
  assert.equal(plan.action, "refuse");
  assert.equal(plan.action === "refuse" && plan.drift.items[0].type, "TOOL_ADDED");
  assert.equal(planLock(load(iface()), build(live), live, true).action, "update");
});

test("a v2 lockfile is upgraded only with --force", () => {
  const v2 = parseLockfile(
    new TextEncoder().encode(JSON.stringify({ version: "2.0", tools: {} })),
    "v2.json",
  );
  assert.equal(planLock(v2, build(iface()), iface(), false).action, "refuse");
  assert.equal(planLock(v2, build(iface()), iface(), true).action, "update");
});

test("serialization is deterministic: sorted keys, 2-space indent, trailing newline", () => {
  const text = serializeLockfile(build(iface()));
  assert.ok(text.endsWith("}\n"));
  assert.ok(text.startsWith('{\n  "lockFileVersion": "3.0",\n  "meta"'));
  assert.equal(text, serializeLockfile(JSON.parse(text)));
});
