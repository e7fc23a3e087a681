/**
 * Decisions of the policy core through its TypeScript host: methods, tools, prompts, static
 * resources, templates, completion, list verification and item states, loading, and failing closed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Allowlist, type Decision, MAX_INPUT_UNITS, PolicyCore, PolicyCoreError } from "./core.ts";
import { POLICY_CORE_WASM_BASE64 } from "./core_wasm.generated.ts";

const ALLOWLIST: Allowlist = {
  tools: [{ name: "read_file", fingerprint: "fp-read" }, { name: "list_dir", fingerprint: "fp-list" }],
  prompts: [{ name: "summarize", fingerprint: "fp-sum" }],
  resources: [{ uri: "mem://notes/1", fingerprint: "fp-note" }],
  templates: [
    { uriTemplate: "file:///srv/data/{path}", fingerprint: "fp-files" },
    { uriTemplate: "file:///srv/{path}", fingerprint: "fp-srv" },
  ],
};

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(POLICY_CORE_WASM_BASE64);
  const bytes = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** A core with ALLOWLIST loaded; `verify` lists the named kinds so their items become VERIFIED. */
function core(verify: ("tool" | "prompt" | "resource" | "template")[] = []): PolicyCore {
  const c = PolicyCore.load();
  c.setAllowlist(ALLOWLIST);
  if (verify.includes("tool")) {
    c.verifyList("tool", [{ key: "read_file", fingerprint: "fp-read" }, {
      key: "list_dir",
      fingerprint: "fp-list",
    }]);
  }
  if (verify.includes("prompt")) c.verifyList("prompt", [{ key: "summarize", fingerprint: "fp-sum" }]);
  if (verify.includes("resource")) {
    c.verifyList("resource", [{ key: "mem://notes/1", fingerprint: "fp-note" }]);
  }
  if (verify.includes("template")) {
    c.verifyList("template", [
      { key: "file:///srv/data/{path}", fingerprint: "fp-files" },
      { key: "file:///srv/{path}", fingerprint: "fp-srv" },
    ]);
  }
  return c;
}

function expect(d: Decision, code: string, rule?: number): void {
  assert.equal(d.code, code, JSON.stringify(d));
  assert.equal(d.allow, ["PASS", "LIST", "LOCKED", "TEMPLATE_MATCH", "VERIFIED"].includes(code));
  if (rule !== undefined) assert.equal(d.rule, rule, JSON.stringify(d));
}

// -- loading -----------------------------------------------------------------------------------

test("load() uses the embedded core and starts with nothing locked", () => {
  const c = PolicyCore.load();
  assert.equal(c.failure, undefined);
  expect(c.decideToolCall("read_file"), "NOT_LOCKED");
  expect(c.decideResourceUri("file:///srv/data/x"), "NOT_LOCKED");
  assert.deepEqual(c.itemStates(), []);
});

test("load(bytes) accepts the same module given explicitly", () => {
  const c = PolicyCore.load(wasmBytes());
  c.setAllowlist(ALLOWLIST);
  expect(c.decideToolCall("read_file"), "NOT_OFFERED", 0);
});

test("corrupt, truncated or foreign bytes make load throw PolicyCoreError", () => {
  const good = wasmBytes();
  const badSection = good.slice();
  badSection[8] ^= 0xff; // id of the first section
  const badLength = good.slice();
  badLength[9] = 0x7f; // length of the first section
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["not wasm", new TextEncoder().encode("#!/bin/sh\necho pwned\n")],
    ["header only", good.slice(0, 8)],
    ["truncated", good.slice(0, good.length - 100)],
    ["bad magic", Uint8Array.from([0x00, 0x61, 0x73, 0x6e, ...good.slice(4)])],
    ["bad section id", badSection],
    ["bad section length", badLength],
    // A valid module with no exports: compiles, instantiates, then fails the export check.
    ["empty module", Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(() => PolicyCore.load(bytes), (err: unknown) => {
      assert.ok(err instanceof PolicyCoreError, `${name}: ${String(err)}`);
      assert.equal(err.exitCode, 2);
      assert.ok(err.hint && err.hint.length > 0, name);
      return true;
    }, name);
  }
});

/** The real instance with some exports replaced (fault injection). */
function instanceWith(
  override: (real: Record<string, CallableFunction>) => Record<string, unknown>,
): { exports: WebAssembly.Exports } {
  const real = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {}).exports;
  return {
    exports: { ...real, ...override(real as Record<string, CallableFunction>) } as WebAssembly.Exports,
  };
}

test("a core that gives a wrong answer fails the self-test at load", () => {
  const liar = instanceWith((real) => ({
    // Allows every tool: pack(LOCKED, tool, rule 0).
    decide_name: (kind: number, len: number) =>
      kind === 1 ? 3 | (1 << 8) | (1 << 12) : real.decide_name(kind, len),
  }));
  assert.throws(() => PolicyCore.fromInstance(liar), /self-test/);
  const missing = instanceWith(() => ({ verify_item: undefined }));
  assert.throws(() => PolicyCore.fromInstance(missing), /verify_item/);
});

// -- failing closed ----------------------------------------------------------------------------

function armedCore(
  fault: (real: Record<string, CallableFunction>) => (kind: number, len: number) => unknown,
) {
  let armed = false;
  const inst = instanceWith((real) => {
    const faulty = fault(real);
    return {
      decide_name: (kind: number, len: number) => armed ? faulty(kind, len) : real.decide_name(kind, len),
    };
  });
  const c = PolicyCore.fromInstance(inst);
  c.setAllowlist(ALLOWLIST);
  c.verifyList("tool", [{ key: "read_file", fingerprint: "fp-read" }]);
  expect(c.decideToolCall("read_file"), "LOCKED", 0);
  armed = true;
  return c;
}

