/**
 * What the initialize result tells the host about the server, pinned: `instructions` (hosts place them
 * in the model's context) and `serverInfo` (name, version, title, icons, websiteUrl, and any member a
 * server adds). The proxy passes only what the lockfile holds: instructions whose hash matches the
 * locked one (else none), and a serverInfo whose every member matches (else the locked identity).
 *
 * @module
 */
import { hashNormalizedString, hashString } from "../lockfile/hashes.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";
import { changedMembers, memberHashes } from "../lockfile/members.ts";
import { META_SERVER_INFO } from "../mcp/era.ts";
import { isObject } from "../mcp/jsonrpc.ts";

/** The initialize result as the host may see it, and what was changed to get there. */
export interface PinnedInitialize {
  /** The result to forward: the same object when nothing changed. */
  result: Record<string, unknown>;
  /** One sentence per change, for the audit log; empty when the result passes as is. */
  changes: string[];
}

/** A version string that carries no text worth pinning (used only when the lockfile has no version). */
const PLAIN_VERSION = /^[0-9A-Za-z.+_-]{1,64}$/;

/**
 * Pins an initialize result to the lockfile. Pure: `result` is not modified.
 *
 * - `instructions`: kept only if the lockfile (v3, this tool's extension `server.instructionsHash`)
 *   holds their exact hash; otherwise removed. A lockfile without the hash pins "no instructions".
 * - any other member (`_meta`, or what a server adds) is removed.
 * - `serverInfo`: kept only if the name equals the locked name and every other member hashes as locked
 *   (`server.infoMembers`); otherwise replaced by the locked identity (name, version, title,
 *   websiteUrl). Where the lockfile has no version (v1/v2, the Go tool's v3), a plain version string
 *   (letters, digits, `.+_-`, at most 64) passes and anything else becomes "unknown".
 *
 * @example
 * pinInitializeResult({ serverInfo: { name: "x", version: "1" }, instructions: "new text" }, lock).changes;
 * // ["instructions differ from the locked ones; removed"]
 */
export function pinInitializeResult(
  result: Record<string, unknown>,
  loaded: LoadedLockfile,
): PinnedInitialize {
  const changes: string[] = [];
  const out: Record<string, unknown> = { ...result };

  const instructions = pinInstructions(result.instructions, loaded);
  if (instructions) {
    delete out.instructions;
    changes.push(instructions);
  }

  const pinned = pinServerInfo(result.serverInfo, loaded);
  if (pinned.change) {
    out.serverInfo = pinned.info;
    changes.push(pinned.change);
  }
  const extra = Object.keys(out).filter((m) => !INITIALIZE_MEMBERS.has(m));
  if (extra.length) {
    for (const m of extra) delete out[m];
    changes.push(`initialize result members not covered by the lockfile removed: ${extra.join(", ")}`);
  }
  return changes.length ? { result: out, changes } : { result, changes };
}

/**
 * A server identity (`serverInfo`, or in the stateless era `_meta["io.modelcontextprotocol/serverInfo"]`
 * of a result) pinned to the lockfile: kept when the name equals the locked name and every other member
 * hashes as locked, else the locked identity (name, version, title, websiteUrl), with the sentence for
 * the audit log. Where the lockfile pins no members (v1/v2, the Go tool's v3), a plain version string
 * passes and anything else becomes "unknown".
 */
export function pinServerInfo(
  live: unknown,
  loaded: LoadedLockfile,
): { info: Record<string, unknown>; change?: string } {
  const server = loaded.version === "3" ? loaded.lockfile.server : undefined;
  const info = isObject(live) ? live : {};
  const liveName = typeof info.name === "string" ? info.name : "";
  let differs: string[];
  try {
    differs = server?.infoMembers !== undefined
      ? changedMembers(server.infoMembers, memberHashes(info, "name"))
      : ["(not pinned)"];
  } catch {
    differs = ["(not JSON)"];
  }
  if (server && liveName !== server.name) differs.unshift("name");
  if (!differs.length) return { info };
  const identity: Record<string, unknown> = { name: server?.name ?? safeText(liveName) };
  identity.version = server?.version ??
    (typeof info.version === "string" && PLAIN_VERSION.test(info.version) ? info.version : "unknown");
  if (server?.title !== undefined) identity.title = server.title;
  if (server?.websiteUrl !== undefined) identity.websiteUrl = server.websiteUrl;
  return {
    info: identity,
    change: server?.infoMembers === undefined
      ? "serverInfo is not pinned by the lockfile; only its name and version passed"
      : `serverInfo differs from the locked identity (${differs.join(", ")}); the locked identity passed`,
  };
}

