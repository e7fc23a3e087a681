/**
 * End-to-end: `mcptrust proxy` with the official MCP SDK client as the host, through the compiled
 * binary, in front of the real npm servers and the adversarial fixture servers (issue 3 §8).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
// The SDK's "./*" export maps `x.js` to types at `x.js.d.ts`, which do not exist; point Deno at the real ones.
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/types.d.ts"
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  McpError,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { BIN, fixture, ROOT, serverEverything, serverFilesystem, serverMemory, tempDir } from "./helpers.ts";
import { auditLog, editLock, type Json, lockServer, recorded, recordedFixture } from "./proxy_harness.ts";

const DIR = tempDir("mcptrust-proxy-");
const CAPS = { roots: { listChanged: true }, sampling: {}, elicitation: {} };

interface HostOptions {
  /** Spawn `argv` itself instead of the proxy in front of it. */
  direct?: boolean;
  env?: Record<string, string>;
  /** Client capabilities (default: roots, sampling, elicitation). */
  capabilities?: Record<string, unknown>;
}

interface Host {
  client: Client;
  stderr: () => string;
}

/** Connects the SDK client to `mcptrust proxy <args>` (or, with `direct`, to the server argv itself). */
async function connect(argv: string[], opts: HostOptions = {}): Promise<Host> {
  const [command, ...args] = opts.direct ? argv : [BIN, "proxy", ...argv];
  const transport = new StdioClientTransport({
    command,
    args,
    cwd: ROOT,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (c: Uint8Array) => stderr += new TextDecoder().decode(c));
  const caps = opts.capabilities ?? CAPS;
  const client = new Client({ name: "e2e-host", version: "1.0.0" }, { capabilities: caps });
  // The SDK refuses a handler for a capability the client does not declare.
  if (caps.roots) {
    client.setRequestHandler(
      ListRootsRequestSchema,
      () => ({ roots: [{ uri: "file:///tmp/host-root", name: "host-root" }] }),
    );
  }
  if (caps.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      model: "e2e-model",
      role: "assistant" as const,
      content: { type: "text" as const, text: "hello from the host" },
    }));
  }
  if (caps.elicitation) {
    client.setRequestHandler(
      ElicitRequestSchema,
      () => ({ action: "accept" as const, content: { name: "Ada" } }),
    );
  }
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

async function withHost<T>(argv: string[], fn: (h: Host) => Promise<T>, opts: HostOptions = {}): Promise<T> {
  const h = await connect(argv, opts);
  try {
    return await fn(h);
  } finally {
    await h.client.close();
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

async function allTools(client: Client): Promise<Json[]> {
  const out: Json[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined);
    out.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function textOf(r: Json): string {
  return r.content[0].text;
}

let baseLock: Promise<string> | undefined;
function lockBase(): Promise<string> {
  return baseLock ??= lockServer(DIR, "base", fixture("base"));
}

// ------------------------------------------------------------------------------------------ real servers

test("server-everything: lists equal the direct ones, echo works; a tool deleted from the lockfile is filtered and denied", async () => {
  const lock = await lockServer(DIR, "everything", serverEverything());
  // server-everything offers more tools to a client with roots/sampling/elicitation. `mcptrust lock`
  // declares what full-featured hosts declare, so the host here does too (the default CAPS).
  const plain = {};
  const direct = await withHost(serverEverything(), (h) => allTools(h.client), { direct: true, ...plain });
  assert.ok(direct.some((t) => t.name === "get-sum"));
  await withHost(["--lock", lock, "--", ...serverEverything()], async ({ client }) => {
    assert.deepEqual(await allTools(client), direct);
    const r = await client.callTool({ name: "echo", arguments: { message: "through the proxy" } });
    assert.match(textOf(r), /through the proxy/);
  }, plain);

  const trimmed = editLock(lock, "no-get-sum", (doc) => delete doc.tools["get-sum"]);
  await withHost(
    ["--lock", trimmed, "--fail-on", "none", "--", ...serverEverything()],
    async ({ client }) => {
      assert.deepEqual(await allTools(client), direct.filter((t) => t.name !== "get-sum"));
      const msg = await rejectsWith(client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } }), -32001);
      assert.match(msg, /^MCPTRUST_DENIED: .*get-sum/);
      const r = await client.callTool({ name: "echo", arguments: { message: "still allowed" } });
      assert.match(textOf(r), /still allowed/);
    },
    plain,
  );

  // Default --fail-on critical: an unlocked tool is critical drift, so everything after initialize is denied.
  await withHost(["--lock", trimmed, "--", ...serverEverything()], async ({ client }) => {
    const msg = await rejectsWith(client.listTools(), -32001);
    assert.match(msg, /^MCPTRUST_DENIED: .*drift/);
    assert.match(msg, /get-sum/);
    const call = await rejectsWith(client.callTool({ name: "echo", arguments: { message: "x" } }), -32001);
    assert.match(call, /^MCPTRUST_DENIED: .*drift/);
    await rejectsWith(client.listPrompts(), -32001);
    await client.ping(); // lifecycle requests still pass
  }, plain);
});

