/**
 * End-to-end: `mcptrust hosts`, `wrap` and `unwrap` through the compiled binary, on real-shaped config
 * files of every host (testdata/hosts) in a temp HOME and project, with the official MCP SDK client
 * starting the rewritten entries as a host would (issue 9 §1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { type HostFixtures, installHostFixtures } from "../testdata/hosts/fixtures.ts";
import { parseConfig } from "../lib/hosts/config_file.ts";
import type { HostKind } from "../lib/hosts/kinds.ts";
import { BIN, ROOT, run, type RunResult } from "./helpers.ts";

function mcptrust(f: HostFixtures, args: string[], input?: string): Promise<RunResult> {
  return run(args, { cwd: f.project, env: { ...f.env, MCPTRUST_SELF: BIN }, input });
}

/** Every file under the temp HOME and project, with its bytes. */
function snapshot(f: HostFixtures): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p, readFileSync(p, "utf8"));
    }
  };
  walk(dirname(f.home));
  return out;
}

function entry(f: HostFixtures, host: HostKind, name: string) {
  const c = f.configs.find((c) => c.host === host && readFileSync(c.path, "utf8").includes(`${name}`))!;
  const scope = c.path.startsWith(f.project) ? "project" : "user";
  const doc = parseConfig(host, scope, c.path, readFileSync(c.path, "utf8"));
  return doc.servers.find((e) => e.name === name)!;
}

