/**
 * End-to-end, line level: the proxy's JSON-RPC invariants (issue 3 §5) through the compiled binary,
 * with a raw harness as the host (e2e/proxy_harness.ts) and fixture or scripted servers recording what
 * reached them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fixture, run } from "./helpers.ts";
import {
  auditLog,
  type Json,
  lockServer,
  RawProxy,
  recorded,
  recordedFixture,
  scriptedServer,
  tempDir,
  tempScenario,
  withProxy,
} from "./proxy_harness.ts";

const DIR = tempDir("mcptrust-proxy-protocol-");
let baseLock: Promise<string> | undefined;
/** The lockfile of the base fixture (made once). */
function lockBase(): Promise<string> {
  return baseLock ??= lockServer(DIR, "base", fixture("base"));
}
let scriptedLock: Promise<string> | undefined;
/** The lockfile of the scripted server (made once). */
function lockScripted(): Promise<string> {
  return scriptedLock ??= lockServer(DIR, "scripted", scriptedServer(DIR));
}

let n = 0;
function recordFile(): string {
  return join(DIR, `record-${++n}.jsonl`);
}

const PROXY_ID = /^mcpt-[0-9a-f]{32}$/;
const PREFLIGHT_ID = /^mcptrust-preflight-\d+$/;

function errorOf(msg: Json, code: number): { code: number; message: string } {
  assert.ok(msg.error, `expected error ${code}, got ${JSON.stringify(msg).slice(0, 500)}`);
  assert.equal(msg.error.code, code, JSON.stringify(msg).slice(0, 500));
  assert.equal(msg.result, undefined);
  return msg.error;
}

function echoCall(text: string) {
  return { name: "echo", arguments: { text } };
}

test("host ids never reach the server; a 20-digit id and an escaped string id come back byte for byte", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  await withProxy(["--lock", lock, "--", ...recordedFixture("base", rec)], async (p) => {
    await p.initialize();
    const big = await p.request("12345678901234567890", "tools/call", echoCall("big"));
    assert.deepEqual(JSON.parse(big.result.content[0].text), { text: "big" });
    assert.equal(p.responsesTo("12345678901234567890")[0].raw.includes('"id":12345678901234567890'), true);
    // The escape must survive as written, not as the character it stands for.
    const esc = await p.request('"caf\\u00e9-id"', "tools/list");
    assert.ok(Array.isArray(esc.result.tools));
    assert.equal(p.responsesTo('"caf\\u00e9-id"').length, 1);
    const neg = await p.request("-7", "ping");
    assert.deepEqual(neg.result, {});
    await p.sync();
    const lines = recorded(rec);
    const requests = lines.filter((m) => typeof m.method === "string" && "id" in m);
    assert.ok(requests.length >= 5, JSON.stringify(requests));
    for (const m of requests) {
      assert.ok(PROXY_ID.test(m.id) || PREFLIGHT_ID.test(m.id), `server saw id ${JSON.stringify(m.id)}`);
    }
    const forwarded = requests.filter((m) => !PREFLIGHT_ID.test(m.id)).map((m) => m.id);
    assert.equal(new Set(forwarded).size, forwarded.length, "every forwarded request has a fresh id");
    const all = JSON.stringify(lines);
    for (
      const hostId of [
        "12345678901234567890",
        "1.2345678901234567e+19",
        "café-id",
        "caf\\\\u00e9",
        '"init"',
        '"-7"',
      ]
    ) {
      assert.ok(!all.includes(hostId), `host id ${hostId} reached the server`);
    }
  });
});