test("a trap inside the core denies with CORE_FAILURE and keeps denying", () => {
  // A genuine wasm trap: asking the core for a 7 GiB scratch block fails its allocator.
  const c = armedCore((real) => () => real.scratch_reserve(0x40000000));
  const d = c.decideToolCall("read_file");
  expect(d, "CORE_FAILURE");
  assert.match(c.failure ?? "", /RuntimeError/);
  // Every later decision is a deny, whatever the entry point.
  expect(c.decideMethod("initialize", {}), "CORE_FAILURE");
  expect(c.decideMethod("tools/call", { name: "read_file" }), "CORE_FAILURE");
  expect(c.decideResourceUri("file:///srv/data/x"), "CORE_FAILURE");
  expect(c.verifyListItem("tool", "read_file", "fp-read"), "CORE_FAILURE");
  assert.deepEqual(c.verifyList("tool", [{ key: "read_file", fingerprint: "fp-read" }]).map((x) => x.code), [
    "CORE_FAILURE",
  ]);
  assert.throws(() => c.setAllowlist(ALLOWLIST), PolicyCoreError);
});

test("an exception from the core denies with CORE_FAILURE", () => {
  const c = armedCore(() => () => {
    throw new Error("boom");
  });
  expect(c.decideToolCall("read_file"), "CORE_FAILURE");
  assert.match(c.failure ?? "", /boom/);
});

test("a result outside the known codes denies with CORE_FAILURE", () => {
  const bad: [string, unknown][] = [
    ["zero", 0],
    ["negative", -5],
    ["unknown code", 99],
    ["CORE_FAILURE from the core", 16 | (1 << 8)],
    ["fraction", 3.5],
    ["NaN", NaN],
    ["not a number", "3"],
    ["rule past the allowlist", 3 | (1 << 8) | (500 << 12)],
    ["allow with no rule", 3 | (1 << 8)],
    ["allow naming a prompt for a tool", 3 | (1 << 8) | (3 << 12)], // rule 2 is the prompt
    ["allow about a resource", 4 | (3 << 8) | (1 << 12)],
    ["unknown subject", 22 | (9 << 8)],
  ];
  for (const [name, value] of bad) {
    const c = armedCore(() => () => value);
    expect(c.decideToolCall("read_file"), "CORE_FAILURE");
    assert.ok(c.failure, name);
  }
});

// -- methods -----------------------------------------------------------------------------------

test("protocol methods pass, in the direction MCP allows them", () => {
  const c = core();
  const fromHost = [
    "initialize",
    "ping",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
    "logging/setLevel",
    "tasks/get",
    "tasks/result",
    "tasks/list",
    "tasks/cancel",
  ];
  for (const m of fromHost) expect(c.decideMethod(m, {}, "host"), "PASS");
  const fromServer = [
    "ping",
    "notifications/message",
    "notifications/progress",
    "notifications/resources/updated",
    "notifications/resources/list_changed",
    "notifications/tools/list_changed",
    "notifications/prompts/list_changed",
    "roots/list",
    "sampling/createMessage",
    "elicitation/create",
  ];
  for (const m of fromServer) expect(c.decideMethod(m, {}, "server"), "PASS");
  const d = c.decideMethod("initialize", {});
  assert.equal(d.ruleKey, "initialize");
  assert.equal(d.subject, "method");
});

test("methods sent in the wrong direction are refused", () => {
  const c = core(["tool"]);
  for (const m of ["tools/call", "resources/read", "initialize", "tools/list", "completion/complete"]) {
    expect(c.decideMethod(m, { name: "read_file", uri: "file:///srv/data/x" }, "server"), "WRONG_DIRECTION");
  }
  for (const m of ["sampling/createMessage", "roots/list", "elicitation/create", "notifications/message"]) {
    expect(c.decideMethod(m, {}, "host"), "WRONG_DIRECTION");
  }
});

test("unknown methods are refused, including near-misses and prototype names", () => {
  const c = core(["tool"]);
  for (
    const m of [
      "",
      "tools/exec",
      "Tools/Call",
      "tools/call ",
      "notifications/custom",
      "__proto__",
      "constructor",
    ]
  ) {
    expect(c.decideMethod(m, { name: "read_file" }), "UNKNOWN_METHOD", -1);
  }
});

test("list methods pass and say which item kind their result holds", () => {
  const c = core();
  const lists: [string, string][] = [
    ["tools/list", "tool"],
    ["prompts/list", "prompt"],
    ["resources/list", "resource"],
    ["resources/templates/list", "template"],
  ];
  for (const [m, kind] of lists) {
    expect(c.decideMethod(m, {}), "LIST");
    assert.equal(c.listKindOf(m), kind);
  }
  assert.equal(c.listKindOf("tools/call"), null);
  assert.equal(c.listKindOf("nope"), null);
});

test("enforced methods are decided on their params", () => {
  const c = core(["tool", "prompt", "template"]);
  expect(c.decideMethod("tools/call", { name: "read_file", arguments: {} }), "LOCKED", 0);
  expect(c.decideMethod("tools/call", { name: "exec_shell" }), "NOT_LOCKED");
  expect(c.decideMethod("prompts/get", { name: "summarize" }), "LOCKED", 2);
  for (const m of ["resources/read", "resources/subscribe", "resources/unsubscribe"]) {
    expect(c.decideMethod(m, { uri: "file:///srv/data/a.txt" }), "TEMPLATE_MATCH", 4);
    expect(c.decideMethod(m, { uri: "file:///etc/passwd" }), "NOT_LOCKED");
  }
  expect(
    c.decideMethod("completion/complete", { ref: { type: "ref/prompt", name: "summarize" } }),
    "LOCKED",
    2,
  );
});

