/**
 * The client side of MCP's HTTP transports (MCP spec 2025-06-18 "Transports: Streamable HTTP", and the
 * 2024-11-05 "HTTP with SSE" transport it replaces), behind {@link McpTransport}.
 *
 * Streamable HTTP: every JSON-RPC message is its own POST to the MCP endpoint with
 * `Accept: application/json, text/event-stream`. A request is answered with one JSON object or an SSE
 * stream that may carry server requests and notifications before the response; notifications and
 * responses are answered 202. The `Mcp-Session-Id` the server gives with the InitializeResult goes on
 * every later request, and so does `MCP-Protocol-Version` once negotiated. A 404 for a request carrying
 * the session id means the server ended the session. With `listen`, a GET stream is opened after
 * initialization for messages the server sends outside any request. {@link close} sends DELETE.
 *
 * Backwards compatibility (same spec section): if the POST of the InitializeRequest fails with a 4xx, the
 * URL is opened with GET as an old HTTP+SSE stream whose first event, `endpoint`, names the URL to POST
 * messages to; every server message then arrives on that stream. The endpoint must have the URL's origin
 * (the credentials would otherwise go to a host the user never named).
 *
 * Bounds: each message (a JSON body or one SSE event) is capped at 10 MiB like a stdio line, a request's
 * SSE stream in total at {@link HttpTransportOptions.maxStreamBytes}, and each request's response headers
 * must arrive within the request timeout. Redirects are not followed (they would carry credentials).
 * Every error text passes through {@link redact}.
 *
 * @module
 */
import { errorMessage, McpTrustError } from "../../errors.ts";
import { isObject } from "../jsonrpc.ts";
import { MAX_LINE_BYTES } from "../line_reader.ts";
import { type HttpTarget, redact } from "./http_target.ts";
import { SseParser } from "./sse_parser.ts";
import { type McpTransport, oneLine, type TransportHandlers } from "./types.ts";

/** Options for {@link HttpClientTransport}. */
export interface HttpTransportOptions {
  /** Deadline for the response headers of each HTTP request, ms. */
  requestTimeoutMs: number;
  /** Largest message (JSON body or SSE event), bytes. Default 10 MiB (stdio's line cap). */
  maxMessageBytes?: number;
  /** Largest SSE stream answering one request, bytes. Default 256 MiB. */
  maxStreamBytes?: number;
  /** Open a GET stream after initialization for messages outside requests (the proxy wants them). */
  listen?: boolean;
  /** "auto" (default): Streamable HTTP, falling back to HTTP+SSE; or force one of them. */
  mode?: "auto" | "streamable" | "sse";
  /** Non-fatal oddities (ignored events, a GET stream given up). */
  onWarning?: (message: string) => void;
}

/** One outgoing message, classified once. */
interface Outgoing {
  text: string;
  kind: "request" | "notification" | "response";
  /** The id as JSON text (requests and responses). */
  idText?: string;
  method?: string;
}

/** The old HTTP+SSE transport's state once its `endpoint` event has arrived. */
interface Legacy {
  endpoint: URL;
  /** Ids (JSON text) of requests sent and not yet answered, to fail them if the stream drops. */
  pending: Set<string>;
}

const ACCEPT_BOTH = "application/json, text/event-stream";
/** RFC 9110 token-ish: the session id must be visible ASCII (MCP spec "Session Management"). */
const SESSION_ID = /^[\x21-\x7e]{1,1024}$/;

/** A connection to a remote MCP server over Streamable HTTP (or the old HTTP+SSE). */
export class HttpClientTransport implements McpTransport {
  readonly #t: HttpTarget;
  readonly #o: Required<Omit<HttpTransportOptions, "onWarning">> & Pick<HttpTransportOptions, "onWarning">;
  #h: TransportHandlers | undefined;
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  /** The initialize request's id text while its answer (and protocol version) is awaited. */
  #initIdText: string | undefined;
  /** While the InitializeRequest decides the transport, later messages wait here (in order). */
  #gate: Promise<void> | undefined;
  #legacy: Legacy | undefined;
  readonly #inflight = new Set<AbortController>();
  #closed = false;
  #lost = false;
  #listening = false;

