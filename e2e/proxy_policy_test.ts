/**
 * End-to-end: `mcptrust proxy --policy` through the compiled binary, with the official MCP SDK client as
 * the host (issue 8 §4): call rules deny reads outside a directory, calls to other hosts and calls over a
 * per-session limit before the server sees them; rules that fail at preflight deny everything; a bad
 * policy stops the proxy before the server starts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/types.d.ts"
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { BIN, fixture, ROOT, run, serverFilesystem, tempDir } from "./helpers.ts";
import { auditLog, type Json, lockServer, recorded, recordedFixture } from "./proxy_harness.ts";

const DIR = tempDir("mcptrust-proxy-policy-");

/** Runs `fn` with the SDK client connected to `mcptrust proxy <args>` (or to `args` itself, `direct`). */
async function withHost<T>(args: string[], fn: (c: Client) => Promise<T>, direct = false): Promise<T> {
  const [command, ...rest] = direct ? args : [BIN, "proxy", ...args];
  const transport = new StdioClientTransport({
    command,
    args: rest,
    cwd: ROOT,
    env: process.env as Record<string, string>,
    stderr: "pipe",
  });
  const client = new Client({ name: "e2e-host", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Awaits a rejection with McpError `code`; returns the JSON-RPC error message (without the SDK's prefix). */
async function rejectsWith(p: Promise<unknown>, code: number): Promise<string> {
  try {
    const r = await p;
    assert.fail(`expected McpError ${code}, got ${JSON.stringify(r).slice(0, 300)}`);
  } catch (err) {
    assert.ok(err instanceof McpError, String(err));
    assert.equal(err.code, code, err.message);
    return err.message.replace(/^MCP error -?\d+: /, "");
  }
}

function policyFile(name: string, yaml: string): string {
  const path = join(DIR, name);
  writeFileSync(path, yaml);
  return path;
}

const text = (r: Json): string => r.content[0].text;

test("fixture server: reads outside /srv/data/ and URLs to other hosts are denied and never reach the server; the rest passes", async () => {
  const lock = await lockServer(DIR, "base", fixture("base"));
  const rec = join(DIR, "calls.jsonl");
  const log = join(DIR, "calls.audit.jsonl");
  const policy = policyFile(
    "calls.yaml",
    `name: runtime rules
call_rules:
  - name: data_dir_only
    expr: 'tool.name != "read_file" || args.path.startsWith("/srv/data/")'
    failure_msg: read_file may only read under /srv/data/
  - name: allowed_hosts
    expr: 'urlHosts(args).all(h, h in ["api.example.com"])'
    failure_msg: URLs may only point to api.example.com
  - name: known_host
    expr: session.client.name == "e2e-host"
`,
  );
  const args = [
    "--lock",
    lock,
    "--policy",
    policy,
    "--log-output",
    log,
    "--",
    ...recordedFixture("base", rec),
  ];
  await withHost(args, async (client) => {
    const denied = await rejectsWith(
      client.callTool({ name: "read_file", arguments: { path: "/etc/passwd" } }),
      -32001,
    );
    assert.equal(denied, "MCPTRUST_DENIED: read_file may only read under /srv/data/ (rule data_dir_only)");
    const ok = await client.callTool({ name: "read_file", arguments: { path: "/srv/data/notes.txt" } });
    assert.equal(ok.isError ?? false, false, JSON.stringify(ok));

    const url = await rejectsWith(
      client.callTool({ name: "echo", arguments: { text: "post it to https://evil.example/collect" } }),
      -32001,
    );
    assert.equal(url, "MCPTRUST_DENIED: URLs may only point to api.example.com (rule allowed_hosts)");
    const fine = await client.callTool({
      name: "echo",
      arguments: { text: "see https://api.example.com/v1" },
    });
    assert.deepEqual(JSON.parse(text(fine)), { text: "see https://api.example.com/v1" });
  });
  const calls = recorded(rec).filter((m) => m.method === "tools/call").map((m) => m.params);
  assert.deepEqual(calls, [
    { name: "read_file", arguments: { path: "/srv/data/notes.txt" } },
    { name: "echo", arguments: { text: "see https://api.example.com/v1" } },
  ]);
  const blocks = auditLog(log).filter((e) => e.event === "block");
  assert.deepEqual(
    blocks.map((e) => [e.method, e.identifier, e.rule]),
    [["tools/call", "read_file", "data_dir_only"], ["tools/call", "echo", "allowed_hosts"]],
  );
  assert.match(blocks[0].reason, /read_file may only read under \/srv\/data\/ \(rule data_dir_only\)/);
});

test("server-filesystem: a file the server would serve is denied outside public/; public/ reads; a per-session call limit", async () => {
  const root = join(DIR, "fs root");
  const pub = join(root, "public");
  mkdirSync(pub, { recursive: true });
  writeFileSync(join(root, "secret.txt"), "the secret\n");
  writeFileSync(join(pub, "hello.txt"), "hello, public\n");
  const server = serverFilesystem(root);
  const lock = await lockServer(DIR, "filesystem", server);
  // Without the policy the server itself serves the secret: the denial below is the proxy's.
  await withHost(server, async (client) => {
    const r = await client.callTool({
      name: "read_text_file",
      arguments: { path: join(root, "secret.txt") },
    });
    assert.match(text(r), /the secret/);
  }, true);

  const log = join(DIR, "fs.audit.jsonl");
  const policy = policyFile(
    "fs.yaml",
    `name: filesystem
call_rules:
  - name: public_only
    expr: '!has(args.path) || (args.path.startsWith(${
      JSON.stringify(pub + "/")
    }) && !args.path.contains(".."))'
    failure_msg: only files under public/ may be read
  - name: two_listings
    expr: tool.name != "list_directory" || session.calls[tool.name] < 2
    failure_msg: at most 2 directory listings per session
`,
  );
  await withHost(
    ["--lock", lock, "--policy", policy, "--log-output", log, "--", ...server],
    async (client) => {
      const denied = await rejectsWith(
        client.callTool({ name: "read_text_file", arguments: { path: join(root, "secret.txt") } }),
        -32001,
      );
      assert.equal(denied, "MCPTRUST_DENIED: only files under public/ may be read (rule public_only)");
      await rejectsWith(
        client.callTool({ name: "read_text_file", arguments: { path: join(pub, "../secret.txt") } }),
        -32001,
      );
      const ok = await client.callTool({
        name: "read_text_file",
        arguments: { path: join(pub, "hello.txt") },
      });
      assert.match(text(ok), /hello, public/);

      for (let i = 0; i < 2; i++) {
        const r = await client.callTool({ name: "list_directory", arguments: { path: join(pub, "") + "/" } });
        assert.match(text(r), /hello\.txt/, `listing ${i + 1}`);
      }
      const third = await rejectsWith(
        client.callTool({ name: "list_directory", arguments: { path: join(pub, "") + "/" } }),
        -32001,
      );
      assert.equal(third, "MCPTRUST_DENIED: at most 2 directory listings per session (rule two_listings)");
      // Other tools keep their own counts.
      assert.match(
        text(await client.callTool({ name: "read_text_file", arguments: { path: join(pub, "hello.txt") } })),
        /hello/,
      );
    },
  );
  const blocks = auditLog(log).filter((e) => e.event === "block").map((e) => [e.identifier, e.rule]);
  assert.deepEqual(blocks, [
    ["read_text_file", "public_only"],
    ["read_text_file", "public_only"],
    ["list_directory", "two_listings"],
  ]);
});

test("--policy with a rule that fails on the live server denies every request at preflight, naming the rule; baseline passes", async () => {
  const root = join(DIR, "fs preflight");
  mkdirSync(root);
  writeFileSync(join(root, "a.txt"), "a\n");
  const server = serverFilesystem(root);
  const lock = await lockServer(DIR, "fs-preflight", server);
  const policy = policyFile(
    "preflight.yaml",
    `name: read-only servers
rules:
  - name: no_write_tools
    expr: '!input.tools.exists(t, t.name.startsWith("write_"))'
    failure_msg: servers that write files are not approved
`,
  );
  const log = join(DIR, "preflight.audit.jsonl");
  await withHost(
    ["--lock", lock, "--policy", policy, "--log-output", log, "--", ...server],
    async (client) => {
      const msg = await rejectsWith(client.listTools(), -32001);
      assert.match(
        msg,
        /^MCPTRUST_DENIED: the policy "read-only servers" \(.*preflight\.yaml\) does not pass/,
      );
      assert.match(msg, /rule no_write_tools: servers that write files are not approved/);
      const call = await rejectsWith(
        client.callTool({ name: "read_text_file", arguments: { path: join(root, "a.txt") } }),
        -32001,
      );
      assert.match(call, /rule no_write_tools/);
      await client.ping(); // lifecycle requests still pass
    },
  );
  const entries = auditLog(log);
  assert.ok(
    entries.some((e) => e.event === "policy" && e.identifier === "no_write_tools" && e.status === "fail"),
  );
  assert.ok(entries.some((e) => e.event === "preflight.denied"));

  // The baseline preset (warn mode, no drift here) passes: its warnings are logged, calls are served.
  const log2 = join(DIR, "baseline.audit.jsonl");
  await withHost(
    ["--lock", lock, "--policy", "baseline", "--log-output", log2, "--", ...server],
    async (client) => {
      const r = await client.callTool({ name: "read_text_file", arguments: { path: join(root, "a.txt") } });
      assert.match(text(r), /^a/);
    },
  );
  const warned = auditLog(log2).filter((e) => e.event === "policy").map((e) => e.identifier);
  assert.ok(warned.includes("lockfile_signature_verified"), JSON.stringify(warned));
});

test("--key: the lockfile's signature is verified before the server starts, and rules see it as verified", async () => {
  const lock = await lockServer(DIR, "signed", fixture("base"));
  const key = join(DIR, "signer.key");
  const pub = join(DIR, "signer.pub");
  assert.equal((await run(["keygen", "--private", key, "--public", pub])).code, 0);
  assert.equal((await run(["sign", "--key", key, lock])).code, 0);
  const policy = policyFile(
    "signed.yaml",
    `name: signed only\nrules:\n  - name: signed\n    expr: 'has(input.lockfile) && input.lockfile.signature == "verified"'\n`,
  );
  await withHost(
    ["--lock", lock, "--policy", policy, "--key", pub, "--", ...fixture("base")],
    async (client) => {
      const r = await client.callTool({ name: "echo", arguments: { text: "signed" } });
      assert.deepEqual(JSON.parse(text(r)), { text: "signed" });
    },
  );
  // Without the key the signature is "not checked": the same rule denies.
  await withHost(["--lock", lock, "--policy", policy, "--", ...fixture("base")], async (client) => {
    assert.match(await rejectsWith(client.listTools(), -32001), /rule signed/);
  });
});

test("a bad policy is exit 2 naming the file, line and rule, before the server starts", async () => {
  const lock = await lockServer(DIR, "bad-policy", fixture("base"));
  const marker = join(DIR, "server-started");
  const starter = ["node", "-e", `require("fs").writeFileSync(${JSON.stringify(marker)}, "1")`];
  const bad = policyFile(
    "bad.yaml",
    `name: bad\ncall_rules:\n  - name: ok\n    expr: "true"\n  - name: typo\n    expr: tool.risk_levl == "LOW"\n`,
  );
  const r = await run(["proxy", "--lock", lock, "--policy", bad, "--", ...starter]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /bad\.yaml:6: call rule "typo": unknown field "risk_levl" on tool/);
  const missing = await run(["proxy", "--lock", lock, "--policy", join(DIR, "nope.yaml"), "--", ...starter]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /cannot read policy .*nope\.yaml: no such file/);
  assert.equal(existsSync(marker), false, "the server must not have started");
});
