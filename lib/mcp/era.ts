/**
 * The two eras of MCP and their wire facts (docs/PROTOCOL_ERAS.md gives the sources):
 *
 * - **session** (revisions 2024-11-05 to 2025-11-25): an `initialize` handshake opens a session that
 *   fixes the protocol version and the client capabilities; servers may send requests to the client
 *   (sampling, elicitation, roots, ping).
 * - **stateless** (revision 2026-07-28): no handshake. Every request carries its protocol version and
 *   client capabilities in `params._meta` (the per-request envelope); `server/discover` (which every
 *   server must implement) tells the versions, capabilities, instructions and, in its result's `_meta`,
 *   the server's identity. Servers no longer send requests: a `tools/call`, `prompts/get` or
 *   `resources/read` may return `resultType: "input_required"` with embedded `inputRequests`, and the
 *   client retries the request with `inputResponses` and the opaque `requestState`. Every result carries
 *   `resultType`; list results and `resources/read` carry the cache hints `ttlMs` and `cacheScope`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { isObject } from "./jsonrpc.ts";

/** A protocol era. */
export type ProtocolEra = "session" | "stateless";

/** The stateless revisions mcptrust speaks, newest first (2026-07-28 is the first of the era). */
export const STATELESS_PROTOCOL_VERSIONS = ["2026-07-28"] as const;

/** The newest stateless revision mcptrust speaks. */
export const LATEST_STATELESS_VERSION: string = STATELESS_PROTOCOL_VERSIONS[0];

/**
 * True for a revision of the stateless era: revisions are ISO dates, so the era starts at 2026-07-28
 * (the SDK v2's `isModernProtocolVersion` draws the same line).
 */
export function isStatelessVersion(version: string): boolean {
  return version >= "2026-07-28";
}

/** `_meta` key: the protocol version governing one request (stateless era, required). */
export const META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
/** `_meta` key: the client capabilities for one request (stateless era, required). */
export const META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
/** `_meta` key: the client's identity (stateless era, optional: SHOULD since spec PR #3002). */
export const META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
/** `_meta` key: the log level wanted for one request (stateless era, optional, deprecated). */
export const META_LOG_LEVEL = "io.modelcontextprotocol/logLevel";
/** Result `_meta` key: the server's identity (stateless era; on the discover result and any other). */
export const META_SERVER_INFO = "io.modelcontextprotocol/serverInfo";
/** Notification and listen-result `_meta` key: the id of the `subscriptions/listen` request. */
export const META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

/** The envelope keys a request carries in the stateless era (removed when forwarding to a session server). */
export const ENVELOPE_KEYS: readonly string[] = [
  META_PROTOCOL_VERSION,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_LOG_LEVEL,
];

/** Error codes new in 2026-07-28. */
export const EraErrorCode = {
  /** The request needs a client capability its envelope does not declare. */
  MissingRequiredClientCapability: -32021,
  /** The request's protocol version is unknown to or unsupported by the receiver; data: {supported, requested}. */
  UnsupportedProtocolVersion: -32022,
  /** HTTP: a standard header disagrees with the body. */
  HeaderMismatch: -32020,
} as const;

/** Methods whose results may be `input_required` (2026-07-28 multi round-trip requests). */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set([
  "tools/call",
  "prompts/get",
  "resources/read",
]);

/** Methods whose results carry the cache hints `ttlMs` and `cacheScope` (2026-07-28 `CacheableResult`). */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set([
  "tools/list",
  "prompts/list",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "server/discover",
]);

/** The methods a client may send to a 2026-07-28 server (the SDK v2's 2026 request registry). */
export const STATELESS_REQUEST_METHODS: ReadonlySet<string> = new Set([
  "tools/call",
  "tools/list",
  "prompts/get",
  "prompts/list",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "completion/complete",
  "server/discover",
  "subscriptions/listen",
]);

/** The client capabilities a 2026-07-28 envelope may declare (`tasks` moved to an extension). */
const STATELESS_CLIENT_CAPABILITIES = new Set([
  "experimental",
  "sampling",
  "elicitation",
  "roots",
  "extensions",
]);

