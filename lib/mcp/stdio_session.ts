/**
 * A client session with a server process over stdio: spawn, frame, parse, hand messages to an
 * {@link McpClient}, enforce one deadline for the whole session, and turn every way a server can fail
 * (cannot start, exits early, times out, never speaks JSON-RPC) into one line that names the cause.
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import { McpClient } from "./client.ts";
import { isObject, type JsonRpcMessage } from "./jsonrpc.ts";
import { LineReader, MAX_LINE_BYTES } from "./line_reader.ts";
import { ServerProcess } from "./server_process.ts";

/** Options for {@link withStdioServer}. */
export interface StdioSessionOptions {
  /** Deadline for the whole session, in milliseconds. */
  timeoutMs: number;
  /** Receives warnings (stray stdout lines, unknown ids). */
  onWarning?: (message: string) => void;
  /**
   * How long the server may take to exit after its stdin is closed before it gets SIGTERM (and, as
   * long again later, SIGKILL), in ms. Default 250: a scan needs nothing more from the server, and
   * some servers never exit on EOF (server-everything with a roots-capable client keeps running), so a
   * long grace only adds latency. The MCP spec asks for "a reasonable time" before SIGTERM.
   */
  graceMs?: number;
  /** Line cap in bytes. Default 10 MiB. */
  maxLineBytes?: number;
  /** Client capabilities to declare in initialize (see McpClientOptions.capabilities in client.ts). */
  capabilities?: Record<string, unknown>;
  /** The server's whole environment (default: ours). */
  env?: Record<string, string | undefined>;
  /** The server's working directory (default: ours). */
  cwd?: string;
}

/**
 * Starts `argv`, runs `fn` with a connected (not yet initialized) client, then stops the server.
 *
 * @throws {McpTrustError} (exit 2) when the server cannot start, exits early, times out, or never sends
 *   valid JSON-RPC; the message names the cause and quotes the server's last stderr lines
 */
export async function withStdioServer<T>(
  argv: readonly string[],
  opts: StdioSessionOptions,
  fn: (client: McpClient, proc: ServerProcess) => Promise<T>,
): Promise<T> {
  const proc = ServerProcess.start(argv, { env: opts.env, cwd: opts.cwd });
  const warn = opts.onWarning ?? (() => {});
  let validMessages = 0;
  let strayLines = 0;
  let firstStray = "";
  const client = new McpClient({
    send: (line) => proc.write(line),
    onWarning: warn,
    capabilities: opts.capabilities,
  });

  const reader = new LineReader({
    onLine(text) {
      if (text.trim() === "") return;
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        strayLines++;
        if (strayLines === 1) firstStray = text.slice(0, 120);
        if (strayLines <= 3) {
          warn(`skipped a non-JSON line on the server's stdout: ${JSON.stringify(text.slice(0, 120))}`);
        }
        return;
      }
      const msgs = Array.isArray(msg) ? msg : [msg];
      for (const m of msgs) {
        if (!isObject(m)) {
          warn("skipped a JSON value on stdout that is not a JSON-RPC message");
          continue;
        }
        validMessages++;
        client.handleMessage(m as JsonRpcMessage);
      }
    },
    onOversize(n) {
      warn(
        `dropped a line of ${n} bytes from the server's stdout (limit ${
          opts.maxLineBytes ?? MAX_LINE_BYTES
        })`,
      );
    },
  }, opts.maxLineBytes ?? MAX_LINE_BYTES);
  proc.child.stdout!.setEncoding("utf8");
  proc.child.stdout!.on("data", (chunk: string) => reader.push(chunk));
  proc.child.stdout!.on("end", () => reader.end());

  const describeStderr = (): string => {
    const tail = proc.stderrTail().slice(-3);
    return tail.length ? `; its stderr ends with: ${tail.map((l) => JSON.stringify(l)).join(" | ")}` : "";
  };
  const describeStray = (): string =>
    strayLines
      ? ` (it printed ${strayLines} non-JSON line(s) on stdout, first: ${JSON.stringify(firstStray)})`
      : "";

  proc.exited.then(() => {
    const phase = client.info ? "while mcptrust was listing its interface" : "before answering initialize";
    client.fail(
      new McpTrustError(`server ${proc.describeExit()} ${phase}${describeStray()}${describeStderr()}`, {
        hint: proc.spawnError
          ? "check the command after `--`; it is run as given, without a shell"
          : "run the server command by hand to see why it stops",
      }),
    );
  });

  const timer = setTimeout(() => {
    const what = client.info ? "listing its interface" : "initialize";
    const never = validMessages === 0 ? "never sent a valid JSON-RPC message and " : "";
    client.fail(
      new McpTrustError(
        `server ${never}did not finish ${what} within ${
          opts.timeoutMs / 1000
        }s${describeStray()}${describeStderr()}`,
        { hint: "raise the timeout with -t, or check that the command starts an MCP server speaking stdio" },
      ),
    );
  }, opts.timeoutMs);

  try {
    return await fn(client, proc);
  } finally {
    clearTimeout(timer);
    await proc.stop(opts.graceMs ?? 250);
  }
}