  constructor(target: HttpTarget, opts: HttpTransportOptions) {
    this.#t = target;
    this.#o = {
      maxMessageBytes: MAX_LINE_BYTES,
      maxStreamBytes: 256 * 1024 * 1024,
      listen: false,
      mode: "auto",
      ...opts,
    };
  }

  /** Which transport the server turned out to speak (after initialize). */
  get kind(): "streamable-http" | "http+sse" {
    return this.#legacy ? "http+sse" : "streamable-http";
  }

  /** The session id the server assigned, if any. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  start(handlers: TransportHandlers): void {
    this.#h = handlers;
  }

  send(message: string): void {
    const out = classify(message.endsWith("\n") ? message.slice(0, -1) : message);
    if (this.#closed) {
      return this.#fail(out, `the connection to ${this.#t.display} is closed`);
    }
    if (this.#gate) {
      void this.#gate.then(() => this.#dispatch(out));
      return;
    }
    if (
      out.kind === "request" && out.method === "initialize" && this.#sessionId === undefined && !this.#legacy
    ) {
      this.#initIdText = out.idText;
      this.#gate = this.#initialize(out).finally(() => this.#gate = undefined);
      return;
    }
    this.#dispatch(out);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ac of this.#inflight) ac.abort();
    this.#inflight.clear();
    if (this.#sessionId !== undefined && !this.#legacy && !this.#lost) {
      // MCP spec "Session Management" 5: a client that no longer needs the session SHOULD DELETE it.
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 2000);
      try {
        const res = await fetch(this.#t.url, {
          method: "DELETE",
          headers: this.#headers({}),
          signal: ac.signal,
          redirect: "manual",
        });
        await res.body?.cancel();
      } catch {
        // The session ends on the server's side anyway; nothing to tell the user.
      } finally {
        clearTimeout(timer);
      }
    }
  }

  // ------------------------------------------------------------------------------------------ sending

  #dispatch(out: Outgoing): void {
    if (this.#closed) return this.#fail(out, `the connection to ${this.#t.display} is closed`);
    if (this.#legacy) return void this.#legacyPost(this.#legacy, out);
    void this.#post(out, false).then(() => {
      if (out.method === "notifications/initialized" && this.#o.listen) void this.#listen();
    });
  }

  async #initialize(out: Outgoing): Promise<void> {
    let status: number | undefined;
    if (this.#o.mode !== "sse") {
      const r = await this.#post(out, this.#o.mode === "auto");
      if (r === "done") return;
      status = r.fallback;
    }
    try {
      const legacy = await this.#openLegacy();
      this.#legacyPost(legacy, out);
    } catch (err) {
      const why = errorMessage(err);
      this.#fail(
        out,
        status === undefined
          ? `cannot open the HTTP+SSE stream at ${this.#t.display}: ${why}`
          : `${this.#t.display} answered the POST of initialize with HTTP ${status}, and a GET for the old HTTP+SSE transport failed too: ${why}`,
        "check the URL: it must be the server's MCP endpoint (often ending in /mcp, or /sse for old servers)",
      );
    }
  }

  /**
   * POSTs one message (Streamable HTTP). Returns `{ fallback }` instead of failing when `allowFallback`
   * and the server answered 4xx (other than 401/403): the caller then tries HTTP+SSE.
   */
  async #post(out: Outgoing, allowFallback: boolean): Promise<"done" | { fallback: number }> {
    const ac = this.#track();
    const what = out.method ?? (out.kind === "response" ? "a response" : "a message");
    const timer = setTimeout(() => ac.abort(new TimeoutSignal()), this.#o.requestTimeoutMs);
    let res: Response;
    try {
      res = await fetch(this.#t.url, {
        method: "POST",
        headers: this.#headers({ "content-type": "application/json", accept: ACCEPT_BOTH }),
        body: out.text,
        signal: ac.signal,
        redirect: "manual",
      });
    } catch (err) {
      clearTimeout(timer);
      this.#untrack(ac);
      if (!this.#closed) this.#fail(out, `cannot reach ${this.#t.display} (${what}): ${this.#why(err, ac)}`);
      return "done";
    }
    clearTimeout(timer);
    try {
      const status = res.status;
      if (out.method === "initialize" && status >= 200 && status < 300) {
        const sid = res.headers.get("mcp-session-id");
        if (sid !== null) {
          if (!SESSION_ID.test(sid)) {
            await res.body?.cancel();
            this.#fail(out, `${this.#t.display} gave an Mcp-Session-Id that is not visible ASCII`);
            return "done";
          }
          this.#sessionId = sid;
        }
      }
      if (status >= 300 && status < 400) {
        await res.body?.cancel();
        const loc = res.headers.get("location");
        this.#fail(
          out,
          `${this.#t.display} redirected ${what} (HTTP ${status}${
            loc ? ` to ${safeLocation(loc, this.#t.url)}` : ""
          })`,
          "mcptrust does not follow redirects (they would carry your credentials); pass the final URL with --url",
        );
        return "done";
      }
      if (status === 404 && this.#sessionId !== undefined && out.method !== "initialize") {
        await res.body?.cancel();
        this.#fail(out, `the server ended the MCP session (HTTP 404 for ${what})`);
        this.#sessionLost(`the server at ${this.#t.display} ended the MCP session (HTTP 404)`);
        return "done";
      }
      if (status === 401 || status === 403) {
        await res.body?.cancel();
        this.#fail(
          out,
          `${this.#t.display} refused ${what}: HTTP ${status} (${
            status === 401 ? "not authenticated" : "forbidden"
          })`,
          "give credentials with --bearer-token-env NAME or --header 'Name: value'",
        );
        return "done";
      }
      if (allowFallback && status >= 400 && status < 500) {
        await res.body?.cancel();
        return { fallback: status };
      }
      if (status < 200 || status >= 300) {
        const body = await readCapped(res, 2048);
        this.#fail(out, `${this.#t.display} answered ${what} with HTTP ${status}${errorDetail(body.text)}`);
        return "done";
      }
      if (out.kind !== "request") {
        await res.body?.cancel();
        return "done";
      }
      const type = mediaType(res.headers.get("content-type"));
      if (status === 202 || res.body === null) {
        this.#fail(out, `${this.#t.display} accepted ${what} (HTTP ${status}) without answering it`);
      } else if (type === "application/json") {
        const body = await readCapped(res, this.#o.maxMessageBytes);
        if (body.over) {
          this.#h!.onOversize(body.bytes);
          this.#fail(out, `the answer to ${what} is over the ${this.#o.maxMessageBytes}-byte message limit`);
        } else this.#deliver(oneLine(body.text));
      } else if (type === "text/event-stream") {
        await this.#readStream(res, ac, out);
      } else {
        await res.body.cancel();
        this.#fail(out, `${this.#t.display} answered ${what} with content type ${JSON.stringify(type)}`);
      }
    } catch (err) {
      if (!this.#closed) {
        this.#fail(out, `the connection to ${this.#t.display} dropped during ${what}: ${this.#why(err, ac)}`);
      }
    } finally {
      this.#untrack(ac);
    }
    return "done";
  }

  /**
   * Reads an SSE stream to its end, delivering each `message` event. For a request's stream, fails the
   * request if the stream ends (or breaks) before its response went by. Returns the last event id.
   */
  async #readStream(res: Response, ac: AbortController, out?: Outgoing): Promise<string | undefined> {
    let answered = out?.kind !== "request";
    const parser = new SseParser({
      onEvent: (ev) => {
        if (ev.event !== "message") {
          this.#o.onWarning?.(`ignored an SSE event of type ${JSON.stringify(ev.event.slice(0, 40))}`);
          return;
        }
        const text = oneLine(ev.data);
        if (!answered && answers(text, out!.idText!)) answered = true;
        this.#deliver(text);
      },
      onOversize: (n) => this.#h!.onOversize(n),
    }, this.#o.maxMessageBytes);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (out && total > this.#o.maxStreamBytes) {
          ac.abort();
          if (!answered) {
            this.#fail(out, `the stream answering ${out.method} passed ${this.#o.maxStreamBytes} bytes`);
          }
          return parser.lastEventId;
        }
        parser.push(decoder.decode(value, { stream: true }));
      }
      parser.push(decoder.decode());
      parser.end();
    } catch (err) {
      if (!this.#closed && !answered && out) {
        this.#fail(
          out,
          `the connection to ${this.#t.display} dropped before the server answered ${out.method}: ${
            this.#why(err, ac)
          }`,
        );
      }
      return parser.lastEventId;
    }
    if (!answered && out && !this.#closed) {
      this.#fail(out, `${this.#t.display} closed the stream before answering ${out.method}`);
    }
    return parser.lastEventId;
  }

  /** Keeps a GET stream open for messages outside requests; reconnects a few times, then gives up. */
  async #listen(): Promise<void> {
    if (this.#listening || this.#closed || this.#legacy) return;
    this.#listening = true;
    let failures = 0;
    let lastId: string | undefined;
    while (!this.#closed && failures < 3) {
      const ac = this.#track();
      try {
        const extra: Record<string, string> = { accept: "text/event-stream" };
        if (lastId !== undefined) extra["last-event-id"] = lastId;
        const res = await fetch(this.#t.url, {
          method: "GET",
          headers: this.#headers(extra),
          signal: ac.signal,
          redirect: "manual",
        });
        if (res.status === 405) {
          // MCP spec "Listening for Messages from the Server" 3: the server offers no such stream.
          await res.body?.cancel();
          return;
        }
        if (res.status === 404 && this.#sessionId !== undefined) {
          await res.body?.cancel();
          this.#sessionLost(`the server at ${this.#t.display} ended the MCP session (HTTP 404)`);
          return;
        }
        if (!res.ok || mediaType(res.headers.get("content-type")) !== "text/event-stream" || !res.body) {
          await res.body?.cancel();
          failures++;
        } else {
          failures = 0;
          lastId = await this.#readStream(res, ac) ?? lastId;
        }
      } catch {
        failures++;
      } finally {
        this.#untrack(ac);
      }
      if (!this.#closed) await sleep(500 * (failures + 1));
    }
    if (!this.#closed) {
      this.#o.onWarning?.(
        `gave up the GET stream from ${this.#t.display}; messages outside requests will not arrive`,
      );
    }
  }

  // ------------------------------------------------------------------------------------------ HTTP+SSE

  /** Opens the old transport's SSE stream and waits for its `endpoint` event. */
  #openLegacy(): Promise<Legacy> {
    const ac = this.#track();
    const timer = setTimeout(() => ac.abort(new TimeoutSignal()), this.#o.requestTimeoutMs);
    return new Promise<Legacy>((resolve, reject) => {
      let legacy: Legacy | undefined;
      const settleError = (message: string) => {
        clearTimeout(timer);
        ac.abort();
        reject(new McpTrustError(redact(message, this.#t.secrets)));
      };
      const parser = new SseParser({
        onEvent: (ev) => {
          if (!legacy) {
            if (ev.event !== "endpoint") {
              return settleError(
                `its first SSE event is ${JSON.stringify(ev.event.slice(0, 40))}, not endpoint`,
              );
            }
            let endpoint: URL;
            try {
              endpoint = new URL(ev.data.trim(), this.#t.url);
            } catch {
              return settleError("its endpoint event is not a URL");
            }
            if (endpoint.origin !== this.#t.url.origin) {
              return settleError(
                `its endpoint event points to another origin (${endpoint.origin}); credentials are only sent to ${this.#t.url.origin}`,
              );
            }
            clearTimeout(timer);
            legacy = { endpoint, pending: new Set() };
            this.#legacy = legacy;
            resolve(legacy);
            return;
          }
          if (ev.event !== "message") {
            this.#o.onWarning?.(`ignored an SSE event of type ${JSON.stringify(ev.event.slice(0, 40))}`);
            return;
          }
          const text = oneLine(ev.data);
          if (legacy.pending.size) {
            const id = responseIdText(text);
            if (id !== undefined) legacy.pending.delete(id);
          }
          this.#deliver(text);
        },
        onOversize: (n) => this.#h!.onOversize(n),
      }, this.#o.maxMessageBytes);
      (async () => {
        let why = "";
        try {
          const res = await fetch(this.#t.url, {
            method: "GET",
            headers: { ...this.#t.headers, accept: "text/event-stream" },
            signal: ac.signal,
            redirect: "manual",
          });
          const type = mediaType(res.headers.get("content-type"));
          if (!res.ok || type !== "text/event-stream" || !res.body) {
            await res.body?.cancel();
            return settleError(`GET answered HTTP ${res.status}${type ? ` (${type})` : ""}`);
          }
          const reader = res.body.getReader();
          const decoder = new TextDecoder();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.push(decoder.decode(value, { stream: true }));
          }
          parser.end();
        } catch (err) {
          why = `: ${this.#why(err, ac)}`;
        } finally {
          this.#untrack(ac);
        }
        if (!legacy) return settleError(`the SSE stream ended before its endpoint event${why}`);
        if (this.#closed) return;
        const reason = `${this.#t.display} closed the HTTP+SSE stream${why}`;
        for (const id of legacy.pending) {
          this.#h!.onRequestError(id, new McpTrustError(redact(reason, this.#t.secrets)));
        }
        legacy.pending.clear();
        this.#sessionLost(reason);
      })();
    });
  }

  /** POSTs one message to the old transport's endpoint; the answer comes on the SSE stream. */
  async #legacyPost(legacy: Legacy, out: Outgoing): Promise<void> {
    if (out.kind === "request") legacy.pending.add(out.idText!);
    const ac = this.#track();
    const timer = setTimeout(() => ac.abort(new TimeoutSignal()), this.#o.requestTimeoutMs);
    const failPending = (message: string) => {
      if (out.kind !== "request" || legacy.pending.delete(out.idText!)) this.#fail(out, message);
    };
    try {
      const res = await fetch(legacy.endpoint, {
        method: "POST",
        headers: { ...this.#t.headers, "content-type": "application/json" },
        body: out.text,
        signal: ac.signal,
        redirect: "manual",
      });
      if (res.status < 200 || res.status >= 300) {
        const body = await readCapped(res, 2048);
        failPending(
          `${this.#t.display} answered ${out.method ?? "a message"} with HTTP ${res.status}${
            errorDetail(body.text)
          }`,
        );
      } else await res.body?.cancel();
    } catch (err) {
      if (!this.#closed) failPending(`cannot reach ${this.#t.display}: ${this.#why(err, ac)}`);
    } finally {
      clearTimeout(timer);
      this.#untrack(ac);
    }
  }

  // ------------------------------------------------------------------------------------------ helpers

  #deliver(text: string): void {
    if (this.#initIdText !== undefined && text.includes(this.#initIdText)) {
      // The negotiated version goes on every later request (MCP spec "Protocol Version Header").
      const msg = tryParse(text);
      if (isObject(msg) && JSON.stringify(msg.id) === this.#initIdText && isObject(msg.result)) {
        if (typeof msg.result.protocolVersion === "string") {
          this.#protocolVersion = msg.result.protocolVersion;
        }
        this.#initIdText = undefined;
      }
    }
    this.#h!.onMessage(text);
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { ...this.#t.headers, ...extra };
    if (this.#sessionId !== undefined) h["mcp-session-id"] = this.#sessionId;
    if (this.#protocolVersion !== undefined && /^[\x21-\x7e]{1,64}$/.test(this.#protocolVersion)) {
      h["mcp-protocol-version"] = this.#protocolVersion;
    }
    return h;
  }

  #fail(out: Outgoing, message: string, hint?: string): void {
    const err = new McpTrustError(redact(message, this.#t.secrets), {
      hint: hint ?? "check that the server is running and reachable at that URL",
    });
    if (out.kind === "request" && out.idText !== undefined) this.#h?.onRequestError(out.idText, err);
    else this.#o.onWarning?.(`${out.method ?? "a response"} was not delivered: ${err.message}`);
  }

  #sessionLost(reason: string): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#closed = true;
    for (const ac of this.#inflight) ac.abort();
    this.#inflight.clear();
    this.#h?.onClose(redact(reason, this.#t.secrets));
  }

  #why(err: unknown, ac: AbortController): string {
    if (ac.signal.aborted && ac.signal.reason instanceof TimeoutSignal) {
      return `no answer within ${this.#o.requestTimeoutMs / 1000}s`;
    }
    const cause = (err as { cause?: { code?: unknown; message?: unknown } })?.cause;
    const code = (err as { code?: unknown })?.code ?? cause?.code;
    let base = errorMessage(err).slice(0, 300);
    if (typeof cause?.message === "string" && cause.message !== base) {
      // Deno: "fetch failed" with the reason in the cause, after the URL (which may hold a query token).
      base += `: ${cause.message.replace(/^error sending request for url \([^)]*\): /, "").slice(0, 300)}`;
    }
    const text = typeof code === "string" && !base.includes(code) ? `${base} (${code})` : base;
    return redact(text, this.#t.secrets);
  }

  #track(): AbortController {
    const ac = new AbortController();
    this.#inflight.add(ac);
    return ac;
  }

  #untrack(ac: AbortController): void {
    this.#inflight.delete(ac);
  }
}

/** The abort reason of a request whose headers did not arrive in time. */
class TimeoutSignal extends Error {
  constructor() {
    super("timeout");
  }
}

function classify(text: string): Outgoing {
  const msg = tryParse(text);
  if (!isObject(msg)) return { text, kind: "notification" };
  const method = typeof msg.method === "string" ? msg.method : undefined;
  const hasId = "id" in msg;
  const idText = hasId ? JSON.stringify(msg.id) : undefined;
  if (method !== undefined) return { text, kind: hasId ? "request" : "notification", idText, method };
  return { text, kind: "response", idText };
}

/** True if `text` is the response to the request whose id is `idText`. */
function answers(text: string, idText: string): boolean {
  return text.includes(idText) && responseIdText(text) === idText;
}

/** The id (as JSON text) of a response message, or undefined for anything else. */
function responseIdText(text: string): string | undefined {
  const msg = tryParse(text);
  if (!isObject(msg) || "method" in msg || !("id" in msg)) return undefined;
  if (!("result" in msg) && !("error" in msg)) return undefined;
  return JSON.stringify(msg.id);
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The media type of a Content-Type header, lower-case, without parameters. */
function mediaType(header: string | null): string {
  return (header ?? "").split(";")[0].trim().toLowerCase();
}

/** Reads a body up to `max` bytes; stops (and cancels) past it. */
async function readCapped(
  res: Response,
  max: number,
): Promise<{ text: string; over: boolean; bytes: number }> {
  if (!res.body) return { text: "", over: false, bytes: 0 };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (bytes > max) {
      await reader.cancel();
      return { text: "", over: true, bytes };
    }
    parts.push(value);
  }
  const all = new Uint8Array(bytes);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return { text: new TextDecoder().decode(all), over: false, bytes };
}

/** The JSON-RPC error message in an HTTP error body, if there is one, for the error text. */
function errorDetail(body: string): string {
  const msg = tryParse(body);
  if (isObject(msg) && isObject(msg.error) && typeof msg.error.message === "string") {
    return `: ${msg.error.message.slice(0, 200)}`;
  }
  return "";
}

/** A redirect target fit to print: origin and path only. */
function safeLocation(location: string, base: URL): string {
  try {
    const u = new URL(location, base);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "an invalid URL";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    (t as { unref?: () => void }).unref?.();
  });
}
