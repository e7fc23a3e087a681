/**
 * Receipts: the schema's fields, redaction, the verdict by exit code, atomic writing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpTrustError } from "../errors.ts";
import { buildReceipt, RECEIPT_SCHEMA, resultOf, writeReceipt } from "./receipt.ts";
import { REDACTED } from "./redact.ts";

const started = new Date("2026-01-02T03:04:05.000Z");
const ended = new Date("2026-01-02T03:04:06.250Z");

test("a receipt names its schema, tool, command, redacted argv, times and verdict", () => {
  const r = buildReceipt({
    command: "check",
    argv: ["check", "--header", "Authorization: Bearer sekret", "--", "node", "s.js", "API_KEY=abc"],
    op_id: "op-1",
    startedAt: started,
    endedAt: ended,
    exitCode: 0,
    notes: {
      lockfile: { path: "mcp-lock.json", sha256: "ab".repeat(32) },
      server: { argv: ["node", "s.js", "--token", "t0k"], name: "srv", version: "1.0.0" },
      drift: { total: 0, critical: 0, moderate: 0, info: 0, fail_on: "critical" },
      outcome: "PASS",
      durations_ms: { scan: 120 },
    },
  });
  assert.equal(r.schema, RECEIPT_SCHEMA);
  assert.equal(r.schema, "mcptrust.receipt/1");
  assert.equal(r.tool.name, "mcptrust");
  assert.equal(r.command, "check");
  assert.deepEqual(r.argv, [
    "check",
    "--header",
    `Authorization: ${REDACTED}`,
    "--",
    "node",
    "s.js",
    `API_KEY=${REDACTED}`,
  ]);
  assert.deepEqual(r.server?.argv, ["node", "s.js", "--token", REDACTED]);
  assert.equal(r.started_at, "2026-01-02T03:04:05.000Z");
  assert.deepEqual(r.durations_ms, { total: 1250, scan: 120 });
  assert.equal(r.result, "pass");
  assert.equal(r.error, undefined);
  assert.equal(JSON.stringify(r).includes("sekret"), false);
  assert.equal(JSON.stringify(r).includes("t0k"), false);
});

test("a failed run records the failure, redacted, and the verdict follows the exit code", () => {
  const r = buildReceipt({
    command: "lock",
    argv: ["lock"],
    op_id: "op-2",
    startedAt: started,
    endedAt: ended,
    exitCode: 2,
    error: new McpTrustError("cannot reach https://u:p@h/mcp?token=zz", { hint: "check the URL" }),
  });
  assert.equal(r.result, "error");
  assert.deepEqual(r.error, {
    message: `cannot reach https://${REDACTED}@h/mcp?token=${REDACTED}`,
    hint: "check the URL",
  });
  assert.equal(resultOf(0), "pass");
  assert.equal(resultOf(1), "fail");
  assert.equal(resultOf(2), "error");
  assert.equal(resultOf(137), "error");
});

test("writeReceipt writes the JSON atomically and leaves no temp file", () => {
  const dir = mkdtempSync(join(tmpdir(), "receipt-"));
  const path = join(dir, "receipt.json");
  const r = buildReceipt({
    command: "proxy",
    argv: [],
    op_id: "o",
    startedAt: started,
    endedAt: ended,
    exitCode: 0,
  });
  writeReceipt(path, r);
  writeReceipt(path, { ...r, exit_code: 3 }); // replaces
  assert.deepEqual(readdirSync(dir), ["receipt.json"]);
  assert.equal(JSON.parse(readFileSync(path, "utf8")).exit_code, 3);
  assert.ok(readFileSync(path, "utf8").endsWith("}\n"));
  assert.throws(() => writeReceipt(join(dir, "missing", "r.json"), r), /ENOENT/);
});