test("enforced methods with missing or mistyped params are refused", () => {
  const c = core(["tool", "template"]);
  const bad: [string, unknown][] = [
    ["tools/call", undefined],
    ["tools/call", {}],
    ["tools/call", { name: 42 }],
    ["tools/call", ["read_file"]],
    ["tools/call", "read_file"],
    ["prompts/get", { name: null }],
    ["resources/read", { url: "file:///srv/data/a" }],
    ["resources/subscribe", { uri: ["file:///srv/data/a"] }],
    ["completion/complete", {}],
    ["completion/complete", { ref: { type: "ref/tool", name: "read_file" } }],
    ["completion/complete", { ref: { type: "ref/prompt", uri: "summarize" } }],
  ];
  for (const [m, params] of bad) expect(c.decideMethod(m, params), "INVALID_PARAMS");
});

// -- tools and prompts -------------------------------------------------------------------------

test("a tool is usable only while its latest listing matched the lockfile", () => {
  const c = core();
  expect(c.decideToolCall("read_file"), "NOT_OFFERED", 0);
  expect(c.verifyListItem("tool", "read_file", "fp-read"), "VERIFIED", 0);
  expect(c.decideToolCall("read_file"), "LOCKED", 0);
  expect(c.decideToolCall("list_dir"), "NOT_OFFERED", 1);
  // Rug pull: the server re-lists the tool with a changed definition.
  expect(c.verifyListItem("tool", "read_file", "fp-evil"), "DRIFTED", 0);
  expect(c.decideToolCall("read_file"), "DRIFTED", 0);
  // Stays denied until a list shows it matching again.
  expect(c.decideToolCall("read_file"), "DRIFTED", 0);
  expect(c.verifyListItem("tool", "read_file", "fp-read"), "VERIFIED", 0);
  expect(c.decideToolCall("read_file"), "LOCKED", 0);
});

test("tools not in the lockfile are refused, listed or called", () => {
  const c = core(["tool"]);
  expect(c.decideToolCall("exec_shell"), "NOT_LOCKED", -1);
  expect(c.decideToolCall(""), "NOT_LOCKED", -1);
  expect(c.decideToolCall("READ_FILE"), "NOT_LOCKED", -1);
  expect(c.decideToolCall("read_file\u0000"), "NOT_LOCKED", -1);
  expect(c.verifyListItem("tool", "exec_shell", "anything"), "NOT_LOCKED", -1);
  // A prompt's name is not a tool.
  expect(c.decideToolCall("summarize"), "NOT_LOCKED", -1);
});

test("prompts follow the same states", () => {
  const c = core();
  expect(c.decidePromptGet("summarize"), "NOT_OFFERED", 2);
  expect(c.verifyListItem("prompt", "summarize", "fp-sum"), "VERIFIED", 2);
  expect(c.decidePromptGet("summarize"), "LOCKED", 2);
  expect(c.verifyListItem("prompt", "summarize", "fp-other"), "DRIFTED", 2);
  expect(c.decidePromptGet("summarize"), "DRIFTED", 2);
  expect(c.decidePromptGet("read_file"), "NOT_LOCKED");
});

test("list_changed makes items stale until they are listed again", () => {
  const c = core(["tool", "prompt"]);
  c.markStale("tool");
  expect(c.decideToolCall("read_file"), "STALE", 0);
  expect(c.decidePromptGet("summarize"), "LOCKED", 2);
  c.verifyList("tool", [{ key: "read_file", fingerprint: "fp-read" }]);
  expect(c.decideToolCall("read_file"), "LOCKED", 0);
  expect(c.decideToolCall("list_dir"), "STALE", 1);
  c.markStale();
  expect(c.decidePromptGet("summarize"), "STALE", 2);
  // A drifted item stays drifted: marking stale never upgrades it.
  c.verifyListItem("tool", "read_file", "fp-evil");
  c.markStale("tool");
  expect(c.decideToolCall("read_file"), "DRIFTED", 0);
});

test("a key listed twice in one result is refused and its item drifts", () => {
  const c = core();
  const ds = c.verifyList("tool", [
    { key: "read_file", fingerprint: "fp-read" },
    { key: "list_dir", fingerprint: "fp-list" },
    { key: "read_file", fingerprint: "fp-evil" },
    { key: "exec_shell", fingerprint: "x" },
  ]);
  assert.deepEqual(ds.map((d) => d.code), ["VERIFIED", "VERIFIED", "DUPLICATE_IN_LIST", "NOT_LOCKED"]);
  expect(c.decideToolCall("read_file"), "DRIFTED", 0);
  expect(c.decideToolCall("list_dir"), "LOCKED", 1);
  // The next result (a new list) with one matching copy restores it.
  c.verifyList("tool", [{ key: "read_file", fingerprint: "fp-read" }]);
  expect(c.decideToolCall("read_file"), "LOCKED", 0);
  // Separate single-item checks are separate lists.
  expect(c.verifyListItem("tool", "read_file", "fp-read"), "VERIFIED");
  expect(c.verifyListItem("tool", "read_file", "fp-read"), "VERIFIED");
});

