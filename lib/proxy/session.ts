/**
 * The proxy session: stands between the host (our stdin/stdout) and the server (a child process) and
 * enforces the lockfile on every JSON-RPC message (design "The main job, as data"; reference §5, whose
 * gaps this fixes).
 *
 * Host -> server: parse, validate the id, ask the policy, then forward with a fresh proxy id or answer
 * with a JSON-RPC error. Server -> host: only responses to pending requests pass (ids restored), list
 * results are verified item by item, server-to-client requests get their own id translation.
 * After the host's initialize exchange, a preflight lists the live server's interface on the same
 * process (no second spawn, no time-of-check/time-of-use gap) before any further host request is served.
 *
 * Both MCP eras (docs/PROTOCOL_ERAS.md): the proxy speaks to the server in the era the lockfile approved
 * (`server.protocol`, lib/lockfile/protocol.ts) and to the host in the era of its first request (an
 * envelope claim in `params._meta` is the stateless era, anything else the session era). When they
 * differ it translates where the eras have a mapping (lib/proxy/era.ts) and refuses with a clear error
 * where they have none. For a stateless host or server the proxy connects to the server itself for the
 * preflight (server/discover, or initialize with the host's capabilities).
 *
 * Pure of I/O: the owner passes `toHost` / `toServer` writers and feeds lines and events in.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { compareLockfile, maxSeverity } from "../drift/compare.ts";
import { type DriftItem, type Severity, SEVERITY_RANK } from "../drift/types.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";
import { McpClient } from "../mcp/client.ts";
import {
  clientEnvelope,
  type Envelope,
  envelopeProblem,
  EraErrorCode,
  INPUT_REQUIRED_METHODS,
  LATEST_STATELESS_VERSION,
  MAX_REQUEST_STATE_BYTES,
  META_SERVER_INFO,
  META_SUBSCRIPTION_ID,
  type ProtocolEra,
  readEnvelope,
  readInputRequired,
  STATELESS_PROTOCOL_VERSIONS,
  utf8Bytes,
  withEnvelope,
  withoutEnvelope,
} from "../mcp/era.ts";
import { lockedProtocol } from "../lockfile/protocol.ts";
import { VERSION } from "../version.ts";
import { listInterface } from "../mcp/interface.ts";
import { ErrorCode, errorResponseLine, isObject, type JsonRpcId } from "../mcp/jsonrpc.ts";
import type { AuditLog } from "../observe/audit_log.ts";
import type { ProxyObserver } from "../observe/proxy_observer.ts";
import { IdTable, TableFullError } from "./id_table.ts";
import { requestCollision } from "./collisions.ts";
import { discoverFromInitialize, initializeFromDiscover, toSessionResult, toStatelessResult } from "./era.ts";
import { pinDiscoverResult, pinInitializeResult, pinPromptResult, pinServerInfo } from "./identity.ts";
import type { SchemaGuard } from "./schema_guard.ts";
import type { ProxyCelPolicy } from "./cel_policy.ts";
import { type ItemKind, LIST_KINDS, type ProxyPolicy } from "./policy_port.ts";
import { quickIdSpan, scanMessage, scanTopLevel, splice, splitTopLevelArray } from "./top_level.ts";

/** Enforcement modes (reference §5.6). */
export type ProxyMode = "enforce" | "filter-only" | "audit-only";

/** Session options. */
export interface ProxySessionOptions {
  mode: ProxyMode;
  /** Preflight drift at or above this severity denies everything (enforce mode); "none": never. */
  failOn: Severity | "none";
  lockfile: LoadedLockfile;
  policy: ProxyPolicy;
  log: AuditLog;
  /** Writes one line (with newline) to the host. */
  toHost: (line: string) => void;
  /** Writes one line (with newline) to the server. */
  toServer: (line: string) => void;
  /** Most host requests waiting for the server. Default 1024. */
  maxPending?: number;
  /** A pending request expires after this many ms (the host gets an error). Default 300 000. */
  requestTtlMs?: number;
  /** Deadline for the preflight listing, ms. Default 10 000. */
  preflightTimeoutMs?: number;
  /** Largest host id accepted, in bytes of its JSON text. Default 256 (reference §5.3). */
  maxIdBytes?: number;
  /** Validates tools/call arguments and structured results against the approved schemas; none: off. */
  guard?: SchemaGuard;
  /** `--policy`: rules at preflight, call rules on every tools/call (cel_policy.ts); none: no CEL at all. */
  celPolicy?: ProxyCelPolicy;
  /** Receipt counts and OpenTelemetry spans (lib/observe/proxy_observer.ts); none: no calls at all. */
  observer?: ProxyObserver;
}

const DENIED = "MCPTRUST_DENIED";
const PREFLIGHT_PREFIX = "mcptrust-preflight-";
const decoder = new TextDecoder();

/**
 * List result members that pass besides the items: pagination (MCP 2025-06-18) and the cache hints of
 * MCP 2026-07-28. They steer the client, carry no text for the model, and are type-checked where used.
 */
const LIST_RESULT_MEMBERS = new Set(["nextCursor", "ttlMs", "cacheScope", "resultType"]);

/** Methods that reach the server even while the preflight is running or has denied. */
const LIFECYCLE = new Set(["initialize", "ping"]);

interface HostPending {
  /** The host's id exactly as its JSON text (numbers keep every digit). */
  rawId: string;
  listKind?: ItemKind;
  /** For a tools/call whose result is validated: the tool's name. */
  tool?: string;
  /** For a prompts/get: the prompt's name (its result's description is pinned). */
  prompt?: string;
  /** The answer is translated to the host's era: "stateless" (from a session server) or "session". */
  to?: ProtocolEra;
  /**
   * A session host's request to a stateless server that may ask for input (tools/call, prompts/get,
   * resources/read): what to retry with the host's answers, and how many rounds it took so far.
   */
  retry?: { params: unknown; rounds: number };
}

/**
 * A stateless server's input requests (an `input_required` result) put to a session host as the
 * server-to-client requests they stand for; when every one is answered, the host's request is decided
 * again and retried with the answers and the server's requestState.
 */
interface InputRound {
  rawId: string;
  method: string;
  params: unknown;
  rounds: number;
  requestState?: string;
  responses: Record<string, unknown>;
  waiting: number;
  /** Set once the host got an error for the request (refused, timed out): nothing more is sent. */
  done?: boolean;
}

/** Most input rounds one host request may take (the SDK v2 client stops at a cap too). */
const MAX_INPUT_ROUNDS = 8;

/** The proxy session. */
export class ProxySession {
  readonly #o:
    & Required<
      Omit<
        ProxySessionOptions,
        "lockfile" | "policy" | "log" | "toHost" | "toServer" | "guard" | "celPolicy" | "observer"
      >
    >
    & ProxySessionOptions;
  /** Host requests forwarded to the server, by proxy id. */
  readonly #hostPending: IdTable<HostPending>;
  /** Server-to-client requests forwarded to the host, by the id we gave the host. */
  readonly #serverPending: IdTable<{ rawId: string }>;
  #preflight: McpClient;
  /** How the proxy speaks to the server: the era the lockfile approved, until the preflight learns otherwise. */
  #serverEra: ProtocolEra;
  /** The host's era, from its first request (see the module doc); undefined before it. */
  #hostEra: ProtocolEra | undefined;
  /** A session host's capabilities and identity (its initialize params), for the envelope of its requests. */
  #hostInit: { capabilities: unknown; clientInfo: unknown; protocolVersion: unknown } | undefined;
  /** The envelope a session host's requests get for a stateless server (built after the preflight). */
  #hostEnvelope: Record<string, unknown> | undefined;
  /** A session host's logging/setLevel, carried in each request's envelope to a stateless server. */
  #hostLogLevel: string | undefined;
  /** A session host's initialize held while the proxy connects to a stateless server itself. */
  #heldInitialize: string | undefined;
  /** True once the proxy connected to the server itself (its own initialize or discover). */
  #selfConnected = false;
  /** Pending subscriptions/listen requests (proxy ids): they do not expire and do not keep the session busy. */
  readonly #listens = new Set<string>();
  /** JSON text of a result identity (`_meta` serverInfo of a stateless server) that pinned unchanged. */
  #approvedIdentity: string | undefined;
  /** Input requests of a stateless server put to a session host, by the id the host got. */
  readonly #inputPending: IdTable<{ round: InputRound; key: string }>;
  /** Placeholder for a host id spliced into a notification (random, so a server cannot forge it). */
  readonly #hole = `\u0000mcptrust-${crypto.randomUUID()}\u0000`;
  /**
   * fresh: no initialize seen; initializing: the host's initialize is at the server (host requests wait);
   * awaiting-initialized: answered, waiting for notifications/initialized; preflight: listing (requests
   * wait); ready; denied: preflight found drift or failed (enforce mode).
   */
  #phase: "fresh" | "initializing" | "awaiting-initialized" | "preflight" | "ready" | "denied" = "fresh";
  #deniedReason = "";
  #queue: string[] = [];
  #sweep: ReturnType<typeof setInterval> | undefined;
  /** Resolves when the preflight has finished (or immediately if it never runs). */
  preflightDone: Promise<void>;
  #resolvePreflight!: () => void;
  /** Drift found by the preflight (for the command's summary). */
  preflightDrift: DriftItem[] = [];