test("object, array and over-256-byte ids get -32600 (id null), never reach the server, and the session goes on", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  await withProxy(["--lock", lock, "--", ...recordedFixture("base", rec)], async (p) => {
    await p.initialize();
    await p.sync();
    const bad = [
      '{"a":1}',
      "[1]",
      JSON.stringify("s".repeat(300)),
      "1" + "0".repeat(256), // a 257-digit number (the Go reference's LargeJsonNumberRejected)
    ];
    const before = p.lines.length;
    for (const id of bad) {
      p.send(
        `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"bad-id"}}}`,
      );
    }
    await p.sync();
    const answers = p.lines.slice(before).filter((l) => l.value && (l.value as Json).error);
    assert.equal(answers.length, bad.length, JSON.stringify(p.lines.slice(before).map((l) => l.raw)));
    for (const a of answers) {
      errorOf(a.value, -32600);
      assert.equal((a.value as Json).id, null);
    }
    // A 200-byte string id is within the limit.
    const okId = JSON.stringify("k".repeat(200));
    const ok = await p.request(okId, "tools/call", echoCall("ok-id"));
    assert.ok(ok.result, JSON.stringify(ok));
    await p.sync();
    const calls = recorded(rec).filter((m) => m.method === "tools/call").map((m) => m.params.arguments.text);
    assert.deepEqual(calls, ["ok-id"]);
  });
});

test("invalid JSON gets -32700 with id null and a log line; blank lines are ignored; the session goes on", async () => {
  const lock = await lockBase();
  const log = join(DIR, "invalid-json.log");
  await withProxy(["--lock", lock, "--log-output", log, "--", ...fixture("base")], async (p) => {
    await p.initialize();
    await p.sync();
    let before = p.lines.length;
    p.send('{"jsonrpc":"2.0","id":1,"method":"tools/call",');
    const parse = await p.waitFor((l) => (l.value as Json)?.error?.code === -32700, "with code -32700");
    assert.equal(parse.rawId, "null");
    await p.sync();
    assert.equal(p.lines.length - before, 2, "one parse error and the ping's answer");
    before = p.lines.length;
    p.write("\n   \n\r\n\t\n");
    await p.sync();
    assert.equal(
      p.lines.length - before,
      1,
      `blank lines were answered: ${p.lines.slice(before).map((l) => l.raw)}`,
    );
    const r = await p.request("2", "tools/call", echoCall("after"));
    assert.ok(r.result);
    assert.deepEqual(p.junk, []);
    await p.end();
  });
  assert.ok(auditLog(log).some((e) => e.event === "host.invalid_json"), "the invalid line is logged");
});

test("a host line over 10 MiB gets an error, never reaches the server, and the session goes on", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  await withProxy(["--lock", lock, "--", ...recordedFixture("base", rec)], async (p) => {
    await p.initialize();
    await p.sync();
    const huge = JSON.stringify({
      jsonrpc: "2.0",
      id: "huge",
      method: "tools/call",
      params: { name: "echo", arguments: { text: "x".repeat(10 * 1024 * 1024 + 10) } },
    });
    const before = p.lines.length;
    p.send(huge);
    await p.sync();
    const answers = p.lines.slice(before).filter((l) => (l.value as Json).error);
    assert.equal(answers.length, 1, "exactly one error for the oversize line");
    assert.ok([-32600, -32700].includes((answers[0].value as Json).error.code));
    const r = await p.request('"after"', "tools/call", echoCall("after"));
    assert.ok(r.result);
    const big = recorded(rec).filter((m) => JSON.stringify(m).length > 1024 * 1024);
    assert.equal(big.length, 0, "the oversize line reached the server");
  });
});

