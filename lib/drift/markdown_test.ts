import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { judgeDrift } from "./check_result.ts";
import { appendCheckMarkdown, mdText, renderCheckMarkdown } from "./markdown.ts";
import type { DriftItem } from "./types.ts";

const item = (over: Partial<DriftItem>): DriftItem => ({
  type: "TOOL_ADDED",
  severity: "critical",
  identifier: "exec_shell",
  message: "Tool [exec_shell] has been added to the server",
  ...over,
});

function result(items: DriftItem[], failOn: "critical" | "moderate" | "info" = "critical") {
  return judgeDrift({ items, notCompared: [] }, {
    failOn,
    lockfileVersion: "3.0",
    server: "filesystem",
    lockfile: "mcp-lock.json",
  });
}

test("the outcome comes first, then a table of the drift, most severe first", () => {
  const md = renderCheckMarkdown(result([
    item({
      type: "SERVER_VERSION_CHANGED",
      severity: "info",
      identifier: "fs",
      message: "Server version changed",
    }),
    item({
      type: "TOOL_CHANGED",
      severity: "moderate",
      identifier: "read_file",
      message: "description changed",
    }),
    item({}),
  ]));
  const lines = md.split("\n");
  assert.equal(lines[0], "### mcptrust check: ❌ FAIL");
  assert.match(
    lines[2],
    /^\*\*3 drift items\*\* \(1 critical, 1 moderate, 1 info\) · fail-on \*\*critical\*\*/,
  );
  const rows = lines.filter((l) => l.startsWith("| ") && !l.startsWith("| Severity"));
  assert.deepEqual(rows.map((r) => r.split(" | ")[1]), [
    "TOOL_ADDED",
    "TOOL_CHANGED",
    "SERVER_VERSION_CHANGED",
  ]);
  assert.match(
    rows[0],
    /^\| 🔴 critical \| TOOL_ADDED \| exec\\_shell \| Tool \\\[exec\\_shell\\\] has been added/,
  );
  assert.match(md, /mcptrust lock --force/);
});

test("a clean server: PASS and no table", () => {
  const md = renderCheckMarkdown(result([]));
  assert.ok(md.startsWith("### mcptrust check: ✅ PASS\n"));
  assert.match(md, /No drift: the server matches the lockfile\./);
  assert.doesNotMatch(md, /\| Severity/);
  // Drift below --fail-on passes, and still shows the table.
  const below = renderCheckMarkdown(result([item({ severity: "info", type: "SERVER_VERSION_CHANGED" })]));
  assert.ok(below.startsWith("### mcptrust check: ✅ PASS\n"));
  assert.match(below, /\| 🔵 info \| SERVER_VERSION_CHANGED \|/);
});

test("text from the server cannot break the table, inject HTML or links, mention anyone or hide characters", () => {
  const hostile = "evil|col <img src=x onerror=alert(1)> [click](https://evil.example) @octocat `code`\n" +
    "## heading \u202egnp.exe \u200b www.evil.example javascript:alert(1)";
  const md = renderCheckMarkdown(result([item({ identifier: hostile, message: hostile })]));
  const row = md.split("\n").find((l) => l.startsWith("| 🔴"))!;
  assert.ok(row, md);
  // One row, four cells: every pipe from the server is escaped.
  assert.equal(row.replace(/\\\|/g, "").split("|").length - 2, 4);
  assert.doesNotMatch(row, /<img|<\/?[a-z]/i);
  assert.doesNotMatch(row, /\]\(/, "no link syntax survives");
  assert.doesNotMatch(row, /https?:\/\//, "no autolinkable URL");
  assert.doesNotMatch(row, /www\.evil/, "no autolinkable www. host");
  assert.doesNotMatch(row, /(^|[^\\])@octocat/, "no @mention");
  assert.doesNotMatch(row, /[\u202e\u200b\n]/);
  assert.match(row, /\\\\u\{202e\}/, "the bidi override is shown as an escape");
  assert.equal(md.split("\n").filter((l) => l.startsWith("## ")).length, 0);
});

test("mdText keeps ordinary names readable", () => {
  assert.equal(mdText("read_file"), "read\\_file");
  assert.equal(mdText("file:///srv/{path}"), "file&#58;///srv/{path}");
  assert.equal(mdText('fixture-server 1.2.0 #1 + "x"'), 'fixture-server 1.2.0 #1 + "x"');
  assert.equal(mdText("plain words"), "plain words");
});

test("policy failures are listed after the drift", () => {
  const r = {
    ...result([]),
    outcome: "FAIL" as const,
    policy: {
      name: "Strict",
      preset: "strict",
      passed: false,
      rules: [
        {
          name: "no_high_risk",
          severity: "error" as const,
          status: "fail" as const,
          failure_msg: "HIGH tool",
        },
        { name: "fine", severity: "error" as const, status: "pass" as const },
      ],
    },
  };
  const md = renderCheckMarkdown(r);
  assert.ok(md.startsWith("### mcptrust check: ❌ FAIL\n"));
  assert.match(md, /policy \*\*strict\*\*/);
  assert.match(md, /\*\*Policy Strict: FAIL\*\*/);
  assert.match(md, /\| no\\_high\\_risk \| fail \| HIGH tool \|/);
  assert.doesNotMatch(md, /\| fine \|/);
});

test("appendCheckMarkdown appends (a step summary file keeps what was there)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-md-"));
  try {
    const f = join(dir, "summary.md");
    writeFileSync(f, "before\n");
    appendCheckMarkdown(f, result([]));
    const text = readFileSync(f, "utf8");
    assert.ok(text.startsWith("before\n### mcptrust check: ✅ PASS"));
    assert.throws(
      () => appendCheckMarkdown(join(dir, "no/such/dir.md"), result([])),
      /cannot append the summary/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