test("names are compared as exact Unicode; ill-formed text never matches", () => {
  const c = PolicyCore.load();
  c.setAllowlist({ tools: [{ name: "résumé_📄", fingerprint: "f" }] });
  c.verifyListItem("tool", "résumé_📄", "f");
  expect(c.decideToolCall("résumé_📄"), "LOCKED", 0);
  expect(c.decideToolCall("re\u0301sume\u0301_📄"), "NOT_LOCKED"); // NFD form is a different name
  expect(c.decideToolCall("résumé_\ud83d"), "INVALID_TEXT");
  expect(c.decideToolCall("\udc00"), "INVALID_TEXT");
  // Lone surrogates cannot be locked either (TextEncoder would map them all to U+FFFD).
  assert.throws(() => c.setAllowlist({ tools: [{ name: "a\ud800", fingerprint: "f" }] }), /well-formed/);
});

test("over-long input is refused without growing memory", () => {
  const c = core(["tool"]);
  expect(c.decideToolCall("x".repeat(MAX_INPUT_UNITS + 1)), "INPUT_TOO_LONG");
  expect(c.decideResourceUri(`file:///srv/data/${"a".repeat(MAX_INPUT_UNITS)}`), "INPUT_TOO_LONG");
  expect(c.decideToolCall("read_file"), "LOCKED");
});

test("large inputs grow the scratch buffer and later calls still see their own bytes", () => {
  const c = core(["tool", "template"]);
  const long = `file:///srv/data/${"d/".repeat(100_000)}end.txt`;
  expect(c.decideResourceUri(long), "TEMPLATE_MATCH", 4);
  expect(c.decideToolCall("read_file"), "LOCKED", 0);
  expect(c.decideToolCall(`read_file${"x".repeat(300_000)}`), "NOT_LOCKED");
  expect(c.decideToolCall("read_file"), "LOCKED", 0);
});

test("a large allowlist grows linear memory and keeps every rule index", () => {
  const c = PolicyCore.load();
  const tools = Array.from({ length: 20_000 }, (_, i) => ({ name: `tool_${i}`, fingerprint: `fp_${i}` }));
  c.setAllowlist({ tools });
  c.verifyList("tool", tools.map((t) => ({ key: t.name, fingerprint: t.fingerprint })));
  for (const i of [0, 1, 9_999, 19_999]) expect(c.decideToolCall(`tool_${i}`), "LOCKED", i);
  expect(c.decideToolCall("tool_20000"), "NOT_LOCKED");
});

// -- resources, templates, completion ----------------------------------------------------------

test("a static resource is allowed by exact URI once verified", () => {
  const c = core();
  expect(c.decideResourceUri("mem://notes/1"), "NOT_OFFERED", 3);
  c.verifyList("resource", [{ key: "mem://notes/1", fingerprint: "fp-note" }]);
  expect(c.decideResourceUri("mem://notes/1"), "LOCKED", 3);
  // Exact: an equivalent spelling is not the locked URI.
  expect(c.decideResourceUri("MEM://notes/1"), "NOT_LOCKED");
  expect(c.decideResourceUri("mem://notes/./1"), "NOT_LOCKED");
  expect(c.verifyListItem("resource", "mem://notes/1", "fp-changed"), "DRIFTED", 3);
  expect(c.decideResourceUri("mem://notes/1"), "DRIFTED", 3);
});

test("templates must be verified, and a drifted template blocks every URI it matches", () => {
  const c = core();
  expect(c.decideResourceUri("file:///srv/data/a.txt"), "NOT_OFFERED", 4);
  c.verifyList("template", [{ key: "file:///srv/data/{path}", fingerprint: "fp-files" }]);
  expect(c.decideResourceUri("file:///srv/data/a.txt"), "TEMPLATE_MATCH", 4);
  // Under /srv/ but not /srv/data/: only the unverified template matches.
  expect(c.decideResourceUri("file:///srv/other.txt"), "NOT_OFFERED", 5);
  c.verifyList("template", [{ key: "file:///srv/{path}", fingerprint: "fp-evil" }]);
  // The server might route /srv/data/a.txt to the drifted handler, so it is refused too.
  expect(c.decideResourceUri("file:///srv/data/a.txt"), "DRIFTED", 5);
  expect(c.decideResourceUri("file:///srv/other.txt"), "DRIFTED", 5);
});

test("a static resource that is only unseen falls back to a verified template", () => {
  const c = PolicyCore.load();
  c.setAllowlist({
    resources: [{ uri: "file:///srv/data/readme.md", fingerprint: "r" }],
    templates: [{ uriTemplate: "file:///srv/data/{path}", fingerprint: "t" }],
  });
  c.verifyList("template", [{ key: "file:///srv/data/{path}", fingerprint: "t" }]);
  expect(c.decideResourceUri("file:///srv/data/readme.md"), "TEMPLATE_MATCH", 1);
  c.verifyList("resource", [{ key: "file:///srv/data/readme.md", fingerprint: "changed" }]);
  expect(c.decideResourceUri("file:///srv/data/readme.md"), "DRIFTED", 0);
});

