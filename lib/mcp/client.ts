/**
 * mcptrust's own MCP client: the initialize handshake and requests matched to responses by id.
 *
 * Hand-written on purpose (design "Stack"): it must see exactly what a server sends. It is transport-
 * agnostic: the owner feeds it parsed messages ({@link McpClient.handleMessage}) and gives it a `send`
 * function, so the same client serves `scan` (its own process) and the proxy's preflight (messages
 * demultiplexed from a live session).
 *
 * Because responses are matched by id, notifications, server-to-client requests and log lines
 * interleaved on stdout cannot desynchronise it (the Go scanner reads "the next line"; reference §11.2).
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import {
  clientEnvelope,
  EraErrorCode,
  isStatelessVersion,
  LATEST_STATELESS_VERSION,
  type ProtocolEra,
  readDiscoverResult,
  STATELESS_PROTOCOL_VERSIONS,
  withEnvelope,
} from "./era.ts";
import { ErrorCode, isObject, type JsonRpcError, type JsonRpcMessage } from "./jsonrpc.ts";

/** Protocol versions this client knows, newest first (MCP spec "Lifecycle: Version Negotiation"). */
export const SUPPORTED_PROTOCOL_VERSIONS = ["2025-06-18", "2025-03-26", "2024-11-05"] as const;

/** What mcptrust declares when scanning: what a full-featured host declares (MCP spec "Client Features"). */
export const HOST_LIKE_CAPABILITIES: Record<string, unknown> = {
  roots: { listChanged: false },
  sampling: {},
  elicitation: {},
};

/**
 * What the server told about itself: its answer to initialize (MCP `InitializeResult`), or, in the
 * stateless era, to server/discover (`DiscoverResult`: the revision both sides speak, the capabilities,
 * the instructions, and the identity from the result's `_meta`).
 */
export interface InitializeInfo {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo: { name: string; version?: string; title?: string; [k: string]: unknown };
  instructions?: string;
  /** The era the client speaks with the server: "session" after initialize, "stateless" after discover. */
  era?: ProtocolEra;
}

/**
 * The server went away (or the session failed) while answering the `server/discover` probe. Some
 * stdio servers exit on any request before `initialize`; the SDK v2 client probes them on a disposable
 * sibling process for that reason. The caller may start the server again and connect with
 * `era: "session"` (lib/scan/scan_server.ts does).
 */
export class EraProbeClosedError extends McpTrustError {
  constructor(cause: Error) {
    super(`the server stopped while answering the server/discover probe: ${cause.message}`, {
      hint: "the server may not accept requests before initialize; mcptrust retries with initialize",
      cause,
    });
    this.name = "EraProbeClosedError";
  }
}

/** A JSON-RPC error returned by the server. */
export class ServerRpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(method: string, err: JsonRpcError) {
    super(`server answered ${method} with error ${err.code}: ${err.message}`);
    this.name = "ServerRpcError";
    this.code = err.code;
    this.data = err.data;
  }
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

/** Options for {@link McpClient}. */
export interface McpClientOptions {
  /** Sends one serialized message (without newline handling: the function adds framing). */
  send: (line: string) => void;
  /** Prefix for request ids, so the proxy can tell preflight responses apart. Default "mcptrust-". */
  idPrefix?: string;
  /** Called with protocol oddities that do not stop the work (unknown ids, unsupported versions). */
  onWarning?: (message: string) => void;
  /** Roots offered to the server on roots/list. Default none. */
  roots?: { uri: string; name?: string }[];
  /**
   * Client capabilities declared in initialize. Servers show some tools only to clients that can
   * answer them (server-everything lists its roots, sampling and elicitation tools only then), so a scan
   * declares what hosts such as Claude Desktop declare, and sees what they see. Default:
   * {@link HOST_LIKE_CAPABILITIES}.
   */
  capabilities?: Record<string, unknown>;
}

/**
 * A client session. Call {@link initialize} first, then {@link request}.
 *
 * @example
 * const client = new McpClient({ send: (l) => proc.write(l) });
 * reader feeds: client.handleMessage(JSON.parse(line));
 * const info = await client.initialize();
 * const tools = await client.request("tools/list", {});
 */
