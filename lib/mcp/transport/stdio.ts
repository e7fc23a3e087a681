/**
 * The stdio transport (MCP spec "Transports: stdio") behind {@link McpTransport}: a server child process,
 * newline-delimited messages with the 10 MiB line cap, and the stdio shutdown sequence on close.
 *
 * @module
 */
import { LineReader, MAX_LINE_BYTES } from "../line_reader.ts";
import { ServerProcess, type ServerProcessOptions } from "../server_process.ts";
import type { McpTransport, TransportHandlers } from "./types.ts";

/** Options for {@link StdioTransport}. */
export interface StdioTransportOptions extends ServerProcessOptions {
  /** Line cap in bytes. Default 10 MiB. */
  maxMessageBytes?: number;
  /** Grace period before SIGTERM (and again before SIGKILL) on close, ms. Default 2000. */
  graceMs?: number;
}

/** A server process spoken to over its stdin and stdout. */
export class StdioTransport implements McpTransport {
  /** The server process (its exit status, stderr tail). */
  readonly process: ServerProcess;
  readonly #o: StdioTransportOptions;

  /**
   * Spawns `argv` exactly as given.
   *
   * @throws {McpTrustError} (exit 2) if argv is empty
   */
  constructor(argv: readonly string[], opts: StdioTransportOptions = {}) {
    this.#o = opts;
    this.process = ServerProcess.start(argv, opts);
  }

  start(h: TransportHandlers): void {
    const proc = this.process;
    const reader = new LineReader({
      onLine: (l) => {
        if (l.trim() !== "") h.onMessage(l);
      },
      onOversize: (n) => h.onOversize(n),
    }, this.#o.maxMessageBytes ?? MAX_LINE_BYTES);
    const out = proc.child.stdout!;
    out.setEncoding("utf8");
    out.on("data", (c: string) => reader.push(c));
    out.on("end", () => reader.end());
    void proc.exited.then(() => h.onClose(`the server ${proc.describeExit()}`));
  }

  send(message: string): void {
    this.process.write(message.endsWith("\n") ? message : message + "\n");
  }

  async close(): Promise<void> {
    await this.process.stop(this.#o.graceMs ?? 2000);
  }
}
