/**
 * Scans a server: spawn it, initialize, list its whole interface, stop it.
 *
 * @module
 */
import { withStdioServer } from "../mcp/stdio_session.ts";
import { listInterface } from "../mcp/interface.ts";
import type { ServerInterface } from "../mcp/types.ts";
import { VERSION } from "../version.ts";

/** Options for {@link scanServer}. */
export interface ScanOptions {
  /** Deadline for the whole scan in ms (the CLI's -t, default 10 s). */
  timeoutMs: number;
  /** Receives non-fatal warnings. */
  onWarning?: (message: string) => void;
  /**
   * Client capabilities to declare, so the scan sees what a given host sees. Default: roots, sampling
   * and elicitation, what full-featured hosts declare (lib/mcp/client.ts HOST_LIKE_CAPABILITIES).
   */
  capabilities?: Record<string, unknown>;
}

/**
 * Spawns `argv` (exactly as given), lists its interface and stops it.
 *
 * @throws {McpTrustError} (exit 2) naming why the server could not be scanned
 */
export function scanServer(argv: readonly string[], opts: ScanOptions): Promise<ServerInterface> {
  const warn = opts.onWarning ?? (() => {});
  const session = { timeoutMs: opts.timeoutMs, onWarning: warn, capabilities: opts.capabilities };
  return withStdioServer(argv, session, async (client) => {
    await client.initialize({ name: "mcptrust", version: VERSION });
    return await listInterface(client, {}, warn);
  });
}
