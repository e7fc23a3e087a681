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
import { ROOT, run, tempDir } from "./helpers.ts";

const DIR = tempDir("mcptrust-era-");

/** argv of the stateless fixture server (SDK v2), with its flags. */
function newEra(...flags: string[]): string[] {
  return ["node", join(ROOT, "testdata/servers/new_era_server.mjs"), ...flags];
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