test("server-filesystem: lists equal the direct ones, a file in the root reads; a deleted tool is filtered and denied", async () => {
  const root = join(DIR, "fs root");
  mkdirSync(root);
  writeFileSync(join(root, "hello.txt"), "hello through mcptrust\n");
  const lock = await lockServer(DIR, "filesystem", serverFilesystem(root));
  const direct = await withHost(serverFilesystem(root), (h) => allTools(h.client), { direct: true });
  const trimmed = editLock(lock, "no-write", (doc) => delete doc.tools["write_file"]);
  await withHost(["--lock", lock, "--", ...serverFilesystem(root)], async ({ client }) => {
    assert.deepEqual(await allTools(client), direct);
    const r = await client.callTool({ name: "read_text_file", arguments: { path: join(root, "hello.txt") } });
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.match(textOf(r), /hello through mcptrust/);
  });
  await withHost(
    ["--lock", trimmed, "--fail-on", "none", "--", ...serverFilesystem(root)],
    async ({ client }) => {
      const tools = await allTools(client);
      assert.deepEqual(tools, direct.filter((t) => t.name !== "write_file"));
      const msg = await rejectsWith(
        client.callTool({ name: "write_file", arguments: { path: join(root, "evil.txt"), content: "x" } }),
        -32001,
      );
      assert.match(msg, /^MCPTRUST_DENIED: .*write_file/);
    },
  );
});

test("server-memory: lists equal the direct ones; create_entities then read_graph through the proxy", async () => {
  const env = { MEMORY_FILE_PATH: join(DIR, "memory.jsonl") };
  const lock = await lockServer(DIR, "memory", serverMemory(), env);
  const direct = await withHost(serverMemory(), (h) => allTools(h.client), { direct: true, env });
  await withHost(["--lock", lock, "--", ...serverMemory()], async ({ client }) => {
    assert.deepEqual(await allTools(client), direct);
    const created = await client.callTool({
      name: "create_entities",
      arguments: {
        entities: [{ name: "mcptrust", entityType: "tool", observations: ["guards MCP servers"] }],
      },
    });
    assert.equal(created.isError ?? false, false, JSON.stringify(created));
    const graph = await client.callTool({ name: "read_graph", arguments: {} });
    assert.match(textOf(graph), /guards MCP servers/);
  }, { env });
});

// ------------------------------------------------------------------------------------------ protocol

test("pagination: nextCursor survives and every page arrives filtered", async () => {
  const lock = await lockServer(DIR, "paginated", fixture("paginated"));
  const trimmed = editLock(lock, "some-gone", (doc) => {
    for (const name of ["tool_05", "tool_15", "tool_25"]) delete doc.tools[name];
  });
  await withHost(["--lock", lock, "--", ...fixture("paginated")], async ({ client }) => {
    const names = (await allTools(client)).map((t) => t.name);
    assert.equal(names.length, 25);
    assert.deepEqual(names, Array.from({ length: 25 }, (_, i) => `tool_${String(i + 1).padStart(2, "0")}`));
  });
  await withHost(
    ["--lock", trimmed, "--fail-on", "none", "--", ...fixture("paginated")],
    async ({ client }) => {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined);
        pages.push(page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      } while (cursor && pages.length < 10);
      assert.equal(pages.length, 3, JSON.stringify(pages));
      assert.deepEqual(pages.map((p) => p.length), [9, 9, 4]);
      for (const gone of ["tool_05", "tool_15", "tool_25"]) assert.ok(!pages.flat().includes(gone));
      const msg = await rejectsWith(client.callTool({ name: "tool_15", arguments: {} }), -32001);
      assert.match(msg, /^MCPTRUST_DENIED: .*tool_15/);
      const ok = await client.callTool({ name: "tool_16", arguments: { n: 1 } });
      assert.match(textOf(ok), /tool tool_16 called/);
      // The other lists page through too.
      let templates = 0;
      let tc: string | undefined;
      do {
        const page = await client.listResourceTemplates(tc ? { cursor: tc } : undefined);
        templates += page.resourceTemplates.length;
        tc = page.nextCursor;
      } while (tc);
      assert.equal(templates, 11);
    },
  );
});