test("completion is allowed only for a locked prompt or a locked template's uriTemplate", () => {
  const c = core(["prompt", "template"]);
  expect(c.decideCompletion({ type: "ref/prompt", name: "summarize" }), "LOCKED", 2);
  expect(c.decideCompletion({ type: "ref/prompt", name: "other" }), "NOT_LOCKED");
  expect(c.decideCompletion({ type: "ref/resource", uri: "file:///srv/data/{path}" }), "LOCKED", 4);
  const concrete = c.decideCompletion({ type: "ref/resource", uri: "file:///srv/data/a.txt" });
  expect(concrete, "NOT_LOCKED");
  assert.equal(concrete.subject, "template");
  expect(c.decideCompletion({ type: "ref/resource", uri: "mem://notes/1" }), "NOT_LOCKED");
  expect(c.decideCompletion(null), "INVALID_PARAMS");
  expect(c.decideCompletion({ type: "ref/prompt" }), "INVALID_PARAMS");
  c.verifyListItem("prompt", "summarize", "fp-changed");
  expect(c.decideCompletion({ type: "ref/prompt", name: "summarize" }), "DRIFTED", 2);
  const fresh = core();
  expect(fresh.decideCompletion({ type: "ref/prompt", name: "summarize" }), "NOT_OFFERED", 2);
});

// -- the allowlist -----------------------------------------------------------------------------

test("setAllowlist replaces the allowlist and resets every state", () => {
  const c = core(["tool"]);
  expect(c.decideToolCall("read_file"), "LOCKED");
  c.setAllowlist({ tools: [{ name: "read_file", fingerprint: "fp-read" }] });
  expect(c.decideToolCall("read_file"), "NOT_OFFERED", 0);
  expect(c.decideToolCall("list_dir"), "NOT_LOCKED");
  assert.deepEqual(c.itemStates(), [{ kind: "tool", key: "read_file", state: "unseen" }]);
});

test("itemStates reports each locked item's state in rule order", () => {
  const c = core(["tool"]);
  c.verifyListItem("prompt", "summarize", "other");
  c.markStale("tool");
  assert.deepEqual(c.itemStates().map((s) => `${s.kind}:${s.key}:${s.state}`), [
    "tool:read_file:stale",
    "tool:list_dir:stale",
    "prompt:summarize:drifted",
    "resource:mem://notes/1:unseen",
    "template:file:///srv/data/{path}:unseen",
    "template:file:///srv/{path}:unseen",
  ]);
});

test("unenforceable templates are rejected at load with a clear error, leaving nothing allowed", () => {
  const cases: [string, RegExp][] = [
    ["file:///{?q}", /operator at offset 8/],
    ["file:///{#frag}", /operator/],
    ["file:///{.ext}", /operator/],
    ["file:///{/path}", /operator/],
    ["file:///{;p}", /operator/],
    ["file:///{&q}", /operator/],
    ["file:///{=x}", /operator/],
    ["file:///{,x}", /operator/],
    ["file:///{!x}", /operator/],
    ["file:///{@x}", /operator/],
    ["file:///{|x}", /operator/],
    ["file:///{path:3}", /modifier/],
    ["file:///{path*}", /modifier/],
    ["file:///{a,b}", /variable list/],
    ["file:///{}", /malformed expression/],
    ["file:///{path", /malformed expression/],
    ["file:///path}", /malformed expression/],
    ["file:///{a{b}}", /malformed expression/],
    ["file:///{a b}", /malformed expression/],
    ["{scheme}://host/x", /literal scheme/],
    ["/relative/{x}", /literal scheme/],
    ["api://h/x?q={q}", /query or fragment/],
    ["api://h/x#{f}", /query or fragment/],
    ["api://h/{a}{b}", /two variables/],
    ["api://h/{a}-{b}", /two variables/],
    ["api://{a}.{b}/x", /two variables/],
    ["files://{+host}/x", /authority/],
    ["file:///srv/../{path}", /`\.` or `\.\.`/],
    ["file:///srv//{path}", /empty path segment/],
    ["file:///srv/%252e/{path}", /percent-encoded/],
    ["file:///srv\\data/{path}", /control character or backslash/],
    ["file:///srv/%zz/{path}", /`%`/],
    ["file://%65vil/{path}", /authority/],
  ];
  for (const [tpl, message] of cases) {
    const c = core(["tool"]);
    assert.throws(
      () =>
        c.setAllowlist({
          tools: [{ name: "read_file", fingerprint: "fp-read" }],
          templates: [{ uriTemplate: tpl, fingerprint: "f" }],
        }),
      (err: unknown) => {
        assert.ok(err instanceof PolicyCoreError, tpl);
        assert.match(err.message, message, tpl);
        assert.ok(err.message.includes(JSON.stringify(tpl)), err.message);
        assert.match(err.hint ?? "", /mcptrust lock/);
        return true;
      },
      tpl,
    );
    expect(c.decideToolCall("read_file"), "NOT_LOCKED");
  }
});

test("supported template forms load", () => {
  const c = PolicyCore.load();
  c.setAllowlist({
    templates: [
      "file:///{path}",
      "file:///srv/{+path}",
      "db://table/{table_name}",
      "users://{user.id}/profile",
      "api://endpoint/{endpoint_path}?format=json",
      "docs:///v1/{page}.md",
      "note:{id}",
      "x://h/{a%20b}/literal",
      "static://exact/no/variables",
    ].map((uriTemplate) => ({ uriTemplate, fingerprint: "f" })),
  });
  assert.equal(c.itemStates().length, 9);
});