test("a batch: every element is decided on its own (allowed forwarded, denied answered -32001, invalid -32600)", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  await withProxy(["--lock", lock, "--", ...recordedFixture("base", rec)], async (p) => {
    await p.initialize();
    await p.sync();
    p.send([
      { jsonrpc: "2.0", id: "b1", method: "tools/call", params: echoCall("in-batch") },
      { jsonrpc: "2.0", id: "b2", method: "tools/call", params: { name: "exec_shell", arguments: {} } },
      {
        jsonrpc: "2.0",
        id: "b3",
        method: "resources/read",
        params: { uri: "file:///srv/data/../../etc/passwd" },
      },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "t", progress: 1 } },
      { jsonrpc: "2.0", id: "b4", method: "ping" },
      { jsonrpc: "2.0", id: "b5", method: "evil/method" },
      42,
    ]);
    const b1 = (await p.response('"b1"')).value as Json;
    assert.deepEqual(JSON.parse(b1.result.content[0].text), { text: "in-batch" });
    assert.match(errorOf((await p.response('"b2"')).value, -32001).message, /^MCPTRUST_DENIED: .*exec_shell/);
    assert.match(errorOf((await p.response('"b3"')).value, -32001).message, /^MCPTRUST_DENIED: /);
    assert.deepEqual(((await p.response('"b4"')).value as Json).result, {});
    assert.match(errorOf((await p.response('"b5"')).value, -32001).message, /^MCPTRUST_DENIED: /);
    await p.waitFor((l) => (l.value as Json)?.error?.code === -32600, "with -32600 for the element 42");
    await p.sync();
    const seen = recorded(rec);
    const calls = seen.filter((m) => m.method === "tools/call");
    assert.deepEqual(calls.map((m) => m.params.name), ["echo"]);
    assert.ok(!seen.some((m) => m.method === "resources/read" || m.method === "evil/method"));
    for (const id of ["b1", "b2", "b3", "b4", "b5"]) assert.equal(p.responsesTo(`"${id}"`).length, 1, id);
  });
});

test("a batch element's 20-digit id comes back byte for byte too", async () => {
  const lock = await lockBase();
  await withProxy(["--lock", lock, "--", ...fixture("base")], async (p) => {
    await p.initialize();
    await p.sync();
    p.send(
      `[{"jsonrpc":"2.0","id":98765432109876543210,"method":"ping"},` +
        `{"jsonrpc":"2.0","id":98765432109876543211,"method":"tools/call","params":{"name":"nope"}}]`,
    );
    const denied = await p.waitFor(
      (l) => (l.value as Json).error?.code === -32001,
      "denying the batch's tools/call",
    );
    const pong = await p.waitFor(
      (l) =>
        !String(l.rawId).startsWith('"') && l.rawId !== undefined && (l.value as Json).result !== undefined,
      "answering the batch's ping",
    );
    assert.equal(pong.rawId, "98765432109876543210");
    assert.equal(denied.rawId, "98765432109876543211");
  });
});

test("bad_responses: wrong-id, unsolicited and duplicate responses never reach the host", async () => {
  const lock = await lockBase();
  await withProxy(["--lock", lock, "--", ...fixture("bad_responses")], async (p) => {
    await p.initialize();
    for (const id of ["5", '"five"', "6"]) {
      const r = await p.request(id, "tools/call", echoCall(`call-${id}`));
      assert.ok(r.result, JSON.stringify(r));
    }
    await p.sync();
    for (const id of ["5", '"five"', "6"]) assert.equal(p.responsesTo(id).length, 1, `responses to ${id}`);
    const bogus = p.lines.filter((l) => l.raw.includes("bogus response"));
    assert.deepEqual(bogus.map((l) => l.raw), []);
    // Every response the host got answers a request it sent.
    const sent = new Set(["5", '"five"', "6", '"init"']);
    for (const l of p.lines) {
      if (l.value && !("method" in (l.value as object)) && !String(l.rawId).startsWith('"sync-')) {
        assert.ok(sent.has(String(l.rawId)), `unsolicited response reached the host: ${l.raw.slice(0, 200)}`);
      }
    }
    assert.deepEqual(p.junk, []);
  });
});

test("malformed_responses: result+error is answered as the error; a response without id never reaches the host", async () => {
  const lock = await lockBase();
  await withProxy(["--lock", lock, "--", ...fixture("malformed_responses")], async (p) => {
    await p.initialize();
    const r = await p.request("9", "tools/call", echoCall("x"));
    assert.ok(r.error, JSON.stringify(r));
    assert.equal(r.result, undefined);
    await p.sync();
    assert.equal(p.responsesTo("9").length, 1);
    assert.ok(!p.lines.some((l) => l.rawId === undefined && (l.value as Json).result !== undefined));
  });
});

