/**
 * The log every command writes (and the proxy's audit log, which is the same stream): one record per
 * event, as text for people or as JSON lines for machines, to stderr or a file (`--log-format`,
 * `--log-output`).
 *
 * A JSON line is one object of the schema {@link LOG_SCHEMA} (docs/LOGGING.md): `schema`, `ts` (UTC,
 * RFC 3339 with milliseconds), `level`, `event`, `command`, `op_id` (one UUID per run, also in the
 * receipt and the trace), then the logger's fixed fields (the proxy's `mode`), then the event's own
 * fields (`message`, or the proxy's `method`, `identifier`, `reason`, ...). Field names are snake_case;
 * a field is never renamed or retyped within a schema version, only added.
 *
 * Text lines: `<level>: <message>` for a record with a `message` (`warning: ...`, what commands have
 * always printed), else `<level>: <event>: <reason>` and the other fields as ` key=value` (the proxy's
 * audit records). Level `warn` reads `warning`. The `command.start` and
 * `command.end` records are for machines: text leaves them out, except a failed `command.end` written
 * to a file (on stderr the CLI prints the failure itself).
 *
 * @module
 */
import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";

/** The JSON lines' schema name and version. Bump the number only for an incompatible change. */
export const LOG_SCHEMA = "mcptrust.log/1";

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** `--log-format`. */
export type LogFormat = "text" | "jsonl";

/** One record: its level and event name, and the event's fields. */
export interface LogRecord {
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

/** Where records go. */
export interface Logger {
  /** Writes one record (synchronously for a file, so nothing is lost on exit). */
  write(record: LogRecord): void;
  /** Closes a file; stderr stays open. Idempotent. */
  close(): void;
  /** A logger on the same output with more fixed fields (after `op_id`); closing it closes nothing. */
  child(fields: Record<string, unknown>): Logger;
}

/** Options of {@link openLogger}. */
export interface LoggerOptions {
  format: LogFormat;
  /** "stderr" (also "-") or a file path (appended to, created 0600). */
  output: string;
  /** The command as typed, e.g. "check", "policy check". */
  command: string;
  /** The run's id (UUID). */
  op_id: string;
  /** Fields on every line after `op_id` (the proxy's `mode`). */
  fields?: Record<string, unknown>;
}

/** Fields the logger sets itself: an event's own field of the same name is dropped, not written twice. */
const RESERVED = new Set(["schema", "ts", "level", "event", "command", "op_id"]);

/**
 * Opens a logger.
 *
 * @throws the fs error if the file cannot be opened
 */
export function openLogger(opts: LoggerOptions): Logger {
  const toStderr = opts.output === "stderr" || opts.output === "-";
  let fd = toStderr ? undefined : openSync(opts.output, "a", 0o600);
  const emit = (line: string) => {
    if (fd !== undefined) writeSync(fd, line);
    else if (toStderr) process.stderr.write(line);
    // else: closed; late records (a timer after the end) are dropped, not written to a stale fd
  };
  const root = writer(opts, toStderr, emit);
  return {
    ...root,
    close() {
      if (fd !== undefined) {
        closeSync(fd);
        fd = undefined;
      }
    },
  };
}

function writer(
  opts: LoggerOptions,
  toStderr: boolean,
  emit: (line: string) => void,
): Logger {
  const head = { command: opts.command, op_id: opts.op_id, ...opts.fields };
  return {
    write(record) {
      if (opts.format === "jsonl") {
        const { level, event, ...rest } = record;
        const line: Record<string, unknown> = {
          schema: LOG_SCHEMA,
          ts: new Date().toISOString(),
          level,
          event,
          ...head,
        };
        for (const k in rest) if (!RESERVED.has(k) && rest[k] !== undefined) line[k] = rest[k];
        emit(JSON.stringify(line) + "\n");
        return;
      }
      const text = textLine(record, toStderr);
      if (text !== undefined) emit(text + "\n");
    },
    close() {},
    child(fields) {
      return writer({ ...opts, fields: { ...opts.fields, ...fields } }, toStderr, emit);
    },
  };
}

/** The text form of a record, or undefined if text leaves it out. */
export function textLine(record: LogRecord, toStderr: boolean): string | undefined {
  const { level, event, message, reason, ...rest } = record;
  if (event === "command.start") return undefined;
  const label = level === "warn" ? "warning" : level;
  if (event === "command.end") {
    if (level !== "error" || toStderr) return undefined;
    const failure = (rest.error as { message?: unknown } | undefined)?.message;
    return `${label}: ${typeof failure === "string" ? failure : "failed"} (exit code ${rest.exit_code})`;
  }
  // A record with a message is a sentence for people: it stands alone.
  if (typeof message === "string") return `${label}: ${message}`;
  let line = `${label}: ${event}${typeof reason === "string" && reason ? `: ${reason}` : ""}`;
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined || RESERVED.has(k)) continue;
    const s = typeof v === "string" ? v : JSON.stringify(v);
    line += ` ${k}=${/[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s}`;
  }
  return line;
}

/** A logger that writes text to stderr: for code that runs outside a command (tests, the library API). */
export const STDERR_TEXT: Logger = {
  write(record) {
    const text = textLine(record, true);
    if (text !== undefined) process.stderr.write(text + "\n");
  },
  close() {},
  child() {
    return STDERR_TEXT;
  },
};
