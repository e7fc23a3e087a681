import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { parseConfig } from "./config_file.ts";
import { resolveLaunch } from "./expand.ts";
import type { HostKind } from "./kinds.ts";
import { launchEnvironment } from "./wrap.ts";

function launch(host: HostKind, server: object, env: Record<string, string> = {}) {
  const key = host === "vscode" ? "servers" : host === "codex" ? "mcp_servers" : "mcpServers";
  const doc = parseConfig(host, "project", "/p/cfg", JSON.stringify({ [key]: { s: server } }));
  return resolveLaunch(doc.servers[0], env, "/home/u", "/work/proj");
}

test("expand: each host's references resolve as that host resolves them before starting the server", () => {
  assert.deepEqual(
    launch(
      "claude-code",
      { command: "${BIN:-node}", args: ["${DIR}/s.js", "$HOME"], env: { K: "${TOKEN}" } },
      {
        DIR: "/d",
        TOKEN: "t",
      },
    ),
    { ok: true, launch: { argv: ["node", "/d/s.js", "$HOME"], env: { K: "t" }, cwd: undefined } },
  );
  assert.deepEqual(
    launch("vscode", {
      command: "node",
      args: ["${workspaceFolder}/s.js", "${userHome}${/}x", "${env:E}"],
      env: { A: null },
    }, {
      E: "e",
    }),
    {
      ok: true,
      launch: { argv: ["node", "/work/proj/s.js", "/home/u/x", "e"], env: { A: undefined }, cwd: undefined },
    },
  );
  assert.deepEqual(
    launch("gemini", { command: "node", args: ["$X"], env: { K: "$X-${X}" }, cwd: "sub" }, { X: "x" }),
    { ok: true, launch: { argv: ["node", "$X"], env: { K: "x-x" }, cwd: "/work/proj/sub" } },
  );
  assert.deepEqual(launch("claude-desktop", { command: "node", args: ["${X}"] }, { X: "x" }), {
    ok: true,
    launch: { argv: ["node", "${X}"], env: {}, cwd: undefined },
  });
});

test("expand: what cannot be resolved here is reported, so the server is skipped rather than scanned wrong", () => {
  const input = launch("vscode", { command: "npx", env: { K: "${input:api-key}" } });
  assert.equal(input.ok, false);
  assert.match((input as { reason: string }).reason, /\$\{input:api-key\}/);
  const unset = launch("claude-code", { command: "node", args: ["${NOT_SET}"] });
  assert.match((unset as { reason: string }).reason, /\$\{NOT_SET\} \(not set\)/);
  assert.equal(launch("vscode", { command: "node", envFile: "${workspaceFolder}/.env" }).ok, false);
});

test("expand: the scan gets the entry's env and cwd, without touching ours", () => {
  const before = process.cwd();
  process.env.MCPTRUST_EXPAND_TEST_KEEP = "kept";
  const { env, cwd } = launchEnvironment({
    argv: ["x"],
    env: { MCPTRUST_EXPAND_TEST: "inside", MCPTRUST_EXPAND_TEST_KEEP: undefined },
    cwd: "/",
  });
  assert.deepEqual([env.MCPTRUST_EXPAND_TEST, "MCPTRUST_EXPAND_TEST_KEEP" in env, cwd], [
    "inside",
    false,
    "/",
  ]);
  assert.equal(env.PATH, process.env.PATH);
  assert.equal(process.env.MCPTRUST_EXPAND_TEST, undefined);
  assert.equal(process.env.MCPTRUST_EXPAND_TEST_KEEP, "kept");
  assert.equal(process.cwd(), before);
  assert.throws(
    () => launchEnvironment({ argv: ["x"], env: {}, cwd: "/nonexistent-dir-xyz" }),
    /not a directory/,
  );
  delete process.env.MCPTRUST_EXPAND_TEST_KEEP;
});
