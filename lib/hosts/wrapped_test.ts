import { test } from "node:test";
import assert from "node:assert/strict";
import { McpTrustError } from "../errors.ts";
import type { ServerEntry } from "./config_file.ts";
import { configLocations } from "./kinds.ts";
import { lockPathFor, parseWrapped, recordPathFor, selfPath } from "./wrapped.ts";

test("wrapped: an entry is recognised as wrapped only when an mcptrust binary runs proxy with a command after --", () => {
  const args = ["proxy", "--lock", "/l.json", "--", "npx", "-y", "srv"];
  assert.deepEqual(parseWrapped("/usr/local/bin/mcptrust", args), {
    lock: "/l.json",
    argv: ["npx", "-y", "srv"],
  });
  assert.deepEqual(parseWrapped("C:\\tools\\mcptrust.exe", ["proxy", "--lock=/l", "--", "x"]), {
    lock: "/l",
    argv: ["x"],
  });
  assert.deepEqual(parseWrapped("/opt/mt", args, "/opt/mt")?.argv, ["npx", "-y", "srv"]);
  assert.equal(parseWrapped("npx", args), undefined);
  assert.equal(parseWrapped("mcptrust", ["proxy", "--lock", "x"]), undefined);
  assert.equal(parseWrapped("mcptrust", ["check", "--", "x"]), undefined);
  assert.equal(parseWrapped("mcptrust", ["proxy", "--"]), undefined);
});

test("wrapped: lockfile names are per host and name, and per project for project entries", () => {
  const e = (
    host: string,
    name: string,
    scope: string,
    project?: string,
  ) => ({ host, name, scope, project } as unknown as ServerEntry);
  assert.equal(lockPathFor("/L", e("cursor", "fs", "user"), "/p"), "/L/cursor-fs.json");
  const a = lockPathFor("/L", e("cursor", "fs", "project"), "/work/a");
  const b = lockPathFor("/L", e("cursor", "fs", "project"), "/other/a");
  assert.match(a, /^\/L\/cursor-a-[0-9a-f]{8}-fs\.json$/);
  assert.notEqual(a, b);
  assert.equal(
    lockPathFor("/L", e("claude-code", "x", "local", "/work/a"), "/elsewhere"),
    a.replace("cursor", "claude-code").replace("-fs", "-x"),
  );
  // Names that are not file-safe never collide with the name they turn into.
  assert.notEqual(
    lockPathFor("/L", e("cursor", "a/b", "user"), "/p"),
    lockPathFor("/L", e("cursor", "a_b", "user"), "/p"),
  );
  assert.doesNotMatch(lockPathFor("/L", e("cursor", "../../etc/x", "user"), "/p"), /\.\.\//);
  assert.equal(recordPathFor("/L/cursor-fs.json"), "/L/cursor-fs.wrap.json");
  assert.match(
    lockPathFor("/L", { ...e("cursor", "fs", "user"), file: "/t/team.json" }, "/p", true),
    /^\/L\/cursor-team\.json-[0-9a-f]{8}-fs\.json$/,
  );
});

test("wrapped: MCPTRUST_SELF names the binary; running from sources without it is refused", () => {
  assert.equal(selfPath({ MCPTRUST_SELF: "/opt/mcptrust" }), "/opt/mcptrust");
  // These tests run under deno or bun, not as the binary.
  assert.throws(
    () => selfPath({}),
    (err: McpTrustError) => /sources/.test(err.message) && /MCPTRUST_SELF/.test(err.hint!),
  );
});

test("kinds: every host's locations, from HOME, the project and the platform", () => {
  const paths = (platform: string, env: Record<string, string> = {}) =>
    configLocations({ home: "/h", project: "/p", platform, env }).map((l) =>
      `${l.host}:${l.scope}:${l.path}`
    );
  const linux = paths("linux");
  for (
    const want of [
      "claude-desktop:user:/h/.config/Claude/claude_desktop_config.json",
      "claude-code:user:/h/.claude.json",
      "claude-code:project:/p/.mcp.json",
      "cursor:user:/h/.cursor/mcp.json",
      "cursor:project:/p/.cursor/mcp.json",
      "vscode:project:/p/.vscode/mcp.json",
      "windsurf:user:/h/.codeium/windsurf/mcp_config.json",
      "gemini:user:/h/.gemini/settings.json",
      "codex:user:/h/.codex/config.toml",
    ]
  ) assert.ok(linux.includes(want), want);
  assert.ok(
    paths("darwin").includes(
      "claude-desktop:user:/h/Library/Application Support/Claude/claude_desktop_config.json",
    ),
  );
  assert.ok(
    paths("win32", { APPDATA: "/h/AD" }).some((p) => p.startsWith("claude-desktop:user:/h/AD/Claude")),
  );
  assert.ok(paths("linux", { CODEX_HOME: "/c" }).includes("codex:user:/c/config.toml"));
});