test("invalid_output: a truncated JSON line and a batch from the server; the host gets one answer per request and valid JSON only", async () => {
  const lock = await lockBase();
  await withProxy(["--lock", lock, "--", ...fixture("invalid_output")], async (p) => {
    await p.initialize();
    for (const id of ["1", "2"]) {
      const r = await p.request(id, "tools/call", echoCall(`out-${id}`));
      assert.ok(r.result, JSON.stringify(r));
    }
    await p.sync();
    assert.equal(p.responsesTo("1").length, 1);
    assert.equal(p.responsesTo("2").length, 1);
    assert.deepEqual(p.junk, [], "every line the host got is JSON");
    const r = await p.request("3", "tools/list");
    assert.ok(r.result.tools.length > 0);
  });
});

test("a server response that is not valid JSON never reaches the host", async () => {
  const lock = await lockScripted();
  await withProxy(["--lock", lock, "--", ...scriptedServer(DIR)], async (p) => {
    await p.initialize();
    await p.request("0", "tools/list");
    p.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "badjson", arguments: {} } });
    const r = await p.request("2", "tools/call", echoCall("after"));
    assert.ok(r.result);
    assert.deepEqual(p.junk, [], "the proxy forwarded a line that is not JSON");
  });
});

test("list results: result-level _meta and unknown members, pinned by nothing, do not reach the host", async () => {
  const lock = await lockScripted();
  await withProxy(["--lock", lock, "--", ...scriptedServer(DIR)], async (p) => {
    await p.initialize();
    const r = await p.request("1", "tools/list");
    assert.deepEqual(Object.keys(r.result), ["tools"]);
    assert.equal(r.result.tools.length, 5);
  });
});

test("--max-pending 2: with two requests waiting on the server, the third gets -32002 MCPTRUST_OVERLOADED", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  const dir = tempDir();
  const [node, script, scenario] = tempScenario(dir, "hang_call", {
    extends: "base.json",
    hangOn: ["tools/call"],
  });
  const args = [
    "--lock",
    lock,
    "--max-pending",
    "2",
    "--request-timeout",
    "1s",
    "--",
    node,
    script,
    "--record",
    rec,
    scenario,
  ];
  await withProxy(args, async (p) => {
    await p.initialize();
    await p.request("0", "tools/list"); // the preflight is done: requests now go straight to the pending table
    p.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: echoCall("one") });
    p.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: echoCall("two") });
    p.send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: echoCall("three") });
    const third = (await p.response("3")).value as Json;
    assert.match(errorOf(third, -32002).message, /^MCPTRUST_OVERLOADED/);
    // The two waiting requests are answered by the request timeout, which frees the table.
    assert.ok(((await p.response("1")).value as Json).error);
    assert.ok(((await p.response("2")).value as Json).error);
    await p.sync("after-overload");
    const texts = recorded(rec).filter((m) => m.method === "tools/call").map((m) => m.params.arguments.text);
    assert.deepEqual(texts, ["one", "two"], "the refused request never reached the server");
  });
});

test("host EOF with a request pending: it is answered (request timeout), then the server is stopped", async () => {
  const lock = await lockScripted();
  await withProxy(["--lock", lock, "--request-timeout", "1s", "--", ...scriptedServer(DIR)], async (p) => {
    await p.initialize();
    await p.request("0", "tools/list");
    p.send({ jsonrpc: "2.0", id: "held", method: "tools/call", params: { name: "hold", arguments: {} } });
    const exit = await p.end();
    assert.equal(exit.code, 4, p.stderr);
    assert.equal(p.responsesTo('"held"').length, 1);
    assert.ok((p.responsesTo('"held"')[0].value as Json).error);
  });
});

