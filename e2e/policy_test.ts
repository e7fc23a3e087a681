/**
 * End-to-end: `policy check`, `check --policy` and `policy explain` through the compiled binary, against
 * the real npm servers (server-everything, -filesystem, -memory). Fail closed: bad policies and
 * unreachable servers are exit 2, and a bad policy never starts the server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, serverEverything, serverFilesystem, serverMemory, tempDir } from "./helpers.ts";

interface RuleJson {
  name: string;
  severity: string;
  status: "pass" | "warn" | "fail";
  failure_msg?: string;
  error?: string;
  control_refs: string[];
}

function statuses(rules: RuleJson[]): Record<string, string> {
  return Object.fromEntries(rules.map((r) => [r.name, r.status]));
}

async function policyJson(args: string[], server: string[], cwd?: string) {
  const r = await run(["policy", "check", ...args, "--format", "json", "--", ...server], { cwd });
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : undefined };
}

test("presets on server-everything: baseline passes with warnings, strict fails closed (exit 1)", async () => {
  const baseline = await policyJson(["--preset", "baseline"], serverEverything());
  assert.equal(baseline.code, 0, baseline.stderr);
  assert.equal(baseline.json.outcome, "PASS");
  assert.equal(baseline.json.server.name, "mcp-servers/everything");
  assert.deepEqual(statuses(baseline.json.policy.rules), {
    lockfile_signature_verified: "warn",
    artifact_pinned: "warn",
    provenance_present: "warn",
    no_high_risk_tools: "pass",
    no_critical_drift: "pass",
  });
  const strict = await policyJson(["--preset", "strict"], serverEverything());
  assert.equal(strict.code, 1, strict.stderr);
  assert.equal(strict.json.outcome, "FAIL");
  assert.deepEqual(statuses(strict.json.policy.rules), {
    lockfile_signature_verified: "fail",
    artifact_pinned_required: "fail",
    provenance_required: "fail",
    no_high_risk_tools: "pass",
    tools_exist: "pass",
    no_critical_drift: "fail",
    no_file_scheme: "pass",
  });
  const rule = (strict.json.policy.rules as RuleJson[]).find((r) => r.name === "provenance_required");
  assert.deepEqual(rule?.control_refs, ["NIST AI RMF: MAP 1.1", "SLSA: Build L3", "EU AI Act: Article 11"]);
  assert.match(rule?.failure_msg ?? "", /Provenance attestation MUST be verified/);
});

test("presets on server-filesystem and server-memory: their destructive tools are HIGH risk", async () => {
  for (const server of [serverFilesystem(tempDir()), serverMemory()]) {
    const baseline = await policyJson([], server);
    assert.equal(baseline.code, 0, baseline.stderr);
    assert.equal(baseline.json.policy.source.name, "baseline", "baseline is the default");
    assert.equal(statuses(baseline.json.policy.rules).no_high_risk_tools, "warn");
    const strict = await run(["policy", "check", "--preset", "strict", "--", ...server]);
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /^mcptrust policy check: FAIL$/m);
    assert.match(strict.stdout, /\[FAIL\] no_high_risk_tools\n\s+✗ High-risk tools are not permitted/);
    assert.match(strict.stdout, /\[pass\] tools_exist/);
  }
});

test("strict with a signed lockfile and --key: signature and drift pass; unverified artifact rules still fail", async () => {
  const dir = tempDir();
  for (const args of [["keygen"], ["lock", "--", ...serverMemory()], ["sign", "mcp-lock.json"]]) {
    const r = await run(args, { cwd: dir });
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
  }
  const noKey = await policyJson(["--preset", "strict", "--lock", "mcp-lock.json"], serverMemory(), dir);
  assert.equal(statuses(noKey.json.policy.rules).lockfile_signature_verified, "fail");
  assert.equal(noKey.json.lockfile.signature, "not checked");
  const r = await policyJson(
    ["--preset", "strict", "--lock", "mcp-lock.json", "--key", "mcptrust.pub"],
    serverMemory(),
    dir,
  );
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(r.json.lockfile, { path: "mcp-lock.json", version: "3.0", signature: "verified" });
  assert.deepEqual(r.json.drift, { total: 0, critical: 0 });
  assert.deepEqual(statuses(r.json.policy.rules), {
    lockfile_signature_verified: "pass",
    artifact_pinned_required: "fail",
    provenance_required: "fail",
    no_high_risk_tools: "fail",
    tools_exist: "pass",
    no_critical_drift: "pass",
    no_file_scheme: "pass",
  });
  // Changed after signing: exit 1 before any rule runs.
  const lock = join(dir, "mcp-lock.json");
  writeFileSync(lock, readFileSync(lock, "utf8").replace('"memory-server"', '"memory-server-2"'));
  const tampered = await run([
    "policy",
    "check",
    "--lock",
    lock,
    "--key",
    join(dir, "mcptrust.pub"),
    "--",
    ...serverMemory(),
  ]);
  assert.equal(tampered.code, 1);
  assert.match(tampered.stderr, /does not match the signature/);
  assert.equal(tampered.stdout, "");
});

const CUSTOM_POLICY = `name: "Team policy"
mode: strict
rules:
  - name: no_destructive_tools
    expr: '!input.tools.exists(t, !t.hints.readOnlyHint && t.hints.destructiveHint && has(t.annotations.destructiveHint))'
    failure_msg: "Tools that declare themselves destructive need a review"
    control_refs: ["SOC2: CC6.1"]
  - name: locked_and_unchanged
    expr: 'has(input.drift) && !input.drift.hasDrift'
    failure_msg: "The server must match its lockfile"
  - name: documented_tools
    expr: 'input.tools.all(t, t.description != "")'
    severity: warn
`;

test("a policy file works in policy check and in check --policy (the Go tool refused files there)", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "policy.yaml"), CUSTOM_POLICY);
  const lock = await run(["lock", "--", ...serverFilesystem(dir)], { cwd: dir });
  assert.equal(lock.code, 0, lock.stderr);
  const pc = await policyJson(
    ["--policy", "policy.yaml", "--lock", "mcp-lock.json"],
    serverFilesystem(dir),
    dir,
  );
  assert.equal(pc.code, 1, pc.stderr);
  assert.deepEqual(statuses(pc.json.policy.rules), {
    no_destructive_tools: "fail",
    locked_and_unchanged: "pass",
    documented_tools: "pass",
  });
  assert.deepEqual(pc.json.policy.source, { type: "file", name: "policy.yaml" });
  const check = await run(
    [
      "check",
      "--lock",
      "mcp-lock.json",
      "--policy",
      "policy.yaml",
      "--format",
      "json",
      "--",
      ...serverFilesystem(dir),
    ],
    { cwd: dir },
  );
  assert.equal(check.code, 1, check.stderr);
  const result = JSON.parse(check.stdout);
  assert.equal(result.outcome, "FAIL");
  assert.deepEqual(result.drift, []);
  assert.equal(result.policy.preset, "policy.yaml");
  assert.equal(result.policy.passed, false);
  assert.deepEqual(result.policy.reasons, [
    "no_destructive_tools: Tools that declare themselves destructive need a review",
  ]);
  assert.deepEqual(Object.keys(result).slice(-3), ["policy", "failOn", "outcome"], "Go member order");
});

test("check --policy baseline: drift and policy both pass, and the text shows both", async () => {
  const dir = tempDir();
  const lock = await run(["lock", "--", ...serverEverything()], { cwd: dir });
  assert.equal(lock.code, 0, lock.stderr);
  const r = await run(["check", "--policy", "baseline", "--", ...serverEverything()], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^mcptrust check: PASS \(fail-on=critical, policy=baseline\)/);
  assert.match(r.stdout, /No drift/);
  assert.match(r.stdout, /Policy: PASS: Baseline \(Warn-Only\) \(preset baseline, mode warn\)/);
  assert.match(r.stdout, /\[warn\] lockfile_signature_verified/);
  const strict = await run(["check", "--policy", "strict", "--", ...serverEverything()], { cwd: dir });
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /^mcptrust check: FAIL \(fail-on=critical, policy=strict\)/);
  assert.doesNotMatch(strict.stdout, /has drifted/, "no drift advice when only the policy failed");
  assert.match(strict.stdout, /Policy: FAIL/);
});

test("bad policies are exit 2 with their messages, and the server never starts", async () => {
  const dir = tempDir();
  const marker = join(dir, "server-started");
  const server = ["node", "-e", `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`];
  const rule = (expr: string) => `name: bad\nrules:\n  - name: r\n    expr: '${expr}'\n`;
  const cases: [string, string, RegExp][] = [
    ["syntax.yaml", rule("input.tools.exists(t,"), /syntax\.yaml:4: rule "r": syntax error: /],
    [
      "nonbool.yaml",
      rule("size(input.tools)"),
      /nonbool\.yaml:4: rule "r": the expression yields an int, not a bool/,
    ],
    [
      "field.yaml",
      rule('input.tools.exists(t, t.risk == "HIGH")'),
      /field\.yaml:4: rule "r": unknown field "risk" on input\.tools\[\]/,
    ],
    [
      "regex.yaml",
      rule('input.server.name.matches("(?<=a)b")'),
      /regex\.yaml:4: rule "r": the regex .* is not valid RE2/,
    ],
    [
      "schema.yaml",
      "name: bad\nrules:\n  - name: r\n    expr: 'true'\n    severity: fatal\n",
      /schema\.yaml:5: rules\[0\]\.severity: must be one of "warn", "error", not "fatal"/,
    ],
    ["yaml.yaml", "name: [\n", /yaml\.yaml:\d+: not valid YAML/],
  ];
  for (const [file, text, message] of cases) {
    writeFileSync(join(dir, file), text);
    const r = await run(["policy", "check", "--policy", file, "--", ...server], { cwd: dir });
    assert.equal(r.code, 2, `${file}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    const c = await run(["check", "--lock", "none.json", "--policy", file, "--", ...server], { cwd: dir });
    assert.equal(c.code, 2, file);
    assert.match(c.stderr, message);
  }
  const preset = await run(["policy", "check", "--preset", "paranoid", "--", ...server], { cwd: dir });
  assert.equal(preset.code, 2);
  assert.match(preset.stderr, /unknown preset "paranoid" \(presets: baseline, strict\)/);
  const both = await run(["policy", "check", "--preset", "strict", "--policy", "x.yaml", "--", ...server]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--preset or --policy, not both/);
  assert.equal(existsSync(marker), false, "no bad policy let the server start");
  // Control: with a good policy the same command does run (and, as it is no MCP server, fails with exit 2).
  const good = await run(["policy", "check", "--preset", "baseline", "--", ...server], { cwd: dir });
  assert.equal(good.code, 2);
  assert.equal(existsSync(marker), true);
});

test("an unreachable server fails policy check with exit 2, never evaluated as an empty server", async () => {
  const dir = tempDir();
  for (const server of [["node", join(dir, "missing.js")], [join(dir, "no-such-binary")]]) {
    const r = await run(["policy", "check", "--preset", "baseline", "--", ...server]);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^mcptrust: /);
    const j = await policyJson(["--preset", "baseline"], server);
    assert.equal(j.code, 2);
    assert.equal(j.json.outcome, "FAIL");
    assert.equal(j.json.exitCode, 2);
    assert.deepEqual(j.json.policy, { preset: "baseline" });
    assert.equal(j.json.rules, undefined);
  }
  const none = await run(["policy", "check", "--preset", "baseline"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no server command given/);
});

test("policy explain renders presets and files for reviewers, and validates them", async () => {
  const md = await run(["policy", "explain", "--preset", "strict"]);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /^# Policy: Strict \(Fail-Closed\)\n/);
  assert.match(md.stdout, /\| no_file_scheme \| error \| NIST AI RMF: GOVERN 1\.2, CIS Controls: 3\.3 \|/);
  assert.match(
    md.stdout,
    /## provenance_required[\s\S]*- \*\*Reads\*\*: `input\.provenance`, `input\.provenance\.verified`/,
  );
  const dir = tempDir();
  writeFileSync(join(dir, "policy.yaml"), CUSTOM_POLICY);
  const out = join(dir, "review.json");
  const j = await run([
    "policy",
    "explain",
    "--policy",
    join(dir, "policy.yaml"),
    "--format",
    "json",
    "-o",
    out,
  ]);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(doc.schema_version, "1.0");
  assert.equal(doc.name, "Team policy");
  assert.deepEqual(doc.rules.map((r: { name: string }) => r.name), [
    "no_destructive_tools",
    "locked_and_unchanged",
    "documented_tools",
  ]);
  assert.equal(doc.rules[2].severity, "warn");
  const again = await run(["policy", "explain", "--policy", join(dir, "policy.yaml"), "--json"]);
  assert.equal(again.stdout, readFileSync(out, "utf8"), "stable output (no timestamp)");
  writeFileSync(join(dir, "bad.yaml"), "name: x\nrules:\n  - name: r\n    expr: 'input.nope'\n");
  const bad = await run(["policy", "explain", "--policy", join(dir, "bad.yaml")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad\.yaml:4: rule "r": unknown field "nope" on input/);
});
