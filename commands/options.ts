/**
 * Option parsing and output helpers shared by the commands.
 *
 * @module
 */
import process from "node:process";
import { InvalidArgumentError } from "@commander-js/extra-typings";
import { McpTrustError } from "../lib/errors.ts";
import type { Severity } from "../lib/drift/types.ts";

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
 * The server argv given after `--`, exactly as given.
 *
 * @throws {McpTrustError} (exit 2) if none was given
 */
export function serverArgv(args: readonly string[], command: string): string[] {
  if (args.length === 0) {
    throw new McpTrustError("no server command given", {
      hint:
        `put the server's command after \`--\`, e.g. \`mcptrust ${command} -- npx -y @modelcontextprotocol/server-filesystem /tmp\``,
    });
  }
  return [...args];
}

/** Prints a warning line to stderr. */
export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
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
  "the server command after `--`, run exactly as given (no shell, no re-splitting; arguments with spaces survive)";

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
