import { test } from "node:test";
import assert from "node:assert/strict";
import { getStaticTOMLValue, parseTOML } from "toml-eslint-parser";
import { McpTrustError } from "../errors.ts";
import { fixtureText } from "../../testdata/hosts/fixtures.ts";
import { type ConfigDoc, parseConfig } from "./config_file.ts";
import { applyChecked, entryKey, type EntryTexts, tomlString, unwrapEdits, wrapEdits } from "./edit.ts";
import type { HostKind } from "./kinds.ts";
import { wrappedArgs } from "./wrapped.ts";

const SELF = "/opt/mcp trust/bin/mcptrust";

/** Wraps every stdio entry of `text`; returns the new text and each entry's recorded texts and argv. */
function wrapAll(host: HostKind, text: string) {
  const doc = parseConfig(host, "user", "/cfg", text);
  const expect = new Map<string, { command: string; args: string[] }>();
  const recs = new Map<string, { texts: EntryTexts; argv: string[] }>();
  const edits = [];
  for (const e of doc.servers.filter((e) => e.site)) {
    const lock = `/locks/${e.name}.json`;
    const w = wrapEdits(doc, e, SELF, lock);
    edits.push(...w.edits);
    const argv = [e.command!, ...(e.args ?? [])];
    expect.set(entryKey(e), { command: SELF, args: wrappedArgs(lock, argv) });
    recs.set(entryKey(e), { texts: w.texts, argv });
  }
  return { doc, text: applyChecked(doc, edits, expect), recs };
}

function unwrapAll(host: HostKind, text: string, recs?: Map<string, { texts: EntryTexts; argv: string[] }>) {
  const doc = parseConfig(host, "user", "/cfg", text);
  const expect = new Map<string, { command: string; args: string[] }>();
  const edits = [];
  const exact: boolean[] = [];
  for (const e of doc.servers.filter((e) => e.site && e.command === SELF)) {
    const r = recs?.get(entryKey(e));
    const u = unwrapEdits(doc, e, r?.texts, r?.argv);
    edits.push(...u.edits);
    exact.push(u.exact);
    expect.set(entryKey(e), { command: u.argv[0], args: u.argv.slice(1) });
  }
  return { text: applyChecked(doc, edits, expect), exact };
}

function roundTrip(host: HostKind, original: string): string {
  const w = wrapAll(host, original);
  assert.notEqual(w.text, original);
  const after = parseConfig(host, "user", "/cfg", w.text);
  for (const e of after.servers.filter((e) => e.site)) {
    assert.equal(e.command, SELF);
    assert.deepEqual(e.args!.slice(0, 4), ["proxy", "--lock", `/locks/${e.name}.json`, "--"]);
  }
  const u = unwrapAll(host, w.text, w.recs);
  assert.ok(u.exact.every(Boolean));
  assert.equal(u.text, original, "unwrap gives back the original bytes");
  return w.text;
}

test("edit: every fixture wraps (only command/args change) and unwraps to the original bytes", () => {
  const files: [string, HostKind][] = [
    ["claude_desktop_config.json", "claude-desktop"],
    ["claude.json", "claude-code"],
    ["mcp.json", "claude-code"],
    ["cursor_mcp.json", "cursor"],
    ["vscode_mcp.json", "vscode"],
    ["windsurf_mcp_config.json", "windsurf"],
    ["gemini_settings.json", "gemini"],
    ["codex_config.toml", "codex"],
  ];
  for (const [file, host] of files) {
    const original = fixtureText(file, "/home/u", "/work/p");
    const wrapped = roundTrip(host, original);
    // Lines that hold neither command nor args nor the new arguments are untouched.
    const kept = (t: string) =>
      t.split("\n").filter((l) =>
        !/command|args|"proxy"|"--lock"|"--"|locks\/|^\s*"[^"]*",?$|^\s*\],?$/.test(l)
      );
    assert.deepEqual(kept(wrapped), kept(original), file);
  }
  const vscode = wrapAll("vscode", fixtureText("vscode_mcp.json", "/h", "/p")).text;
  assert.match(vscode, /\/\/ Inputs are prompted/);
  assert.match(vscode, /"env": \{ "LOG_LEVEL": "info" \} \/\/ kept as is/);
});

