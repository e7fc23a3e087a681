/**
 * Option parsing and output helpers shared by the commands.
 *
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { type CommandUnknownOpts, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { parse as parseShellWords } from "shell-quote";
import { McpTrustError } from "../lib/errors.ts";
import type { Severity } from "../lib/drift/types.ts";
import type { LogFormat } from "../lib/observe/log.ts";
import { runLog, startRun } from "../lib/observe/run.ts";

/** Parses a duration: "10", "10s", "500ms", "2m" -> milliseconds. Plain numbers are seconds (Go's -t 10s). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) {
    throw new InvalidArgumentError(`expected a duration like 10s, 500ms or 2m, got ${JSON.stringify(text)}`);
  }
  const n = Number(m[1]);
  const ms = m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
  if (ms <= 0) throw new InvalidArgumentError("the duration must be positive");
  return ms;
}

/** Parses the proxy's --fail-on: a severity, or "none" (preflight drift is logged, never denies everything). */
export function parseProxyFailOn(text: string): Severity | "none" {
  return text.toLowerCase() === "none" ? "none" : parseSeverity(text);
}

/** Parses --fail-on (case-insensitive): critical, moderate or info. */
export function parseSeverity(text: string): Severity {
  const s = text.toLowerCase();
  if (s === "critical" || s === "moderate" || s === "info") return s;
  throw new InvalidArgumentError(`expected critical, moderate or info, got ${JSON.stringify(text)}`);
}

/** Parses --format: text or json. */
export function parseFormat(text: string): "text" | "json" {
  if (text === "text" || text === "json") return text;
  throw new InvalidArgumentError(`expected text or json, got ${JSON.stringify(text)}`);
}

/**
 * The server argv given after `--`: exactly as given, except that one quoted string is split as a
 * shell would ({@link splitServerCommand}).
 *
 * @throws {McpTrustError} (exit 2) if none was given, or if a single string needs a shell to mean anything
 */
export function serverArgv(args: readonly string[], command: string): string[] {
  const argv = splitServerCommand(args);
  if (argv.length === 0) {
    throw new McpTrustError("no server command given", {
      hint:
        `put the server's command after \`--\`, e.g. \`mcptrust ${command} -- npx -y @modelcontextprotocol/server-filesystem /tmp\``,
    });
  }
  return argv;
}

/**
 * The argv after `--`, with one case read for newcomers: a single argument that contains whitespace and
 * is not an existing file (`mcptrust lock -- "npx -y pkg /tmp"`) is split into words by POSIX shell
 * quoting rules (quotes, backslashes, `$'...'`), with shell-quote's parser; no shell runs. The split is
 * announced on the log (stderr). Anything that needs a shell to mean something is refused: operators
 * (`|`, `&&`, `;`, redirections), globs, `$VAR`/`$(...)`/backquote substitutions, comments, `~` and a
 * leading `NAME=value`. Every other argv is returned as given (a copy), never re-split.
 *
 * @throws {McpTrustError} (exit 2) naming what would need a shell, with the argv to write instead
 */
export function splitServerCommand(args: readonly string[]): string[] {
  if (args.length !== 1 || !/\s/.test(args[0]) || existsSync(args[0])) return [...args];
  const text = args[0];
  const refuse = (what: string): never => {
    throw new McpTrustError(
      `the server command was given as one string, and ${what} needs a shell; mcptrust runs no shell`,
      {
        hint:
          `give the command and its arguments as separate words after \`--\` (e.g. \`-- npx -y pkg /tmp\`), ` +
          "or run a shell yourself: `-- sh -c '...'`",
      },
    );
  };
  if (text.includes("`")) refuse("a backquote substitution");
  if (/(^|\s)~/.test(text)) refuse("`~` (home directory expansion)");
  const words: string[] = [];
  for (const entry of parseShellWords(text, (name) => ({ substitution: name }))) {
    if (typeof entry === "string") {
      words.push(entry);
      continue;
    }
    if ("substitution" in entry) refuse(`\`$${entry.substitution || "(...)"}\` (a substitution)`);
    if ("comment" in entry) refuse("`#` (a comment)");
    if ("op" in entry && entry.op === "glob") refuse(`\`${entry.pattern}\` (a glob)`);
    if ("op" in entry) refuse(`\`${entry.op}\` (a shell operator)`);
  }
  if (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    refuse(`\`${words[0].split("=")[0]}=...\` (an environment assignment)`);
  }
  if (words.length > 1) {
    runLog().write({
      level: "info",
      event: "server.argv_split",
      message:
        `the server command was one string; split into ${words.length} arguments as a POSIX shell would ` +
        `(no shell is run): ${JSON.stringify(words)}`,
      argv_count: words.length,
    });
  }
  return words;
}

/** Prints a warning: a `warning` record on the run's log (text on stderr by default). */
export function warn(message: string): void {
  runLog().write({ level: "warn", event: "warning", message });
}

/**
 * Shows a one-line progress message on stderr while `work` runs, only when stderr is a terminal (so CI
 * logs and pipes stay clean).
 */
export async function withProgress<T>(message: string, work: () => Promise<T>): Promise<T> {
  const tty = process.stderr.isTTY === true;
  if (tty) process.stderr.write(`${message}…`);
  try {
    return await work();
  } finally {
    if (tty) process.stderr.write("\r\x1b[2K");
  }
}

/** Writes text to stdout and waits until it is flushed (so exit codes set right after cannot cut it off). */
export function out(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once("drain", () => resolve());
  });
}