test("server-to-client requests complete through the proxy: roots/list, sampling/createMessage, elicitation/create", async () => {
  const lock = await lockServer(DIR, "elicitation", fixture("elicitation"));
  await withHost(["--lock", lock, "--", ...fixture("elicitation")], async ({ client }) => {
    const roots = JSON.parse(textOf(await client.callTool({ name: "ask_roots", arguments: {} })));
    assert.deepEqual(roots, { roots: [{ uri: "file:///tmp/host-root", name: "host-root" }] });
    const sampled = JSON.parse(textOf(await client.callTool({ name: "ask_sampling", arguments: {} })));
    assert.equal(sampled.content.text, "hello from the host");
    assert.equal(sampled.model, "e2e-model");
    const elicited = JSON.parse(textOf(await client.callTool({ name: "ask_elicitation", arguments: {} })));
    assert.deepEqual(elicited, { action: "accept", content: { name: "Ada" } });
  });
});

test("roots_during_list: the server asks the host for roots during the preflight's tools/list", async () => {
  const lock = await lockServer(DIR, "roots_during_list", fixture("roots_during_list"));
  await withHost(["--lock", lock, "--", ...fixture("roots_during_list")], async ({ client }) => {
    const tools = await allTools(client);
    assert.ok(tools.some((t) => t.name === "echo"));
    const r = await client.callTool({ name: "echo", arguments: { a: 1 } });
    assert.deepEqual(JSON.parse(textOf(r)), { a: 1 });
  });
});

// ------------------------------------------------------------------------------------------ adversarial

/** Resolves on the next notifications/tools/list_changed. */
function nextListChanged(client: Client): Promise<void> {
  return new Promise((resolve) =>
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve())
  );
}

test("rug_pull_description: read_file works twice; after list_changed it is gone from the list and denied naming the drift", async () => {
  const lock = await lockBase();
  await withHost(["--lock", lock, "--", ...fixture("rug_pull_description")], async ({ client }) => {
    assert.ok((await allTools(client)).some((t) => t.name === "read_file"));
    const changed = nextListChanged(client);
    for (let i = 0; i < 2; i++) {
      const r = await client.callTool({ name: "read_file", arguments: { path: "a.txt" } });
      assert.match(textOf(r), /tool read_file called/);
    }
    await changed;
    const after = await allTools(client);
    assert.ok(!after.some((t) => t.name === "read_file"), "the rewritten read_file is still listed");
    assert.ok(after.some((t) => t.name === "write_file"), "the other tools stay");
    const msg = await rejectsWith(
      client.callTool({ name: "read_file", arguments: { path: "a.txt" } }),
      -32001,
    );
    assert.match(msg, /^MCPTRUST_DENIED: tool "read_file" differs from the lockfile/);
  });
});

test("rug_pull_description: a call between list_changed and the re-list is denied (stale)", async () => {
  const lock = await lockBase();
  await withHost(["--lock", lock, "--", ...fixture("rug_pull_description")], async ({ client }) => {
    const changed = nextListChanged(client);
    await client.callTool({ name: "echo", arguments: {} });
    await client.callTool({ name: "echo", arguments: {} });
    await changed;
    const msg = await rejectsWith(
      client.callTool({ name: "read_file", arguments: { path: "a.txt" } }),
      -32001,
    );
    assert.match(msg, /^MCPTRUST_DENIED: .*read_file/);
  });
});

