/**
 * Where a command finds its server: a command after `--` (stdio) or `--url` (Streamable HTTP), exactly
 * one of the two. Shared by scan, lock, check, diff and proxy.
 *
 * @module
 */
import { McpTrustError } from "../lib/errors.ts";
import { noteRun } from "../lib/observe/run.ts";
import { splitServerCommand } from "./options.ts";
import type { HttpTarget } from "../lib/mcp/transport/http_target.ts";

/** The remote-server options as commander gives them. */
export interface RemoteOptionValues {
  url?: string;
  header?: string[];
  bearerTokenEnv?: string;
  allowInsecureHttp?: boolean;
}

/** Help of `--url`. */
export const URL_HELP =
  "a remote server's MCP endpoint (Streamable HTTP, or the old HTTP+SSE), instead of a command after `--`";
/** Help of `--header`. */
export const HEADER_HELP =
  "an HTTP header for every request to --url, 'Name: value' (repeatable; never printed)";
/** Help of `--bearer-token-env`. */
export const BEARER_HELP =
  "send `Authorization: Bearer <token>` with the token read from this environment variable";
/** Help of `--allow-insecure-http`. */
export const INSECURE_HELP =
  "allow plain http:// to a host that is not loopback (default: http only to localhost/127.0.0.1/::1)";

/** Commander collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Help text appended to the commands that take --url. */
export const REMOTE_HELP = `
Remote servers: --url https://host/mcp [--header 'Name: value']... [--bearer-token-env NAME] instead of
\`-- <command>\`. Streamable HTTP (MCP 2025-06-18), falling back to the old HTTP+SSE transport when the
server only offers that. Header values and tokens are never printed; the lockfile records the URL without
userinfo, query or fragment (server.url). http:// only to loopback unless --allow-insecure-http.`;

/**
 * The server to talk to: the argv after `--`, or the checked `--url` target.
 *
 * @throws {McpTrustError} (exit 2) when both or neither are given, when --header or
 *   --bearer-token-env come without --url, or when the URL or a header is refused
 */
export async function serverTarget(
  args: readonly string[],
  opts: RemoteOptionValues,
  command: string,
): Promise<string[] | HttpTarget> {
  if (opts.url === undefined) {
    if ((opts.header?.length ?? 0) > 0 || opts.bearerTokenEnv !== undefined || opts.allowInsecureHttp) {
      throw new McpTrustError("--header, --bearer-token-env and --allow-insecure-http need --url", {
        hint: `e.g. mcptrust ${command} --url https://mcp.example.com/mcp --bearer-token-env MCP_TOKEN`,
      });
    }
    // One quoted string (`-- "npx -y pkg /tmp"`) is split as a shell would; anything else is kept as given.
    const argv = splitServerCommand(args);
    if (argv.length === 0) {
      throw new McpTrustError("no server command given, and no --url", {
        hint:
          `put the server's command after \`--\` (mcptrust ${command} -- npx -y @modelcontextprotocol/server-everything) or give --url https://host/mcp`,
      });
    }
    noteRun({ server: { argv } });
    return argv;
  }
  if (args.length > 0) {
    throw new McpTrustError("give either --url or a server command after `--`, not both", {
      hint: `mcptrust ${command} --url URL, or mcptrust ${command} -- <command>`,
    });
  }
  const { parseHttpTarget } = await import("../lib/mcp/transport/http_target.ts");
  const target = parseHttpTarget({
    url: opts.url,
    headers: opts.header,
    bearerTokenEnv: opts.bearerTokenEnv,
    allowInsecureHttp: opts.allowInsecureHttp,
  });
  noteRun({ server: { url: target.display } });
  return target;
}

/** True if the target is a remote server (`--url`). */
export function isRemote(target: string[] | HttpTarget): target is HttpTarget {
  return !Array.isArray(target);
}
