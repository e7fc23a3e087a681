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
import { ErrorCode, type JsonRpcError, type JsonRpcMessage } from "./jsonrpc.ts";

/** Protocol versions this client knows, newest first (MCP spec "Lifecycle: Version Negotiation"). */
export const SUPPORTED_PROTOCOL_VERSIONS = ["2025-06-18", "2025-03-26", "2024-11-05"] as const;

/** What mcptrust declares when scanning: what a full-featured host declares (MCP spec "Client Features"). */
export const HOST_LIKE_CAPABILITIES: Record<string, unknown> = {
  roots: { listChanged: false },
  sampling: {},
  elicitation: {},
};

/** The server's answer to initialize (MCP `InitializeResult`). */
export interface InitializeInfo {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo: { name: string; version?: string; title?: string; [k: string]: unknown };
  instructions?: string;
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
  #next = 1;
  #closedReason: Error | undefined;
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