  constructor(opts: ProxySessionOptions) {
    // `??` rather than a spread: an option passed as undefined must not erase its default.
    this.#o = {
      ...opts,
      maxPending: opts.maxPending ?? 1024,
      requestTtlMs: opts.requestTtlMs ?? 300_000,
      preflightTimeoutMs: opts.preflightTimeoutMs ?? 10_000,
      maxIdBytes: opts.maxIdBytes ?? 256,
    };
    this.#hostPending = new IdTable("mcpt-", { max: this.#o.maxPending, ttlMs: this.#o.requestTtlMs });
    this.#serverPending = new IdTable("mcpt-s-", { max: this.#o.maxPending, ttlMs: this.#o.requestTtlMs });
    this.#inputPending = new IdTable("mcpt-i-", { max: this.#o.maxPending, ttlMs: this.#o.requestTtlMs });
    this.#preflight = new McpClient({ send: (l) => this.#o.toServer(l), idPrefix: PREFLIGHT_PREFIX });
    this.#serverEra = lockedProtocol(opts.lockfile).era;
    this.preflightDone = new Promise((r) => this.#resolvePreflight = r);
    const every = Math.max(250, Math.min(5000, Math.floor(this.#o.requestTtlMs / 4)));
    this.#sweep = setInterval(() => this.expire(), every);
    (this.#sweep as { unref?: () => void }).unref?.();
  }

  /** Pending host requests (for tests and the overload log). */
  get pendingCount(): number {
    return this.#hostPending.size;
  }

  #idleWaiters: (() => void)[] = [];

  /** True when no host request is waiting for the preflight or for the server (open listens aside). */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#hostPending.size === this.#listens.size &&
      this.#inputPending.size === 0 && this.#phase !== "preflight";
  }

  /** The era the proxy speaks to the host (undefined before its first request) and to the server. */
  get eras(): { host: ProtocolEra | undefined; server: ProtocolEra } {
    return { host: this.#hostEra, server: this.#serverEra };
  }

  /**
   * Resolves once every host request sent so far has been answered (used on host EOF, so a host that
   * writes its requests and closes its input still gets every answer).
   */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length && this.idle) {
      const w = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const r of w) r();
    }
  }

  // ---------------------------------------------------------------- host -> server

  /** Handles one line from the host (without its newline), as bytes. */
  onHostLine(bytes: Uint8Array): void {
    this.onHostText(decoder.decode(bytes));
  }

  /** Handles one line from the host (without its newline), as decoded text. */
  onHostText(text: string): void {
    if (isBlank(text)) return; // blank lines carry nothing; the session goes on
    const msg = tryParse(text);
    if (msg === INVALID) {
      this.#o.log.write({
        level: "warn",
        event: "host.invalid_json",
        reason: "host sent a line that is not JSON",
        bytes: utf8Length(text),
      });
      this.#o.toHost(
        errorResponseLine(null, ErrorCode.ParseError, "Parse error: the line is not valid JSON"),
      );
      return;
    }
    if (Array.isArray(msg)) {
      // Batches (JSON-RPC 2.0 §6; removed from MCP in 2025-06-18): every element under the same rules.
      if (msg.length === 0) {
        this.#o.toHost(errorResponseLine(null, ErrorCode.InvalidRequest, "Invalid Request: empty batch"));
      }
      // Each element keeps its own text, so its id comes back exactly as sent.
      const texts = splitTopLevelArray(text) ?? msg.map((el) => JSON.stringify(el));
      msg.forEach((el, i) => this.#hostMessage(texts[i], el));
      return;
    }
    this.#hostMessage(text, msg);
  }

  /** Reports a host line over the size cap. */
  onHostOversize(bytes: number): void {
    this.#o.log.write({
      level: "warn",
      event: "host.oversize_line",
      reason: `line of ${bytes} bytes over the limit dropped`,
      bytes,
    });
    this.#o.toHost(
      errorResponseLine(
        null,
        ErrorCode.InvalidRequest,
        "Invalid Request: line exceeds the size limit and was dropped",
      ),
    );
  }

  #hostMessage(text: string, msg: unknown): void {
    if (!isObject(msg)) {
      this.#o.toHost(
        errorResponseLine(null, ErrorCode.InvalidRequest, "Invalid Request: not a JSON-RPC object"),
      );
      return;
    }
    // Everything forwarded to the server is re-serialized from the parsed message, so the server gets
    // exactly what was checked (no duplicate-key or other parser differentials) and never a host id.
    const method = msg.method;
    const hasId = "id" in msg;
    if (typeof method !== "string") {
      if (hasId && ("result" in msg || "error" in msg)) return this.#hostResponse(msg);
      this.#o.toHost(errorResponseLine(null, ErrorCode.InvalidRequest, "Invalid Request: no method"));
      return;
    }
    if (!hasId) {
      const collision = requestCollision(text, msg);
      if (collision !== undefined) {
        this.#o.log.write({ level: "warn", event: "host.collision", method, reason: collision });
        return;
      }
      return this.#hostNotification(method, msg.params);
    }

    const id = msg.id;
    const idOk = id === null || typeof id === "number" || typeof id === "string";
    // The id comes back byte for byte (a 20-digit number does not survive a JavaScript number, and a
    // host may match escaped string ids textually), so its exact text is taken from the line.
    const rawId = idOk ? rawIdText(text, id) : undefined;
    if (
      rawId === undefined || (rawId.length * 3 > this.#o.maxIdBytes && utf8Length(rawId) > this.#o.maxIdBytes)
    ) {
      const why = !idOk
        ? "id must be a string, number or null"
        : rawId === undefined
        ? "the message has duplicate top-level keys"
        : `id longer than ${this.#o.maxIdBytes} bytes`;
      this.#o.log.write({ level: "warn", event: "host.invalid_id", method, reason: why });
      this.#o.toHost(errorResponseLine(null, ErrorCode.InvalidRequest, `Invalid Request: ${why}`));
      return;
    }

    // What the policy decides on must be the only reading a server's decoder can have (collisions.ts).
    const collision = requestCollision(text, msg);
    if (collision !== undefined) {
      this.#o.log.write({ level: "warn", event: "host.collision", method, reason: collision });
      this.#o.toHost(errorLine(rawId, ErrorCode.InvalidRequest, `Invalid Request: ${collision}`));
      return;
    }
    // The host's era is its first request's; a connection keeps it (as the SDK v2 pins a stdio connection).
    this.#hostEra ??= readEnvelope(msg.params).claimed ? "stateless" : "session";
    if (this.#hostEra === "stateless") {
      const refused = statelessRefusal(method, msg.params);
      if (refused) {
        this.#o.log.write({ level: "warn", event: "host.era", method, reason: refused.message });
        this.#o.toHost(errorLineWithData(rawId, refused.code, refused.message, refused.data));
        return;
      }
      if (this.#phase === "fresh") this.#startPreflight(readEnvelope(msg.params));
    }
    // server/discover is the stateless era's handshake: like initialize, it is answered when everything
    // else is denied, so the host connects and gets the reason on each request.
    if (this.#phase === "denied" && !LIFECYCLE.has(method) && method !== "server/discover") {
      return this.#deny(rawId, method, "", this.#deniedReason, "preflight");
    }
    if (this.#phase === "awaiting-initialized" && !LIFECYCLE.has(method)) this.#startPreflight();
    if ((this.#phase === "preflight" || this.#phase === "initializing") && !LIFECYCLE.has(method)) {
      // Hold the request until the preflight has verified the live server (bounded like pending requests).
      if (this.#queue.length >= this.#o.maxPending) {
        this.#o.toHost(
          errorLine(
            rawId,
            ErrorCode.Overloaded,
            "MCPTRUST_OVERLOADED: too many requests before the server was verified",
          ),
        );
        return;
      }
      this.#queue.push(text);
      return;
    }
    if (method === "initialize" && this.#phase === "fresh") this.#phase = "initializing";
    this.#hostRequest(msg, rawId, method);
  }

  #hostRequest(msg: Record<string, unknown>, rawId: string, method: string, rounds = 0): void {
    if (method === "initialize" && this.#phase === "initializing") {
      this.#o.celPolicy?.calls?.hostInitialize(msg.params);
      const p = isObject(msg.params) ? msg.params : {};
      this.#hostInit = {
        capabilities: p.capabilities,
        clientInfo: p.clientInfo,
        protocolVersion: p.protocolVersion,
      };
    }
    const verdict = this.#o.policy.checkHostMessage(method, msg.params);
    if (!verdict.allow) {
      // Only enforce mode blocks requests; filter-only filters lists, audit-only records (reference §5.6).
      if (this.#o.mode === "enforce") {
        return this.#deny(
          rawId,
          method,
          identifierOf(method, msg.params),
          verdict.reason ?? "denied",
          "block",
        );
      }
      this.#o.log.write({
        level: "warn",
        event: "would_block",
        method,
        identifier: identifierOf(method, msg.params),
        reason: verdict.reason,
      });
    }
    if (this.#eraLocal(msg, rawId, method)) return;
    const state = INPUT_REQUIRED_METHODS.has(method) ? retryProblem(msg.params) : undefined;
    if (state) {
      // The retry channel is opaque, attacker-controlled data: bounded, never read for a decision.
      this.#o.log.write({
        level: "warn",
        event: "block",
        method,
        identifier: identifierOf(method, msg.params),
        reason: state,
      });
      this.#o.toHost(errorLine(rawId, ErrorCode.InvalidParams, `Invalid params: ${state}`));
      return;
    }
    let tool: string | undefined;
    const guard = this.#o.guard;
    if (guard && method === "tools/call" && isObject(msg.params) && typeof msg.params.name === "string") {
      const name = msg.params.name;
      const checked = guard.checkArgs(name, msg.params.arguments);
      if (!checked.ok) {
        // The server never sees arguments its own approved schema rejects (MCP "Tools": -32602).
        if (this.#o.mode === "enforce") {
          this.#o.log.write({
            level: "warn",
            event: "block",
            method,
            identifier: name,
            reason: checked.reason,
          });
          this.#o.toHost(
            errorLine(
              rawId,
              ErrorCode.InvalidParams,
              `MCPTRUST_INVALID_ARGUMENTS: ${checked.reason}; fix the call, or run the proxy with --no-validate-args`,
            ),
          );
          return;
        }
        this.#o.log.write({
          level: "warn",
          event: "would_block",
          method,
          identifier: name,
          reason: checked.reason,
        });
      }
      if (guard.checksResult(name)) tool = name;
    }
    // Call rules (--policy call_rules) see only calls the core allowed and whose arguments validated.
    const calls = this.#o.celPolicy?.calls;
    let counted: string | undefined;
    if (calls && method === "tools/call" && isObject(msg.params) && typeof msg.params.name === "string") {
      counted = msg.params.name;
      const d = calls.check(counted, msg.params.arguments);
      if (!d.allow) {
        const enforce = this.#o.mode === "enforce";
        this.#o.log.write({
          level: "warn",
          event: enforce ? "block" : "would_block",
          method,
          identifier: counted,
          reason: d.reason,
          rule: d.rule,
        });
        if (enforce) {
          this.#o.toHost(errorLine(rawId, ErrorCode.Denied, `${DENIED}: ${d.reason}`));
          return;
        }
      }
    }
    const list = LIST_KINDS[method];
    const meta: HostPending = { rawId, listKind: list?.kind, tool };
    if (method === "prompts/get" && isObject(msg.params) && typeof msg.params.name === "string") {
      meta.prompt = msg.params.name;
    }
    // Across eras the request is reworded and its answer translated back (lib/proxy/era.ts).
    if (this.#hostEra !== this.#serverEra && this.#hostEra !== undefined) meta.to = this.#hostEra;
    if (meta.to === "session" && INPUT_REQUIRED_METHODS.has(method)) {
      meta.retry = { params: msg.params, rounds };
    }
    const listen = method === "subscriptions/listen";
    let proxyId: string;
    try {
      proxyId = this.#hostPending.add(
        msg.id as JsonRpcId,
        method,
        meta,
        undefined,
        listen ? Infinity : undefined,
      );
    } catch (err) {
      if (err instanceof TableFullError) {
        this.#o.log.write({ level: "warn", event: "overload", method, reason: err.message });
        this.#o.toHost(
          errorLine(
            rawId,
            ErrorCode.Overloaded,
            "MCPTRUST_OVERLOADED: proxy at capacity, cannot process request safely",
          ),
        );
      } else {
        // RNG failure: fail closed.
        this.#deny(rawId, method, "", `cannot generate a request id: ${(err as Error).message}`, "block");
      }
      return;
    }
    // Re-serialize from the parsed value: the server receives exactly what was checked (no duplicate
    // keys or other parser differentials), and never the host's id.
    if (listen) this.#listens.add(proxyId);
    if (meta.to === "session") msg.params = withEnvelope(msg.params, this.#sessionHostEnvelope());
    else if (meta.to === "stateless") msg.params = withoutEnvelope(msg.params);
    msg.id = proxyId;
    this.#o.toServer(JSON.stringify(msg) + "\n");
    if (counted !== undefined) calls!.forwarded(counted);
    this.#o.observer?.forwarded(proxyId, method, msg.params);
  }

  #hostNotification(method: string, params: unknown): void {
    if (method === "notifications/cancelled" && isObject(params)) {
      // The server only knows our ids: translate, or drop a cancel for a request it never saw.
      const proxyId = this.#hostPending.findByOriginal(params.requestId as JsonRpcId);
      if (proxyId === undefined) {
        this.#o.log.write({
          level: "info",
          event: "drop",
          method,
          reason: "cancel for a request that is not pending",
        });
        return;
      }
      this.#o.toServer(
        JSON.stringify({ jsonrpc: "2.0", method, params: { ...params, requestId: proxyId } }) + "\n",
      );
      // A subscriptions/listen ends with its cancellation; the server sends no answer (2026-07-28, stdio).
      if (this.#listens.delete(proxyId)) this.#hostPending.take(proxyId);
      return;
    }
    if (
      this.#selfConnected && method === "notifications/initialized" ||
      this.#serverEra === "stateless" && method === "notifications/roots/list_changed"
    ) {
      // The proxy did the handshake itself; 2026-07-28 has no roots notifications (roots are input requests).
      return;
    }
    if (this.#phase === "denied" && method !== "notifications/initialized") return;
    const verdict = this.#o.policy.checkHostMessage(method, params);
    if (!verdict.allow) {
      if (this.#o.mode === "enforce") {
        // Denied notifications are dropped: there is no id to answer.
        this.#o.log.write({
          level: "warn",
          event: "block",
          method,
          reason: verdict.reason,
          is_notification: true,
        });
        return;
      }
      this.#o.log.write({
        level: "warn",
        event: "would_block",
        method,
        reason: verdict.reason,
        is_notification: true,
      });
    }
    const note: Record<string, unknown> = { jsonrpc: "2.0", method };
    if (params !== undefined) note.params = params;
    this.#o.toServer(JSON.stringify(note) + "\n");
    if (method === "notifications/initialized" && this.#phase === "awaiting-initialized") {
      this.#startPreflight();
    }
  }

  /** The host answers a server-to-client request: restore the server's id. */
  #hostResponse(msg: Record<string, unknown>): void {
    const entry = this.#serverPending.take(msg.id);
    const input = entry ? undefined : this.#inputPending.take(msg.id);
    if (input) return this.#inputAnswer(input.meta!, msg);
    if (!entry) {
      this.#o.log.write({
        level: "warn",
        event: "drop",
        reason: "host response to no pending server request",
        id: String(msg.id).slice(0, 80),
      });
      return;
    }
    msg.id = 0;
    const line = JSON.stringify(msg);
    this.#o.toServer(splice(line, scanTopLevel(line)!.get("id")!, entry.meta!.rawId) + "\n");
  }

  #deny(rawId: string, method: string, identifier: string, reason: string, event: string): void {
    this.#o.log.write({ level: "warn", event, method, identifier, reason });
    this.#o.toHost(errorLine(rawId, ErrorCode.Denied, `${DENIED}: ${reason}`));
  }

  // ---------------------------------------------------------------- server -> host

  /** Handles one line from the server (without its newline), as bytes. */
  onServerLine(bytes: Uint8Array): void {
    this.onServerText(decoder.decode(bytes));
  }

  /** Handles one line from the server (without its newline), as decoded text. */
  onServerText(text: string): void {
    this.#serverLine(text);
    if (this.#idleWaiters.length) this.#checkIdle();
  }

  #serverLine(text: string): void {
    if (isBlank(text)) return;
    // Parsed once, here: a malformed answer must not reach the host, and initialize, list and
    // result-plus-error answers use the parsed message. The id's text is then found without a scan in
    // the usual compact layouts (top_level.ts quickIdSpan), else by the structural scan, which also
    // refuses repeated routing keys.
    const msg = tryParse(text);
    if (isObject(msg) && !("method" in msg) && "id" in msg && ("result" in msg || "error" in msg)) {
      const span = quickIdSpan(text, msg.id) ?? scanMessage(text)?.id;
      if (span) return this.#serverResponse(text, msg, span);
    }
    if (msg === INVALID && this.#invalidAnswer(text)) return;
    this.#serverOther(text, msg);
  }

  /**
   * A line that is not JSON but whose structure names a pending request's id: the host gets an error for
   * that request instead of waiting for it to expire. Returns false if no pending request matches.
   */
  #invalidAnswer(text: string): boolean {
    const span = scanMessage(text)?.id;
    const entry = span ? this.#hostPending.take(tryParse(text.slice(span[0], span[1]))) : undefined;
    if (!entry) return false;
    this.#o.log.write({
      level: "warn",
      event: "server.invalid_json",
      method: entry.method,
      reason: "server answer is not valid JSON; dropped",
    });
    this.#o.toHost(
      errorLine(
        entry.meta!.rawId,
        ErrorCode.InternalError,
        "MCPTRUST: the server's answer was not valid JSON",
      ),
    );
    return true;
  }

  /** Reports a server line over the size cap. */
  onServerOversize(bytes: number): void {
    this.#o.log.write({
      level: "warn",
      event: "server.oversize_line",
      reason: `line of ${bytes} bytes over the limit dropped`,
      bytes,
    });
  }

  #serverResponse(text: string, msg: Record<string, unknown>, idSpan: [number, number]): void {
    const rawId = text.slice(idSpan[0], idSpan[1]);
    if (typeof msg.id === "string" && msg.id.startsWith(PREFLIGHT_PREFIX)) {
      this.#preflight.handleMessage(msg);
      return;
    }
    const shape = { hasResult: "result" in msg, hasError: "error" in msg };
    const entry = this.#hostPending.take(msg.id);
    if (entry) this.#o.observer?.answered(msg.id as string, shape.hasError);
    if (!entry) {
      this.#o.log.write({
        level: "warn",
        event: "drop",
        reason: "response with an unknown, duplicate or expired id",
        id: rawId.slice(0, 80),
      });
      return;
    }
    const pending = entry.meta!;
    const { rawId: hostRawId, listKind, tool } = pending;
    const listenEnded = this.#listens.delete(msg.id as string);
    if (
      shape.hasResult && !shape.hasError && isObject(msg.result) &&
      msg.result.resultType === "input_required" &&
      INPUT_REQUIRED_METHODS.has(entry.method)
    ) {
      return this.#inputRequired(entry.method, pending, msg.result, msg);
    }
    if (tool !== undefined && shape.hasResult && !shape.hasError) {
      const checked = this.#o.guard!.checkResult(tool, msg.result);
      if (!checked.ok) {
        const enforce = this.#o.mode === "enforce";
        this.#o.log.write({
          level: "warn",
          event: enforce ? "block" : "would_block",
          method: entry.method,
          identifier: tool,
          reason: checked.reason,
        });
        if (enforce) {
          this.#o.toHost(
            errorLine(
              hostRawId,
              ErrorCode.Denied,
              `${DENIED}: ${checked.reason}; the result was withheld (run the proxy with --no-validate-results to pass such results)`,
            ),
          );
          return;
        }
      }
    }
    if (entry.method === "initialize") {
      if (shape.hasResult && !shape.hasError) {
        this.initializeSeen(msg.result);
        if (isObject(msg.result)) return this.#initializeResponse(msg, msg.result, hostRawId);
      } else if (this.#phase === "initializing" && this.#serverEra === "session" && eraRefusal(msg.error)) {
        // Approved in the session era, the server now speaks only 2026-07-28: the proxy connects to it in
        // that era (the preflight reports the change as drift) and answers the host's initialize itself.
        this.#serverEra = "stateless";
        this.#heldInitialize = hostRawId;
        this.#connectPreflight(this.#hostInit?.capabilities, this.#hostInit?.clientInfo);
        return;
      } else if (this.#phase === "initializing") {
        // The server refused initialize: nothing was verified, so waiting requests are decided as they are.
        this.#phase = "fresh";
        queueMicrotask(() => this.#flushQueue());
      }
    }
    const pinned = pending.prompt !== undefined && shape.hasResult && !shape.hasError &&
      isObject(msg.result) &&
      this.#pinPrompt(pending.prompt, msg.result);
    const adapted = shape.hasResult && !shape.hasError && isObject(msg.result)
      ? this.#adaptResult(entry.method, pending, msg, listenEnded)
      : false;
    if (shape.hasError || !listKind) {
      if (adapted || pinned) return this.#sendResult(msg, hostRawId);
      // A response with both result and error is answered as the error (reference §5.4).
      if (shape.hasError && shape.hasResult) {
        delete msg.result;
        msg.id = 0;
        const line = JSON.stringify(msg);
        this.#o.toHost(splice(line, scanTopLevel(line)!.get("id")!, hostRawId) + "\n");
        return;
      }
      this.#o.toHost(splice(text, idSpan, hostRawId) + "\n");
      return;
    }
    this.#listResponse(msg, entry.method, listKind!, hostRawId);
  }

  /**
   * A prompts/get result's description passes only if it is the locked one (identity.ts
   * pinPromptResult); returns true when the result was changed.
   */
  #pinPrompt(name: string, result: Record<string, unknown>): boolean {
    const lock = this.#o.lockfile;
    const prompts = lock.version === "3" ? lock.lockfile.prompts.definitions : {};
    const locked = Object.hasOwn(prompts, name) ? prompts[name] : undefined;
    const probe = this.#o.mode === "audit-only" ? { ...result } : result;
    const change = pinPromptResult(probe, locked);
    if (change === undefined) return false;
    const audit = this.#o.mode === "audit-only";
    this.#o.log.write({
      level: "warn",
      event: audit ? "would_replace" : "replace",
      method: "prompts/get",
      identifier: name,
      reason: change,
    });
    return !audit;
  }

  /** Forwards the initialize result with only the locked instructions and server identity. */
  #initializeResponse(
    msg: Record<string, unknown>,
    result: Record<string, unknown>,
    hostRawId: string,
  ): void {
    const pinned = pinInitializeResult(result, this.#o.lockfile);
    const audit = this.#o.mode === "audit-only";
    for (const change of pinned.changes) {
      this.#o.log.write({
        level: "warn",
        event: audit ? "would_replace" : "replace",
        method: "initialize",
        reason: change,
      });
    }
    if (!audit) msg.result = pinned.result;
    msg.id = 0;
    const line = JSON.stringify(msg);
    this.#o.toHost(splice(line, scanTopLevel(line)!.get("id")!, hostRawId) + "\n");
  }

  #listResponse(msg: Record<string, unknown>, method: string, kind: ItemKind, hostRawId: string): void {
    const result = msg.result;
    const key = LIST_KINDS[method].key;
    if (isObject(result) && Array.isArray(result[key])) {
      const kept: unknown[] = [];
      const items = (result[key] as unknown[]).filter(isObject);
      const verdicts = this.#o.policy.checkList(kind, items);
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const v = verdicts[i] ?? { allow: false, reason: "no decision" };
        if (v.allow) {
          if (v.item && this.#o.mode !== "audit-only") {
            // Only members the lockfile covers reach the host (lib/proxy/fingerprint.ts coveredItem).
            kept.push(v.item);
            this.#o.log.write({
              level: "info",
              event: "strip",
              method,
              identifier: itemKey(kind, item),
              reason: `members not covered by the lockfile left out: ${v.stripped?.join(", ")}`,
            });
          } else kept.push(item);
        } else if (this.#o.mode === "audit-only") {
          kept.push(item);
          this.#o.log.write({
            level: "warn",
            event: "would_drop",
            method,
            identifier: itemKey(kind, item),
            reason: v.reason,
          });
        } else {
          this.#o.log.write({
            level: "warn",
            event: "drop",
            method,
            identifier: itemKey(kind, item),
            reason: v.reason,
          });
        }
      }
      result[key] = kept;
      if (kind === "tool") this.#learnSchemas(items.filter((_, i) => verdicts[i]?.allow));
      // Pagination and cache hints pass; any other result member (`_meta`, or what a server adds) is
      // covered by no lockfile entry, so it does not reach the host.
      const extra = Object.keys(result).filter((m) =>
        m !== key && !LIST_RESULT_MEMBERS.has(m) && !(m === "_meta" && onlyIdentity(result._meta))
      );
      if (extra.length && this.#o.mode !== "audit-only") {
        for (const m of extra) delete result[m];
        this.#o.log.write({
          level: "info",
          event: "strip",
          method,
          reason: `list result members not covered by the lockfile left out: ${extra.join(", ")}`,
        });
      }
    }
    msg.id = 0;
    const line = JSON.stringify(msg);
    this.#o.toHost(splice(line, scanTopLevel(line)!.get("id")!, hostRawId) + "\n");
  }

  /** Server requests, notifications, and anything malformed (`msg` is the line parsed, or INVALID). */
  #serverOther(text: string, msg: unknown): void {
    if (msg === INVALID) {
      this.#o.log.write({
        level: "warn",
        event: "server.invalid_json",
        reason: "server sent a line that is not JSON; dropped",
      });
      return;
    }
    if (Array.isArray(msg)) {
      // The proxy never forwards a batch, so the server has no batch to answer (and MCP 2025-06-18 has none).
      this.#o.log.write({
        level: "warn",
        event: "drop",
        reason: "server sent a JSON-RPC batch; dropped",
        size: msg.length,
      });
      return;
    }
    if (!isObject(msg) || typeof msg.method !== "string") {
      // A result or error without a usable id cannot answer anything: injection, drop it.
      this.#o.log.write({
        level: "warn",
        event: "drop",
        reason:
          "server message that is neither a request, a notification nor a response to a pending request",
      });
      return;
    }
    const method = msg.method;
    const verdict = this.#o.policy.checkServerMessage(method, msg.params);
    if (!verdict.allow) {
      const enforce = this.#o.mode === "enforce";
      this.#o.log.write({
        level: "warn",
        event: enforce ? "block" : "would_block",
        method,
        reason: verdict.reason,
        direction: "server",
      });
      if (enforce) {
        const span = "id" in msg ? scanTopLevel(text)?.get("id") : undefined;
        if (span) {
          this.#o.toServer(
            errorLine(text.slice(span[0], span[1]), ErrorCode.Denied, `${DENIED}: ${verdict.reason}`),
          );
        }
        return;
      }
    }
    if ("id" in msg && (this.#hostEra === "stateless" || this.#serverEra === "stateless")) {
      // 2026-07-28 has no server-to-client requests: a stateless host cannot be asked, and a stateless
      // server must not ask. A session server's ping is answered here (the proxy is alive).
      const span = scanTopLevel(text)?.get("id");
      if (!span) return;
      const sid = text.slice(span[0], span[1]);
      if (method === "ping" && this.#serverEra === "session") {
        this.#o.toServer(`{"jsonrpc":"2.0","id":${sid},"result":{}}\n`);
        return;
      }
      const why = this.#serverEra === "stateless"
        ? `the server speaks MCP 2026-07-28, which has no server-to-client requests (${method})`
        : `the host speaks MCP 2026-07-28, which has no server-to-client requests; mcptrust cannot relay ${method} to it`;
      this.#o.log.write({ level: "warn", event: "era.refused", method, reason: why, direction: "server" });
      this.#o.toServer(errorLine(sid, ErrorCode.MethodNotFound, `MCPTRUST: ${why}`));
      return;
    }
    if ("id" in msg) {
      // Server-to-client request (sampling, roots, elicitation, ping): its own id translation.
      const spans = scanTopLevel(text);
      const span = spans?.get("id");
      if (!span) return;
      let hostId: string;
      try {
        hostId = this.#serverPending.add(msg.id as JsonRpcId, method, {
          rawId: text.slice(span[0], span[1]),
        });
      } catch (err) {
        this.#o.log.write({ level: "warn", event: "overload", method, reason: (err as Error).message });
        this.#o.toServer(
          errorLine(
            text.slice(span[0], span[1]),
            ErrorCode.Overloaded,
            "MCPTRUST_OVERLOADED: proxy at capacity",
          ),
        );
        return;
      }
      this.#o.toHost(splice(text, span, JSON.stringify(hostId)) + "\n");
      return;
    }
    // Notifications. One on a subscriptions/listen stream names the listen request by the id the server
    // saw (2026-07-28 `_meta` subscriptionId): the host gets its own id; a stream it did not open is dropped.
    let line = text;
    const meta = isObject(msg.params) && isObject(msg.params._meta) ? msg.params._meta : undefined;
    if (meta && META_SUBSCRIPTION_ID in meta) {
      const sub = meta[META_SUBSCRIPTION_ID];
      const hostId = typeof sub === "string" && this.#listens.has(sub)
        ? this.#hostPending.peek(sub)?.meta?.rawId
        : undefined;
      if (hostId === undefined) {
        this.#o.log.write({
          level: "warn",
          event: "drop",
          method,
          reason: "notification for a subscription the host did not open",
        });
        return;
      }
      line = this.#withHole(
        {
          ...msg,
          params: {
            ...msg.params as Record<string, unknown>,
            _meta: { ...meta, [META_SUBSCRIPTION_ID]: this.#hole },
          },
        },
        hostId,
      );
    }
    if (method.endsWith("/list_changed")) {
      const kind = ({
        "notifications/tools/list_changed": "tool",
        "notifications/prompts/list_changed": "prompt",
        "notifications/resources/list_changed": "resource",
      } as Record<string, ItemKind>)[method];
      if (kind) this.#o.policy.markStale(kind);
      if (kind === "resource") this.#o.policy.markStale("template");
    } else if (method === "notifications/cancelled" && isObject(msg.params)) {
      const hostId = this.#serverPending.findByOriginal(msg.params.requestId as JsonRpcId);
      if (hostId === undefined) return;
      this.#o.toHost(JSON.stringify({ ...msg, params: { ...msg.params, requestId: hostId } }) + "\n");
      return;
    }
    this.#o.toHost(line + "\n");
  }

  // ---------------------------------------------------------------- across eras

  /**
   * What the proxy answers itself because the server's era has no such request (after the policy
   * allowed it). Returns true when the request was answered here.
   */
  #eraLocal(msg: Record<string, unknown>, rawId: string, method: string): boolean {
    const host = this.#hostEra;
    const server = this.#serverEra;
    if (host === "session" && server === "stateless") {
      if (method === "initialize" && this.#phase === "initializing") {
        // 2026-07-28 has no handshake: the proxy connects to the server itself, then answers this.
        this.#heldInitialize = rawId;
        this.#connectPreflight(this.#hostInit?.capabilities, this.#hostInit?.clientInfo);
        return true;
      }
      if (method === "ping") return this.#answer(rawId, {});
      if (method === "logging/setLevel") {
        // Deprecated in 2026-07-28, where the level goes in each request's envelope.
        const level = isObject(msg.params) ? msg.params.level : undefined;
        this.#hostLogLevel = typeof level === "string" ? level : undefined;
        this.#hostEnvelope = undefined;
        return this.#answer(rawId, {});
      }
      if (method === "resources/subscribe" || method === "resources/unsubscribe") {
        return this.#eraRefusal(
          rawId,
          method,
          "the server speaks MCP 2026-07-28, where subscriptions/listen replaced resources/subscribe; mcptrust does not translate subscriptions",
        );
      }
    }
    if (host === "stateless" && server === "session") {
      if (method === "server/discover") {
        const info = this.#preflight.info;
        if (!info) return this.#eraRefusal(rawId, method, "the server could not be connected");
        const pinned = this.#pinDiscover(discoverFromInitialize(info, LATEST_STATELESS_VERSION));
        return this.#answer(rawId, pinned);
      }
      if (method === "subscriptions/listen") {
        return this.#eraRefusal(
          rawId,
          method,
          "the server speaks a 2025 revision of MCP, which has no subscriptions/listen; mcptrust does not translate subscriptions",
        );
      }
    }
    return false;
  }

  /** Answers a host request with `result` (its id restored byte for byte). */
  #answer(rawId: string, result: unknown): true {
    this.#sendResult({ jsonrpc: "2.0", id: 0, result }, rawId);
    return true;
  }

  /** Refuses a host request the other era cannot carry (-32601, the server's own answer in that era). */
  #eraRefusal(rawId: string, method: string, why: string): true {
    this.#o.log.write({ level: "warn", event: "era.refused", method, reason: why });
    this.#o.toHost(errorLine(rawId, ErrorCode.MethodNotFound, `MCPTRUST: ${why}`));
    return true;
  }

  /** Serializes a response whose result was changed, with the host's id spliced in. */
  #sendResult(msg: Record<string, unknown>, hostRawId: string): void {
    msg.id = 0;
    const line = JSON.stringify(msg);
    this.#o.toHost(splice(line, scanTopLevel(line)!.get("id")!, hostRawId) + "\n");
  }

  /** `msg` serialized with the placeholder {@link #hole} replaced by a host id's exact text. */
  #withHole(msg: Record<string, unknown>, hostRawId: string): string {
    const line = JSON.stringify(msg);
    const hole = JSON.stringify(this.#hole);
    const at = line.indexOf(hole);
    return at < 0 ? line : line.slice(0, at) + hostRawId + line.slice(at + hole.length);
  }

  /** The envelope a session host's requests carry to a stateless server (its initialize, our revision). */
  #sessionHostEnvelope(): Record<string, unknown> {
    return this.#hostEnvelope ??= clientEnvelope(
      this.#preflight.info?.protocolVersion ?? LATEST_STATELESS_VERSION,
      isObject(this.#hostInit?.capabilities) ? this.#hostInit!.capabilities as Record<string, unknown> : {},
      isObject(this.#hostInit?.clientInfo)
        ? this.#hostInit!.clientInfo as Record<string, unknown>
        : undefined,
      this.#hostLogLevel,
    );
  }

  /** A discover result pinned to the lockfile (identity, instructions), the changes logged. */
  #pinDiscover(result: Record<string, unknown>): Record<string, unknown> {
    const pinned = pinDiscoverResult(result, this.#o.lockfile);
    const audit = this.#o.mode === "audit-only";
    for (const change of pinned.changes) {
      this.#o.log.write({
        level: "warn",
        event: audit ? "would_replace" : "replace",
        method: "server/discover",
        reason: change,
      });
    }
    return audit ? result : pinned.result;
  }

  /**
   * The era-specific parts of a result: a discover result pinned, a stateless server's identity in the
   * result's `_meta` pinned, a listen's subscription id restored, and the result translated to the
   * host's era. Returns true when `msg` changed (it is then serialized again).
   */
  #adaptResult(method: string, p: HostPending, msg: Record<string, unknown>, listenEnded: boolean): boolean {
    let result = msg.result as Record<string, unknown>;
    let changed = false;
    if (method === "server/discover") {
      const pinned = this.#pinDiscover(result);
      changed = pinned !== result;
      result = pinned;
    } else if (isObject(result._meta) && META_SERVER_INFO in result._meta) {
      const pinned = this.#pinResultIdentity(result);
      changed = pinned !== result;
      result = pinned;
    }
    if (p.to === "stateless") {
      result = toStatelessResult(method, result);
      changed = true;
    } else if (p.to === "session") {
      const r = toSessionResult(result);
      changed ||= r !== result;
      result = r;
    }
    msg.result = result;
    if (listenEnded && isObject(result._meta) && META_SUBSCRIPTION_ID in result._meta) {
      const line = this.#withHole(
        {
          ...msg,
          id: 0,
          result: { ...result, _meta: { ...result._meta, [META_SUBSCRIPTION_ID]: this.#hole } },
        },
        p.rawId,
      );
      this.#o.toHost(splice(line, scanTopLevel(line)!.get("id")!, p.rawId) + "\n");
      msg.result = undefined;
      return true;
    }
    return changed;
  }

  /**
   * A stateless server's identity in a result's `_meta` (it SHOULD be on every result), pinned like the
   * discover result's: the same text as last time passes without another look.
   */
  #pinResultIdentity(result: Record<string, unknown>): Record<string, unknown> {
    const meta = result._meta as Record<string, unknown>;
    const text = JSON.stringify(meta[META_SERVER_INFO]);
    if (text === this.#approvedIdentity) return result;
    const pinned = pinServerInfo(meta[META_SERVER_INFO], this.#o.lockfile);
    if (!pinned.change) {
      this.#approvedIdentity = text;
      return result;
    }
    const audit = this.#o.mode === "audit-only";
    this.#o.log.write({ level: "warn", event: audit ? "would_replace" : "replace", reason: pinned.change });
    return audit ? result : { ...result, _meta: { ...meta, [META_SERVER_INFO]: pinned.info } };
  }

  /**
   * An `input_required` result (2026-07-28): refused if malformed; each embedded request decided by the
   * policy as the server-to-client request it stands for (elicitation/create, sampling/createMessage,
   * roots/list; anything else is unknown and denied). A stateless host then gets the result; a session
   * host gets the embedded requests as requests, and its request is retried with the answers.
   */
  #inputRequired(
    method: string,
    p: HostPending,
    result: Record<string, unknown>,
    msg: Record<string, unknown>,
  ): void {
    const ir = readInputRequired(result);
    if ("problem" in ir) {
      this.#o.log.write({ level: "warn", event: "block", method, reason: ir.problem, direction: "server" });
      this.#o.toHost(
        errorLine(
          p.rawId,
          ErrorCode.Denied,
          `${DENIED}: the server's input_required result is refused: ${ir.problem}`,
        ),
      );
      return;
    }
    const enforce = this.#o.mode === "enforce";
    for (const [, r] of ir.inputRequests) {
      const v = this.#o.policy.checkServerMessage(r.method, r.params);
      if (v.allow) continue;
      this.#o.log.write({
        level: "warn",
        event: enforce ? "block" : "would_block",
        method: r.method,
        reason: v.reason,
        direction: "server",
        input_request: true,
      });
      if (enforce) {
        this.#o.toHost(
          errorLine(
            p.rawId,
            ErrorCode.Denied,
            `${DENIED}: the server asked for input by ${r.method}: ${v.reason}`,
          ),
        );
        return;
      }
    }
    if (p.to !== "session") {
      if (isObject(result._meta) && META_SERVER_INFO in result._meta) {
        msg.result = this.#pinResultIdentity(result);
      }
      return this.#sendResult(msg, p.rawId);
    }
    if (!p.retry || p.retry.rounds >= MAX_INPUT_ROUNDS) {
      this.#o.toHost(
        errorLine(
          p.rawId,
          ErrorCode.InternalError,
          `MCPTRUST: the server asked for input more than ${MAX_INPUT_ROUNDS} times`,
        ),
      );
      return;
    }
    const round: InputRound = {
      rawId: p.rawId,
      method,
      params: p.retry.params,
      rounds: p.retry.rounds + 1,
      requestState: ir.requestState,
      responses: {},
      waiting: ir.inputRequests.length,
    };
    if (round.waiting === 0) return this.#retryRound(round);
    // The 2025 host answers them as the server-to-client requests they were (same methods and params).
    for (const [key, r] of ir.inputRequests) {
      let id: string;
      try {
        id = this.#inputPending.add(null, r.method, { round, key });
      } catch (err) {
        this.#o.log.write({
          level: "warn",
          event: "overload",
          method: r.method,
          reason: (err as Error).message,
        });
        return this.#endRound(round, ErrorCode.Overloaded, "MCPTRUST_OVERLOADED: proxy at capacity");
      }
      const req: Record<string, unknown> = { jsonrpc: "2.0", id, method: r.method };
      if (r.params !== undefined) req.params = r.params;
      this.#o.toHost(JSON.stringify(req) + "\n");
    }
  }

  /** A session host's answer to one input request; the last one retries the request. */
  #inputAnswer(m: { round: InputRound; key: string }, msg: Record<string, unknown>): void {
    const { round, key } = m;
    if (round.done) return;
    if (!("result" in msg) || "error" in msg) {
      const e = isObject(msg.error) ? msg.error : {};
      return this.#endRound(
        round,
        ErrorCode.InternalError,
        `MCPTRUST: the host refused the server's input request: ${
          String(e.message ?? "error").slice(0, 200)
        }`,
      );
    }
    round.responses[key] = msg.result;
    if (--round.waiting === 0) this.#retryRound(round);
  }

  /**
   * Retries a session host's request with the answers and the server's requestState. The retry is a
   * request like any other: decided again by the policy core, the argument validation and call rules.
   */
  #retryRound(round: InputRound): void {
    round.done = true;
    const params: Record<string, unknown> = { ...(isObject(round.params) ? round.params : {}) };
    if (Object.keys(round.responses).length) params.inputResponses = round.responses;
    if (round.requestState !== undefined) params.requestState = round.requestState;
    this.#hostRequest(
      { jsonrpc: "2.0", id: tryParse(round.rawId) as JsonRpcId, method: round.method, params },
      round.rawId,
      round.method,
      round.rounds,
    );
  }

  /** Ends an input round with an error for the host's request (once). */
  #endRound(round: InputRound, code: number, message: string): void {
    if (round.done) return;
    round.done = true;
    this.#o.toHost(errorLine(round.rawId, code, message));
  }

  // ---------------------------------------------------------------- preflight and lifecycle

  /**
   * Marks that the server's initialize response has reached the host: from then on the session waits
   * for notifications/initialized (or the host's next request) to run the preflight.
   */
  initializeSeen(result: unknown): void {
    if (this.#phase !== "initializing" && this.#phase !== "fresh") return;
    if (isObject(result)) {
      this.#preflight.info = {
        protocolVersion: String(result.protocolVersion ?? ""),
        capabilities: isObject(result.capabilities) ? result.capabilities : {},
        serverInfo: isObject(result.serverInfo)
          ? { ...result.serverInfo, name: String(result.serverInfo.name ?? "") }
          : { name: "" },
        instructions: typeof result.instructions === "string" ? result.instructions : undefined,
      };
    }
    this.#phase = "awaiting-initialized";
    // Requests already waiting mean the host will not pause for notifications/initialized.
    if (this.#queue.length) this.#startPreflight();
  }

  /**
   * Starts the preflight: after a session host's initialize exchange (no argument), or, for a stateless
   * host (its first request's envelope), with the proxy connecting to the server itself.
   */
  #startPreflight(host?: Envelope): void {
    if (host) {
      this.#o.celPolicy?.calls?.hostInitialize({ clientInfo: host.clientInfo });
      return this.#connectPreflight(host.capabilities, host.clientInfo);
    }
    if (this.#phase !== "awaiting-initialized") return;
    this.#runPreflight();
  }

  /**
   * The proxy connects to the server itself, declaring the host's capabilities (so it lists what the
   * host will see) and the host's identity: server/discover first when the server was approved in the
   * stateless era (falling back to initialize if it went back to the session era), initialize otherwise
   * (and server/discover if the server refuses it with -32022 naming 2026-07-28). The era it finds is
   * the one the proxy speaks to the server from then on; a change from the lockfile is drift.
   */
  #connectPreflight(capabilities: unknown, clientInfo: unknown): void {
    this.#selfConnected = true;
    this.#preflight = new McpClient({
      send: (l) => this.#o.toServer(l),
      idPrefix: PREFLIGHT_PREFIX,
      capabilities: isObject(capabilities) ? capabilities : {},
    });
    const era = this.#serverEra === "stateless" ? "auto" : "session";
    const info =
      isObject(clientInfo) && typeof clientInfo.name === "string" && typeof clientInfo.version === "string"
        ? clientInfo as { name: string; version: string }
        : { name: "mcptrust", version: VERSION };
    this.#runPreflight(async () => {
      const got = await this.#preflight.connect(info, { era });
      this.#serverEra = got.era ?? "session";
    });
  }

  #runPreflight(connect?: () => Promise<void>): void {
    this.#phase = "preflight";
    const timer = setTimeout(
      () =>
        this.#preflight.fail(
          new Error(`the server did not finish listing within ${this.#o.preflightTimeoutMs / 1000}s`),
        ),
      this.#o.preflightTimeoutMs,
    );
    (connect ? connect() : Promise.resolve())
      .then(() => listInterface(this.#preflight))
      .then((iface) => {
        const report = compareLockfile(this.#o.lockfile, iface);
        this.preflightDrift = report.items;
        // Seed the core's per-item state from the live lists.
        const toolVerdicts = this.#o.policy.checkList("tool", iface.tools);
        this.#learnSchemas(iface.tools.filter((_, i) => toolVerdicts[i]?.allow));
        this.#o.policy.checkList("prompt", iface.prompts);
        this.#o.policy.checkList("resource", iface.resources);
        this.#o.policy.checkList("template", iface.resourceTemplates);
        const top = maxSeverity(report.items);
        for (const d of report.items) {
          this.#o.log.write({
            level: "warn",
            event: "drift",
            identifier: d.identifier,
            reason: d.message,
            type: d.type,
            severity: d.severity,
          });
        }
        const failOn = this.#o.failOn;
        if (top && failOn !== "none" && SEVERITY_RANK[top] >= SEVERITY_RANK[failOn]) {
          const at = report.items.filter((d) => SEVERITY_RANK[d.severity] >= SEVERITY_RANK[failOn]);
          const what = at.slice(0, 3).map((d) => d.message).join("; ") +
            (at.length > 3 ? `; and ${at.length - 3} more` : "");
          const reason =
            `the server has drifted from the lockfile (${what}); run \`mcptrust check\` to see the drift, and re-lock after review`;
          if (this.#o.mode === "enforce") return this.#denyAll(reason);
          this.#o.log.write({ level: "warn", event: "preflight.drift_continue", reason });
        }
        // --policy rules, over the live server just verified (cel_policy.ts).
        const policy = this.#o.celPolicy?.preflight?.(iface, report);
        for (const record of policy?.records ?? []) this.#o.log.write(record);
        if (policy?.deny !== undefined) {
          if (this.#o.mode === "enforce") return this.#denyAll(policy.deny);
          this.#o.log.write({ level: "warn", event: "preflight.policy_continue", reason: policy.deny });
        }
        this.#ready();
      })
      .catch((err) => {
        const reason = `preflight failed: ${(err as Error).message}`;
        if (this.#o.mode === "enforce") {
          return this.#denyAll(reason + "; every request is denied until the server lists cleanly");
        }
        this.#o.log.write({ level: "warn", event: "preflight.error_continue", reason });
        this.#ready();
      })
      .finally(() => {
        clearTimeout(timer);
        this.#resolvePreflight();
      });
  }

  /** Learns the verified tools: schemas for argument and result validation, `tool` for call rules. */
  #learnSchemas(tools: Record<string, unknown>[]): void {
    this.#o.celPolicy?.calls?.learn(tools);
    if (!this.#o.guard) return;
    for (const warning of this.#o.guard.learn(tools)) {
      this.#o.log.write({ level: "warn", event: "schema.invalid", reason: warning });
    }
  }

  #denyAll(reason: string): void {
    this.#phase = "denied";
    this.#deniedReason = reason;
    this.#o.log.write({ level: "error", event: "preflight.denied", reason });
    this.#answerHeldInitialize();
    this.#flushQueue();
  }

  #ready(): void {
    this.#phase = "ready";
    this.#answerHeldInitialize();
    this.#flushQueue();
  }

  /**
   * Answers a session host's held initialize from what the proxy's own connection learned (the discover
   * result translated, or the server's initialize result), pinned like a forwarded one.
   */
  #answerHeldInitialize(): void {
    const rawId = this.#heldInitialize;
    if (rawId === undefined) return;
    this.#heldInitialize = undefined;
    const info = this.#preflight.info;
    if (!info) {
      this.#o.toHost(
        errorLine(
          rawId,
          ErrorCode.InternalError,
          `MCPTRUST: mcptrust could not connect to the server: ${this.#deniedReason}`,
        ),
      );
      return;
    }
    const result = info.era === "stateless"
      ? initializeFromDiscover(info, this.#hostInit?.protocolVersion)
      : {
        protocolVersion: info.protocolVersion,
        capabilities: info.capabilities,
        serverInfo: info.serverInfo,
        ...(info.instructions !== undefined ? { instructions: info.instructions } : {}),
      };
    this.#initializeResponse({ jsonrpc: "2.0", id: 0, result }, result, rawId);
  }

  #flushQueue(): void {
    const q = this.#queue;
    this.#queue = [];
    for (const text of q) this.#hostMessage(text, JSON.parse(text));
    this.#checkIdle();
  }

  /** Expires pending requests: the host gets an error for each, so nothing waits forever. */
  expire(now: number = Date.now()): void {
    queueMicrotask(() => this.#checkIdle());
    for (const [, e] of this.#inputPending.expire(now)) {
      this.#endRound(
        e.meta!.round,
        ErrorCode.InternalError,
        `MCPTRUST_TIMEOUT: the host did not answer the server's input request (${e.method}) within ${
          this.#o.requestTtlMs / 1000
        }s`,
      );
    }
    for (const [, e] of this.#hostPending.expire(now)) {
      this.#o.log.write({
        level: "warn",
        event: "expire",
        method: e.method,
        reason: "server did not answer in time",
      });
      this.#o.toHost(
        errorLine(
          e.meta!.rawId,
          ErrorCode.InternalError,
          `MCPTRUST_TIMEOUT: the server did not answer ${e.method} within ${this.#o.requestTtlMs / 1000}s`,
        ),
      );
    }
    this.#serverPending.expire(now);
  }

  /** The server is gone: every pending host request gets an error; the preflight (if running) fails. */
  serverExited(description: string): void {
    this.#preflight.fail(new Error(`the server ${description}`));
    for (const [, e] of this.#inputPending.drain()) {
      this.#endRound(
        e.meta!.round,
        ErrorCode.InternalError,
        `MCPTRUST: the server ${description} before answering`,
      );
    }
    this.#listens.clear();
    for (const [, e] of this.#hostPending.drain()) {
      this.#o.toHost(
        errorLine(
          e.meta!.rawId,
          ErrorCode.InternalError,
          `MCPTRUST: the server ${description} before answering`,
        ),
      );
    }
    this.close();
  }

  /** Stops timers. */
  close(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }
}