export class McpClient {
  readonly #opts: McpClientOptions;
  readonly #pending = new Map<string, Pending>();
  /** Ids of probes given up on (timed out): their late answers are expected and dropped quietly. */
  readonly #abandoned = new Set<string>();
  #next = 1;
  #closedReason: Error | undefined;
  /** The per-request `_meta` envelope once the client speaks the stateless era. */
  #envelope: Record<string, unknown> | undefined;
  info: InitializeInfo | undefined;

  constructor(opts: McpClientOptions) {
    this.#opts = opts;
  }

  /** The id prefix of this client's requests. */
  get idPrefix(): string {
    return this.#opts.idPrefix ?? "mcptrust-";
  }

  /** True if `id` belongs to one of this client's requests still waiting for an answer. */
  owns(id: unknown): boolean {
    return typeof id === "string" && this.#pending.has(id);
  }

  /** How many requests are waiting for an answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The era the client speaks: "stateless" once discover succeeded (or {@link useStateless}), else "session". */
  get era(): ProtocolEra {
    return this.#envelope ? "stateless" : "session";
  }

  /**
   * Speaks the stateless era from now on: every request carries the envelope (protocol `version`, the
   * configured capabilities, `clientInfo`). For a caller that learned the era otherwise (the proxy's
   * preflight, from the lockfile).
   */
  useStateless(version: string, clientInfo: Record<string, unknown> | undefined): void {
    this.#envelope = clientEnvelope(version, this.#capabilities, clientInfo);
  }

