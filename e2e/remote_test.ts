/**
 * End-to-end: remote MCP servers over Streamable HTTP (and the old HTTP+SSE) through the compiled binary:
 * `lock`, `check`, `diff`, `scan` and `proxy --url`, against the real server-everything started in its
 * streamableHttp and sse modes on a loopback port, with the official SDK client as the host.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client";
// The SDK's "./*" export maps `x.js` to types at `x.js.d.ts`, which do not exist; point Deno at the real ones.
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.d.ts"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/types.d.ts"
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { BIN, ROOT, run, serverEverything, tempDir } from "./helpers.ts";
import { editLock, type Json } from "./proxy_harness.ts";

const DIR = tempDir("mcptrust-remote-");
const CAPS = { roots: { listChanged: true }, sampling: {}, elicitation: {} };

/** A free loopback TCP port (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.connect(port, "127.0.0.1");
  });
}

interface Remote {
  /** The MCP endpoint (streamableHttp: /mcp; sse: /sse). */
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts server-everything in `mode` on a free loopback port (its PORT variable) and waits until it listens. */
async function startEverything(mode: "streamableHttp" | "sse"): Promise<Remote> {
  const port = await freePort();
  const argv = serverEverything();
  const child = spawn(argv[0], [...argv.slice(1, -1), mode], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Uint8Array) => stderr += new TextDecoder().decode(c));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  for (let i = 0; i < 200 && !(await canConnect(port)); i++) {
    if (child.exitCode !== null) throw new Error(`server-everything ${mode} exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}/${mode === "sse" ? "sse" : "mcp"}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

async function withEverything<T>(mode: "streamableHttp" | "sse", fn: (r: Remote) => Promise<T>): Promise<T> {
  const r = await startEverything(mode);
  try {
    return await fn(r);
  } finally {
    await r.stop();
  }
}

function withoutMeta(doc: Json): Json {
  const { meta: _meta, ...rest } = doc;
  return rest;
}

// ------------------------------------------------------------------------------------------ client side

test("lock --url: the same lockfile as over stdio plus server.url; no credential reaches the file or the output", async () => {
  const stdioLock = join(DIR, "stdio.lock.json");
  assert.equal((await run(["lock", "-o", stdioLock, "--", ...serverEverything()])).code, 0);
  await withEverything("streamableHttp", async ({ url }) => {
    const lock = join(DIR, "http.lock.json");
    const withSecrets = url.replace("http://", "http://alice:pw-userinfo-1@") + "?token=query-secret-2";
    const r = await run([
      "lock",
      "-o",
      lock,
      "--url",
      withSecrets,
      "--header",
      "X-Api-Key: header-secret-3",
      "--bearer-token-env",
      "REMOTE_TOKEN",
    ], { env: { REMOTE_TOKEN: "bearer-secret-4" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Locked .*\n.*16 tool\(s\)/);
    const text = readFileSync(lock, "utf8");
    for (const s of ["alice", "pw-userinfo-1", "query-secret-2", "header-secret-3", "bearer-secret-4"]) {
      assert.ok(!text.includes(s), `lockfile holds ${s}`);
      assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `output holds ${s}`);
    }
    const http = JSON.parse(text);
    const stdio = JSON.parse(readFileSync(stdioLock, "utf8"));
    assert.equal(http.server.url, url);
    delete http.server.url;
    assert.deepEqual(withoutMeta(http), withoutMeta(stdio));

    // check and diff: no drift; lock again: up to date.
    const check = await run(["check", "--lock", lock, "--url", url]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /PASS/);
    const diff = await run(["diff", "--lock", lock, "--url", url]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match((await run(["lock", "-o", lock, "--url", url])).stdout, /up to date/);
    const scan = await run(["scan", "--url", url]);
    assert.equal(scan.code, 0, scan.stderr);
    assert.equal(JSON.parse(scan.stdout).tools.length, 16);
    const policy = await run([
      "policy",
      "check",
      "--preset",
      "baseline",
      "--lock",
      lock,
      "--format",
      "json",
      "--url",
      url,
    ]);
    assert.equal(policy.code, 0, policy.stderr);
    assert.equal(JSON.parse(policy.stdout).outcome, "PASS");
  });
});

test("check --url: a tool missing from the lockfile is TOOL_ADDED (exit 1); the old HTTP+SSE server is reached by fallback", async () => {
  await withEverything("streamableHttp", async ({ url }) => {
    const lock = join(DIR, "drift.lock.json");
    assert.equal((await run(["lock", "-o", lock, "--url", url])).code, 0);
    const trimmed = editLock(lock, "no-echo", (doc) => delete doc.tools["echo"]);
    const r = await run(["check", "--lock", trimmed, "--format", "json", "--url", url]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.outcome, "FAIL");
    assert.deepEqual(report.drift.map((d: Json) => [d.type, d.identifier]), [["TOOL_ADDED", "echo"]]);

    // server-everything's sse mode only speaks HTTP+SSE (its POST /sse is a 404): same interface, same lock.
    await withEverything("sse", async (sse) => {
      const ok = await run(["check", "--lock", lock, "--url", sse.url]);
      assert.equal(ok.code, 0, ok.stderr);
      const drift = await run(["check", "--lock", trimmed, "--url", sse.url]);
      assert.equal(drift.code, 1);
      assert.match(drift.stdout, /TOOL_ADDED/);
    });
  });
});

test("--url refusals are exit 2 with one line: unreachable, not http(s), plain http off loopback, both --url and --, --header alone", async () => {
  const port = await freePort(); // nothing listens there
  const cases: [string[], RegExp][] = [
    [
      ["scan", "--url", `http://127.0.0.1:${port}/mcp?key=q-secret-5`],
      /cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp/,
    ],
    [["scan", "--url", "file:///etc/passwd"], /http or https/],
    [["scan", "--url", "http://example.com/mcp"], /plain http to example\.com/],
    [["scan", "--url", "http://127.0.0.1:1/mcp", "--", "node", "x.js"], /either --url or a server command/],
    [["scan", "--header", "X-Key: h-secret-6", "--", "node", "x.js"], /need --url/],
    [
      ["lock", "--url", "http://127.0.0.1:1/mcp", "--bearer-token-env", "NOT_SET_ANYWHERE"],
      /NOT_SET_ANYWHERE is not set/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.ok(!/q-secret-5|h-secret-6/.test(r.stderr + r.stdout), r.stderr);
    assert.ok(!r.stderr.includes("    at "), "no stack trace");
  }
  const help = await run(["check", "--help"]);
  assert.match(help.stdout, /--allow-insecure-http/);
});