/** `capabilities` reduced to what a 2026-07-28 envelope may carry (a session client may declare `tasks`). */
export function statelessCapabilities(capabilities: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObject(capabilities)) return out;
  for (const [k, v] of Object.entries(capabilities)) if (STATELESS_CLIENT_CAPABILITIES.has(k)) out[k] = v;
  return out;
}

/** What a request's envelope says, read from its params. */
export interface Envelope {
  /** The protocol version, or undefined when the request carries no envelope claim. */
  protocolVersion?: string;
  /** True when `_meta` has the protocol-version key at all (a claim, even a malformed one). */
  claimed: boolean;
  capabilities?: Record<string, unknown>;
  clientInfo?: Record<string, unknown>;
  logLevel?: string;
}

/**
 * Reads a request's per-request envelope. A message claims the stateless era if and only if
 * `params._meta` has the protocol-version key (the SDK v2's `hasEnvelopeClaim`).
 */
export function readEnvelope(params: unknown): Envelope {
  const meta = isObject(params) && isObject(params._meta) ? params._meta : undefined;
  if (!meta || !(META_PROTOCOL_VERSION in meta)) return { claimed: false };
  const v = meta[META_PROTOCOL_VERSION];
  const caps = meta[META_CLIENT_CAPABILITIES];
  const info = meta[META_CLIENT_INFO];
  const level = meta[META_LOG_LEVEL];
  return {
    claimed: true,
    protocolVersion: typeof v === "string" ? v : undefined,
    capabilities: isObject(caps) ? caps : undefined,
    clientInfo: isObject(info) ? info : undefined,
    logLevel: typeof level === "string" ? level : undefined,
  };
}

/**
 * Why an envelope claim is not one a 2026-07-28 receiver accepts, or undefined when it is: the
 * protocol version must be a string and the client capabilities an object (both required; clientInfo
 * is optional but must be an object when present).
 */
export function envelopeProblem(params: unknown): string | undefined {
  const meta = isObject(params) && isObject(params._meta) ? params._meta : undefined;
  if (!meta) return "params._meta is missing";
  if (typeof meta[META_PROTOCOL_VERSION] !== "string") {
    return `_meta["${META_PROTOCOL_VERSION}"] must be a string`;
  }
  if (!isObject(meta[META_CLIENT_CAPABILITIES])) {
    return `_meta["${META_CLIENT_CAPABILITIES}"] must be an object`;
  }
  if (META_CLIENT_INFO in meta && !isObject(meta[META_CLIENT_INFO])) {
    return `_meta["${META_CLIENT_INFO}"] must be an object`;
  }
  return undefined;
}

/**
 * `params` with the envelope added under `_meta` (existing `_meta` members, e.g. progressToken, are
 * kept; envelope keys already there are replaced). Pure.
 */
export function withEnvelope(params: unknown, envelope: Record<string, unknown>): Record<string, unknown> {
  const p = isObject(params) ? params : {};
  const meta = isObject(p._meta) ? p._meta : {};
  return { ...p, _meta: { ...meta, ...envelope } };
}

/** `params` without the envelope keys (and without `_meta` if nothing else was in it), or `params` itself. */
export function withoutEnvelope(params: unknown): unknown {
  if (!isObject(params) || !isObject(params._meta)) return params;
  const meta = params._meta;
  if (!ENVELOPE_KEYS.some((k) => k in meta)) return params;
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) if (!ENVELOPE_KEYS.includes(k)) rest[k] = v;
  const out: Record<string, unknown> = { ...params };
  if (Object.keys(rest).length) out._meta = rest;
  else delete out._meta;
  return out;
}