test("--request-timeout 1s: an unanswered request gets an error, and the late answer is dropped", async () => {
  const lock = await lockScripted();
  await withProxy(["--lock", lock, "--request-timeout", "1s", "--", ...scriptedServer(DIR)], async (p) => {
    await p.initialize();
    await p.request("0", "tools/list");
    p.send({ jsonrpc: "2.0", id: "slow", method: "tools/call", params: { name: "hold", arguments: {} } });
    const timedOut = (await p.response('"slow"')).value as Json;
    assert.ok(timedOut.error, JSON.stringify(timedOut));
    assert.match(timedOut.error.message, /TIMEOUT|did not answer/i);
    // The scripted server answers the held call just before this ping: the answer comes too late.
    await p.sync("after-timeout");
    assert.equal(p.responsesTo('"slow"').length, 1);
    assert.ok(!p.lines.some((l) => l.raw.includes("late answer")), "the late answer reached the host");
  });
});

test("notifications/cancelled reaches the server with the proxy's id, not the host's", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  await withProxy(["--lock", lock, "--", ...recordedFixture("base", rec)], async (p) => {
    await p.initialize();
    await p.request("0", "tools/list");
    // ask_roots waits for the host's answer to roots/list, so the call stays pending.
    p.send({ jsonrpc: "2.0", id: 42, method: "tools/call", params: { name: "ask_roots", arguments: {} } });
    const ask = await p.waitFor(
      (l) => (l.value as Json).method === "roots/list",
      "roots/list from the server",
    );
    p.send({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 42, reason: "user gave up" },
    });
    await p.sync();
    // Let the call finish so the proxy has nothing pending at host EOF.
    p.send({ jsonrpc: "2.0", id: (ask.value as Json).id, result: { roots: [] } });
    await p.sync("after-roots"); // the fixture answers in order: the call is done once this returns
    const seen = recorded(rec);
    const call = seen.find((m) => m.method === "tools/call" && m.params.name === "ask_roots");
    assert.ok(call && PROXY_ID.test(call.id));
    const cancels = seen.filter((m) => m.method === "notifications/cancelled");
    assert.equal(cancels.length, 1, JSON.stringify(cancels));
    assert.equal(cancels[0].params.requestId, call.id);
    assert.equal(cancels[0].params.reason, "user gave up");
  });
});

test("server-to-client requests: the host sees a proxy id, the server gets its own id back on the answer", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  await withProxy(["--lock", lock, "--", ...recordedFixture("base", rec)], async (p) => {
    await p.initialize();
    p.send({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "ask_roots", arguments: {} } });
    const ask = await p.waitFor(
      (l) => (l.value as Json).method === "roots/list",
      "roots/list from the server",
    );
    const hostSide = (ask.value as Json).id;
    assert.notEqual(hostSide, 1, "the server's own id reached the host");
    assert.equal(typeof hostSide, "string");
    p.send({ jsonrpc: "2.0", id: hostSide, result: { roots: [{ uri: "file:///tmp/root-a", name: "a" }] } });
    const r = (await p.response("7")).value as Json;
    assert.deepEqual(JSON.parse(r.result.content[0].text), {
      roots: [{ uri: "file:///tmp/root-a", name: "a" }],
    });
    // A second answer to the same request, and one to an id never issued, are dropped.
    p.send({ jsonrpc: "2.0", id: hostSide, result: { roots: [] } });
    p.send({ jsonrpc: "2.0", id: 1, result: { roots: [] } });
    await p.sync();
    const answers = recorded(rec).filter((m) => !("method" in m));
    assert.deepEqual(answers.map((m) => m.id), [1]);
  });
});

test("server stderr is copied to the proxy's stderr, never to stdout", async () => {
  const lock = await lockScripted();
  const log = join(DIR, "stderr.log");
  await withProxy(["--lock", lock, "--log-output", log, "--", ...scriptedServer(DIR)], async (p) => {
    await p.initialize();
    const r = await p.request("1", "tools/call", { name: "shout", arguments: { text: "hello-stderr" } });
    assert.ok(r.result);
    await p.end();
    assert.match(p.stderr, /SCRIPTED-STDERR started/);
    assert.match(p.stderr, /SCRIPTED-STDERR hello-stderr/);
    assert.ok(!p.lines.some((l) => l.raw.includes("SCRIPTED-STDERR")));
    assert.deepEqual(p.junk, []);
  });
});