// ------------------------------------------------------------------------------------------ proxy --url

interface Host {
  client: Client;
  stderr: () => string;
}

async function connectHost(args: string[]): Promise<Host> {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ["proxy", ...args],
    cwd: ROOT,
    env: process.env as Record<string, string>,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (c: Uint8Array) => stderr += new TextDecoder().decode(c));
  const client = new Client({ name: "e2e-host", version: "1.0.0" }, { capabilities: CAPS });
  addHostHandlers(client);
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

function addHostHandlers(client: Client): void {
  client.setRequestHandler(
    ListRootsRequestSchema,
    () => ({ roots: [{ uri: "file:///tmp/host-root", name: "r" }] }),
  );
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    model: "e2e-model",
    role: "assistant" as const,
    content: { type: "text" as const, text: "hello from the host" },
  }));
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: "decline" as const }));
}

async function directTools(url: string): Promise<Json[]> {
  const client = new Client({ name: "e2e-direct", version: "1.0.0" }, { capabilities: CAPS });
  addHostHandlers(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
  }
}

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

function textOf(r: Json): string {
  return r.content[0].text;
}

test("proxy --url: lists equal the direct ones, echo works; a tool deleted from the lockfile is hidden and denied", async () => {
  await withEverything("streamableHttp", async ({ url }) => {
    const lock = join(DIR, "proxy.lock.json");
    assert.equal((await run(["lock", "-o", lock, "--url", url])).code, 0);
    const direct = await directTools(url);
    assert.ok(direct.some((t) => t.name === "get-sum"));
    const host = await connectHost(["--lock", lock, "--url", url]);
    try {
      assert.deepEqual((await host.client.listTools()).tools, direct);
      const r = await host.client.callTool({ name: "echo", arguments: { message: "over http" } });
      assert.match(textOf(r), /over http/);
      const sum = await host.client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } });
      assert.match(textOf(sum), /5/);
    } finally {
      await host.client.close();
    }

    const trimmed = editLock(lock, "no-get-sum", (doc) => delete doc.tools["get-sum"]);
    const host2 = await connectHost(["--lock", trimmed, "--fail-on", "none", "--url", url]);
    try {
      assert.deepEqual((await host2.client.listTools()).tools, direct.filter((t) => t.name !== "get-sum"));
      const msg = await rejectsWith(
        host2.client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } }),
        -32001,
      );
      assert.match(msg, /^MCPTRUST_DENIED: .*get-sum/);
    } finally {
      await host2.client.close();
    }
  });
});