test("tool_added_after_calls: exec_shell never appears in tools/list and calling it is denied", async () => {
  const lock = await lockBase();
  await withHost(["--lock", lock, "--", ...fixture("tool_added_after_calls")], async ({ client }) => {
    const msg0 = await rejectsWith(
      client.callTool({ name: "exec_shell", arguments: { command: "id" } }),
      -32001,
    );
    assert.match(msg0, /^MCPTRUST_DENIED: .*exec_shell/);
    const changed = nextListChanged(client);
    await client.callTool({ name: "echo", arguments: {} });
    await client.callTool({ name: "echo", arguments: {} });
    await changed;
    const tools = await allTools(client);
    assert.ok(!tools.some((t) => t.name === "exec_shell"));
    assert.equal(tools.length, 7);
    const msg = await rejectsWith(
      client.callTool({ name: "exec_shell", arguments: { command: "id" } }),
      -32001,
    );
    assert.match(msg, /^MCPTRUST_DENIED: .*exec_shell/);
  });
});

const CYRILLIC = "read_f\u0456le";

test("homoglyph, --fail-on none: the Cyrillic read_fіle is filtered and denied, the Latin one works", async () => {
  const lock = await lockBase();
  await withHost(["--lock", lock, "--fail-on", "none", "--", ...fixture("homoglyph")], async ({ client }) => {
    const names = (await allTools(client)).map((t) => t.name);
    assert.ok(names.includes("read_file"));
    assert.ok(!names.includes(CYRILLIC));
    const msg = await rejectsWith(client.callTool({ name: CYRILLIC, arguments: { path: "x" } }), -32001);
    assert.match(msg, /^MCPTRUST_DENIED: /);
    assert.ok(msg.includes(JSON.stringify(CYRILLIC)) || msg.includes(CYRILLIC), msg);
    const r = await client.callTool({ name: "read_file", arguments: { path: "x" } });
    assert.match(textOf(r), /tool read_file called/);
  });
});

test("homoglyph, default --fail-on critical: every request after initialize is denied, naming the added tool", async () => {
  const lock = await lockBase();
  await withHost(["--lock", lock, "--", ...fixture("homoglyph")], async ({ client }) => {
    const msg = await rejectsWith(client.listTools(), -32001);
    assert.match(msg, /^MCPTRUST_DENIED: .*drift/);
    assert.ok(msg.includes(CYRILLIC) || msg.includes("\\u0456"), msg);
    await rejectsWith(client.callTool({ name: "read_file", arguments: { path: "x" } }), -32001);
  });
});

const BAD_URIS = [
  "file:///srv/data/../../etc/passwd",
  "file:///srv/data/%2e%2e/%2e%2e/etc/passwd",
  "file:///srv/data/..%2f..%2fetc/passwd",
  "file:///srv/data/%252e%252e/%252e%252e/etc/passwd",
  "file://evil/srv/data/x",
  "http:///srv/data/x",
];

test("resource URIs against file:///srv/data/{path}: a plain path reads; traversal, encodings, other hosts and schemes are denied and never reach the server", async () => {
  const lock = await lockBase();
  const rec = join(DIR, "uris.jsonl");
  await withHost(["--lock", lock, "--", ...recordedFixture("base", rec)], async ({ client }) => {
    const ok = await client.readResource({ uri: "file:///srv/data/notes/today.txt" });
    assert.equal((ok.contents[0] as Json).text, "file:///srv/data/notes/today.txt");
    for (const uri of BAD_URIS) {
      const msg = await rejectsWith(client.readResource({ uri }), -32001);
      assert.match(msg, /^MCPTRUST_DENIED: /, uri);
    }
    await client.ping();
  });
  const reads = recorded(rec).filter((m) => m.method === "resources/read").map((m) => m.params.uri);
  assert.deepEqual(reads, ["file:///srv/data/notes/today.txt"]);
});

for (const scenario of ["oversize_line", "oversize_line_valid_json"]) {
  test(`${scenario}: an 11 MiB server line is dropped and the host session continues`, async () => {
    const lock = await lockBase();
    await withHost(["--lock", lock, "--", ...fixture(scenario)], async ({ client }) => {
      const tools = await allTools(client);
      assert.equal(tools.length, 7);
      const r = await client.callTool({ name: "echo", arguments: { after: "oversize" } });
      assert.deepEqual(JSON.parse(textOf(r)), { after: "oversize" });
      assert.equal((await allTools(client)).length, 7);
    });
  });
}