/**
 * Pins a `server/discover` result (MCP 2026-07-28), as {@link pinInitializeResult} pins an initialize
 * result: `instructions` only if the lockfile holds their hash; the identity in
 * `_meta["io.modelcontextprotocol/serverInfo"]` pinned by {@link pinServerInfo} (and added, as the
 * locked identity, when the server gave none but the lockfile pins one); no other `_meta` member, and
 * no result member besides the protocol ones (supportedVersions, capabilities, resultType, ttlMs,
 * cacheScope). Pure.
 */
export function pinDiscoverResult(result: Record<string, unknown>, loaded: LoadedLockfile): PinnedInitialize {
  const changes: string[] = [];
  const out: Record<string, unknown> = { ...result };
  const instructions = pinInstructions(result.instructions, loaded);
  if (instructions) {
    delete out.instructions;
    changes.push(instructions);
  }
  const meta = isObject(result._meta) ? result._meta : {};
  const live = meta[META_SERVER_INFO];
  // A server that gave no identity when locked (name "") and gives none now has none to pin.
  const lockedName = loaded.version === "3" ? loaded.lockfile.server.name : undefined;
  const pinned = live === undefined && lockedName === ""
    ? { info: undefined, change: undefined }
    : pinServerInfo(live, loaded);
  if (pinned.change) changes.push(pinned.change);
  const extraMeta = Object.keys(meta).filter((k) => k !== META_SERVER_INFO);
  if (extraMeta.length || pinned.change || result._meta !== undefined && !isObject(result._meta)) {
    if (pinned.info) out._meta = { [META_SERVER_INFO]: pinned.info };
    else delete out._meta;
    if (extraMeta.length) {
      changes.push(
        `discover result _meta members not covered by the lockfile removed: ${extraMeta.join(", ")}`,
      );
    }
  }
  const extra = Object.keys(out).filter((m) => !DISCOVER_MEMBERS.has(m));
  if (extra.length) {
    for (const m of extra) delete out[m];
    changes.push(`discover result members not covered by the lockfile removed: ${extra.join(", ")}`);
  }
  return changes.length ? { result: out, changes } : { result, changes };
}

/** The sentence for removing `instructions` that the lockfile does not hold, or undefined to keep them. */
function pinInstructions(instructions: unknown, loaded: LoadedLockfile): string | undefined {
  if (instructions === undefined) return undefined;
  const locked = loaded.version === "3" ? loaded.lockfile.server.instructionsHash : undefined;
  const live = typeof instructions === "string" ? hashString(instructions) : undefined;
  if (locked !== undefined && live === locked) return undefined;
  return locked === undefined
    ? "the server sent instructions, but the lockfile pins none; removed"
    : "instructions differ from the locked ones; removed";
}

/** The discover result members that pass: protocol members, and the two pinned above. */
const DISCOVER_MEMBERS = new Set([
  "supportedVersions",
  "capabilities",
  "instructions",
  "resultType",
  "ttlMs",
  "cacheScope",
  "_meta",
]);

/**
 * The initialize result members that pass: the negotiated version and capabilities (protocol, not
 * text for the model), and the two pinned above. `_meta` and anything a server adds do not.
 */
const INITIALIZE_MEMBERS = new Set(["protocolVersion", "capabilities", "serverInfo", "instructions"]);

/** A name from an unpinned serverInfo: kept if plain, else a placeholder (it reaches the model). */
function safeText(s: string): string {
  return /^[\p{L}\p{N} ._@\/:+-]{1,128}$/u.test(s) ? s : "unknown";
}

/**
 * Pins a prompts/get result's `description` (text a host may show the model beside the messages) to the
 * locked prompt's description: kept only if it hashes as locked (normalized, as the lockfile hashes
 * prompt descriptions); otherwise removed. The messages are the prompt filled with the host's arguments,
 * dynamic by design, and pass as they are.
 *
 * @param locked the prompt's locked entry (undefined: not locked, so no description passes)
 * @returns the reason the description was removed, or undefined when the result passes as is. `result`
 *   is modified in place.
 */
export function pinPromptResult(
  result: Record<string, unknown>,
  locked: { descriptionHash?: string } | undefined,
): string | undefined {
  if (result.description === undefined) return undefined;
  const live = typeof result.description === "string" ? hashNormalizedString(result.description) : undefined;
  if (live !== undefined && locked?.descriptionHash !== undefined && live === locked.descriptionHash) {
    return undefined;
  }
  delete result.description;
  return locked?.descriptionHash === undefined
    ? "the prompt's description is not pinned by the lockfile; removed from the prompts/get result"
    : "the prompts/get result's description differs from the locked one; removed";
}