  get #capabilities(): Record<string, unknown> {
    return this.#opts.capabilities ?? HOST_LIKE_CAPABILITIES;
  }

  /**
   * Negotiates the era as the MCP specification says (2026-07-28 "Lifecycle"; the SDK v2 client's
   * `versionNegotiation: "auto"`): probe with `server/discover`; a server that answers with a discover
   * result offering a revision mcptrust speaks is stateless; anything else (method not found, another
   * error, a malformed result, no common revision, no answer within `probeTimeoutMs`) falls back to
   * `initialize`. A server that refuses `initialize` with -32022 naming a stateless revision is asked
   * with `server/discover` then (without a deadline: a slow server may have missed the first probe).
   *
   * @param opts.era "auto" (default); "session" starts with initialize (no probe: for servers approved in
   *   the session era, some of which exit on any other first request); "stateless" never falls back
   * @param opts.probeTimeoutMs how long the probe may take before falling back (default: no deadline
   *   but the session's own)
   * @throws {EraProbeClosedError} if the session ended during the probe (the caller may retry "session")
   * @throws {ServerRpcError} | {McpTrustError} as {@link initialize}, or when no era is usable
   */
  async connect(
    clientInfo: { name: string; version: string; [k: string]: unknown } = {
      name: "mcptrust",
      version: "dev",
    },
    opts: { era?: "auto" | ProtocolEra; probeTimeoutMs?: number } = {},
  ): Promise<InitializeInfo> {
    const era = opts.era ?? "auto";
    if (era !== "session") {
      const info = await this.discover(clientInfo, opts.probeTimeoutMs);
      if (info) return info;
      if (era === "stateless") {
        throw new McpTrustError("the server does not speak the stateless protocol (server/discover failed)", {
          hint: "the lockfile says the server spoke 2026-07-28; run `mcptrust check` to see the drift",
        });
      }
    }
    try {
      return await this.initialize(clientInfo);
    } catch (err) {
      if (
        err instanceof ServerRpcError && err.code === EraErrorCode.UnsupportedProtocolVersion &&
        supportedOf(err.data).some((v) => (STATELESS_PROTOCOL_VERSIONS as readonly string[]).includes(v))
      ) {
        const info = await this.discover(clientInfo);
        if (info) return info;
      }
      throw err;
    }
  }

  /**
   * Sends `server/discover` (2026-07-28) with the per-request envelope. On a discover result offering a
   * revision mcptrust speaks, the client speaks the stateless era from then on and `info` holds what the
   * server told; otherwise resolves undefined (the caller falls back to initialize).
   *
   * @throws {EraProbeClosedError} if the session ended before the answer
   * @throws {McpTrustError} if the server refuses the probe with -32022 naming only stateless revisions
   *   mcptrust does not know
   */
  async discover(
    clientInfo: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<InitializeInfo | undefined> {
    const envelope = clientEnvelope(LATEST_STATELESS_VERSION, this.#capabilities, clientInfo);
    let raw: unknown;
    try {
      raw = await this.#requestWithin("server/discover", { _meta: envelope }, timeoutMs);
    } catch (err) {
      if (err === PROBE_TIMEOUT) {
        this.#opts.onWarning?.(
          `server did not answer server/discover within ${
            timeoutMs! / 1000
          }s; using initialize (2025 protocol)`,
        );
        return undefined;
      }
      if (err instanceof ServerRpcError) {
        const supported = supportedOf(err.data);
        const stateless = supported.filter(isStatelessVersion);
        if (
          err.code === EraErrorCode.UnsupportedProtocolVersion && stateless.length &&
          stateless.length === supported.length
        ) {
          throw new McpTrustError(
            `the server speaks only protocol revision(s) ${
              stateless.join(", ")
            }, which mcptrust does not know`,
            {
              hint: `mcptrust speaks ${
                STATELESS_PROTOCOL_VERSIONS.join(", ")
              } and the 2025 revisions; upgrade mcptrust`,
            },
          );
        }
        return undefined; // -32601 and any other error: a server of the session era
      }
      throw new EraProbeClosedError(err as Error);
    }
    const d = readDiscoverResult(raw);
    if (!d) {
      this.#opts.onWarning?.(
        "server answered server/discover with something that is not a discover result; using initialize",
      );
      return undefined;
    }
    const version = STATELESS_PROTOCOL_VERSIONS.find((v) => d.supportedVersions.includes(v));
    if (version === undefined) {
      const unknown = d.supportedVersions.filter(isStatelessVersion);
      if (unknown.length) {
        this.#opts.onWarning?.(
          `server offers stateless revision(s) ${
            unknown.join(", ")
          }, which mcptrust does not know; using initialize`,
        );
      }
      return undefined;
    }
    if (isObject(raw) && raw.resultType !== "complete") {
      this.#opts.onWarning?.(
        `server's server/discover result has resultType ${
          JSON.stringify(raw.resultType)
        } (2026-07-28 requires "complete")`,
      );
    }
    const si = d.serverInfo ?? {};
    this.#envelope = clientEnvelope(version, this.#capabilities, clientInfo);
    this.info = {
      protocolVersion: version,
      capabilities: d.capabilities,
      serverInfo: { ...si, name: typeof si.name === "string" ? si.name : "" },
      instructions: d.instructions,
      era: "stateless",
    };
    return this.info;
  }

  /** {@link request}, rejecting with {@link PROBE_TIMEOUT} after `timeoutMs` (the late answer is dropped). */
  #requestWithin(method: string, params: unknown, timeoutMs: number | undefined): Promise<unknown> {
    if (timeoutMs === undefined) return this.request(method, params);
    const id = `${this.idPrefix}${this.#next}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const p = this.#pending.get(id);
        if (p) {
          this.#pending.delete(id);
          this.#abandoned.add(id);
        }
        reject(PROBE_TIMEOUT);
      }, timeoutMs);
    });
    return Promise.race([this.request(method, params), timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Runs the initialize handshake (MCP spec "Lifecycle"): sends our newest protocol version, accepts the
   * server's choice (warning if it is one we do not know), then sends notifications/initialized.
   *
   * @throws {ServerRpcError} if the server answers with an error
   * @throws {McpTrustError} if the answer is malformed
   */
  async initialize(clientInfo = { name: "mcptrust", version: "dev" }): Promise<InitializeInfo> {
    const raw = await this.request("initialize", {
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS[0],
      capabilities: this.#opts.capabilities ?? HOST_LIKE_CAPABILITIES,
      clientInfo,
    });
    if (typeof raw !== "object" || raw === null) {
      throw new McpTrustError("server's initialize result is not an object");
    }
    const r = raw as Record<string, unknown>;
    const version = typeof r.protocolVersion === "string" ? r.protocolVersion : "";
    if (version === "") throw new McpTrustError("server's initialize result has no protocolVersion");
    if (!(SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
      this.#opts.onWarning?.(
        `server chose protocol version ${version}, which mcptrust does not know; listing as ${
          SUPPORTED_PROTOCOL_VERSIONS[0]
        }`,
      );
    }
    const si = (typeof r.serverInfo === "object" && r.serverInfo !== null ? r.serverInfo : {}) as Record<
      string,
      unknown
    >;
    this.info = {
      protocolVersion: version,
      capabilities:
        (typeof r.capabilities === "object" && r.capabilities !== null ? r.capabilities : {}) as Record<
          string,
          unknown
        >,
      serverInfo: { ...si, name: typeof si.name === "string" ? si.name : "" },
      instructions: typeof r.instructions === "string" ? r.instructions : undefined,
    };
    this.info.era = "session";
    this.notify("notifications/initialized");
    return this.info;
  }

  /**
   * Sends a request and resolves with its result.
   *
   * @throws {ServerRpcError} when the server answers with a JSON-RPC error
   * @throws the reason given to {@link fail} if the session ends first
   */
  request(method: string, params?: unknown): Promise<unknown> {
    if (this.#closedReason) return Promise.reject(this.#closedReason);
    if (this.#envelope) params = withEnvelope(params, this.#envelope);
    const id = `${this.idPrefix}${this.#next++}`;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      const msg: JsonRpcMessage = { jsonrpc: "2.0", id, method };
      if (params !== undefined) msg.params = params;
      this.#opts.send(JSON.stringify(msg) + "\n");
    });
  }

  /** Sends a notification. */
  notify(method: string, params?: unknown): void {
    const msg: JsonRpcMessage = { jsonrpc: "2.0", method };
    if (params !== undefined) msg.params = params;
    this.#opts.send(JSON.stringify(msg) + "\n");
  }

  /**
   * Handles one message from the server: resolves a pending request, answers a server-to-client
   * request (ping -> {}, roots/list -> the configured roots, anything else -> -32601), ignores
   * notifications. Returns false if the message was not for this client (an unknown response id).
   */
  handleMessage(msg: JsonRpcMessage): boolean {
    if (typeof msg.method === "string") {
      if ("id" in msg) this.#answerServerRequest(msg);
      return true;
    }
    const id = msg.id;
    const pending = typeof id === "string" ? this.#pending.get(id) : undefined;
    if (!pending) {
      if (typeof id === "string" && this.#abandoned.delete(id)) return true;
      this.#opts.onWarning?.(`ignored a response with unknown id ${JSON.stringify(id)}`);
      return false;
    }
    this.#pending.delete(id as string);
    if (msg.error !== undefined) {
      const e = msg.error;
      pending.reject(
        new ServerRpcError(
          pending.method,
          typeof e === "object" && e !== null
            ? { code: Number(e.code), message: String(e.message), data: e.data }
            : { code: ErrorCode.InternalError, message: String(e) },
        ),
      );
    } else {
      pending.resolve(msg.result);
    }
    return true;
  }

  /** Ends the session: every pending request and every later one rejects with `reason`. */
  fail(reason: Error): void {
    if (!this.#closedReason) this.#closedReason = reason;
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
  }

  #answerServerRequest(msg: JsonRpcMessage): void {
    let reply: JsonRpcMessage;
    if (msg.method === "ping") reply = { jsonrpc: "2.0", id: msg.id, result: {} };
    else if (msg.method === "roots/list") {
      reply = { jsonrpc: "2.0", id: msg.id, result: { roots: this.#opts.roots ?? [] } };
    } else {
      reply = {
        jsonrpc: "2.0",
        id: msg.id,
        error: {
          code: ErrorCode.MethodNotFound,
          message: `mcptrust does not support ${msg.method} while scanning`,
        },
      };
    }
    this.#opts.send(JSON.stringify(reply) + "\n");
  }
}

/** What {@link McpClient.discover}'s deadline rejects with. */
const PROBE_TIMEOUT: unique symbol = Symbol("probe timeout");

/** The `supported` versions of a -32022 error's data (strings only), or []. */
function supportedOf(data: unknown): string[] {
  const s = isObject(data) ? data.supported : undefined;
  return Array.isArray(s) ? s.filter((v): v is string => typeof v === "string") : [];
}
