/**
 * Scans a server: spawn it, connect (server/discover, else initialize), list its whole interface, stop it.
 *
 * @module
 */
import { EraProbeClosedError, type McpClient } from "../mcp/client.ts";
import { withStdioServer } from "../mcp/stdio_session.ts";
import { listInterface } from "../mcp/interface.ts";
import type { HttpTarget } from "../mcp/transport/http_target.ts";
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
  /** For a stdio server: its whole environment (default: ours), as a host would give it. */
  env?: Record<string, string | undefined>;
  /** For a stdio server: its working directory (default: ours). */
  cwd?: string;
}

/**
 * Spawns `argv` (exactly as given), lists its interface and stops it; or, given an {@link HttpTarget}
 * (`--url`), does the same over Streamable HTTP and ends the session.
 *
 * @throws {McpTrustError} (exit 2) naming why the server could not be scanned
 */
export async function scanServer(
  target: readonly string[] | HttpTarget,
  opts: ScanOptions,
): Promise<ServerInterface> {
  const warn = opts.onWarning ?? (() => {});
  const session = { timeoutMs: opts.timeoutMs, onWarning: warn, capabilities: opts.capabilities };
  // Both eras (docs/PROTOCOL_ERAS.md): stdio servers are probed with server/discover and fall back to
  // initialize; a server that exits on the probe is started again and initialized. Streamable HTTP
  // speaks the session era only (its stateless headers are not implemented yet).
  const work = (era: "auto" | "session") => async (client: McpClient) => {
    await client.connect({ name: "mcptrust", version: VERSION }, { era, probeTimeoutMs: opts.timeoutMs / 2 });
    return await listInterface(client, {}, warn);
  };
  if (isArgv(target)) {
    const stdio = { ...session, env: opts.env, cwd: opts.cwd };
    try {
      return await withStdioServer(target, stdio, work("auto"));
    } catch (err) {
      if (!(err instanceof EraProbeClosedError)) throw err;
      const iface = await withStdioServer(target, stdio, work("session"));
      warn("the server stopped on the server/discover probe; it was started again and initialized");
      return iface;
    }
  }
  // Loaded only for --url: stdio scans do not pay for the HTTP transport.
  const { withHttpServer } = await import("../mcp/http_session.ts");
  return await withHttpServer(target, session, work("session"));
}

function isArgv(target: readonly string[] | HttpTarget): target is readonly string[] {
  return Array.isArray(target);
}