test("host EOF stops the server and the proxy exits with the server's code", async () => {
  const lock = await lockScripted();
  await withProxy(["--lock", lock, "--", ...scriptedServer(DIR)], async (p) => {
    await p.initialize();
    await p.request("1", "tools/call", echoCall("x"));
    const exit = await p.end();
    assert.equal(exit.code, 4, p.stderr);
  });
});

test("a server that exits mid-request: the pending request gets an error and the proxy exits with the server's code", async () => {
  const lock = await lockScripted();
  await withProxy(["--lock", lock, "--", ...scriptedServer(DIR)], async (p) => {
    await p.initialize();
    await p.request("0", "tools/list");
    p.send({ jsonrpc: "2.0", id: "d1", method: "tools/call", params: { name: "die", arguments: {} } });
    const r = (await p.response('"d1"')).value as Json;
    assert.ok(r.error, JSON.stringify(r));
    assert.match(r.error.message, /exited with code 7/);
    const exit = await p.exited;
    assert.equal(exit.code, 7);
    assert.match(p.stderr, /SCRIPTED-STDERR dying/);
  });
});

test("a server that fails to start: its stderr reaches ours, the host's request is answered, exit code is the server's", async () => {
  const lock = await lockBase();
  const p = new RawProxy(["--lock", lock, "--", ...fixture("crash_on_start")]);
  try {
    p.send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    const exit = await p.exited;
    assert.equal(exit.code, 3);
    assert.match(p.stderr, /fatal: cannot open database \/nonexistent/);
    assert.ok(!p.lines.some((l) => l.raw.includes("fatal")));
    // Whether the initialize reached the server before it died is a race; if it is answered, it is an error.
    for (const l of p.responsesTo("1")) assert.ok((l.value as Json).error);
  } finally {
    await p.kill();
  }
});

test("--print-effective-allowlist prints the allowlist JSON and exits 0 without starting a server", async () => {
  const lock = await lockBase();
  const r = await run(["proxy", "--lock", lock, "--print-effective-allowlist"]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.lockfile, lock);
  assert.deepEqual(doc.tools, [
    "ask_roots",
    "ask_sampling",
    "echo",
    "large",
    "read_file",
    "search",
    "write_file",
  ]);
  assert.deepEqual(doc.prompts, ["code_review", "summarize"]);
  assert.deepEqual(doc.templates, ["file:///srv/data/{path}"]);
  assert.deepEqual(doc.resources, ["config://app/settings"]);
});

test("members that a server could read differently (case, normalization, NUL, repeats) are refused and never reach it", async () => {
  const lock = await lockBase();
  const rec = recordFile();
  await withProxy(["--lock", lock, "--", ...recordedFixture("base", rec)], async (p) => {
    await p.initialize();
    const attempts = [
      '{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"echo","Name":"write_file","arguments":{}}}',
      '{"jsonrpc":"2.0","id":"c2","method":"tools/call","params":{"name":"echo","name\\u0000":"write_file"}}',
      '{"jsonrpc":"2.0","id":"c3","method":"tools/call","params":{"name":"read_file","arguments":{"path":"a","PATH":"/etc/passwd"}}}',
      '{"jsonrpc":"2.0","id":"c4","method":"tools/call","params":{"name":"write_file","name":"echo"}}',
      '{"jsonrpc":"2.0","id":"c5","method":"tools/call","params":{"ｎａｍｅ":"write_file","name":"echo"}}',
    ];
    for (const [i, text] of attempts.entries()) {
      p.send(text);
      const r = (await p.response(`"c${i + 1}"`)).value as Json;
      assert.equal(r.error?.code, -32600, text);
      assert.match(r.error.message, /collide|repeats a member/);
    }
    const ok = await p.request('"fine"', "tools/call", { name: "echo", arguments: { text: "hi" } });
    assert.ok(ok.result);
    await p.sync();
  });
  const calls = recorded(rec).filter((m) => m.method === "tools/call");
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].params, { name: "echo", arguments: { text: "hi" } });
});
