/**
 * The protocol era a lockfile approved (extension `server.protocol`, lib/lockfile/types.ts
 * ProtocolLock). Only the stateless era is written; a lockfile without the field (every lockfile
 * written before the stateless era, the Go tool's, v1/v2) was made from an `initialize` handshake and
 * so approved the session era.
 *
 * @module
 */
import type { ServerInterface } from "../mcp/types.ts";
import type { LoadedLockfile } from "./load.ts";
import type { ProtocolLock } from "./types.ts";

/** What `server.protocol` records for a listed server: the stateless era and revision, else nothing. */
export function lockProtocol(iface: ServerInterface): ProtocolLock | undefined {
  return iface.era === "stateless" ? { era: "stateless", revision: iface.protocolVersion } : undefined;
}

/** The era (and, for the stateless era, the revision) a lockfile approved. */
export function lockedProtocol(loaded: LoadedLockfile): ProtocolLock {
  const p = loaded.version === "3" ? loaded.lockfile.server.protocol : undefined;
  return p ?? { era: "session" };
}
