import { test } from "node:test";
import assert from "node:assert/strict";
import { McpTrustError } from "../errors.ts";
import { fixtureText } from "../../testdata/hosts/fixtures.ts";
import { parseConfig } from "./config_file.ts";
import type { HostKind } from "./kinds.ts";

const FIXTURES: [string, HostKind, "user" | "project"][] = [
  ["claude_desktop_config.json", "claude-desktop", "user"],
  ["claude.json", "claude-code", "user"],
  ["mcp.json", "claude-code", "project"],
  ["cursor_mcp.json", "cursor", "user"],
  ["vscode_mcp.json", "vscode", "project"],
  ["windsurf_mcp_config.json", "windsurf", "user"],
  ["gemini_settings.json", "gemini", "user"],
  ["codex_config.toml", "codex", "user"],
];

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof McpTrustError, String(err));
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail("expected a refusal");
}

test("config: every host's documented shape gives its servers, transport and command", () => {
  const seen: Record<string, string> = {};
  for (const [file, host, scope] of FIXTURES) {
    const doc = parseConfig(host, scope, `/x/${file}`, fixtureText(file, "/home/u", "/work/p"));
    for (const e of doc.servers) seen[`${host}/${e.scope}/${e.name}`] = e.transport;
  }
  assert.deepEqual(seen, {
    "claude-desktop/user/fixture": "stdio",
    "claude-desktop/user/memory": "stdio",
    "claude-code/user/everything": "stdio",
    "claude-code/user/notion": "http",
    "claude-code/local/fixture-local": "stdio",
    "claude-code/project/fixture-project": "stdio",
    "claude-code/project/api-server": "sse",
    "cursor/user/fixture-cursor": "stdio",
    "cursor/user/my-api": "http",
    "vscode/project/fixture-vscode": "stdio",
    "vscode/project/perplexity": "stdio",
    "vscode/project/github": "http",
    "windsurf/user/fixture-windsurf": "stdio",
    "windsurf/user/figma": "http",
    "gemini/user/fixtureGemini": "stdio",
    "gemini/user/httpServer": "http",
    "codex/user/fixture": "stdio",
    "codex/user/figma": "http",
    "codex/user/memory": "stdio",
  });
  const claude = parseConfig(
    "claude-code",
    "user",
    "/h/.claude.json",
    fixtureText("claude.json", "/h", "/work/p"),
  );
  const local = claude.servers.find((e) => e.scope === "local")!;
  assert.equal(local.project, "/work/p");
  assert.deepEqual(local.path, ["projects", "/work/p", "mcpServers", "fixture-local"]);
  const codex = parseConfig("codex", "user", "/h/config.toml", fixtureText("codex_config.toml", "/h", "/p"));
  assert.equal(codex.servers[2].command, "node"); // a literal 'string'
});

test("config: a file that does not parse is refused with its path, line and column", () => {
  const bad = '{\n  "mcpServers": {\n    "a": { "command": "x", },\n  }\n}\n';
  assert.match(
    refusal(() => parseConfig("cursor", "user", "/h/.cursor/mcp.json", bad)),
    /^\/h\/\.cursor\/mcp\.json:3:/,
  );
  // The same trailing comma is fine where the host reads JSONC.
  assert.equal(
    parseConfig("vscode", "project", "/p/.vscode/mcp.json", bad.replace("mcpServers", "servers")).servers
      .length,
    1,
  );
  const comment = '{\n  // mine\n  "mcpServers": {}\n}\n';
  assert.match(
    refusal(() => parseConfig("claude-desktop", "user", "/c.json", comment)),
    /^\/c\.json:2:3: .*comments are not allowed/,
  );
  assert.match(
    refusal(() =>
      parseConfig(
        "codex",
        "user",
        "/h/.codex/config.toml",
        'model = "x"\n[mcp_servers.a]\ncommand = "x" "y"\n',
      )
    ),
    /^\/h\/\.codex\/config\.toml:3:15: /,
  );
  assert.match(
    refusal(() => parseConfig("cursor", "user", "/m.json", '{ "mcpServers": [] }')),
    /^\/m\.json:1:17: .*"mcpServers" is not an object/,
  );
});

test("config: entries a rewrite cannot handle say why", () => {
  const doc = parseConfig(
    "cursor",
    "user",
    "/m.json",
    '{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}, "b": {"args": []}, "c": {"command": "z", "args": "-y"}, "d": 3}}',
  );
  const why = Object.fromEntries(doc.servers.map((e) => [e.name + (e.command ?? ""), e.problem]));
  assert.match(why.ay!, /more than once/);
  assert.match(why.b!, /no command/);
  assert.match(why.cz!, /args is not a list of strings/);
  assert.match(why.d!, /not an object/);
});