test("invalid_output: a truncated line and a batch from the server; the SDK host session continues", async () => {
  const lock = await lockBase();
  await withHost(["--lock", lock, "--", ...fixture("invalid_output")], async ({ client }) => {
    for (let i = 0; i < 3; i++) {
      const r = await client.callTool({ name: "echo", arguments: { i } });
      assert.ok(Array.isArray(r.content));
    }
    assert.equal((await allTools(client)).length, 7);
  });
});

// ------------------------------------------------------------------------------------------ modes

/** base locked without write_file: write_file and the homoglyph are unlocked in the homoglyph scenario. */
async function trimmedBase(): Promise<string> {
  return editLock(await lockBase(), "no-write", (doc) => delete doc.tools["write_file"]);
}

test("--audit-only: nothing is filtered or blocked; the audit log has would_drop and would_block lines", async () => {
  const lock = await trimmedBase();
  const log = join(DIR, "audit-only.log");
  const rec = join(DIR, "audit-only.jsonl");
  await withHost([
    "--lock",
    lock,
    "--audit-only",
    "--log-output",
    log,
    "--",
    ...recordedFixture("homoglyph", rec),
  ], async ({ client }) => {
    const names = (await allTools(client)).map((t) => t.name);
    assert.ok(names.includes("write_file") && names.includes(CYRILLIC), JSON.stringify(names));
    assert.match(
      textOf(await client.callTool({ name: "write_file", arguments: { path: "p", content: "c" } })),
      /tool write_file called/,
    );
    assert.match(textOf(await client.callTool({ name: CYRILLIC, arguments: { path: "p" } })), /called/);
    const read = await client.readResource({ uri: BAD_URIS[0] });
    assert.equal((read.contents[0] as Json).text, BAD_URIS[0]);
  });
  const entries = auditLog(log);
  const ids = (event: string) => entries.filter((e) => e.event === event).map((e) => e.identifier);
  assert.ok(ids("would_drop").includes("write_file"), JSON.stringify(entries));
  assert.ok(ids("would_drop").includes(CYRILLIC));
  assert.ok(ids("would_block").includes("write_file"));
  assert.ok(ids("would_block").includes(CYRILLIC));
  assert.ok(ids("would_block").includes(BAD_URIS[0]));
  assert.ok(
    !entries.some((e) => e.event === "block" || e.event === "drop"),
    "audit-only must not block or drop",
  );
  assert.ok(entries.every((e) => e.mode === "audit-only"));
  assert.ok(recorded(rec).some((m) => m.method === "resources/read" && m.params.uri === BAD_URIS[0]));
});

test("--filter-only: lists are filtered, calls pass, both are logged", async () => {
  const lock = await trimmedBase();
  const log = join(DIR, "filter-only.log");
  await withHost(
    ["--lock", lock, "--filter-only", "--log-output", log, "--", ...fixture("homoglyph")],
    async ({ client }) => {
      const names = (await allTools(client)).map((t) => t.name);
      assert.ok(!names.includes("write_file") && !names.includes(CYRILLIC), JSON.stringify(names));
      assert.ok(names.includes("read_file"));
      assert.match(
        textOf(await client.callTool({ name: "write_file", arguments: { path: "p", content: "c" } })),
        /tool write_file called/,
      );
      assert.match(textOf(await client.callTool({ name: CYRILLIC, arguments: { path: "p" } })), /called/);
    },
  );
  const entries = auditLog(log);
  const ids = (event: string) => entries.filter((e) => e.event === event).map((e) => e.identifier);
  assert.ok(ids("drop").includes("write_file"), JSON.stringify(entries));
  assert.ok(ids("drop").includes(CYRILLIC));
  assert.ok(ids("would_block").includes("write_file"));
  assert.ok(ids("would_block").includes(CYRILLIC));
  assert.ok(!entries.some((e) => e.event === "block"));
});

