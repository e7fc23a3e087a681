/**
 * Member hashes: one hash per member of a listed item (or of serverInfo), so that every member a host
 * receives is pinned, including members a newer MCP revision or a hostile server adds (`_meta`,
 * `icons`, `execution`, ...). The Go tool's v3 fields hash only some members; this map covers the rest
 * and names what changed in drift reports.
 *
 * A member's hash is sha256 of its value in canonical form v2 (JCS-like), over the value exactly as
 * listed: strings are not normalized, so trailing spaces or invisible characters change the hash.
 *
 * @module
 */
import { canonicalize, compareCodePoints } from "./canonical.ts";
import { hashString } from "./hashes.ts";
import type { Digest } from "./types.ts";

/**
 * The hash of every member of `item` except `key` (the item's identity, e.g. "name"), sorted by member
 * name. Members whose value is `undefined` are skipped, as JSON has no such value.
 *
 * @param item a list item or serverInfo object, as parsed from JSON
 * @param key the member that identifies the item (it is pinned by being the lockfile's key)
 * @throws {TypeError} if a value cannot be canonicalized (not JSON: a cycle, NaN, a bigint)
 *
 * @example
 * memberHashes({ name: "echo", description: "Echo", _meta: { a: 1 } }, "name");
 * // { _meta: "sha256:…", description: "sha256:…" }
 */
export function memberHashes(item: Record<string, unknown>, key?: string): Record<string, Digest> {
  const out: Record<string, Digest> = {};
  for (const m of Object.keys(item).sort(compareCodePoints)) {
    if (m === key || item[m] === undefined) continue;
    out[m] = hashString(canonicalize(item[m], "v2"));
  }
  return out;
}

/**
 * The members whose hashes differ between two maps: changed, added or removed, sorted.
 *
 * @example
 * changedMembers({ a: "sha256:1", b: "sha256:2" }, { a: "sha256:1", c: "sha256:3" }); // ["b", "c"]
 */
export function changedMembers(
  locked: Readonly<Record<string, Digest>>,
  live: Readonly<Record<string, Digest>>,
): string[] {
  const out = new Set<string>();
  for (const m of Object.keys(locked)) if (locked[m] !== live[m]) out.add(m);
  for (const m of Object.keys(live)) if (locked[m] !== live[m]) out.add(m);
  return [...out].sort(compareCodePoints);
}

/** One hash over a whole member map (for fixed-size fingerprints). */
export function hashMemberMap(members: Readonly<Record<string, Digest>>): Digest {
  return hashString(canonicalize(members, "v2"));
}
