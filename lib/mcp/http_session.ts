/**
 * A client session with a remote server over Streamable HTTP (or the old HTTP+SSE): the counterpart of
 * {@link withStdioServer} for `--url`. One deadline for the whole session; every way the server can fail
 * (unreachable, HTTP errors, dropped streams, session ended, too slow) becomes one line naming the cause,
 * with credentials redacted.
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import { McpClient } from "./client.ts";
import { isObject, type JsonRpcMessage } from "./jsonrpc.ts";
import type { HttpTarget } from "./transport/http_target.ts";
import { HttpClientTransport } from "./transport/streamable_http.ts";

/** Options for {@link withHttpServer}. */
export interface HttpSessionOptions {
  /** Deadline for the whole session, ms (also each HTTP request's deadline for its response headers). */
  timeoutMs: number;
  /** Receives warnings (ignored events, unknown ids). */
  onWarning?: (message: string) => void;
  /** Client capabilities to declare in initialize (see McpClientOptions.capabilities in client.ts). */
  capabilities?: Record<string, unknown>;
  /** Message cap in bytes. Default 10 MiB. */
  maxMessageBytes?: number;
}

/**
 * Connects to `target`, runs `fn` with a connected (not yet initialized) client, then ends the session
 * (DELETE for Streamable HTTP).
 *
 * @throws {McpTrustError} (exit 2) when the server is unreachable, answers with HTTP errors, drops the
 *   connection, ends the session, or does not finish within the deadline
 */
export async function withHttpServer<T>(
  target: HttpTarget,
  opts: HttpSessionOptions,
  fn: (client: McpClient) => Promise<T>,
): Promise<T> {
  const warn = opts.onWarning ?? (() => {});
  const transport = new HttpClientTransport(target, {
    requestTimeoutMs: opts.timeoutMs,
    maxMessageBytes: opts.maxMessageBytes,
    onWarning: warn,
  });
  const client = new McpClient({
    send: (line) => transport.send(line),
    onWarning: warn,
    capabilities: opts.capabilities,
  });
  transport.start({
    onMessage(text) {
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        warn(`skipped a message from the server that is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
        return;
      }
      for (const m of Array.isArray(msg) ? msg : [msg]) {
        if (isObject(m)) client.handleMessage(m as JsonRpcMessage);
        else warn("skipped a JSON value that is not a JSON-RPC message");
      }
    },
    onOversize(n) {
      warn(
        `dropped a message of ${n} bytes from the server (limit ${opts.maxMessageBytes ?? 10 * 1024 * 1024})`,
      );
    },
    onRequestError(_id, err) {
      client.fail(err);
    },
    onClose(reason) {
      client.fail(
        new McpTrustError(reason, { hint: "run the command again; the server may have restarted" }),
      );
    },
  });
  const timer = setTimeout(() => {
    const what = client.info ? "listing its interface" : "initialize";
    client.fail(
      new McpTrustError(
        `server at ${target.display} did not finish ${what} within ${opts.timeoutMs / 1000}s`,
        {
          hint: "raise the timeout with -t, or check that the URL is the server's MCP endpoint",
        },
      ),
    );
  }, opts.timeoutMs);
  try {
    return await fn(client);
  } finally {
    clearTimeout(timer);
    await transport.close();
  }
}