for (const mode of ["--audit-only", "--filter-only"]) {
  test(`${mode}: rug_pull_description: after list_changed, read_file still works; the list ${mode === "--audit-only" ? "keeps" : "drops"} it; logged`, async () => {
    const lock = await lockBase();
    const log = join(DIR, `rug-${mode.slice(2)}.log`);
    await withHost(
      ["--lock", lock, mode, "--log-output", log, "--", ...fixture("rug_pull_description")],
      async ({ client }) => {
        const changed = nextListChanged(client);
        await client.callTool({ name: "read_file", arguments: { path: "a" } });
        await client.callTool({ name: "read_file", arguments: { path: "a" } });
        await changed;
        const listed = (await allTools(client)).some((t) => t.name === "read_file");
        assert.equal(listed, mode === "--audit-only");
        const r = await client.callTool({ name: "read_file", arguments: { path: "a" } });
        assert.match(textOf(r), /tool read_file called/);
      },
    );
    const entries = auditLog(log);
    const dropEvent = mode === "--audit-only" ? "would_drop" : "drop";
    assert.ok(
      entries.some((e) => e.event === dropEvent && e.identifier === "read_file"),
      JSON.stringify(entries),
    );
    assert.ok(entries.some((e) => e.event === "would_block" && e.identifier === "read_file"));
  });
}

// ------------------------------------------- what reaches the model is pinned (instructions, identity, members)

test("instructions: the locked ones pass unchanged (server-everything); rewritten ones never reach the host", async () => {
  const lock = await lockServer(DIR, "everything-instr", serverEverything());
  const direct = await withHost(serverEverything(), (h) => Promise.resolve(h.client.getInstructions()), {
    direct: true,
  });
  assert.ok(direct && direct.length > 0);
  await withHost(
    ["--lock", lock, "--", ...serverEverything()],
    ({ client }) => Promise.resolve(assert.equal(client.getInstructions(), direct)),
  );

  const base = await lockBase();
  const log = join(DIR, "instructions.log");
  await withHost(
    [
      "--lock",
      base,
      "--fail-on",
      "none",
      "--log-output",
      log,
      "--",
      ...fixture("drift_instructions_poisoned"),
    ],
    async ({ client }) => {
      assert.equal(client.getInstructions(), undefined);
      // The rest of the session works: only the unpinned text was held back.
      const r = await client.callTool({ name: "read_file", arguments: { path: "x" } });
      assert.match(textOf(r), /tool read_file called/);
    },
  );
  const replaced = auditLog(log).filter((e) => e.event === "replace");
  assert.ok(replaced.some((e) => /instructions/.test(e.reason)), JSON.stringify(replaced));
});

test("serverInfo: a changed identity (title, websiteUrl, an unknown member) is replaced by the locked one", async () => {
  const lock = await lockBase();
  await withHost(
    ["--lock", lock, "--fail-on", "none", "--", ...fixture("drift_server_info_changed")],
    ({ client }) =>
      Promise.resolve(
        assert.deepEqual(client.getServerVersion(), { name: "fixture-server", version: "1.0.0" }),
      ),
  );
  // Unchanged identity passes as is.
  await withHost(
    ["--lock", lock, "--", ...fixture("base")],
    ({ client }) =>
      Promise.resolve(
        assert.deepEqual(client.getServerVersion(), { name: "fixture-server", version: "1.0.0" }),
      ),
  );
});

test("members: a tool whose _meta and icons changed after approval is filtered and denied", async () => {
  const lock = await lockBase();
  await withHost(
    ["--lock", lock, "--fail-on", "none", "--", ...fixture("drift_tool_meta_changed")],
    async ({ client }) => {
      const names = (await allTools(client)).map((t) => t.name);
      assert.ok(!names.includes("read_file"), names.join(","));
      assert.ok(names.includes("write_file"));
      const msg = await rejectsWith(client.callTool({ name: "read_file", arguments: { path: "x" } }), -32001);
      assert.match(msg, /^MCPTRUST_DENIED: .*read_file/);
    },
  );
});

