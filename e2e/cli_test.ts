/**
 * End-to-end: scan, lock, check and diff through the compiled binary, against the real npm servers and
 * fixture servers for drifted and broken ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture, ROOT, run, serverEverything, serverFilesystem, tempDir } from "./helpers.ts";

test("--version prints the version and the commit", async () => {
  const r = await run(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^mcptrust \S+ \(commit [0-9a-f]{7,}|unknown\)/);
});

test("a bad flag is a usage error (exit 2) that points at --help", async () => {
  const r = await run(["check", "--fail-on", "sometimes", "--", "true"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /critical, moderate or info/);
});

test("no server command after -- is a usage error naming the fix", async () => {
  const r = await run(["lock", "-o", join(tempDir(), "x.json")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no server command given/);
  assert.match(r.stderr, /--/);
});

test("server-everything: lock, lock again (untouched), check passes", async () => {
  const dir = tempDir();
  const lock = join(dir, "mcp-lock.json");
  const first = await run(["lock", "-o", lock, "--", ...serverEverything()]);
  assert.equal(first.code, 0, first.stderr);
  const doc = JSON.parse(readFileSync(lock, "utf8"));
  assert.equal(doc.lockFileVersion, "3.0");
  assert.ok(Object.keys(doc.tools).includes("echo"));
  assert.ok(doc.resources.static.length > 0, "static resources are locked");
  assert.ok(readFileSync(lock, "utf8").endsWith("}\n"));
  const before = readFileSync(lock);
  const mtime = statSync(lock).mtimeMs;
  const second = await run(["lock", "-o", lock, "--", ...serverEverything()]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /up to date/);
  assert.deepEqual(readFileSync(lock), before);
  assert.equal(statSync(lock).mtimeMs, mtime);
  const check = await run(["check", "--lock", lock, "--format", "json", "--", ...serverEverything()]);
  assert.equal(check.code, 0, check.stderr);
  const result = JSON.parse(check.stdout);
  assert.equal(result.outcome, "PASS");
  assert.deepEqual(result.drift, []);
});

test("server-filesystem: a root with spaces survives (argv is never re-split), lock and check pass", async () => {
  const dir = tempDir();
  const root = join(dir, "my data dir");
  mkdirSync(root);
  const lock = join(dir, "fs.lock.json");
  const r = await run(["lock", "-o", lock, "--", ...serverFilesystem(root)]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(lock, "utf8"));
  assert.ok(doc.tools.read_text_file || doc.tools.read_file, "filesystem tools are locked");
  const check = await run(["check", "--lock", lock, "--", ...serverFilesystem(root)]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /PASS/);
});

async function lockBase(): Promise<string> {
  const lock = join(tempDir(), "mcp-lock.json");
  const r = await run(["lock", "-o", lock, "--", ...fixture("base")]);
  assert.equal(r.code, 0, r.stderr);
  return lock;
}

test("check catches each drift with the right type and severity, and the exit code follows --fail-on", async () => {
  const lock = await lockBase();
  const cases: [string, string, string, number][] = [
    ["drift_tool_added", "TOOL_ADDED", "critical", 1],
    ["drift_tool_removed", "TOOL_REMOVED", "critical", 1],
    // A description that now carries instructions is poisoned: critical, so the default gate fails.
    ["drift_description_changed", "TOOL_CHANGED", "critical", 1],
    ["drift_description_reworded", "TOOL_CHANGED", "moderate", 0],
    // Members outside the Go hashes (_meta, icons), the server identity and its instructions are pinned.
    ["drift_tool_meta_changed", "TOOL_MEMBERS_CHANGED", "moderate", 0],
    ["drift_server_info_changed", "SERVER_INFO_CHANGED", "moderate", 0],
    ["drift_instructions_poisoned", "SERVER_INSTRUCTIONS_CHANGED", "critical", 1],
    ["drift_schema_changed", "TOOL_CHANGED", "critical", 1],
    ["drift_annotation_weakened", "TOOL_ANNOTATIONS_CHANGED", "critical", 1],
    ["drift_annotation_moderate", "TOOL_ANNOTATIONS_CHANGED", "moderate", 0],
    ["drift_title_changed", "TOOL_TITLE_CHANGED", "moderate", 0],
    ["drift_output_schema_changed", "TOOL_OUTPUT_SCHEMA_CHANGED", "moderate", 0],
    ["drift_prompt_added", "PROMPT_ADDED", "critical", 1],
    ["drift_prompt_args_changed", "PROMPT_ARGS_CHANGED", "critical", 1],
    ["drift_template_added", "TEMPLATE_ADDED", "critical", 1],
    ["drift_static_resource_added", "RESOURCE_ADDED", "critical", 1],
    ["drift_static_resource_removed", "RESOURCE_REMOVED", "moderate", 0],
  ];
  for (const [scenario, type, severity, code] of cases) {
    const r = await run(["check", "--lock", lock, "--format", "json", "--", ...fixture(scenario)]);
    assert.equal(r.code, code, `${scenario}: ${r.stderr}`);
    const result = JSON.parse(r.stdout);
    const found = result.drift.filter((d: { type: string }) => d.type !== "TOOL_RISK_CHANGED");
    assert.ok(
      found.some((d: { type: string; severity: string }) => d.type === type && d.severity === severity),
      `${scenario}: ${r.stdout}`,
    );
    // Go field names are kept.
    for (const key of ["lockfileVersion", "server", "lockfile", "summary", "drift", "failOn", "outcome"]) {
      assert.ok(key in result, `${scenario}: ${key}`);
    }
    if (severity === "moderate") {
      const strict = await run([
        "check",
        "--lock",
        lock,
        "--fail-on",
        "moderate",
        "--",
        ...fixture(scenario),
      ]);
      assert.equal(strict.code, 1, `${scenario} with --fail-on moderate`);
      assert.match(strict.stdout, /FAIL/);
    }
  }
});

test("check text output names the drift and the next step", async () => {
  const lock = await lockBase();
  const r = await run(["check", "--lock", lock, "--", ...fixture("drift_tool_added")]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /CRITICAL/);
  assert.match(r.stdout, /TOOL_ADDED: Tool \[exec_shell\] has been added/);
  assert.match(r.stdout, /mcptrust lock --force/);
});

test("lock refuses to overwrite a lockfile the server drifted from, leaves it untouched, and --force re-approves", async () => {
  const lock = await lockBase();
  const before = readFileSync(lock);
  const r = await run(["lock", "-o", lock, "--", ...fixture("drift_tool_added")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /exec_shell/);
  assert.match(r.stderr, /--force/);
  assert.deepEqual(readFileSync(lock), before);
  const forced = await run(["lock", "-o", lock, "--force", "--", ...fixture("drift_tool_added")]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(JSON.parse(readFileSync(lock, "utf8")).tools.exec_shell);
});

test("diff lists every change with +/-/~ and exits 1", async () => {
  const lock = await lockBase();
  const r = await run(["diff", "--lockfile", lock, "--", ...fixture("drift_tool_removed")]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^- \[critical\] Tool \[write_file\] has been removed/m);
  const same = await run(["diff", "--lockfile", lock, "--", ...fixture("base")]);
  assert.equal(same.code, 0);
  assert.match(same.stdout, /No changes/);
});

test("a server that crashes on start: exit 2 and one line with the cause and its stderr", async () => {
  const r = await run(["lock", "-o", join(tempDir(), "x.json"), "--", ...fixture("crash_on_start")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exited with code 3 before answering initialize/);
  assert.match(r.stderr, /fatal: cannot open database/);
});

test("a server that prints only garbage: exit 2, says it never spoke JSON-RPC", async () => {
  const r = await run(["scan", "-t", "2s", "--", ...fixture("garbage_only")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /never sent a valid JSON-RPC message/);
  assert.match(r.stderr, /non-JSON line/);
});

test("a command that does not exist: exit 2, command not found", async () => {
  const r = await run(["scan", "--", "definitely-not-a-command-mcptrust"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /command not found/);
});

test("a server that logs stray lines to stdout still locks, with a warning", async () => {
  const lock = join(tempDir(), "x.json");
  const r = await run(["lock", "-o", lock, "--", ...fixture("stray_stdout")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: skipped a non-JSON line/);
  assert.ok(Object.keys(JSON.parse(readFileSync(lock, "utf8")).tools).length > 0);
});

test("interleaved notifications and server requests do not desynchronise the scan", async () => {
  const base = JSON.parse((await run(["scan", "--", ...fixture("base")])).stdout);
  const r = await run(["scan", "--", ...fixture("interleaved")]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout).tools.map((t: { name: string }) => t.name),
    base.tools.map((t: { name: string }) => t.name),
  );
});

test("pagination is followed; a cursor loop is refused with exit 2", async () => {
  const r = await run(["scan", "--", ...fixture("paginated")]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.tools.length, 25);
  assert.equal(report.resources.length, 12);
  const loop = await run(["scan", "--", ...fixture("cursor_loop")]);
  assert.equal(loop.code, 2);
  assert.match(loop.stderr, /pagination loops/);
});

test("lock of the golden fixture reproduces the Go golden lockfile's hashes", async () => {
  const lock = join(tempDir(), "golden.json");
  const r = await run(["lock", "-o", lock, "--", ...fixture("golden")]);
  assert.equal(r.code, 0, r.stderr);
  const ours = JSON.parse(readFileSync(lock, "utf8"));
  const golden = JSON.parse(
    readFileSync(join(ROOT, "testdata/vectors/mcptrust/golden/mcp-lock.v3.json"), "utf8"),
  );
  // Our member hashes are extensions a Go reader ignores; every Go field is reproduced exactly.
  const withoutMembers = <T>(o: Record<string, T & { members?: unknown }>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { ...v, members: undefined }]));
  const norm = (x: unknown) => JSON.parse(JSON.stringify(x));
  assert.deepEqual(norm(withoutMembers(ours.prompts.definitions)), golden.prompts.definitions);
  assert.deepEqual(
    norm(ours.resources.templates.map((t: object) => ({ ...t, members: undefined }))),
    golden.resources.templates,
  );
  assert.deepEqual(norm(withoutMembers(ours.tools)), golden.tools);
});

test("check of a v2 lockfile compares tools and says what it cannot compare", async () => {
  const dir = tempDir();
  const v3 = join(dir, "v3.json");
  assert.equal((await run(["lock", "-o", v3, "--", ...fixture("base")])).code, 0);
  const doc = JSON.parse(readFileSync(v3, "utf8"));
  const tools = Object.fromEntries(
    Object.entries(doc.tools as Record<string, Record<string, string>>).map((
      [n, t],
    ) => [n, {
      description_hash: t.description_hash,
      input_schema_hash: t.input_schema_hash,
      risk_level: t.risk_level,
    }]),
  );
  const v2 = join(dir, "v2.json");
  writeFileSync(v2, JSON.stringify({ version: "2.0", server_command: "x", tools }));
  const r = await run(["check", "--lock", v2, "--", ...fixture("drift_prompt_added")]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Not compared: prompts/);
});

test("a malformed lockfile is an operational error naming the file and the field", async () => {
  const r = await run([
    "check",
    "--lock",
    join(ROOT, "testdata/vectors/mcptrust/proxy/mcp-lock.proxy.v3.json"),
    "--",
    ...fixture("base"),
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /mcp-lock\.proxy\.v3\.json.*malformed.*tools\.safe_tool/);
});

test("--client-capabilities: the lock sees what a host with those capabilities sees", async () => {
  const dir = tempDir();
  const full = join(dir, "full.json");
  const bare = join(dir, "bare.json");
  assert.equal((await run(["lock", "-o", full, "--", ...serverEverything()])).code, 0);
  assert.equal(
    (await run(["lock", "-o", bare, "--client-capabilities", "none", "--", ...serverEverything()])).code,
    0,
  );
  const tools = (p: string) => Object.keys(JSON.parse(readFileSync(p, "utf8")).tools);
  // server-everything offers its roots, sampling and elicitation tools only to clients that declare them.
  assert.ok(tools(full).includes("get-roots-list"));
  assert.ok(!tools(bare).includes("get-roots-list"));
  assert.ok(tools(bare).length < tools(full).length);
  const check = await run([
    "check",
    "--lock",
    bare,
    "--client-capabilities",
    "none",
    "--",
    ...serverEverything(),
  ]);
  assert.equal(check.code, 0, check.stdout);
  const bad = await run(["scan", "--client-capabilities", "telepathy", "--", ...serverEverything()]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /roots, sampling, elicitation/);
});