/**
 * The exact text of a message's top-level id (whose parsed value is `id`), or undefined if the top level
 * does not scan (e.g. a repeated routing key).
 */
function rawIdText(text: string, id: unknown): string | undefined {
  const span = quickIdSpan(text, id) ?? scanMessage(text)?.id;
  return span ? text.slice(span[0], span[1]) : undefined;
}

/** UTF-8 length of `s`, counted natively without encoding it. */
function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** True for a line that is empty or only JSON whitespace. */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const b = text.charCodeAt(i);
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  }
  return true;
}

/** What {@link tryParse} returns for text that is not JSON. */
const INVALID: unique symbol = Symbol("invalid JSON");

/** JSON.parse, or {@link INVALID} instead of an exception. */
function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

/**
 * Why a stateless host's request is refused before anything else, as the 2026-07-28 server would refuse
 * it (the SDK v2's codes): no valid envelope -32602, a revision the proxy does not speak -32022 (with
 * the supported ones), initialize -32601 (no handshake in the era).
 */
function statelessRefusal(
  method: string,
  params: unknown,
): { code: number; message: string; data?: unknown } | undefined {
  const problem = envelopeProblem(params);
  if (problem) {
    if (method === "initialize") {
      const requested = isObject(params) ? params.protocolVersion : undefined;
      return {
        code: EraErrorCode.UnsupportedProtocolVersion,
        message:
          "Unsupported protocol version: this connection speaks MCP 2026-07-28, which has no initialize",
        data: { supported: [...STATELESS_PROTOCOL_VERSIONS], requested },
      };
    }
    return {
      code: ErrorCode.InvalidParams,
      message: `Invalid params: the 2026-07-28 request envelope: ${problem}`,
    };
  }
  const version = readEnvelope(params).protocolVersion!;
  if (!(STATELESS_PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
    return {
      code: EraErrorCode.UnsupportedProtocolVersion,
      message: `Unsupported protocol version: ${version.slice(0, 64)}`,
      data: { supported: [...STATELESS_PROTOCOL_VERSIONS], requested: version.slice(0, 64) },
    };
  }
  if (method === "initialize") {
    return {
      code: ErrorCode.MethodNotFound,
      message: "Method not found: initialize (MCP 2026-07-28 has no handshake)",
    };
  }
  return undefined;
}

/**
 * Why the retry members of a request are refused (2026-07-28 multi round-trip): `requestState` must be a
 * string of at most {@link MAX_REQUEST_STATE_BYTES}, `inputResponses` an object.
 */
function retryProblem(params: unknown): string | undefined {
  if (!isObject(params)) return undefined;
  const state = params.requestState;
  if (state !== undefined) {
    if (typeof state !== "string") return "requestState must be a string";
    if (state.length > MAX_REQUEST_STATE_BYTES || utf8Bytes(state) > MAX_REQUEST_STATE_BYTES) {
      return `requestState is longer than ${MAX_REQUEST_STATE_BYTES} bytes`;
    }
  }
  if (params.inputResponses !== undefined && !isObject(params.inputResponses)) {
    return "inputResponses must be an object";
  }
  return undefined;
}

/** True for a -32022 refusal naming a stateless revision the proxy speaks (the server went stateless). */
function eraRefusal(error: unknown): boolean {
  if (!isObject(error) || error.code !== EraErrorCode.UnsupportedProtocolVersion) return false;
  const supported = isObject(error.data) ? error.data.supported : undefined;
  return Array.isArray(supported) &&
    supported.some((v) => (STATELESS_PROTOCOL_VERSIONS as readonly string[]).includes(v as string));
}

/** True for a result `_meta` holding only the server identity (pinned before it gets here). */
function onlyIdentity(meta: unknown): boolean {
  if (!isObject(meta)) return false;
  const keys = Object.keys(meta);
  return keys.length === 1 && keys[0] === META_SERVER_INFO;
}

/** {@link errorLine} with `error.data`. */
function errorLineWithData(rawId: string, code: number, message: string, data: unknown): string {
  if (data === undefined) return errorLine(rawId, code, message);
  const line = JSON.stringify({ jsonrpc: "2.0", id: 0, error: { code, message, data } });
  return splice(line, scanTopLevel(line)!.get("id")!, rawId) + "\n";
}

function errorLine(rawId: string, code: number, message: string): string {
  const line = JSON.stringify({ jsonrpc: "2.0", id: 0, error: { code, message } });
  return splice(line, scanTopLevel(line)!.get("id")!, rawId) + "\n";
}

function identifierOf(method: string, params: unknown): string {
  if (!isObject(params)) return "";
  if (typeof params.name === "string") return params.name;
  if (typeof params.uri === "string") return params.uri;
  if (isObject(params.ref)) return String(params.ref.name ?? params.ref.uri ?? "");
  void method;
  return "";
}

function itemKey(kind: ItemKind, item: Record<string, unknown>): string {
  return String(kind === "resource" ? item.uri : kind === "template" ? item.uriTemplate : item.name);
}