/**
 * For `--format json`: prints the failure as a JSON object (`fields`, then `exitCode`, `error` and
 * `hint`) so tools get a verdict on stdout even when the command fails; main.ts still prints the
 * one-line error to stderr and exits with `err.exitCode`.
 */
export function outJsonFailure(err: McpTrustError, fields: Record<string, unknown>): Promise<void> {
  const body = { ...fields, exitCode: err.exitCode, error: err.message, hint: err.hint };
  return out(JSON.stringify(body, null, 2) + "\n");
}

/** Shared help text describing the `--` convention. */
export const SERVER_ARGS_HELP =
  "the server command after `--`, run as given (no shell; arguments with spaces survive; one quoted string is split into words as a shell would)";

/** The capabilities `--client-capabilities` may name (MCP spec "Client Features"). */
const CLIENT_CAPABILITIES: Record<string, unknown> = {
  roots: { listChanged: false },
  sampling: {},
  elicitation: {},
};

/**
 * Parses `--client-capabilities`: a comma-separated subset of roots, sampling, elicitation, or "none".
 * Servers may list different tools to hosts with different capabilities, so lock with what your host
 * declares.
 */
export function parseClientCapabilities(text: string): Record<string, unknown> {
  if (text.trim() === "none") return {};
  const out: Record<string, unknown> = {};
  for (const name of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(name in CLIENT_CAPABILITIES)) {
      throw new InvalidArgumentError(
        `expected roots, sampling, elicitation (comma-separated) or none, got ${JSON.stringify(name)}`,
      );
    }
    out[name] = CLIENT_CAPABILITIES[name];
  }
  return out;
}

/** Help text of `--client-capabilities`. */
export const CLIENT_CAPABILITIES_HELP =
  "capabilities to declare to the server, as your host does: roots,sampling,elicitation (default) or none";

// ---------------------------------------------------------------- shared flags and the run

/** Parses --log-format: text or jsonl. */
export function parseLogFormat(text: string): LogFormat {
  if (text === "text" || text === "jsonl") return text;
  throw new InvalidArgumentError(`expected text or jsonl, got ${JSON.stringify(text)}`);
}

/** Commands whose log is an audit log (the proxy's, and run's, which runs the proxy): jsonl is their default. */
const JSONL_BY_DEFAULT = new Set(["proxy", "run"]);

/**
 * The flags every command takes (docs/LOGGING.md), added by main.ts to every command that runs
 * something. A command that already defines one of them keeps its own.
 */
export function sharedOptions(): Option[] {
  return [
    new Option(
      "--log-format <format>",
      "log as text or jsonl (JSON lines, schema mcptrust.log/1; the default for proxy and run)",
    )
      .argParser(parseLogFormat),
    new Option("--log-output <file>", "write the log to this file instead of stderr (appended, 0600)"),
    new Option("--otel", "export a trace of this run (and the proxy's counters) over OTLP/HTTP"),
    new Option(
      "--otel-endpoint <url>",
      "OTLP/HTTP endpoint (implies --otel; default $OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318)",
    ),
  ];
}

/** Adds {@link sharedOptions} to `cmd` if it runs something (has no subcommands), unless it has them. */
export function addSharedOptions(cmd: CommandUnknownOpts): void {
  if (cmd.commands.length > 0) return;
  const has = new Set(cmd.options.map((o) => o.long));
  for (const o of sharedOptions()) if (!has.has(o.long)) cmd.addOption(o);
}

/** `--receipt FILE`, for the commands that write one (lock, check, policy check, proxy, run). */
export function receiptOption(): Option<"--receipt <file>"> {
  return new Option(
    "--receipt <file>",
    "write a JSON receipt of this run (schema mcptrust.receipt/1), also when it fails",
  );
}

/** Per command: fixed fields for every line of its log, from its parsed options (see {@link withLogFields}). */
const LOG_FIELDS = new WeakMap<object, (opts: Record<string, unknown>) => Record<string, unknown>>();

/**
 * Declares fields that every line of a command's log carries, computed from its options (the proxy's
 * `mode`), so that even `command.start` and `command.end` have them.
 */
export function withLogFields<C extends CommandUnknownOpts>(
  cmd: C,
  fields: (opts: Record<string, unknown>) => Record<string, unknown>,
): C {
  LOG_FIELDS.set(cmd, fields);
  return cmd;
}

/** The command as typed, e.g. "check", "policy check". */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * main.ts's `preAction` hook: starts the run of the command about to act (log, receipt, telemetry).
 *
 * @throws {McpTrustError} (exit 2) if the log file cannot be opened
 */
export async function startCommandRun(root: CommandUnknownOpts, action: CommandUnknownOpts): Promise<void> {
  const o = action.opts() as {
    logFormat?: LogFormat;
    logOutput?: string;
    receipt?: string;
    otel?: boolean;
    otelEndpoint?: string;
  };
  const command = commandPath(action);
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? process.argv;
  try {
    await startRun({
      command,
      argv: raw.slice(2),
      logFormat: o.logFormat ?? (JSONL_BY_DEFAULT.has(command) ? "jsonl" : "text"),
      logOutput: o.logOutput ?? "stderr",
      receipt: o.receipt,
      otel: o.otel === true || o.otelEndpoint !== undefined,
      otelEndpoint: o.otelEndpoint,
      fields: LOG_FIELDS.get(action)?.(o as Record<string, unknown>),
    });
  } catch (err) {
    throw new McpTrustError((err as Error).message, {
      hint: "give a --log-output path in a writable directory",
    });
  }
}