test("edit: compact JSON, missing args, CRLF and TOML's other spellings of a table", () => {
  roundTrip(
    "cursor",
    '{"mcpServers":{"a":{"command":"node"},"b":{"command":"x","args":["1"],"env":{"K":"v"}}}}',
  );
  roundTrip(
    "claude-desktop",
    '{\r\n  "mcpServers": {\r\n    "a": {\r\n      "command": "node"\r\n    }\r\n  }\r\n}\r\n',
  );
  const toml = [
    "top.x = 1",
    "[mcp_servers]",
    'inline = { command = "node", args = ["s.js"], env = { K = "v" } }',
    'bare = { command = "node" }',
    'sub.command = "python" # trailing comment',
    "",
    '[mcp_servers."quoted name"]',
    'command = """npx"""',
    "",
  ].join("\n");
  const wrapped = roundTrip("codex", toml);
  const v = getStaticTOMLValue(parseTOML(wrapped)) as {
    mcp_servers: Record<string, { command: string; args: string[] }>;
  };
  assert.deepEqual(v.mcp_servers.sub.args, ["proxy", "--lock", "/locks/sub.json", "--", "python"]);
  assert.deepEqual(v.mcp_servers.inline.args.slice(-2), ["node", "s.js"]);
  assert.equal(v.mcp_servers["quoted name"].command, SELF);
  assert.match(wrapped, /sub\.command = ".*" # trailing comment\nsub\.args = \[/);
  roundTrip("codex", 'model = "m"\nmcp_servers.dotted.command = "a"\nmcp_servers.dotted.args = []\n');
});

test("edit: an entry edited after wrapping, or wrapped by hand, gets the command after `--` back", () => {
  const original = '{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "server-fs", "/a"]}}}';
  const w = wrapAll("cursor", original);
  const edited = w.text.replace('"/a"]', '"/b"]');
  const u = unwrapAll("cursor", edited, w.recs);
  assert.deepEqual(u.exact, [false]);
  const e = parseConfig("cursor", "user", "/cfg", u.text).servers[0];
  assert.equal(e.command, "npx");
  assert.deepEqual(e.args, ["-y", "server-fs", "/b"]);
  const byHand =
    '{"mcpServers": {"m": {"command": "mcptrust", "args": ["proxy", "--lock", "m.json", "--", "node", "m.js"]}}}';
  const doc = parseConfig("cursor", "user", "/cfg", byHand);
  const r = unwrapEdits(doc, doc.servers[0], undefined, undefined);
  assert.equal(r.exact, false);
  assert.deepEqual(r.argv, ["node", "m.js"]);
});

test("edit: TOML strings are escaped so every argument survives", () => {
  const tricky = ['a "quoted" arg', "back\\slash", "new\nline", "tab\there", "\u0001ctl\u007f", "ünï ✓ 𝄞"];
  for (const s of tricky) {
    assert.equal((getStaticTOMLValue(parseTOML(`k = ${tomlString(s)}`)) as { k: string }).k, s);
  }
  assert.throws(() => tomlString("\ud800"), McpTrustError);
});

test("edit: a rewrite that would change anything else is refused before it is written", () => {
  const doc: ConfigDoc = parseConfig(
    "cursor",
    "user",
    "/cfg",
    '{"mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}}}',
  );
  const a = doc.servers[0];
  const expect = new Map([[entryKey(a), { command: "z", args: [] }]]);
  // An edit that also touches b's command.
  const b = doc.servers[1].site!.command;
  assert.throws(
    () => applyChecked(doc, [{ ...a.site!.command, content: '"z"' }, { ...b, content: '"w"' }], expect),
    /server b changed/,
  );
  assert.throws(
    () => applyChecked(doc, [{ ...a.site!.command, content: '"z' }], expect),
    /would not parse/,
  );
});