test("duplicate keys within a kind are rejected; the same key in two kinds is fine", () => {
  const c = PolicyCore.load();
  assert.throws(
    () => c.setAllowlist({ tools: [{ name: "a", fingerprint: "1" }, { name: "a", fingerprint: "2" }] }),
    /tool "a" appears twice/,
  );
  assert.throws(
    () =>
      c.setAllowlist({
        templates: [{ uriTemplate: "x://h/{a}", fingerprint: "1" }, {
          uriTemplate: "x://h/{a}",
          fingerprint: "1",
        }],
      }),
    /resource template "x:\/\/h\/\{a\}" appears twice/,
  );
  c.setAllowlist({
    tools: [{ name: "same", fingerprint: "1" }],
    prompts: [{ name: "same", fingerprint: "2" }],
  });
  c.verifyListItem("prompt", "same", "2");
  expect(c.decidePromptGet("same"), "LOCKED", 1);
  expect(c.decideToolCall("same"), "NOT_OFFERED", 0);
});

// -- long strings and large allowlists ---------------------------------------------------------
// The host writes a key to scratch region A and a fingerprint to region B for each allow_add and
// verify_item; the scratch block must be sized for both before either is written.

/** `unit` repeated to exactly `n` code units (`unit` is one code unit, or a surrogate pair with even n). */
function sized(unit: string, n: number): string {
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/**
 * Loads `allowlist` into `c` (default: a fresh core), lists every item once with the fingerprint
 * `live` gives (default: the locked one), and returns the core with each item's code and rule.
 */
function listAll(
  allowlist: Allowlist,
  live: (kind: string, key: string, locked: string) => string = (_k, _key, locked) => locked,
  c: PolicyCore = PolicyCore.load(),
): { core: PolicyCore; codes: string[]; rules: number[] } {
  c.setAllowlist(allowlist);
  const codes: string[] = [];
  const rules: number[] = [];
  const lists: [("tool" | "prompt" | "resource" | "template"), { key: string; fingerprint: string }[]][] = [
    ["tool", (allowlist.tools ?? []).map((t) => ({ key: t.name, fingerprint: t.fingerprint }))],
    ["prompt", (allowlist.prompts ?? []).map((t) => ({ key: t.name, fingerprint: t.fingerprint }))],
    ["resource", (allowlist.resources ?? []).map((t) => ({ key: t.uri, fingerprint: t.fingerprint }))],
    [
      "template",
      (allowlist.templates ?? []).map((t) => ({ key: t.uriTemplate, fingerprint: t.fingerprint })),
    ],
  ];
  for (const [kind, entries] of lists) {
    const ds = c.verifyList(
      kind,
      entries.map((e) => ({ key: e.key, fingerprint: live(kind, e.key, e.fingerprint) })),
    );
    for (const d of ds) {
      codes.push(d.code);
      rules.push(d.rule);
    }
  }
  return { core: c, codes, rules };
}

test("long fingerprints verify and drift like short ones, up to 64 KiB", () => {
  const names = ["echo", "get-env", "get-sum", "trigger-long-running-operation"];
  // 341 and 342 code units straddle the first scratch growth (3 bytes per unit, 1024-byte block).
  const lengths = [0, 1, 340, 341, 342, 360, 1000, 5000, 65_536];
  for (const unit of ["a", "é", "中", "📄"]) {
    for (const len of lengths) {
      const n = unit.length === 2 ? len - (len % 2) : len;
      const fp = (name: string) => sized(unit, n) + name; // distinct per item, the long part first
      const tools = names.map((name) => ({ name, fingerprint: fp(name) }));
      const { core: c, codes, rules } = listAll({ tools });
      const what = `${len} x ${JSON.stringify(unit)}`;
      assert.deepEqual(codes, names.map(() => "VERIFIED"), what);
      assert.deepEqual(rules, [0, 1, 2, 3], what);
      for (const [i, name] of names.entries()) expect(c.decideToolCall(name), "LOCKED", i);
      // The same length with one unit changed at the far end, and a prefix, are drift.
      const ds = c.verifyList("tool", [
        { key: "echo", fingerprint: `${sized(unit, n)}ech0` },
        { key: "get-env", fingerprint: sized(unit, n) },
      ]);
      assert.deepEqual(ds.map((d) => d.code), ["DRIFTED", "DRIFTED"], what);
      expect(c.decideToolCall("echo"), "DRIFTED", 0);
      expect(c.decideToolCall("get-sum"), "LOCKED", 2);
    }
  }
  // All lengths in one allowlist: the block grows several times while loading and while listing.
  const tools = lengths.map((len, i) => ({ name: `t${i}`, fingerprint: sized(`${i}|`, len) }));
  const { codes } = listAll({ tools });
  assert.deepEqual(codes, tools.map(() => "VERIFIED"));
});

test("long keys of every kind lock, verify and decide", () => {
  for (const n of [1, 342, 1000, 5000, 65_536]) {
    const seg = sized("dé", n);
    const tool = `tool_${sized("x", n)}`;
    const prompt = `prompt_${sized("中", n)}`;
    const uri = `mem://notes/${seg}`;
    const tpl = `file:///srv/${seg}/{path}`;
    // Fingerprints cover the whole definition, so they run longer than the key.
    const fp = (key: string) => `${key}|${key}|schema`;
    const allowlist: Allowlist = {
      tools: [{ name: tool, fingerprint: fp(tool) }, { name: "short", fingerprint: "s" }],
      prompts: [{ name: prompt, fingerprint: fp(prompt) }],
      resources: [{ uri, fingerprint: fp(uri) }],
      templates: [{ uriTemplate: tpl, fingerprint: fp(tpl) }],
    };
    // Once with long fingerprints, once with short ones (key longer than fingerprint).
    for (const fps of ["long", "short"]) {
      const list = fps === "long" ? allowlist : {
        tools: allowlist.tools?.map((t) => ({ ...t, fingerprint: "f" })),
        prompts: allowlist.prompts?.map((t) => ({ ...t, fingerprint: "f" })),
        resources: allowlist.resources?.map((t) => ({ ...t, fingerprint: "f" })),
        templates: allowlist.templates?.map((t) => ({ ...t, fingerprint: "f" })),
      };
      const { core: c, codes, rules } = listAll(list);
      const what = `key length ${n}, ${fps} fingerprints`;
      assert.deepEqual(codes, ["VERIFIED", "VERIFIED", "VERIFIED", "VERIFIED", "VERIFIED"], what);
      assert.deepEqual(rules, [0, 1, 2, 3, 4], what);
      expect(c.decideToolCall(tool), "LOCKED", 0);
      expect(c.decideToolCall("short"), "LOCKED", 1);
      expect(c.decidePromptGet(prompt), "LOCKED", 2);
      expect(c.decideResourceUri(uri), "LOCKED", 3);
      expect(c.decideResourceUri(`file:///srv/${encodeURIComponent(seg)}/a/b.txt`), "TEMPLATE_MATCH", 4);
      expect(c.decideCompletion({ type: "ref/resource", uri: tpl }), "LOCKED", 4);
      expect(c.decideCompletion({ type: "ref/prompt", name: prompt }), "LOCKED", 2);
      // One unit shorter is another key.
      expect(c.decideToolCall(tool.slice(0, -1)), "NOT_LOCKED");
      expect(c.decideResourceUri(uri.slice(0, -1)), "NOT_LOCKED");
      assert.deepEqual(c.itemStates().map((s) => s.state), [
        "verified",
        "verified",
        "verified",
        "verified",
        "verified",
      ]);
      // Drift on a long key with a longer live fingerprint than any seen so far.
      expect(c.verifyListItem("template", tpl, `${fp(tpl)}${fp(tpl)}!`), "DRIFTED", 4);
      expect(c.decideResourceUri(`file:///srv/${encodeURIComponent(seg)}/a.txt`), "DRIFTED", 4);
    }
  }
});

/** Deterministic pseudo-random numbers (xorshift32), so a failure names a reproducible case. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

test("5000 items of mixed kinds and lengths all verify, and exactly the changed ones drift", () => {
  const rnd = xorshift(20251121);
  /** Lengths spread over every scale from 0 to 16 Ki code units. */
  const len = () => Math.floor(Math.exp(rnd() * Math.log(16_385))) - 1;
  const units = ["a", "é", "中", "📄"];
  const text = (tag: string) => `${tag}:${sized(units[Math.floor(rnd() * 4)], len() & ~1)}`;
  const tools: { name: string; fingerprint: string }[] = [];
  const prompts: { name: string; fingerprint: string }[] = [];
  const resources: { uri: string; fingerprint: string }[] = [];
  const templates: { uriTemplate: string; fingerprint: string }[] = [];
  for (let i = 0; i < 5000; i++) {
    const fingerprint = text(`fp${i}`);
    const key = `${i}-${sized("k", len() % 3000)}`;
    if (i % 4 === 0) tools.push({ name: key, fingerprint });
    else if (i % 4 === 1) prompts.push({ name: key, fingerprint });
    else if (i % 4 === 2) resources.push({ uri: `mem://r/${key}`, fingerprint });
    else templates.push({ uriTemplate: `x://h/${key}/{v}`, fingerprint });
  }
  const allowlist = { tools, prompts, resources, templates };
  const { core: c, codes, rules } = listAll(allowlist);
  assert.equal(codes.length, 5000);
  const notVerified = codes.flatMap((code, i) => code === "VERIFIED" ? [] : [`${i}:${code}`]);
  assert.deepEqual(notVerified, []);
  assert.deepEqual(rules, codes.map((_, i) => i));
  expect(c.decideToolCall(tools[0].name), "LOCKED", 0);
  expect(
    c.decideResourceUri(`x://h/${templates[1249].uriTemplate.slice(6, -4)}/v`),
    "TEMPLATE_MATCH",
    4999,
  );
  // Items whose key length is a multiple of 7 drift; the rest stay verified.
  const again = listAll(allowlist, (_kind, key, locked) => key.length % 7 === 0 ? `${locked}.` : locked);
  const expected = [
    ...tools.map((t) => t.name),
    ...prompts.map((t) => t.name),
    ...resources.map((t) => t.uri),
    ...templates.map((t) => t.uriTemplate),
  ].map((key) => key.length % 7 === 0 ? "DRIFTED" : "VERIFIED");
  assert.ok(expected.includes("DRIFTED") && expected.includes("VERIFIED"));
  assert.deepEqual(again.codes, expected);
});

