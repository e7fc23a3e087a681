/**
 * The proxy's audit log: one record for every decision worth recording (block, would-block, drop, drift,
 * overload, lifecycle). It is the run's log (lib/observe/log.ts, `--log-format`, `--log-output`) with
 * the proxy's `mode` on every line, so its JSON lines follow the same schema, `mcptrust.log/1`
 * (docs/LOGGING.md): `schema`, `ts` (UTC, RFC 3339 with milliseconds), `level`, `event`, `command`,
 * `op_id` (one UUID per proxy run), `mode`, then `method`, `identifier`, `reason` and event-specific
 * fields. UTC, unlike the Go tool's local timestamps (reference §9.1).
 *
 * @module
 */
import { type LogLevel, type LogRecord, openLogger } from "./log.ts";

export type { LogLevel };

/** One audit record (besides the fields the logger adds). */
export interface AuditRecord extends LogRecord {
  method?: string;
  identifier?: string;
  reason?: string;
}

/** Where audit lines go. */
export interface AuditLog {
  write(record: AuditRecord): void;
  close(): void;
}

/**
 * Opens an audit log of its own (JSON lines), for code that runs a proxy outside the CLI's run.
 *
 * @param target "stderr" or a file path (appended to, created 0600)
 * @param base fields on every line: op_id and mode, and the command (default "proxy")
 * @throws the fs error if the file cannot be opened
 */
export function openAuditLog(
  target: string,
  base: { op_id: string; mode: string; command?: string },
): AuditLog {
  return openLogger({
    format: "jsonl",
    output: target,
    command: base.command ?? "proxy",
    op_id: base.op_id,
    fields: { mode: base.mode },
  });
}

/**
 * The audit log on a run's log: the same output and format, with `mode` on every line. Closing it
 * closes nothing (the run closes its log when it ends).
 */
export function auditLogOn(
  log: { child(fields: Record<string, unknown>): AuditLog },
  mode: string,
): AuditLog {
  return log.child({ mode });
}
