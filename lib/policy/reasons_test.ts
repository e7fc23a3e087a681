/** Refusal texts: each says what was refused, why, and what to do. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PolicyCore } from "./core.ts";
import { CODE_NAMES, type Decision } from "./decision.ts";
import { reasonFor } from "./reasons.ts";

function loaded(): PolicyCore {
  const c = PolicyCore.load();
  c.setAllowlist({
    tools: [{ name: "read_file", fingerprint: "a" }],
    templates: [{ uriTemplate: "file:///srv/data/{path}", fingerprint: "t" }],
  });
  return c;
}

test("an unlocked tool names the tool and the command that fixes it", () => {
  const c = loaded();
  assert.equal(
    reasonFor(c.decideToolCall("exec_shell"), "exec_shell"),
    'tool "exec_shell" is not in the lockfile; re-run `mcptrust lock` after review if it should be allowed',
  );
});

test("state-based refusals explain the state and the way out", () => {
  const c = loaded();
  assert.match(reasonFor(c.decideToolCall("read_file"), "read_file"), /has not listed it.*tools\/list/);
  c.verifyListItem("tool", "read_file", "changed");
  assert.match(
    reasonFor(c.decideToolCall("read_file"), "read_file"),
    /differs from the lockfile.*mcptrust check/,
  );
  c.verifyListItem("tool", "read_file", "a");
  c.markStale("tool");
  assert.match(reasonFor(c.decideToolCall("read_file"), "read_file"), /list change.*tools\/list/);
  const uri = "file:///srv/data/a.txt";
  assert.match(
    reasonFor(c.decideResourceUri(uri), uri),
    /resource URI "file:\/\/\/srv\/data\/a.txt" \(via resource template "file:\/\/\/srv\/data\/\{path\}"\).*resources\/templates\/list/,
  );
});

test("URI refusals say what is wrong with the URI", () => {
  const c = loaded();
  const uri = "file:///srv/data/%252e%252e/etc/passwd";
  assert.match(reasonFor(c.decideResourceUri(uri), uri), /percent-encoded twice/);
  const bad = "file:///srv/data/..\\..\\etc";
  assert.match(reasonFor(c.decideResourceUri(bad), bad), /backslash/);
});

test("every code has its own text that quotes the identifier safely", () => {
  const texts = new Set<string>();
  for (const code of CODE_NAMES) {
    if (code === undefined) continue;
    const d: Decision = { allow: false, code, subject: "tool", rule: -1, ruleKey: "" };
    const text = reasonFor(d, "evil\n\u001b[2Jname");
    assert.ok(!text.includes("\n") && !text.includes("\u001b"), `${code}: ${text}`);
    assert.ok(text.includes('"evil\\n\\u001b[2Jname"'), `${code}: ${text}`);
    texts.add(text);
  }
  assert.equal(texts.size, CODE_NAMES.filter((c) => c !== undefined).length);
  const long = reasonFor(
    { allow: false, code: "NOT_LOCKED", subject: "tool", rule: -1, ruleKey: "" },
    "x".repeat(10_000),
  );
  assert.ok(long.length < 400, `${long.length} characters`);
});
