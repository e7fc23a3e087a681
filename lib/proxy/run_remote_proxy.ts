/**
 * The proxy in front of a remote server (`proxy --url`): the host speaks stdio to us (our stdin and
 * stdout), we speak Streamable HTTP (or the old HTTP+SSE) to the server, and the same
 * {@link ProxySession} decides every message as for a child process: preflight on the live session,
 * list verification, id translation, blocking, audit log, modes.
 *
 * A request whose HTTP exchange fails (connection refused or dropped mid-call, HTTP error, stream closed
 * before the answer) is answered to the host with a JSON-RPC error for that request. If the server ends
 * the session, every pending request gets an error and the proxy exits 1. On host EOF, answers to
 * requests already sent may arrive (bounded), then the session is DELETEd and the proxy exits 0.
 *
 * @module
 */
import process from "node:process";
import { ErrorCode } from "../mcp/jsonrpc.ts";
import { LineReader, MAX_LINE_BYTES } from "../mcp/line_reader.ts";
import type { HttpTarget } from "../mcp/transport/http_target.ts";
import { HttpClientTransport } from "../mcp/transport/streamable_http.ts";
import type { RunProxyOptions } from "./run_proxy.ts";
import { lineWriter } from "./line_writer.ts";
import { ProxySession } from "./session.ts";

/** On host EOF, how long answers to requests already sent may take before the session is ended. */
const HOST_EOF_DRAIN_MS = 10_000;

/** The code of the JSON-RPC error a host gets for a request the upstream lost. */
export const UPSTREAM_ERROR_CODE = ErrorCode.InternalError;

/**
 * The JSON-RPC error answering a request the upstream lost, as if the server had sent it: the session
 * restores the host's id (or fails the preflight, which then denies in enforce mode).
 *
 * @param idText the request's id as JSON text (the proxy's id, as sent upstream)
 */
export function upstreamErrorLine(idText: string, message: string): string {
  const error = JSON.stringify({ code: UPSTREAM_ERROR_CODE, message: `MCPTRUST_UPSTREAM: ${message}` });
  return `{"jsonrpc":"2.0","id":${idText},"error":${error}}`;
}

/**
 * Runs the proxy between our stdio (the host) and the remote server until either side goes away.
 *
 * @returns the exit code: 0 when the host closed its input, 1 when the server ended the session,
 *   128+N on signal N
 */
export function runRemoteProxy(target: HttpTarget, opts: RunProxyOptions): Promise<number> {
  const log = opts.log;
  const transport = new HttpClientTransport(target, {
    requestTimeoutMs: opts.requestTtlMs ?? 300_000,
    listen: true,
    onWarning: (m) => log.write({ level: "warn", event: "upstream.warning", reason: m }),
  });
  const toHost = lineWriter((d) => process.stdout.write(d));
  const session = new ProxySession({
    ...opts,
    toHost,
    toServer: (line) => transport.send(line),
  });
  log.write({ level: "info", event: "upstream", reason: `connecting to ${target.display}` });

  return new Promise<number>((resolve) => {
    let done = false;
    const finish = async (code: number, why: string) => {
      if (done) return;
      done = true;
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      session.serverExited(why);
      process.stdin.pause();
      process.stdin.destroy();
      await transport.close();
      // Let queued lines reach the host before we exit.
      await new Promise<void>((r) => queueMicrotask(r));
      await new Promise<void>((r) => process.stdout.write("", () => r()));
      resolve(code);
    };

    transport.start({
      onMessage: (text) => session.onServerText(text),
      onOversize: (n) => session.onServerOversize(n),
      onRequestError: (idText, err) => {
        log.write({ level: "warn", event: "upstream.error", reason: err.message });
        session.onServerText(upstreamErrorLine(idText, err.message));
      },
      onClose: (reason) => {
        log.write({ level: "error", event: "upstream.closed", reason });
        void finish(1, `at ${target.display} ended the session`);
      },
    });

    const hostReader = new LineReader({
      onLine: (l) => session.onHostText(l),
      onOversize: (n) => session.onHostOversize(n),
    }, MAX_LINE_BYTES);
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (c: string) => hostReader.push(c));
    process.stdin.on("end", async () => {
      hostReader.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        session.whenIdle(),
        new Promise<void>((r) =>
          timer = setTimeout(r, Math.min(opts.requestTtlMs ?? 300_000, HOST_EOF_DRAIN_MS))
        ),
      ]);
      clearTimeout(timer);
      log.write({ level: "info", event: "host.eof", reason: "host closed stdin; ending the remote session" });
      void finish(0, "session was closed by the host");
    });

    const onSignal = (sig: string, n: number) => () => {
      log.write({ level: "info", event: "signal", reason: `${sig}: ending the remote session` });
      void finish(128 + n, `session was ended by ${sig}`);
    };
    const onInt = onSignal("SIGINT", 2);
    const onTerm = onSignal("SIGTERM", 15);
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}
