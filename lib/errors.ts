/**
 * Errors that carry the process exit code and a next step for the user.
 *
 * Exit codes follow the design contract: 0 success, 1 a check failed (drift, policy, signature,
 * integrity), 2 usage or operational error (bad flags, unreadable file, server would not start,
 * network). Commands throw these; main.ts prints `mcptrust: <message>` plus the hint and exits.
 *
 * @module
 */

/** Exit code for a failed check: drift, policy, signature or integrity. */
export const EXIT_CHECK_FAILED = 1;
/** Exit code for usage or operational errors. */
export const EXIT_OPERATIONAL = 2;

/**
 * A user-facing error. `message` says what failed and why; `hint` says what to do next.
 *
 * @example
 * throw new McpTrustError("cannot read lockfile mcp-lock.json: no such file", {
 *   hint: "run `mcptrust lock -- <server command>` first",
 * });
 */
export class McpTrustError extends Error {
  /** Process exit code: 1 (check failed) or 2 (operational). */
  readonly exitCode: number;
  /** What the user can do next, or undefined. */
  readonly hint?: string;

  constructor(message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "McpTrustError";
    this.exitCode = opts.exitCode ?? EXIT_OPERATIONAL;
    this.hint = opts.hint;
  }
}

/** A check that ran and failed (exit 1): drift, policy, signature or integrity. */
export class CheckFailedError extends McpTrustError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: EXIT_CHECK_FAILED });
    this.name = "CheckFailedError";
  }
}

/** Returns the message of any thrown value, for one-line error reports. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