// Property: whatever the keys and fingerprints, listing the locked fingerprints verifies every item,
// and listing a different fingerprint drifts exactly that item.

/**
 * Any well-formed Unicode: short, or a random chunk repeated to about 2^k code units (up to 64 Ki)
 * between a random head and tail. Drawing long strings from a scale and a repeat count lets a
 * failure shrink in a few steps rather than one character at a time.
 */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .tuple(
      fc.string({ unit: "binary", maxLength: 8 }),
      fc.string({ unit: "binary", minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 16 }),
      fc.nat(),
      fc.string({ unit: "binary", maxLength: 8 }),
    )
    .map(([head, chunk, k, jitter, tail]) => {
      const n = (1 << k) + (jitter % (1 << k));
      return head + chunk.repeat(Math.ceil(n / chunk.length)) + tail;
    }),
);

/** A literal path segment for a template (no `{`, `}`, `%`, `/`, no dot segment), up to 16 Ki units. */
const templateSegment = fc
  .tuple(
    fc.string({
      unit: fc.constantFrom(..."abcXYZ019-_~!$&'()*+,;=:@", "é", "中", "📄"),
      minLength: 1,
      maxLength: 8,
    }),
    fc.integer({ min: 0, max: 10 }),
  )
  .map(([chunk, k]) => chunk.repeat(1 << k));

