/**
 * The log: the JSON-lines schema, the text form, files, and the proxy's audit log on the same schema.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_SCHEMA, openLogger, textLine } from "./log.ts";
import { openAuditLog } from "./audit_log.ts";

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

test("JSON lines: schema, ts, level, event, command, op_id first, then fixed fields, then the event's", () => {
  const dir = mkdtempSync(join(tmpdir(), "log-"));
  const file = join(dir, "log.jsonl");
  const log = openLogger({ format: "jsonl", output: file, command: "check", op_id: "id-1" });
  log.write({ level: "warn", event: "warning", message: "careful", extra: 1, op_id: "spoofed" });
  log.child({ mode: "enforce" }).write({
    level: "info",
    event: "x",
    method: "tools/call",
    nothing: undefined,
  });
  log.close();
  log.close(); // idempotent
  const [a, b] = lines(file);
  assert.deepEqual(Object.keys(a), [
    "schema",
    "ts",
    "level",
    "event",
    "command",
    "op_id",
    "message",
    "extra",
  ]);
  assert.equal(a.schema, LOG_SCHEMA);
  assert.equal(a.schema, "mcptrust.log/1");
  assert.match(a.ts as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(a.op_id, "id-1", "an event cannot overwrite what the logger sets");
  assert.deepEqual(Object.keys(b), ["schema", "ts", "level", "event", "command", "op_id", "mode", "method"]);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test("the audit log writes the same schema with the proxy's existing fields", () => {
  const dir = mkdtempSync(join(tmpdir(), "log-"));
  const file = join(dir, "audit.jsonl");
  const audit = openAuditLog(file, { op_id: "op", mode: "audit-only" });
  audit.write({
    level: "warn",
    event: "would_block",
    method: "tools/call",
    identifier: "exec",
    reason: "not locked",
  });
  audit.close();
  const [r] = lines(file);
  assert.equal(r.schema, "mcptrust.log/1");
  assert.equal(r.command, "proxy");
  for (const k of ["ts", "level", "event", "op_id", "mode", "method", "identifier", "reason"]) {
    assert.ok(k in r, k);
  }
  assert.equal(r.mode, "audit-only");
  assert.equal(r.identifier, "exec");
});

test("text: warnings as commands always printed them; other records by level and event; lifecycle left out", () => {
  assert.equal(
    textLine({ level: "warn", event: "warning", message: "skipped a line" }, true),
    "warning: skipped a line",
  );
  assert.equal(
    textLine({
      level: "warn",
      event: "block",
      method: "tools/call",
      identifier: "exec shell",
      reason: "not locked",
    }, true),
    `warning: block: not locked method=tools/call identifier="exec shell"`,
  );
  assert.equal(textLine({ level: "info", event: "command.start", argv: [] }, true), undefined);
  assert.equal(textLine({ level: "info", event: "command.end", exit_code: 0 }, false), undefined);
  // A failure goes to a text log file (on stderr the CLI prints it itself).
  assert.equal(
    textLine({ level: "error", event: "command.end", error: { message: "boom" } }, true),
    undefined,
  );
  assert.match(
    textLine({ level: "error", event: "command.end", error: { message: "boom" } }, false)!,
    /^error: boom/,
  );
});
