/**
 * End-to-end: observability through the compiled binary (issue 9 §4) and the quoted server command
 * (§5): `--log-format jsonl` / `--log-output` on every command with one schema and redacted argv,
 * `--receipt` on lock, check, policy check and proxy (also when they fail), `--otel` against a local
 * OTLP/HTTP receiver, and `-- "npx -y pkg /tmp"` split as a shell would.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { BIN, fixture, ROOT, run, tempDir } from "./helpers.ts";
import { editLock, type Json, lockServer } from "./proxy_harness.ts";
import { counterValue, startOtlpReceiver } from "../lib/observe/test_support.ts";

const DIR = tempDir("mcptrust-observe-");
const SECRET = "s3cr3t-value-0042";
const ECHO = ["node", join(ROOT, "testdata/servers/echo_server.mjs")];

function jsonl(path: string): Json[] {
  return readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

let baseLock: Promise<string> | undefined;
function lockBase(): Promise<string> {
  return baseLock ??= lockServer(DIR, "base", fixture("base"));
}

test("--log-format jsonl --log-output: one schema, one op_id per run, secrets in argv redacted", async () => {
  const log = join(DIR, "scan.jsonl");
  // The server's argv carries a secret as an env assignment (`env NAME=value node ...`).
  const r = await run([
    "scan",
    "--log-format",
    "jsonl",
    "--log-output",
    log,
    "--",
    "env",
    `MCP_API_TOKEN=${SECRET}`,
    ...ECHO,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "the log went to the file, not stderr");
  assert.ok(!readFileSync(log, "utf8").includes(SECRET), "the secret never reaches the log");
  const lines = jsonl(log);
  assert.deepEqual(lines.map((l) => l.event), ["command.start", "command.end"]);
  for (const l of lines) {
    assert.equal(l.schema, "mcptrust.log/1");
    assert.equal(l.command, "scan");
    assert.match(l.ts, /Z$/);
  }
  assert.equal(new Set(lines.map((l) => l.op_id)).size, 1);
  assert.ok(lines[0].argv.includes("MCP_API_TOKEN=[redacted]"));
  assert.equal(lines[1].exit_code, 0);
  assert.equal(typeof lines[1].duration_ms, "number");
});

test("text stays the default: warnings as before; a failure in a text log file", async () => {
  const log = join(DIR, "fail.log");
  const r = await run(["check", "--lock", join(DIR, "missing.json"), "--log-output", log, "--", ...ECHO]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^mcptrust: cannot read lockfile/m, "the CLI's own error line is unchanged");
  assert.match(readFileSync(log, "utf8"), /^error: cannot read lockfile .* \(exit code 2\)$/m);
});

test("lock --receipt: command, redacted argv, lockfile sha256, server identity, outcome, durations", async () => {
  const out = join(DIR, "echo.lock.json");
  const receipt = join(DIR, "lock.receipt.json");
  const r = await run(["lock", "-o", out, "--receipt", receipt, "--", "env", `API_KEY=${SECRET}`, ...ECHO]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(receipt, "utf8"));
  assert.equal(doc.schema, "mcptrust.receipt/1");
  assert.equal(doc.tool.name, "mcptrust");
  assert.match(doc.tool.version, /\S/);
  assert.equal(doc.command, "lock");
  assert.equal(doc.exit_code, 0);
  assert.equal(doc.result, "pass");
  assert.equal(doc.outcome, "created");
  assert.deepEqual(doc.lockfile, { path: out, sha256: sha256(out) });
  assert.deepEqual(doc.server, {
    argv: ["env", "API_KEY=[redacted]", ...ECHO],
    name: "echo-server",
    version: "1.0.0",
  });
  assert.ok(doc.durations_ms.total >= doc.durations_ms.scan && doc.durations_ms.scan >= 0);
  assert.ok(!readFileSync(receipt, "utf8").includes(SECRET));
});

test("check --receipt: PASS with the drift summary; drift: FAIL (exit 1) and still written", async () => {
  const lock = await lockBase();
  const pass = join(DIR, "check-pass.json");
  const r1 = await run(["check", "--lock", lock, "--receipt", pass, "--", ...fixture("base")]);
  assert.equal(r1.code, 0, r1.stderr);
  const a = JSON.parse(readFileSync(pass, "utf8"));
  assert.equal(a.command, "check");
  assert.equal(a.outcome, "PASS");
  assert.equal(a.result, "pass");
  assert.deepEqual(a.drift, { critical: 0, moderate: 0, info: 0, total: 0, fail_on: "critical" });
  assert.equal(a.lockfile.sha256, sha256(lock));
  assert.equal(a.server.name, "fixture-server");

  const fail = join(DIR, "check-fail.json");
  const r2 = await run(["check", "--lock", lock, "--receipt", fail, "--", ...fixture("drift_tool_added")]);
  assert.equal(r2.code, 1);
  const b = JSON.parse(readFileSync(fail, "utf8"));
  assert.equal(b.exit_code, 1);
  assert.equal(b.result, "fail");
  assert.equal(b.outcome, "FAIL");
  assert.ok(b.drift.critical >= 1);
});

test("a run that fails writes its receipt with the failure; header values never appear", async () => {
  const receipt = join(DIR, "broken.json");
  const log = join(DIR, "broken.jsonl");
  const r = await run([
    "check",
    "--lock",
    join(DIR, "no-such-lock.json"),
    "--url",
    "http://127.0.0.1:9/mcp",
    "--header",
    `Authorization: Bearer ${SECRET}`,
    "--receipt",
    receipt,
    "--log-format",
    "jsonl",
    "--log-output",
    log,
  ]);
  assert.equal(r.code, 2);
  const doc = JSON.parse(readFileSync(receipt, "utf8"));
  assert.equal(doc.result, "error");
  assert.equal(doc.exit_code, 2);
  assert.match(doc.error.message, /cannot read lockfile/);
  assert.ok(doc.argv.includes("Authorization: [redacted]"));
  for (const file of [receipt, log]) assert.ok(!readFileSync(file, "utf8").includes(SECRET), file);
  const end = jsonl(log).at(-1);
  assert.equal(end.event, "command.end");
  assert.equal(end.level, "error");
  assert.match(end.error.message, /cannot read lockfile/);
});

test("policy check --receipt records the policy's verdict", async () => {
  const receipt = join(DIR, "policy.json");
  const r = await run([
    "policy",
    "check",
    "--preset",
    "baseline",
    "--receipt",
    receipt,
    "--",
    ...fixture("base"),
  ]);
  const doc = JSON.parse(readFileSync(receipt, "utf8"));
  assert.equal(doc.command, "policy check");
  assert.equal(doc.exit_code, r.code);
  assert.equal(doc.outcome, r.code === 0 ? "PASS" : "FAIL");
  assert.equal(doc.policy.preset, "baseline");
  assert.equal(typeof doc.policy.passed, "boolean");
  assert.deepEqual(Object.keys(doc.policy.summary).sort(), ["fail", "pass", "warn"]);
});

/** Connects the SDK client to `mcptrust proxy <args>`. */
async function proxyHost(args: string[]): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ["proxy", ...args],
    cwd: ROOT,
    env: process.env as Record<string, string>,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (c: Uint8Array) => stderr += new TextDecoder().decode(c));
  const client = new Client({ name: "e2e-host", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

/** A session: list tools (write_file is not locked: dropped), call read_file (allowed), write_file (blocked). */
async function session(client: Client): Promise<void> {
  const tools = await client.listTools();
  assert.deepEqual(tools.tools.map((t) => t.name).includes("write_file"), false);
  await client.callTool({ name: "read_file", arguments: { path: "a.txt" } });
  await assert.rejects(
    client.callTool({ name: "write_file", arguments: { path: "a", content: "b" } }),
    /DENIED/,
  );
  await client.close();
}

test("proxy --receipt: counts of allowed, blocked and dropped; the audit log on stderr is mcptrust.log/1", async () => {
  const lock = editLock(await lockBase(), "obs-no-write", (doc) => delete doc.tools["write_file"]);
  const receipt = join(DIR, "proxy.json");
  const host = await proxyHost([
    "--lock",
    lock,
    "--fail-on",
    "none",
    "--receipt",
    receipt,
    "--",
    ...fixture("base"),
  ]);
  await session(host.client);
  for (let i = 0; i < 100 && !existsSync(receipt); i++) await new Promise((r) => setTimeout(r, 50));
  const doc = JSON.parse(readFileSync(receipt, "utf8"));
  assert.equal(doc.command, "proxy");
  assert.equal(doc.lockfile.sha256, sha256(lock));
  assert.equal(doc.server.name, "fixture-server");
  // initialize, tools/list, tools/call read_file: forwarded (the SDK may add pings, never fewer).
  assert.ok(doc.decisions.allowed >= 3, JSON.stringify(doc.decisions));
  assert.equal(doc.decisions.blocked, 1);
  assert.ok(doc.decisions.dropped >= 1, "write_file removed from tools/list");
  assert.equal(doc.decisions.events.block, 1);
  const audit = host.stderr().trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  assert.ok(audit.length > 0);
  for (const l of audit) {
    assert.equal(l.schema, "mcptrust.log/1");
    assert.equal(l.command, "proxy");
    assert.equal(l.mode, "enforce");
  }
  assert.ok(audit.some((l) => l.event === "block" && l.identifier === "write_file"));
});

test("proxy --otel: a span per request with method, tool and decision, and the counters", async () => {
  const rx = await startOtlpReceiver();
  try {
    const lock = editLock(await lockBase(), "otel-no-write", (doc) => delete doc.tools["write_file"]);
    const host = await proxyHost([
      "--lock",
      lock,
      "--fail-on",
      "none",
      "--otel-endpoint",
      rx.url,
      "--",
      ...fixture("base"),
    ]);
    await session(host.client);
    await rx.until(() => rx.spans.some((s) => s.name === "mcptrust proxy"));
    await rx.until(() => counterValue(rx.points, "mcptrust.proxy.blocked") === 1);
    const root = rx.spans.find((s) => s.name === "mcptrust proxy")!;
    const call = rx.spans.find((s) => s.name === "tools/call read_file");
    assert.ok(call, rx.spans.map((s) => s.name).join(", "));
    assert.equal(call.parentSpanId, root.spanId);
    assert.equal(call.attributes["mcp.method.name"], "tools/call");
    assert.equal(call.attributes["gen_ai.tool.name"], "read_file");
    assert.equal(call.attributes["mcptrust.decision"], "allow");
    const denied = rx.spans.find((s) => s.name === "tools/call write_file");
    assert.equal(denied?.attributes["mcptrust.decision"], "block");
    assert.ok(rx.spans.some((s) => s.name === "tools/list"));
    assert.ok(counterValue(rx.points, "mcptrust.proxy.allowed") >= 3);
    assert.ok(counterValue(rx.points, "mcptrust.proxy.dropped") >= 1);
    assert.equal(
      counterValue(rx.points, "mcptrust.proxy.allowed", (a) => a["mcp.method.name"] === "tools/call"),
      1,
    );
  } finally {
    await rx.close();
  }
});

test("check --otel-endpoint: one span for the command, with its exit code, over OTLP/HTTP JSON", async () => {
  const rx = await startOtlpReceiver();
  try {
    const lock = await lockBase();
    const r = await run([
      "check",
      "--lock",
      lock,
      "--otel-endpoint",
      rx.url,
      "--",
      ...fixture("drift_tool_added"),
    ]);
    assert.equal(r.code, 1);
    const span = rx.spans.find((s) => s.name === "mcptrust check");
    assert.ok(span, "exported before the process exited");
    assert.equal(span.attributes["mcptrust.command"], "check");
    assert.equal(span.attributes["mcptrust.exit_code"], 1);
    assert.equal(span.status?.code, 2);
    assert.equal(span.resource["service.name"], "mcptrust");
    assert.ok(rx.requests.every((q) => q.contentType.startsWith("application/json")));
  } finally {
    await rx.close();
  }
});

test("a quoted server command is split as a shell would, and the split is announced", async () => {
  const out = join(DIR, "quoted.lock.json");
  const r = await run(["lock", "-o", out, "--", `node '${ECHO[1]}'`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /split into 2 arguments as a POSIX shell would \(no shell is run\)/);
  assert.ok(existsSync(out));
});

test("a quoted command that needs a shell is refused before anything runs", async () => {
  for (
    const [cmd, what] of [
      ["node x.js | tee /tmp/x", "`|`"],
      ["node $HOME/x.js", "$HOME"],
      ["node *.js", "glob"],
      ["node `id`.js", "backquote"],
      ["TOKEN=1 node x.js", "environment assignment"],
    ]
  ) {
    const r = await run(["scan", "--", cmd]);
    assert.equal(r.code, 2, cmd);
    assert.ok(r.stderr.includes(what), `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /mcptrust runs no shell/);
  }
});

test("one argument that is an existing file with a space is run as that file, not split", async () => {
  const script = join(DIR, "echo server.mjs");
  copyFileSync(ECHO[1], script);
  chmodSync(script, 0o755);
  const r = await run(["scan", "--format", "text", "--", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /split/);
  assert.match(r.stdout, /echo/);
});