const itemsOf = <K>(key: fc.Arbitrary<K>) =>
  fc.uniqueArray(fc.record({ key, fingerprint: anyText, live: fc.option(anyText, { freq: 3 }) }), {
    maxLength: 6,
    selector: (e) => e.key,
  });

test("property: any allowlist verifies when listed as locked, and drifts exactly the changed items", () => {
  fc.assert(
    fc.property(
      itemsOf(anyText),
      itemsOf(anyText),
      itemsOf(anyText),
      itemsOf(templateSegment),
      (tools, prompts, resources, segments) => {
        const templates = segments.map((e) => ({ ...e, key: `x://h/${e.key}/{v}` }));
        const allowlist: Allowlist = {
          tools: tools.map((e) => ({ name: e.key, fingerprint: e.fingerprint })),
          prompts: prompts.map((e) => ({ name: e.key, fingerprint: e.fingerprint })),
          resources: resources.map((e) => ({ uri: e.key, fingerprint: e.fingerprint })),
          templates: templates.map((e) => ({ uriTemplate: e.key, fingerprint: e.fingerprint })),
        };
        const all = [...tools, ...prompts, ...resources, ...templates];
        const same = listAll(allowlist);
        assert.deepEqual(same.codes, all.map(() => "VERIFIED"));
        assert.deepEqual(same.rules, all.map((_, i) => i));

        const liveOf = new Map(all.map((e) => [e, e.live ?? e.fingerprint]));
        const byKind: Record<string, typeof all> = {
          tool: tools,
          prompt: prompts,
          resource: resources,
          template: templates,
        };
        // Reloading the same core resets every state, so this is a fresh first listing.
        const changed = listAll(
          allowlist,
          (kind, key) => liveOf.get(byKind[kind].find((e) => e.key === key)!)!,
          same.core,
        );
        const expected = all.map((e) => liveOf.get(e) === e.fingerprint ? "VERIFIED" : "DRIFTED");
        assert.deepEqual(changed.codes, expected);
        // The decisions follow: verified items are usable, drifted ones are not.
        const c = changed.core;
        tools.forEach((e, i) =>
          expect(c.decideToolCall(e.key), expected[i] === "VERIFIED" ? "LOCKED" : "DRIFTED", i)
        );
        let r = tools.length;
        prompts.forEach((e, i) =>
          expect(c.decidePromptGet(e.key), expected[r + i] === "VERIFIED" ? "LOCKED" : "DRIFTED", r + i)
        );
        r += prompts.length;
        resources.forEach((e, i) =>
          expect(c.decideResourceUri(e.key), expected[r + i] === "VERIFIED" ? "LOCKED" : "DRIFTED", r + i)
        );
        r += resources.length;
        templates.forEach((e, i) =>
          expect(
            c.decideCompletion({ type: "ref/resource", uri: e.key }),
            expected[r + i] === "VERIFIED" ? "LOCKED" : "DRIFTED",
            r + i,
          )
        );
      },
    ),
    { numRuns: 120 },
  );
});

// -- MCP 2026-07-28 ----------------------------------------------------------------------------

test("2026-07-28 methods: server/discover passes from the host only; subscriptions/listen is decided URI by URI like resources/read", () => {
  const c = core(["resource", "template"]);
  expect(c.decideMethod("server/discover", {}), "PASS");
  expect(c.decideMethod("server/discover", {}, "server"), "WRONG_DIRECTION");
  expect(c.decideMethod("notifications/subscriptions/acknowledged", {}, "server"), "PASS");
  expect(c.decideMethod("notifications/subscriptions/acknowledged", {}, "host"), "WRONG_DIRECTION");
  const listen = (resourceSubscriptions?: unknown, more: Record<string, unknown> = {}) =>
    c.decideMethod("subscriptions/listen", { notifications: { ...more, resourceSubscriptions } });
  expect(listen(undefined, { toolsListChanged: true, resourcesListChanged: true }), "PASS");
  expect(listen([]), "PASS");
  expect(listen(["mem://notes/1"]), "LOCKED");
  expect(listen(["mem://notes/1", "file:///srv/data/a.txt"]), "TEMPLATE_MATCH");
  // Every URI must pass: one unlocked or traversing URI denies the whole listen.
  expect(listen(["mem://notes/1", "mem://notes/2"]), "NOT_LOCKED");
  expect(listen(["file:///srv/data/%2e%2e/%2e%2e/etc/passwd"]), "NOT_LOCKED");
  expect(listen(["file:///srv/data/%252e"]), "URI_DOUBLE_ENCODED");
  expect(listen("mem://notes/1"), "INVALID_PARAMS");
  expect(listen([1]), "INVALID_PARAMS");
  expect(listen(Array(1025).fill("mem://notes/1")), "INVALID_PARAMS");
  expect(c.decideMethod("subscriptions/listen", {}), "INVALID_PARAMS");
  expect(c.decideMethod("subscriptions/listen", { notifications: {} }, "server"), "WRONG_DIRECTION");
  // A drifted template denies a listen under it, as it denies a read.
  c.verifyList("template", [{ key: "file:///srv/data/{path}", fingerprint: "changed" }]);
  expect(listen(["file:///srv/data/a.txt"]), "DRIFTED");
});