test("hosts: lists every server of every host with scope, file, transport and command", async () => {
  const f = installHostFixtures();
  const r = await mcptrust(f, ["hosts", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.configs.length, 8);
  const rows = Object.fromEntries(
    out.servers.map((s: Record<string, unknown>) => [`${s.host}/${s.name}`, s]),
  );
  assert.equal(Object.keys(rows).length, 19);
  assert.equal(rows["claude-code/fixture-local"].scope, "local");
  assert.equal(rows["claude-code/fixture-local"].project, f.project);
  assert.equal(rows["claude-code/fixture-project"].file, join(f.project, ".mcp.json"));
  assert.equal(rows["codex/figma"].transport, "http");
  assert.equal(rows["codex/figma"].url, "https://mcp.figma.com/mcp");
  assert.equal(rows["claude-code/api-server"].transport, "sse");
  assert.equal(rows["gemini/fixtureGemini"].command, "node");
  assert.deepEqual(rows["gemini/fixtureGemini"].args.slice(-1), ["base.json"]);
  for (const s of out.servers) assert.equal(s.wrapped, false);
  const text = await mcptrust(f, ["hosts"]);
  assert.equal(text.code, 0, text.stderr);
  for (
    const title of ["Claude Desktop", "Claude Code", "Cursor", "VS Code", "Windsurf", "Gemini CLI", "Codex"]
  ) {
    assert.match(text.stdout, new RegExp(`^${title} \\(`, "m"));
  }
  assert.match(text.stdout, /19 server\(s\): 0 wrapped and locked, 12 not wrapped, 7 remote/);
});

test("wrap --dry-run: a unified diff of each config; nothing started, nothing written", async () => {
  const f = installHostFixtures();
  const before = snapshot(f);
  const r = await mcptrust(f, ["wrap", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  for (const c of f.configs) assert.ok(r.stdout.includes(`--- ${c.path}\tcurrent`), c.path);
  assert.match(r.stdout, /^-\s+"command": "node",$/m);
  assert.ok(r.stdout.includes(`+      "command": ${JSON.stringify(BIN)},`));
  assert.match(r.stdout, /skipped: vscode\/perplexity .*\$\{input:perplexity-key\}/);
  assert.match(r.stdout, /skipped: codex\/figma .*remote server \(http/);
  assert.deepEqual(snapshot(f), before);
});

test("wrap: without a terminal and without --yes it refuses and writes nothing", async () => {
  const f = installHostFixtures();
  const before = snapshot(f);
  const r = await mcptrust(f, ["wrap"], "");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /approve each server, and stdin is not a terminal/);
  assert.match(r.stderr, /--yes/);
  assert.deepEqual(snapshot(f), before);
});

test("wrap/hosts: a malformed config is refused with its file and line; nothing is written", async () => {
  const f = installHostFixtures();
  const cursor = f.configs.find((c) => c.host === "cursor")!;
  writeFileSync(cursor.path, cursor.original.replace('"API_KEY": "value"', '"API_KEY": "value",'));
  const codex = f.configs.find((c) => c.host === "codex")!;
  writeFileSync(codex.path, codex.original.replace("startup_timeout_sec = 20", "startup_timeout_sec = "));
  const before = snapshot(f);
  const r = await mcptrust(f, ["wrap", "--yes"]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(`${cursor.path}:8:`), r.stderr);
  assert.ok(r.stderr.includes(`${codex.path}:13:`), r.stderr);
  assert.deepEqual(snapshot(f), before);
  assert.equal(existsSync(join(f.home, ".mcptrust")), false);
  // hosts still lists the others, and exits 2.
  const h = await mcptrust(f, ["hosts"]);
  assert.equal(h.code, 2);
  assert.match(h.stdout, /^Windsurf \(user\)/m);
  assert.ok(h.stderr.includes(`${cursor.path}:8:`));
});

// The next three tests share one HOME: wrap, wrap again, unwrap.
const shared = installHostFixtures();

test("wrap --yes: locks every stdio server, rewrites its entry, and the wrapped command answers through the proxy", async () => {
  const f = shared;
  const r = await mcptrust(f, ["wrap", "--yes"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Wrapped 11 server\(s\)/);
  assert.match(r.stdout, /exposes: {2}7 tool\(s\) \(HIGH 1, MEDIUM 0, LOW 6\)/);
  assert.match(r.stdout, /HIGH: {5}write_file/);
  const locks = join(f.home, ".mcptrust", "locks");
  for (const c of f.configs) {
    const backups = readdirSync(dirname(c.path)).filter((n) => n.includes(".mcptrust-backup-"));
    assert.equal(backups.length, 1, c.path);
    assert.equal(readFileSync(join(dirname(c.path), backups[0]), "utf8"), c.original);
  }
  // Three hosts, three formats: Claude Desktop (env), Gemini CLI (cwd, relative argument), Codex (TOML).
  const cases: [HostKind, string, string][] = [
    ["claude-desktop", "fixture", "claude-desktop-fixture.json"],
    ["gemini", "fixtureGemini", "gemini-fixtureGemini.json"],
    ["codex", "fixture", "codex-fixture.json"],
  ];
  for (const [host, name, lockName] of cases) {
    const e = entry(f, host, name);
    const v = e.value as { env?: Record<string, string>; cwd?: string };
    assert.equal(e.command, BIN);
    assert.deepEqual(e.args!.slice(0, 5), ["proxy", "--lock", join(locks, lockName), "--", "node"]);
    assert.ok(v.env && Object.keys(v.env).length > 0, "env kept");
    const lock = JSON.parse(readFileSync(join(locks, lockName), "utf8"));
    // Start the rewritten entry exactly as the host would, and talk MCP to it.
    const transport = new StdioClientTransport({
      command: e.command!,
      args: e.args!,
      env: { ...f.env, ...v.env } as Record<string, string>,
      cwd: v.cwd ?? f.project,
      stderr: "pipe",
    });
    const client = new Client({ name: "e2e-host", version: "1.0.0" }, { capabilities: {} });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(tools, Object.keys(lock.tools).sort(), `${host}/${name}`);
      const echo = await client.callTool({ name: "echo", arguments: { text: "through the proxy" } });
      assert.match(JSON.stringify(echo.content), /through the proxy/);
    } finally {
      await client.close();
    }
  }
  const h = await mcptrust(f, ["hosts", "--format", "json"]);
  const rows = JSON.parse(h.stdout).servers as {
    name: string;
    wrapped: boolean;
    locked: boolean;
    transport: string;
  }[];
  assert.equal(rows.filter((s) => s.wrapped && s.locked).length, 11);
});

test("wrap again: a wrapped entry is recognised and never wrapped twice", async () => {
  const f = shared;
  const before = snapshot(f);
  const r = await mcptrust(f, ["wrap", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /already wrapped: codex\/fixture/);
  assert.match(r.stdout, /Nothing to wrap/);
  assert.deepEqual(snapshot(f), before);
});

test("unwrap: every config gets its original bytes back; lockfiles are kept", async () => {
  const f = shared;
  const r = await mcptrust(f, ["unwrap"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Unwrapped 11 server\(s\)/);
  for (const c of f.configs) assert.equal(readFileSync(c.path, "utf8"), c.original, c.path);
  const locks = readdirSync(join(f.home, ".mcptrust", "locks"));
  assert.equal(locks.filter((n) => n.endsWith(".wrap.json")).length, 0);
  assert.equal(locks.length, 11);
  // Wrapping again reuses the kept lockfiles (the servers still match them).
  const again = await mcptrust(f, ["wrap", "--yes", "--host", "codex"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /codex-fixture\.json \(exists, still matches\)/);
});

test("wrap --config: a server that does not start stops the whole run (nothing written); --server wraps the others", async () => {
  const f = installHostFixtures([]);
  const file = join(f.project, "team-mcp.json");
  const server = join(ROOT, "testdata/servers/fixture_server.mjs");
  const scenarios = join(ROOT, "testdata/servers/scenarios");
  const original = JSON.stringify(
    {
      mcpServers: {
        ok: { command: "node", args: [server, join(scenarios, "base.json")] },
        broken: { command: "node", args: [server, join(scenarios, "crash_on_start.json")] },
      },
    },
    null,
    2,
  ) + "\n";
  writeFileSync(file, original);
  const before = snapshot(f);
  const r = await mcptrust(f, ["wrap", "--yes", "--config", file, "--host", "cursor"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cursor\/broken .*: server /);
  assert.match(r.stderr, /1 server\(s\) could not be locked; nothing was written/);
  assert.deepEqual(snapshot(f), before);
  const ok = await mcptrust(f, ["wrap", "--yes", "--config", file, "--host", "cursor", "--server", "ok"]);
  assert.equal(ok.code, 0, ok.stderr);
  const doc = parseConfig("cursor", "user", file, readFileSync(file, "utf8"));
  assert.equal(doc.servers.find((e) => e.name === "ok")!.command, BIN);
  assert.equal(doc.servers.find((e) => e.name === "broken")!.command, "node");
  const none = await mcptrust(f, ["wrap", "--yes", "--config", file]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--config needs exactly one --host/);
});
