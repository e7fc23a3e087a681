/**
 * The run: one CLI invocation's log, receipt notes and telemetry, from the moment commander has parsed
 * the flags (main.ts `preAction`) until the exit code is known ({@link endRun}).
 *
 * Kept small on purpose: main.ts imports it at start-up. The receipt writer and hashing load only with
 * `--receipt`, OpenTelemetry only with `--otel` (dynamic imports).
 *
 * @module
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { type LogFormat, type Logger, openLogger, STDERR_TEXT } from "./log.ts";
import type { ReceiptNotes } from "./receipt.ts";
import { redactArgv, redactText } from "./redact.ts";
import type { SpanHandle, Telemetry } from "./telemetry.ts";

/** What {@link startRun} needs: the parsed shared flags and the command. */
export interface RunOptions {
  /** The command as typed, e.g. "check", "policy check". */
  command: string;
  /** The arguments after the binary's name, unredacted (redacted before anything records them). */
  argv: readonly string[];
  logFormat: LogFormat;
  /** "stderr" or a file. */
  logOutput: string;
  /** `--receipt FILE`, for the commands that take it. */
  receipt?: string;
  otel?: boolean;
  otelEndpoint?: string;
  /** Fixed fields on every log line after `op_id` (the proxy's `mode`). */
  fields?: Record<string, unknown>;
}

interface Run {
  command: string;
  opId: string;
  argv: readonly string[];
  started: Date;
  log: Logger;
  receipt?: string;
  notes: ReceiptNotes;
  telemetry?: Telemetry;
  span?: SpanHandle;
}

let current: Run | undefined;

/** The default OTLP/HTTP endpoint: the OpenTelemetry Collector's on this machine. */
export const DEFAULT_OTEL_ENDPOINT = "http://localhost:4318";

/**
 * Starts the run: opens the log, writes `command.start`, starts telemetry when asked.
 *
 * @throws Error with a message naming the log file when it cannot be opened (main.ts reports it)
 */
export async function startRun(opts: RunOptions): Promise<void> {
  const opId = crypto.randomUUID();
  let log: Logger;
  try {
    log = openLogger({
      format: opts.logFormat,
      output: opts.logOutput,
      command: opts.command,
      op_id: opId,
      fields: opts.fields,
    });
  } catch (err) {
    throw new Error(`cannot open the log ${opts.logOutput}: ${(err as Error).message}`);
  }
  const run: Run = {
    command: opts.command,
    opId,
    argv: opts.argv,
    started: new Date(),
    log,
    receipt: opts.receipt,
    notes: {},
  };
  current = run;
  log.write({ level: "info", event: "command.start", argv: redactArgv(opts.argv), pid: process.pid });
  if (opts.otel) {
    const { startTelemetry } = await import("./otel.ts");
    const endpoint = opts.otelEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTEL_ENDPOINT;
    const started = startTelemetry({
      endpoint,
      spanName: `mcptrust ${opts.command}`,
      attributes: { "mcptrust.command": opts.command, "mcptrust.op_id": opId },
      onWarning: (message) => log.write({ level: "warn", event: "otel.warning", message }),
    });
    run.telemetry = started.telemetry;
    run.span = started.commandSpan;
  }
}

/** The run's log; outside a run (tests, the library API), text on stderr. */
export function runLog(): Logger {
  return current?.log ?? STDERR_TEXT;
}

/** The run's telemetry, or undefined without `--otel`. */
export function runTelemetry(): Telemetry | undefined {
  return current?.telemetry;
}

/** True if the run writes a receipt (so a command may skip work only a receipt needs). */
export function receiptWanted(): boolean {
  return current?.receipt !== undefined;
}

/** The run's id (UUID), or undefined outside a run. */
export function runId(): string | undefined {
  return current?.opId;
}

/**
 * Adds what a command knows to its receipt (merged: later notes win per field; `durations_ms` and
 * `details` merge key by key). A no-op outside a run.
 */
export function noteRun(notes: ReceiptNotes): void {
  if (!current) return;
  const n = current.notes;
  for (const [k, v] of Object.entries(notes) as [keyof ReceiptNotes, unknown][]) {
    if (v === undefined) continue;
    if ((k === "durations_ms" || k === "details" || k === "server") && n[k] !== undefined) {
      (n as Record<string, unknown>)[k] = { ...n[k] as object, ...v as object };
    } else (n as Record<string, unknown>)[k] = v;
  }
}

/**
 * Notes the lockfile a run read or wrote and, when a receipt is wanted, the SHA-256 of its bytes now
 * (`sha256: null` if it cannot be read).
 */
export async function noteLockfile(path: string): Promise<void> {
  if (!current) return;
  if (current.receipt === undefined) return noteRun({ lockfile: { path, sha256: null } });
  let sha256: string | null = null;
  try {
    const [{ sha256: hash }, { bytesToHex }] = await Promise.all([
      import("@noble/hashes/sha2.js"),
      import("@noble/hashes/utils.js"),
    ]);
    sha256 = bytesToHex(hash(readFileSync(path)));
  } catch { /* unreadable: recorded as null */ }
  noteRun({ lockfile: { path, sha256 } });
}

/**
 * Ends the run: writes `command.end`, the receipt (when asked) and flushes telemetry. Outside a run
 * (help, version, usage errors) it only returns `exitCode`.
 *
 * @param exitCode the code the CLI is about to exit with
 * @param error the failure, if the command threw
 * @returns the exit code to use: `exitCode`, or 2 if a run that succeeded could not write its receipt
 */
export async function endRun(exitCode: number, error?: unknown): Promise<number> {
  const run = current;
  if (!run) return exitCode;
  current = undefined;
  const ended = new Date();
  let code = exitCode;
  const failure = error === undefined ? undefined : {
    message: redactText(error instanceof Error ? error.message : String(error)),
    ...(typeof (error as { hint?: unknown })?.hint === "string"
      ? { hint: redactText((error as { hint: string }).hint) }
      : {}),
  };
  if (run.receipt !== undefined) {
    try {
      const { buildReceipt, writeReceipt } = await import("./receipt.ts");
      writeReceipt(
        run.receipt,
        buildReceipt({
          command: run.command,
          argv: run.argv,
          op_id: run.opId,
          startedAt: run.started,
          endedAt: ended,
          exitCode: code,
          error,
          notes: run.notes,
        }),
      );
    } catch (err) {
      process.stderr.write(`mcptrust: cannot write the receipt ${run.receipt}: ${(err as Error).message}\n`);
      run.log.write({
        level: "error",
        event: "receipt.error",
        message: (err as Error).message,
        path: run.receipt,
      });
      if (code === 0) code = 2;
    }
  }
  run.log.write({
    level: code === 0 ? "info" : code === 1 ? "warn" : "error",
    event: "command.end",
    exit_code: code,
    duration_ms: ended.getTime() - run.started.getTime(),
    ...(failure ? { error: failure } : {}),
    ...(run.receipt !== undefined ? { receipt: run.receipt } : {}),
  });
  if (run.telemetry) {
    run.span?.setAttributes({ "mcptrust.exit_code": code });
    run.span?.end(failure?.message ?? (code === 0 ? undefined : `exit code ${code}`));
    await run.telemetry.shutdown();
  }
  run.log.close();
  return code;
}