/** The envelope mcptrust sends as a client (protocolVersion, clientCapabilities, clientInfo). */
export function clientEnvelope(
  protocolVersion: string,
  capabilities: Record<string, unknown>,
  clientInfo: Record<string, unknown> | undefined,
  logLevel?: string,
): Record<string, unknown> {
  const env: Record<string, unknown> = {
    [META_PROTOCOL_VERSION]: protocolVersion,
    [META_CLIENT_CAPABILITIES]: statelessCapabilities(capabilities),
  };
  if (clientInfo) env[META_CLIENT_INFO] = clientInfo;
  if (logLevel !== undefined) env[META_LOG_LEVEL] = logLevel;
  return env;
}

/** A discover result as mcptrust reads it. */
export interface DiscoverInfo {
  supportedVersions: string[];
  capabilities: Record<string, unknown>;
  instructions?: string;
  /** `_meta["io.modelcontextprotocol/serverInfo"]`, when the server gives it (a SHOULD). */
  serverInfo?: Record<string, unknown>;
}

/**
 * Reads a `server/discover` result (2026-07-28 `DiscoverResult`): supportedVersions (strings) and
 * capabilities (object) are required, instructions optional, the identity in `_meta`. Returns
 * undefined for anything else: the SDK v2 client then falls back to `initialize`.
 */
export function readDiscoverResult(result: unknown): DiscoverInfo | undefined {
  if (!isObject(result)) return undefined;
  const versions = result.supportedVersions;
  if (!Array.isArray(versions) || !versions.every((v) => typeof v === "string")) return undefined;
  if (!isObject(result.capabilities)) return undefined;
  if (result.instructions !== undefined && typeof result.instructions !== "string") return undefined;
  const meta = isObject(result._meta) ? result._meta : undefined;
  const info = meta && isObject(meta[META_SERVER_INFO]) ? meta[META_SERVER_INFO] : undefined;
  return {
    supportedVersions: versions as string[],
    capabilities: result.capabilities,
    instructions: result.instructions as string | undefined,
    serverInfo: info,
  };
}

/** Largest `requestState` accepted, in UTF-8 bytes (it is opaque, attacker-controlled data). */
export const MAX_REQUEST_STATE_BYTES = 64 * 1024;

/** Most embedded requests one `input_required` result may carry. */
export const MAX_INPUT_REQUESTS = 64;

/** An `input_required` result, checked for shape. */
export interface InputRequired {
  /** The embedded requests by key, each `{method, params}`. */
  inputRequests: [string, { method: string; params?: unknown }][];
  requestState?: string;
}

/**
 * Checks an `input_required` result (2026-07-28 multi round-trip): `inputRequests` an object of
 * `{method, params}` (at most {@link MAX_INPUT_REQUESTS}), `requestState` a string of at most
 * {@link MAX_REQUEST_STATE_BYTES}, at least one of the two present.
 *
 * @returns the parsed result, or the reason it is refused
 */
export function readInputRequired(result: Record<string, unknown>): InputRequired | { problem: string } {
  const reqs = result.inputRequests;
  const state = result.requestState;
  if (reqs !== undefined && !isObject(reqs)) return { problem: "inputRequests is not an object" };
  if (state !== undefined && typeof state !== "string") return { problem: "requestState is not a string" };
  if (typeof state === "string" && utf8Bytes(state) > MAX_REQUEST_STATE_BYTES) {
    return { problem: `requestState is longer than ${MAX_REQUEST_STATE_BYTES} bytes` };
  }
  const entries = Object.entries(reqs ?? {});
  if (entries.length > MAX_INPUT_REQUESTS) {
    return { problem: `more than ${MAX_INPUT_REQUESTS} input requests` };
  }
  if (!entries.length && state === undefined) {
    return { problem: "input_required carries neither inputRequests nor requestState" };
  }
  const out: InputRequired["inputRequests"] = [];
  for (const [key, r] of entries) {
    if (!isObject(r) || typeof r.method !== "string") {
      return { problem: `input request ${JSON.stringify(key.slice(0, 64))} has no method` };
    }
    out.push([key, { method: r.method, params: r.params }]);
  }
  return state === undefined ? { inputRequests: out } : { inputRequests: out, requestState: state };
}

/** UTF-8 length of `s`, counted natively without encoding it. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, "utf8");
}