test("proxy --url: sampling and elicitation requests from the server complete through the proxy", async () => {
  await withEverything("streamableHttp", async ({ url }) => {
    const lock = join(DIR, "s2c.lock.json");
    assert.equal((await run(["lock", "-o", lock, "--url", url])).code, 0);
    const host = await connectHost(["--lock", lock, "--url", url]);
    try {
      const sampled = await host.client.callTool({
        name: "trigger-sampling-request",
        arguments: { prompt: "say hi", maxTokens: 20 },
      });
      assert.match(textOf(sampled), /hello from the host/);
      assert.match(textOf(sampled), /e2e-model/);
      const elicited = await host.client.callTool({ name: "trigger-elicitation-request", arguments: {} });
      assert.match(JSON.stringify(elicited.content), /decline/);
      const roots = await host.client.callTool({ name: "get-roots-list", arguments: {} });
      assert.match(JSON.stringify(roots.content), /host-root/);
    } finally {
      await host.client.close();
    }
  });
});

test("proxy --url: the old HTTP+SSE server through the proxy; an upstream that dies mid-call gives that request a JSON-RPC error", async () => {
  await withEverything("streamableHttp", async ({ url }) => {
    const lock = join(DIR, "fallback.lock.json");
    assert.equal((await run(["lock", "-o", lock, "--url", url])).code, 0);
    await withEverything("sse", async (sse) => {
      const host = await connectHost(["--lock", lock, "--url", sse.url]);
      try {
        assert.equal((await host.client.listTools()).tools.length, 16);
        const r = await host.client.callTool({ name: "echo", arguments: { message: "via http+sse" } });
        assert.match(textOf(r), /via http\+sse/);
      } finally {
        await host.client.close();
      }
    });
  });
  const remote = await startEverything("streamableHttp");
  try {
    const lock = join(DIR, "dies.lock.json");
    assert.equal((await run(["lock", "-o", lock, "--url", remote.url])).code, 0);
    const host = await connectHost(["--lock", lock, "--url", remote.url]);
    try {
      const call = host.client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 30, steps: 30 } },
        undefined,
        { timeout: 60_000 },
      );
      // Handle the rejection from the start: under load the drop can come before the wait ends.
      const refused = rejectsWith(call, -32603);
      await new Promise((r) => setTimeout(r, 1500));
      await remote.stop();
      const msg = await refused;
      assert.match(msg, /^MCPTRUST_UPSTREAM: .*trigger-long-running-operation|^MCPTRUST_UPSTREAM: /);
      assert.match(host.stderr(), /"event":"upstream.error"/);
    } finally {
      await host.client.close();
    }
  } finally {
    await remote.stop();
  }
});

// ------------------------------------------------------------------------------------------ proxy --listen

