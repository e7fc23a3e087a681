/**
 * `mcptrust proxy --listen HOST:PORT`: the proxy as a Streamable HTTP server for hosts (MCP spec
 * 2025-06-18 "Transports: Streamable HTTP", server side), in front of a command (one process per MCP
 * session) or a remote server (one upstream session per MCP session).
 *
 * Every MCP session (one `Mcp-Session-Id`, given with the InitializeResult) has its own
 * {@link ProxySession}, policy state and upstream, so two hosts never see each other's messages or
 * decisions. The endpoint is `/mcp`: POST carries one message (or a batch); a request is answered with
 * one JSON object, or an SSE stream when the server sends requests or notifications before the response
 * (sampling, elicitation, progress); notifications and responses get 202. GET opens the session's stream
 * for server messages outside any request; DELETE ends the session. A request for an unknown session is
 * 404 (the host must initialize again), a non-initialize request without a session is 400.
 *
 * DNS rebinding (the spec's security warning): a request whose `Origin` is not a loopback origin is
 * refused with 403, and while bound to loopback so is a `Host` that is not a loopback name. The listener
 * binds to 127.0.0.1 unless told otherwise.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import process from "node:process";
import { McpTrustError } from "../errors.ts";
import { isObject } from "../mcp/jsonrpc.ts";
import { MAX_LINE_BYTES } from "../mcp/line_reader.ts";
import { type HttpTarget, isLoopbackHost } from "../mcp/transport/http_target.ts";
import { StdioTransport } from "../mcp/transport/stdio.ts";
import { HttpClientTransport } from "../mcp/transport/streamable_http.ts";
import { type McpTransport, oneLine } from "../mcp/transport/types.ts";
import type { AuditLog } from "../observe/audit_log.ts";
import type { RunProxyOptions } from "./run_proxy.ts";
import { upstreamErrorLine } from "./run_remote_proxy.ts";
import { ProxySession } from "./session.ts";
import { quickIdSpan, scanMessage, splitTopLevelArray } from "./top_level.ts";

/** Options for {@link runListenProxy}. */
export interface ListenProxyOptions extends Omit<RunProxyOptions, "policy" | "guard" | "celPolicy"> {
  /** Where to listen: "PORT", "HOST:PORT" or "[V6]:PORT" (port 0: any free port). */
  listen: string;
  /** The server: a command (one process per session) or a remote server (one session per session). */
  upstream: readonly string[] | HttpTarget;
  /** Per-session state: the policy core, argument validation and CEL policy of one MCP session. */
  perSession: () => Pick<RunProxyOptions, "policy" | "guard" | "celPolicy">;
  /** Most MCP sessions at once. Default 64. */
  maxSessions?: number;
  /** Called once listening, with the endpoint URL. */
  onListening?: (url: string) => void;
}

/** Server messages kept for a GET stream that is not open yet, per session. */
const MAX_BACKLOG = 1000;

/**
 * Parses `--listen`: "PORT", "HOST:PORT" or "[V6]:PORT"; the host defaults to 127.0.0.1.
 *
 * @throws {McpTrustError} (exit 2) when malformed
 */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new McpTrustError(`--listen: expected PORT or HOST:PORT, got ${JSON.stringify(text)}`, {
      hint: "e.g. --listen 127.0.0.1:8931 (or --listen 0 for any free port)",
    });
  }
  return { host: (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, ""), port };
}

/**
 * Serves Streamable HTTP to hosts until SIGINT or SIGTERM, then ends every session.
 *
 * @returns 0 after a signal
 * @throws {McpTrustError} (exit 2) if the address cannot be bound
 */