test("members: with a Go-format lockfile (no member hashes) only the members it pins reach the host", async () => {
  const lock = await lockBase();
  // The Go tool's v3: tool description and schema hashes only, no extensions.
  const goLock = editLock(lock, "go", (doc) => {
    delete doc.resources.static;
    for (const k of ["version", "title", "websiteUrl", "infoMembers", "instructionsHash"]) {
      delete doc.server[k];
    }
    for (const t of Object.values(doc.tools) as Json[]) {
      for (const k of Object.keys(t)) {
        if (!["description_hash", "input_schema_hash", "risk_level"].includes(k)) delete t[k];
      }
    }
    for (const p of Object.values(doc.prompts.definitions) as Json[]) {
      delete p.members;
      delete p.titleHash;
    }
    for (const t of doc.resources.templates) delete t.members;
  });
  await withHost(
    ["--lock", goLock, "--fail-on", "none", "--", ...fixture("drift_tool_meta_changed")],
    async ({ client }) => {
      const tools = await allTools(client);
      const read = tools.find((t) => t.name === "read_file");
      assert.ok(read, "read_file's pinned members did not change, so it passes");
      assert.deepEqual(Object.keys(read).sort(), ["description", "inputSchema", "name"]);
      for (const t of tools) {
        for (const k of Object.keys(t)) assert.ok(["description", "inputSchema", "name"].includes(k), k);
      }
    },
  );
});

// ------------------------------------------------- arguments and results against the approved schemas

test("arguments that violate the approved input schema get -32602 and never reach the server", async () => {
  const lock = await lockBase();
  const rec = join(DIR, "args.jsonl");
  await withHost(["--lock", lock, "--", ...recordedFixture("base", rec)], async ({ client }) => {
    const ok = await client.callTool({ name: "search", arguments: { query: "notes" } });
    assert.deepEqual(ok.structuredContent, { results: [{ path: "notes.txt", line: 3 }] });
    const msg = await rejectsWith(client.callTool({ name: "search", arguments: { query: 5 } }), -32602);
    assert.match(msg, /^MCPTRUST_INVALID_ARGUMENTS: arguments of tool "search" .*\/query must be string/);
    await rejectsWith(client.callTool({ name: "search", arguments: { query: "x", limit: 1000 } }), -32602);
  });
  const calls = recorded(rec).filter((m) => m.method === "tools/call").map((m) => m.params.arguments);
  assert.deepEqual(calls, [{ query: "notes" }]);
  // --no-validate-args lets them through to the server, which decides.
  const rec2 = join(DIR, "args-off.jsonl");
  await withHost(
    ["--lock", lock, "--no-validate-args", "--", ...recordedFixture("base", rec2)],
    async ({ client }) => {
      await client.callTool({ name: "search", arguments: { query: 5 } }).catch(() => {});
    },
  );
  assert.ok(recorded(rec2).some((m) => m.method === "tools/call" && m.params.arguments.query === 5));
});

test("server-filesystem: a call with a wrong argument type is refused by the proxy, a good one reads", async () => {
  const root = join(DIR, "fs-args");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "a.txt"), "alpha");
  const lock = await lockServer(DIR, "fs-args", serverFilesystem(root));
  await withHost(["--lock", lock, "--", ...serverFilesystem(root)], async ({ client }) => {
    const r = await client.callTool({ name: "read_text_file", arguments: { path: join(root, "a.txt") } });
    assert.match(textOf(r), /alpha/);
    const msg = await rejectsWith(
      client.callTool({ name: "read_text_file", arguments: { path: 42 } }),
      -32602,
    );
    assert.match(msg, /^MCPTRUST_INVALID_ARGUMENTS: .*read_text_file/);
  });
});

test("structuredContent that violates the approved output schema is withheld from the host", async () => {
  const lock = await lockBase();
  const log = join(DIR, "results.log");
  await withHost(
    ["--lock", lock, "--log-output", log, "--", ...fixture("invalid_structured_content")],
    async ({ client }) => {
      const msg = await rejectsWith(client.callTool({ name: "search", arguments: { query: "x" } }), -32001);
      assert.match(
        msg,
        /^MCPTRUST_DENIED: the result of tool "search" does not match its approved output schema/,
      );
      // Other tools are unaffected.
      const r = await client.callTool({ name: "read_file", arguments: { path: "x" } });
      assert.match(textOf(r), /tool read_file called/);
    },
  );
  assert.ok(auditLog(log).some((e) => e.event === "block" && e.identifier === "search"));
});
