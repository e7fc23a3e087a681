/**
 * What the proxy says to a host of one MCP era for what a server of the other era said
 * (docs/PROTOCOL_ERAS.md, "The proxy"). Pure functions over parsed results; the session
 * (lib/proxy/session.ts) decides when they apply and pins identity and instructions afterwards
 * (lib/proxy/identity.ts), so a translated answer carries nothing the lockfile does not cover.
 *
 * Where the eras have a mapping, it is the one the SDK v2 implements on both sides: the discover result
 * and the initialize result carry the same capabilities, instructions and identity; a 2026-07-28 result
 * is a 2025 result plus `resultType` (and, for lists and resources/read, the cache hints `ttlMs` and
 * `cacheScope`); the embedded input requests of an `input_required` result are the former
 * server-to-client requests, with the same methods and params.
 *
 * @module
 */
import type { InitializeInfo } from "../mcp/client.ts";
import { CACHEABLE_METHODS, META_SERVER_INFO } from "../mcp/era.ts";
import { isObject } from "../mcp/jsonrpc.ts";

/** The 2025 revisions a session-era host may ask for, newest first (the SDK 1.x list, less 2024-10-07). */
export const SESSION_PROTOCOL_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
];

/**
 * Capabilities of one era as the other may see them. To a stateless host: without `tasks` (moved to an
 * extension in 2026-07-28; the SDK v2 removes it too) and without resource subscriptions and list-change
 * notifications, which a stateless host asks for with subscriptions/listen, which the proxy does not
 * translate into the session era's resources/subscribe. To a session host: without `subscribe`, for the
 * same reason the other way.
 */
function capabilitiesFor(
  host: "session" | "stateless",
  caps: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...caps };
  if (host === "stateless") {
    delete out.tasks;
    for (const k of ["tools", "prompts", "resources"]) {
      if (isObject(out[k])) {
        const { listChanged: _l, subscribe: _s, ...rest } = out[k] as Record<string, unknown>;
        out[k] = rest;
      }
    }
  } else if (isObject(out.resources)) {
    const { subscribe: _s, ...rest } = out.resources as Record<string, unknown>;
    out.resources = rest;
  }
  return out;
}

/**
 * The initialize result a session-era host gets from a stateless server (before pinning): the host's
 * requested revision when it is one of {@link SESSION_PROTOCOL_VERSIONS} (the server's revisions are not
 * the host's to speak), else the newest of them; the capabilities, identity and instructions of
 * `server/discover`.
 */
export function initializeFromDiscover(info: InitializeInfo, requested: unknown): Record<string, unknown> {
  const version = typeof requested === "string" && SESSION_PROTOCOL_VERSIONS.includes(requested)
    ? requested
    : SESSION_PROTOCOL_VERSIONS[0];
  const result: Record<string, unknown> = {
    protocolVersion: version,
    capabilities: capabilitiesFor("session", info.capabilities),
    serverInfo: info.serverInfo,
  };
  if (info.instructions !== undefined) result.instructions = info.instructions;
  return result;
}

/**
 * The `server/discover` result a stateless host gets from a session server (before pinning): the one
 * revision the proxy speaks to it, the capabilities, instructions and identity of `initialize`, and the
 * cache hints "do not cache, private" (a session server gives none).
 */
export function discoverFromInitialize(info: InitializeInfo, revision: string): Record<string, unknown> {
  const result: Record<string, unknown> = {
    resultType: "complete",
    ttlMs: 0,
    cacheScope: "private",
    supportedVersions: [revision],
    capabilities: capabilitiesFor("stateless", info.capabilities),
    _meta: { [META_SERVER_INFO]: info.serverInfo },
  };
  if (info.instructions !== undefined) result.instructions = info.instructions;
  return result;
}

/**
 * A session server's result as a stateless host must get it: `resultType: "complete"`, and for the
 * cacheable methods (lists, resources/read) `ttlMs: 0` and `cacheScope: "private"` when absent. The SDK
 * v2 client refuses a result without resultType, and a list without the cache hints.
 */
export function toStatelessResult(method: string, result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...result };
  if (out.resultType === undefined) out.resultType = "complete";
  if (CACHEABLE_METHODS.has(method)) {
    if (out.ttlMs === undefined) out.ttlMs = 0;
    if (out.cacheScope === undefined) out.cacheScope = "private";
  }
  return out;
}

/** A stateless server's complete result as a session host gets it: without `resultType` (a 2026 member). */
export function toSessionResult(result: Record<string, unknown>): Record<string, unknown> {
  if (result.resultType !== "complete") return result;
  const { resultType: _r, ...rest } = result;
  return rest;
}