export async function runListenProxy(opts: ListenProxyOptions): Promise<number> {
  const { host, port } = parseListen(opts.listen);
  const loopbackOnly = isLoopbackHost(host.includes(":") ? `[${host}]` : host);
  const sessions = new Map<string, HostSession>();
  const log = opts.log;
  if (!loopbackOnly) {
    log.write({
      level: "warn",
      event: "listen.exposed",
      reason: `listening on ${host}, not loopback: any host that reaches it can use the server`,
    });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.write({ level: "error", event: "http.error", reason: (err as Error).message });
      if (!res.headersSent) reply(res, 500, "Internal error");
      else res.end();
    });
  });
  // SSE streams live as long as the session: no request or idle timeouts from node:http.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 60_000;
  server.timeout = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined && !isLoopbackOrigin(origin)) {
      log.write({ level: "warn", event: "http.forbidden", reason: `Origin ${origin.slice(0, 100)} refused` });
      return reply(res, 403, "Forbidden: Origin is not a loopback origin");
    }
    if (loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
      return reply(res, 403, "Forbidden: Host is not a loopback name");
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/mcp") return reply(res, 404, "Not Found: the MCP endpoint is /mcp");
    const sid = req.headers["mcp-session-id"];
    const session = typeof sid === "string" ? sessions.get(sid) : undefined;
    const version = req.headers["mcp-protocol-version"];
    if (typeof version === "string" && session && !session.accepts(version)) {
      // MCP spec "Protocol Version Header": an invalid or unsupported version is 400.
      return reply(res, 400, `Bad Request: unsupported MCP-Protocol-Version ${version.slice(0, 40)}`);
    }
    switch (req.method) {
      case "POST":
        return await post(req, res, typeof sid === "string" ? sid : undefined, session);
      case "GET":
        if (!session) {
          return reply(res, sid ? 404 : 400, sid ? "Session not found" : "Bad Request: no session");
        }
        return session.openGet(res);
      case "DELETE":
        if (!session) {
          return reply(res, sid ? 404 : 400, sid ? "Session not found" : "Bad Request: no session");
        }
        await session.close("the host ended the session");
        res.writeHead(200).end();
        return;
      default:
        res.writeHead(405, { allow: "GET, POST, DELETE" }).end();
    }
  }

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    sid: string | undefined,
    session: HostSession | undefined,
  ): Promise<void> {
    const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json") {
      return reply(res, 415, "Unsupported Media Type: POST a JSON-RPC message as application/json");
    }
    const body = await readBody(req, MAX_LINE_BYTES);
    if (body === undefined) return reply(res, 413, `Payload Too Large: over ${MAX_LINE_BYTES} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return reply(res, 400, "Parse error: the body is not JSON", -32700);
    }
    if (sid !== undefined) {
      if (!session) return reply(res, 404, "Session not found: initialize a new session");
      return session.post(oneLine(body), parsed, res);
    }
    if (!isObject(parsed) || parsed.method !== "initialize" || !("id" in parsed)) {
      return reply(res, 400, "Bad Request: no Mcp-Session-Id, and the message is not an initialize request");
    }
    if (sessions.size >= (opts.maxSessions ?? 64)) {
      return reply(res, 503, "Service Unavailable: too many MCP sessions");
    }
    const created = new HostSession(randomUUID(), opts, () => sessions.delete(created.id));
    sessions.set(created.id, created);
    created.post(oneLine(body), parsed, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(
        new McpTrustError(`cannot listen on ${host}:${port}: ${(err as Error).message}`, {
          hint: "choose another port with --listen, or stop what uses it",
        }),
      ));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as { port: number };
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}/mcp`;
  log.write({ level: "info", event: "listen", reason: `serving Streamable HTTP at ${url}`, url });
  opts.onListening?.(url);

  return await new Promise<number>((resolve) => {
    const stop = (sig: string) => async () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      log.write({ level: "info", event: "signal", reason: `${sig}: ending ${sessions.size} session(s)` });
      server.close();
      await Promise.all([...sessions.values()].map((s) => s.close(`the proxy got ${sig}`)));
      server.closeAllConnections?.();
      resolve(0);
    };
    const onInt = stop("SIGINT");
    const onTerm = stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}

/** The POST that carries host requests: answered as one JSON object, or as SSE once it must carry more. */
class PostStream {
  readonly res: ServerResponse;
  /** The host request ids (as JSON text) this POST waits for. */
  readonly pending: Set<string>;
  readonly #headers: Record<string, string>;
  #mode: "none" | "json" | "sse" = "none";

  constructor(res: ServerResponse, ids: Set<string>, headers: Record<string, string>) {
    this.res = res;
    this.pending = ids;
    this.#headers = headers;
  }

  get done(): boolean {
    return this.pending.size === 0 || this.res.writableEnded || this.res.destroyed;
  }

  /** Writes one message; `answers` is the request id it answers, if it is a response. */
  send(line: string, answers?: string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.#mode === "none") {
      if (answers !== undefined && this.pending.size === 1 && this.pending.has(answers)) {
        this.#mode = "json";
        this.pending.clear();
        this.res.writeHead(200, { ...this.#headers, "content-type": "application/json" }).end(line);
        return;
      }
      this.#mode = "sse";
      this.res.writeHead(200, {
        ...this.#headers,
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
    }
    this.res.write(`event: message\ndata: ${line}\n\n`);
    if (answers !== undefined) {
      this.pending.delete(answers);
      if (this.pending.size === 0) this.res.end();
    }
  }
}

/** One MCP session with one host: its ProxySession, its upstream, its open streams. */
class HostSession {
  readonly id: string;
  readonly #proxy: ProxySession;
  readonly #upstream: McpTransport;
  readonly #log: AuditLog;
  readonly #onGone: () => void;
  /** Host request ids (JSON text) -> the POST waiting for their answer. */
  readonly #waiting = new Map<string, PostStream>();
  #get: ServerResponse | undefined;
  #backlog: string[] = [];
  /** While a POST of notifications or responses is handled: id-null errors it causes. */
  #capture: string[] | undefined;
  #closed = false;
  /** The initialize request's id (JSON text) until its answer went by; then the negotiated version. */
  #initId: string | undefined;
  #version: string | undefined;

  constructor(id: string, opts: ListenProxyOptions, onGone: () => void) {
    this.id = id;
    this.#onGone = onGone;
    const base = opts.log;
    const tag = id.slice(0, 8);
    this.#log = { write: (r) => base.write({ ...r, session: tag }), close: () => {} };
    const upstream = Array.isArray(opts.upstream)
      ? new StdioTransport(opts.upstream as readonly string[], { passStderr: true, graceMs: opts.graceMs })
      : new HttpClientTransport(opts.upstream as HttpTarget, {
        requestTimeoutMs: opts.requestTtlMs ?? 300_000,
        listen: true,
        onWarning: (m) => this.#log.write({ level: "warn", event: "upstream.warning", reason: m }),
      });
    this.#upstream = upstream;
    this.#proxy = new ProxySession({
      ...opts,
      ...opts.perSession(),
      log: this.#log,
      toHost: (line) => this.#toHost(line),
      toServer: (line) => upstream.send(line),
    });
    upstream.start({
      onMessage: (text) => this.#proxy.onServerText(text),
      onOversize: (n) => this.#proxy.onServerOversize(n),
      onRequestError: (idText, err) => {
        this.#log.write({ level: "warn", event: "upstream.error", reason: err.message });
        this.#proxy.onServerText(upstreamErrorLine(idText, err.message));
      },
      onClose: (reason) => {
        if (this.#closed) return;
        this.#log.write({ level: "warn", event: "upstream.closed", reason });
        void this.close(reason.replace(/^the server /, ""));
      },
    });
    this.#log.write({ level: "info", event: "session.start", reason: "a host initialized a session" });
  }

  /**
   * True if `version` (an MCP-Protocol-Version header) is the version negotiated in this session, or,
   * before that is known, is shaped like one.
   */
  accepts(version: string): boolean {
    return this.#version !== undefined ? version === this.#version : /^\d{4}-\d{2}-\d{2}$/.test(version);
  }

  /** Handles one POST body (already parsed as `parsed`). */
  post(text: string, parsed: unknown, res: ServerResponse): void {
    if (this.#closed) return reply(res, 404, "Session not found: initialize a new session");
    const ids = requestIds(text, parsed);
    if (this.#version === undefined && this.#initId === undefined && isObject(parsed)) {
      if (parsed.method === "initialize") this.#initId = [...ids][0];
    }
    if (ids.size === 0) {
      // Notifications and responses: 202, or 400 with the error the proxy answered (spec: no id).
      this.#capture = [];
      try {
        this.#proxy.onHostText(text);
      } finally {
        const errors = this.#capture;
        this.#capture = undefined;
        if (errors.length) res.writeHead(400, { "content-type": "application/json" }).end(errors[0]);
        else res.writeHead(202).end();
      }
      return;
    }
    const stream = new PostStream(res, ids, { "mcp-session-id": this.id });
    for (const id of ids) this.#waiting.set(id, stream);
    res.on("close", () => {
      // A dropped connection is not a cancellation (spec); its answers have nowhere to go.
      for (const id of stream.pending) if (this.#waiting.get(id) === stream) this.#waiting.delete(id);
    });
    this.#capture = [];
    try {
      this.#proxy.onHostText(text);
    } finally {
      const errors = this.#capture;
      this.#capture = undefined;
      // id-null errors (e.g. an invalid element of a batch) go to the POST that caused them.
      for (const e of errors) stream.send(e);
    }
  }

  /** Opens the session's GET stream (one at a time) and flushes what waited for it. */
  openGet(res: ServerResponse): void {
    if (this.#get && !this.#get.writableEnded && !this.#get.destroyed) {
      return reply(res, 409, "Conflict: this session already has a GET stream");
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "mcp-session-id": this.id,
    });
    res.flushHeaders?.();
    this.#get = res;
    res.on("close", () => {
      if (this.#get === res) this.#get = undefined;
    });
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const line of backlog) res.write(`event: message\ndata: ${line}\n\n`);
  }

  /** Ends the session: the upstream is stopped (or its session DELETEd), pending POSTs get errors. */
  async close(why: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onGone();
    this.#log.write({ level: "info", event: "session.end", reason: why });
    this.#proxy.serverExited(why);
    for (const s of new Set(this.#waiting.values())) if (!s.res.writableEnded) s.res.end();
    this.#waiting.clear();
    this.#get?.end();
    await this.#upstream.close();
  }

  /** Routes one line the proxy session writes to the host. */
  #toHost(lineNl: string): void {
    const line = oneLine(lineNl.endsWith("\n") ? lineNl.slice(0, -1) : lineNl);
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (!isObject(msg)) return;
    if (typeof msg.method !== "string" && "id" in msg) {
      if (msg.id === null && this.#capture) {
        this.#capture.push(line);
        return;
      }
      const span = quickIdSpan(line, msg.id) ?? scanMessage(line)?.id;
      const idText = span ? line.slice(span[0], span[1]) : JSON.stringify(msg.id);
      const stream = this.#waiting.get(idText);
      if (!stream) {
        this.#log.write({
          level: "info",
          event: "drop",
          reason: "answer for a request whose HTTP connection is gone",
          id: idText.slice(0, 80),
        });
        return;
      }
      this.#waiting.delete(idText);
      if (idText === this.#initId && isObject(msg.result)) {
        this.#initId = undefined;
        if (typeof msg.result.protocolVersion === "string") this.#version = msg.result.protocolVersion;
      }
      stream.send(line, idText);
      return;
    }
    // Server requests and notifications: on a POST stream still waiting (they relate to a request in
    // flight, e.g. sampling during tools/call), else on the GET stream, else kept for it (bounded).
    for (const s of this.#waiting.values()) {
      if (!s.done) return s.send(line);
    }
    if (this.#get && !this.#get.writableEnded) {
      this.#get.write(`event: message\ndata: ${line}\n\n`);
      return;
    }
    if (this.#backlog.length < MAX_BACKLOG) this.#backlog.push(line);
    else this.#log.write({ level: "warn", event: "drop", reason: "no stream open for a server message" });
  }
}

/** The ids (as their JSON text in the body) of the requests in a POST body: one message or a batch. */
function requestIds(text: string, parsed: unknown): Set<string> {
  const ids = new Set<string>();
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const texts = Array.isArray(parsed) ? splitTopLevelArray(text) : [text];
  items.forEach((item, i) => {
    if (!isObject(item) || typeof item.method !== "string" || !("id" in item)) return;
    const t = texts?.[i] ?? JSON.stringify(item);
    const span = quickIdSpan(t, item.id) ?? scanMessage(t)?.id;
    ids.add(span ? t.slice(span[0], span[1]) : JSON.stringify(item.id));
  });
  return ids;
}

/** Reads a request body up to `max` bytes; undefined if it is larger. */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let bytes = 0;
    let over = false;
    req.on("data", (c: Uint8Array) => {
      bytes += c.length;
      if (bytes > max) over = true;
      else if (!over) parts.push(c);
    });
    req.on("end", () => {
      if (over) return resolve(undefined);
      const all = new Uint8Array(bytes);
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      resolve(new TextDecoder().decode(all));
    });
    req.on("error", reject);
  });
}

/** An HTTP error with a JSON-RPC error body without id (what the spec allows for refused input). */
function reply(res: ServerResponse, status: number, message: string, code = -32000): void {
  res.writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } }));
}

/** True for an Origin whose host is loopback (http or https, any port). `null` and others are not. */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && isLoopbackHost(u.hostname);
  } catch {
    return false;
  }
}

function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return isLoopbackHost(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}