interface Listening {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `mcptrust proxy --listen 127.0.0.1:0 <args>` and waits for its "listen" audit event. */
async function startListen(args: string[]): Promise<Listening> {
  const child = spawn(BIN, ["proxy", "--listen", "127.0.0.1:0", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen event: ${stderr}`)), 20_000);
    child.stderr!.on("data", (c: Uint8Array) => {
      stderr += new TextDecoder().decode(c);
      const m = /"event":"listen".*"url":"([^"]+)"/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", () => reject(new Error(`proxy exited: ${stderr}`)));
  });
  return {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** An SDK host over Streamable HTTP whose sampling handler answers with `tag`. */
async function httpHost(
  url: string,
  tag: string,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: `e2e-${tag}`, version: "1.0.0" }, { capabilities: CAPS });
  addHostHandlers(client);
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    model: `model-${tag}`,
    role: "assistant" as const,
    content: { type: "text" as const, text: `hello from ${tag}` },
  }));
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

test("proxy --listen: two hosts over Streamable HTTP get separate sessions and servers; lists equal direct; a forbidden Origin is 403", async () => {
  const lock = join(DIR, "listen.lock.json");
  assert.equal((await run(["lock", "-o", lock, "--", ...serverEverything()])).code, 0);
  const trimmed = editLock(lock, "no-get-sum", (doc) => delete doc.tools["get-sum"]);
  const direct = await withEverything("streamableHttp", ({ url }) => directTools(url));
  const proxy = await startListen(["--lock", trimmed, "--fail-on", "none", "--", ...serverEverything()]);
  try {
    const a = await httpHost(proxy.url, "A");
    const b = await httpHost(proxy.url, "B");
    try {
      assert.ok(a.transport.sessionId && b.transport.sessionId);
      assert.notEqual(a.transport.sessionId, b.transport.sessionId);
      const expected = direct.filter((t) => t.name !== "get-sum");
      assert.deepEqual((await a.client.listTools()).tools, expected);
      assert.deepEqual((await b.client.listTools()).tools, expected);
      const msg = await rejectsWith(
        a.client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } }),
        -32001,
      );
      assert.match(msg, /^MCPTRUST_DENIED: .*get-sum/);
      // Server-to-client requests reach the host whose call caused them, concurrently.
      const [ra, rb] = await Promise.all([
        a.client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "p", maxTokens: 5 } }),
        b.client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "p", maxTokens: 5 } }),
      ]);
      assert.match(textOf(ra), /hello from A/);
      assert.doesNotMatch(textOf(ra), /from B/);
      assert.match(textOf(rb), /hello from B/);
      // Ending A's session leaves B's alone.
      await a.transport.terminateSession();
      const echo = await b.client.callTool({ name: "echo", arguments: { message: "B still here" } });
      assert.match(textOf(echo), /B still here/);
    } finally {
      await a.client.close();
      await b.client.close();
    }
    const starts = proxy.stderr().match(/"event":"session.start"/g) ?? [];
    assert.equal(starts.length, 2);

    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(proxy.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...headers,
        },
        body: JSON.stringify(body),
      });
    const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
    const evil = await post({ origin: "http://evil.example" }, ping);
    assert.equal(evil.status, 403);
    await evil.body?.cancel();
    const local = await post({ origin: "http://localhost:5173" }, ping);
    assert.equal(local.status, 400); // allowed origin, but no session
    await local.body?.cancel();
    const gone = await post({ "mcp-session-id": "no-such-session" }, ping);
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  } finally {
    await proxy.stop();
  }
});

test("proxy --listen --url: hosts over Streamable HTTP to a remote server through the proxy", async () => {
  await withEverything("streamableHttp", async ({ url }) => {
    const lock = join(DIR, "listen-url.lock.json");
    assert.equal((await run(["lock", "-o", lock, "--url", url])).code, 0);
    const direct = await directTools(url);
    const proxy = await startListen(["--lock", lock, "--url", url]);
    try {
      const h = await httpHost(proxy.url, "H");
      try {
        assert.deepEqual((await h.client.listTools()).tools, direct);
        const r = await h.client.callTool({ name: "echo", arguments: { message: "listen to url" } });
        assert.match(textOf(r), /listen to url/);
        const s = await h.client.callTool({
          name: "trigger-sampling-request",
          arguments: { prompt: "p", maxTokens: 5 },
        });
        assert.match(textOf(s), /hello from H/);
      } finally {
        await h.client.close();
      }
    } finally {
      await proxy.stop();
    }
  });
});
