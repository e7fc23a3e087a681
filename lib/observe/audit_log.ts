/**
 * The audit log: one JSON object per line for every proxy decision worth recording (block,
 * would-block, drop, drift, overload, lifecycle), to stderr or a file.
 *
 * Fields: `ts` (UTC, RFC 3339 with milliseconds), `level`, `event`, `op_id` (one UUID per proxy run),
 * `mode`, then `method`, `identifier`, `reason` and event-specific fields. UTC, unlike the Go tool's local
 * timestamps (reference §9.1).
 *
 * @module
 */
import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";

/** Log levels. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One audit record (besides ts, op_id and mode, which the logger adds). */
export interface AuditRecord {
  level: LogLevel;
  event: string;
  method?: string;
  identifier?: string;
  reason?: string;
  [field: string]: unknown;
}

/** Where audit lines go. */
export interface AuditLog {
  write(record: AuditRecord): void;
  close(): void;
}

/**
 * Opens an audit log.
 *
 * @param target "stderr" or a file path (appended to, created 0600)
 * @param base fields on every line: op_id and mode
 * @throws the fs error if the file cannot be opened
 */
export function openAuditLog(target: string, base: { op_id: string; mode: string }): AuditLog {
  const fd = target === "stderr" ? undefined : openSync(target, "a", 0o600);
  return {
    write(record) {
      const { level, event, ...rest } = record;
      const line = JSON.stringify({
        ts: new Date().toISOString(),
        level,
        event,
        op_id: base.op_id,
        mode: base.mode,
        ...rest,
      }) + "\n";
      if (fd === undefined) process.stderr.write(line);
      else writeSync(fd, line);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
    },
  };
}
