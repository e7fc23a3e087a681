import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildLockfile } from "./build.ts";
import type { ServerInterface } from "../mcp/types.ts";

const dir = new URL("../../testdata/vectors/mcptrust/", import.meta.url).pathname;
const read = (p: string) => JSON.parse(readFileSync(dir + p, "utf8"));

test("a v3 lockfile built from the Go vectors reproduces the golden file hash for hash", () => {
  const golden = read("golden/mcp-lock.v3.json");
  const iface: ServerInterface = {
    serverInfo: { name: "test-server" },
    protocolVersion: "2024-11-05",
    capabilities: {},
    tools: [],
    prompts: read("mcp/prompts_list.json").result.prompts,
    resources: [],
    resourceTemplates: read("mcp/resources_templates_list.json").result.resourceTemplates,
  };
  const built = buildLockfile(iface, { generator: "mcptrust test", updatedAt: "2024-01-01T00:00:00Z" });
  // The Go tool does not lock static resources; with none listed our extension is an empty array.
  assert.deepEqual(built.resources.static, []);
  delete built.resources.static;
  // Every other extension pins members the Go tool does not: present, and the Go fields unchanged.
  assert.deepEqual(built.server.infoMembers, {});
  delete built.server.infoMembers;
  for (const p of Object.values(built.prompts.definitions)) {
    assert.ok(p.members && Object.keys(p.members).length > 0);
    delete p.members;
  }
  for (const t of built.resources.templates) {
    assert.ok(t.members && Object.keys(t.members).length > 0);
    delete t.members;
  }
  assert.deepEqual(built, golden);
});
