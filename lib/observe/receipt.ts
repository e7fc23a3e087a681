/**
 * Run receipts (`--receipt FILE`): one JSON document per run saying what ran, against what, and what came
 * of it, written atomically when the run ends, whether it passed, failed or broke. Schema
 * {@link RECEIPT_SCHEMA}, documented in docs/LOGGING.md "Receipts".
 *
 * Commands do not write receipts themselves: they add what they know to the run (`noteRun` in
 * lib/observe/run.ts) and the CLI writes the receipt at the end (main.ts). {@link buildReceipt} and
 * {@link writeReceipt} are the pieces, for a command that has to write one on its own terms.
 *
 * @module
 */
import { atomicWriteFile } from "../atomic_write.ts";
import { COMMIT, VERSION } from "../version.ts";
import { redactArgv, redactText } from "./redact.ts";

/** The receipt's schema name and version. Bump the number only for an incompatible change. */
export const RECEIPT_SCHEMA = "mcptrust.receipt/1";

/** The run's verdict: 0 pass, 1 a check failed, anything else an error (or the server's own code). */
export type ReceiptResult = "pass" | "fail" | "error";

/** The server a run talked to. `argv` is redacted; `name`/`version` are its serverInfo. */
export interface ReceiptServer {
  argv?: string[];
  url?: string;
  name?: string;
  version?: string;
}

/** Drift found (lock, check, diff, proxy preflight): counts by severity. */
export interface ReceiptDrift {
  total: number;
  critical: number;
  moderate: number;
  info: number;
  /** The threshold the run used (check: --fail-on). */
  fail_on?: string;
}

/** The proxy's decisions over the run. */
export interface ReceiptDecisions {
  /** Host requests forwarded to the server. */
  allowed: number;
  /** Host messages refused (block, preflight denial; invalid arguments, call rules, results withheld). */
  blocked: number;
  /** `drop` records: list items removed, server answers to no pending request, stray cancels. */
  dropped: number;
  /** Audit-only and filter-only: what would have been blocked. */
  would_block: number;
  /** Every audit event by name, with its count. */
  events: Record<string, number>;
}

/** The receipt, as written. */
export interface Receipt {
  schema: typeof RECEIPT_SCHEMA;
  tool: { name: "mcptrust"; version: string; commit: string };
  /** The command as typed, e.g. "lock", "policy check". */
  command: string;
  /** The arguments after the binary's name, secrets redacted (lib/observe/redact.ts). */
  argv: string[];
  /** The run's id: the `op_id` of its log lines and an attribute of its trace. */
  op_id: string;
  /** RFC 3339, UTC, milliseconds. */
  started_at: string;
  ended_at: string;
  /** `total`, and per phase where the command measured one (e.g. `scan`), milliseconds. */
  durations_ms: Record<string, number>;
  exit_code: number;
  result: ReceiptResult;
  /** Present when the run failed: what the CLI printed. */
  error?: { message: string; hint?: string };
  /** The lockfile the run read or wrote, and the SHA-256 of its bytes (hex) as the run saw them. */
  lockfile?: { path: string; sha256: string | null };
  server?: ReceiptServer;
  /** The command's verdict in its own words (check: PASS/FAIL; lock: created, updated, unchanged, refused). */
  outcome?: string;
  drift?: ReceiptDrift;
  decisions?: ReceiptDecisions;
  /** Policy evaluation (check --policy, policy check, proxy --policy). */
  policy?: Record<string, unknown>;
  /** Anything else the command adds (run: artifact, sandbox, ...). */
  details?: Record<string, unknown>;
}

/** What a command contributes to its receipt (everything but what the run itself knows). */
export type ReceiptNotes =
  & Partial<
    Pick<Receipt, "lockfile" | "server" | "outcome" | "drift" | "decisions" | "policy" | "details">
  >
  & { durations_ms?: Record<string, number> };

/** What {@link buildReceipt} needs. */
export interface ReceiptInput {
  command: string;
  /** The raw arguments after the binary's name; redacted here. */
  argv: readonly string[];
  op_id: string;
  startedAt: Date;
  endedAt: Date;
  exitCode: number;
  /** The failure, if the run threw. */
  error?: unknown;
  notes?: ReceiptNotes;
}

/** Drift counts by severity from drift items (lib/drift/types.ts DriftItem). */
export function driftCounts(items: readonly { severity: string }[]): ReceiptDrift {
  const d: ReceiptDrift = { total: items.length, critical: 0, moderate: 0, info: 0 };
  for (const i of items) {
    if (i.severity === "critical" || i.severity === "moderate" || i.severity === "info") d[i.severity]++;
  }
  return d;
}

/** The verdict for an exit code: 0 pass, 1 fail (a check failed), else error. */
export function resultOf(exitCode: number): ReceiptResult {
  return exitCode === 0 ? "pass" : exitCode === 1 ? "fail" : "error";
}

/** Builds a receipt. Error texts are redacted too (a server's message may echo a token). */
export function buildReceipt(input: ReceiptInput): Receipt {
  const notes = input.notes ?? {};
  const receipt: Receipt = {
    schema: RECEIPT_SCHEMA,
    tool: { name: "mcptrust", version: VERSION, commit: COMMIT },
    command: input.command,
    argv: redactArgv(input.argv),
    op_id: input.op_id,
    started_at: input.startedAt.toISOString(),
    ended_at: input.endedAt.toISOString(),
    durations_ms: { total: input.endedAt.getTime() - input.startedAt.getTime(), ...notes.durations_ms },
    exit_code: input.exitCode,
    result: resultOf(input.exitCode),
  };
  if (input.error !== undefined) {
    const e = input.error as { message?: unknown; hint?: unknown };
    receipt.error = {
      message: redactText(typeof e?.message === "string" ? e.message : String(input.error)),
      ...(typeof e?.hint === "string" ? { hint: redactText(e.hint) } : {}),
    };
  }
  for (const k of ["lockfile", "server", "outcome", "drift", "decisions", "policy", "details"] as const) {
    if (notes[k] !== undefined) (receipt as unknown as Record<string, unknown>)[k] = notes[k];
  }
  if (receipt.server?.argv) receipt.server = { ...receipt.server, argv: redactArgv(receipt.server.argv) };
  return receipt;
}

/**
 * Writes a receipt atomically (temp file in the same directory, then rename): pretty JSON and a newline,
 * mode 0644.
 *
 * @throws the fs error (e.g. ENOENT for a missing directory)
 */
export function writeReceipt(path: string, receipt: Receipt): void {
  atomicWriteFile(path, JSON.stringify(receipt, null, 2) + "\n");
}
