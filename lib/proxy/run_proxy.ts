/**
 * The proxy's I/O edge: our stdin/stdout (the host) and the server child process, wired to a
 * {@link ProxySession}, with backpressure both ways, signal forwarding and the shutdown sequence
 * (host EOF: close the server's stdin, grace period, SIGTERM, SIGKILL).
 *
 * @module
 */
import process from "node:process";
import type { Severity } from "../drift/types.ts";
import { McpTrustError } from "../errors.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";
import { LineReader, MAX_LINE_BYTES } from "../mcp/line_reader.ts";
import { ServerProcess } from "../mcp/server_process.ts";
import type { AuditLog } from "../observe/audit_log.ts";
import type { ProxyObserver } from "../observe/proxy_observer.ts";
import type { ProxyPolicy } from "./policy_port.ts";
import type { ProxyCelPolicy } from "./cel_policy.ts";
import type { SchemaGuard } from "./schema_guard.ts";
import { lineWriter } from "./line_writer.ts";
import { type ProxyMode, ProxySession } from "./session.ts";

/** Options for {@link runProxy}. */
export interface RunProxyOptions {
  mode: ProxyMode;
  failOn: Severity | "none";
  lockfile: LoadedLockfile;
  policy: ProxyPolicy;
  log: AuditLog;
  maxPending?: number;
  requestTtlMs?: number;
  preflightTimeoutMs?: number;
  graceMs?: number;
  /** Argument and result validation against the approved schemas; none: off. */
  guard?: SchemaGuard;
  /** `--policy`: rules at preflight and call rules; none: no CEL runs. */
  celPolicy?: ProxyCelPolicy;
  /** Receipt counts and OpenTelemetry spans; none: the session makes no call for them. */
  observer?: ProxyObserver;
  /** The server's environment (`run --lock`: an allowlist). Default: ours. */
  env?: Record<string, string>;
}

/** On host EOF, how long answers to requests already sent may take before the server is stopped. */
const HOST_EOF_DRAIN_MS = 10_000;

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Unwritten bytes a peer may have queued before we stop reading from the other side. */
const BACKPRESSURE_BYTES = 4 * 1024 * 1024;

/**
 * Stops reading `source` while `sink` has more than {@link BACKPRESSURE_BYTES} queued, until it drains.
 * The threshold is well above the stream's highWaterMark on purpose: pausing and resuming a stream on
 * every burst of small pipelined messages costs more than the messages (seen in Bun's stdin reader),
 * while memory stays bounded by the threshold plus one line.
 */
function backpressure(
  source: { pause(): unknown; resume(): unknown },
  sink: { writableLength: number; once(event: "drain", fn: () => void): unknown },
): () => void {
  let paused = false;
  return () => {
    if (paused || sink.writableLength < BACKPRESSURE_BYTES) return;
    paused = true;
    source.pause();
    sink.once("drain", () => {
      paused = false;
      source.resume();
    });
  };
}

/**
 * Runs the proxy until the host or the server goes away.
 *
 * @returns the exit code: the server's own code, 128+signal if it was killed by a signal
 */
export function runProxy(argv: readonly string[], opts: RunProxyOptions): Promise<number> {
  const proc = ServerProcess.start(argv, { passStderr: true, env: opts.env });
  const serverOut = proc.child.stdout!;
  const serverIn = proc.child.stdin!;
  const hostIn = process.stdin;

  const toHost = lineWriter((d) => process.stdout.write(d), backpressure(serverOut, process.stdout));
  const toServer = lineWriter((d) => proc.write(d), backpressure(hostIn, serverIn));

  const session = new ProxySession({
    mode: opts.mode,
    failOn: opts.failOn,
    lockfile: opts.lockfile,
    policy: opts.policy,
    log: opts.log,
    toHost,
    toServer,
    maxPending: opts.maxPending,
    requestTtlMs: opts.requestTtlMs,
    preflightTimeoutMs: opts.preflightTimeoutMs,
    guard: opts.guard,
    celPolicy: opts.celPolicy,
    observer: opts.observer,
  });

  // Each chunk is decoded once (the stream's decoder joins UTF-8 sequences split across chunks), and
  // lines are cut from the text: no per-line copy into bytes and decode.
  const hostReader = new LineReader({
    onLine: (l) => session.onHostText(l),
    onOversize: (n) => session.onHostOversize(n),
  }, MAX_LINE_BYTES);
  const serverReader = new LineReader({
    onLine: (l) => session.onServerText(l),
    onOversize: (n) => session.onServerOversize(n),
  }, MAX_LINE_BYTES);

  serverOut.setEncoding("utf8");
  hostIn.setEncoding("utf8");
  serverOut.on("data", (c: string) => serverReader.push(c));
  serverOut.on("end", () => serverReader.end());
  hostIn.on("data", (c: string) => hostReader.push(c));

  let hostGone = false;
  hostIn.on("end", async () => {
    hostReader.end();
    hostGone = true;
    // Answer what the host already sent (bounded by the request timeout), then shut the server down.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      session.whenIdle(),
      new Promise<void>((r) =>
        timer = setTimeout(r, Math.min(opts.requestTtlMs ?? 300_000, HOST_EOF_DRAIN_MS))
      ),
      proc.exited,
    ]);
    clearTimeout(timer);
    opts.log.write({ level: "info", event: "host.eof", reason: "host closed stdin; stopping the server" });
    void proc.stop(opts.graceMs ?? 2000);
  });

  const forward = (sig: NodeJS.Signals) => () => {
    opts.log.write({ level: "info", event: "signal", reason: `forwarding ${sig} to the server` });
    proc.signal(sig);
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);

  return proc.exited.then(async (exit) => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    const desc = proc.describeExit();
    if (!hostGone) {
      opts.log.write({
        level: proc.spawnError ? "error" : "warn",
        event: "server.exit",
        reason: `the server ${desc}`,
      });
    }
    session.serverExited(desc);
    hostIn.pause();
    hostIn.destroy();
    // Let queued lines reach the host before we exit.
    await new Promise<void>((r) => queueMicrotask(r));
    await new Promise<void>((r) => process.stdout.write("", () => r()));
    if (proc.spawnError) {
      throw new McpTrustError(`server ${desc}`, {
        hint: "check the command after `--`; it is run as given, without a shell",
      });
    }
    if (exit.signal) return 128 + (SIGNALS[exit.signal] ?? 1);
    return exit.code ?? 1;
  });
}
