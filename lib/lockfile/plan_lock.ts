/**
 * What `lock` should do given an existing lockfile and a freshly built one. Pure: the command does I/O.
 *
 * - no existing file -> write;
 * - same content (ignoring meta) -> leave the file untouched, so meta.updatedAt changes only when the
 *   content changes (the Go v3 path rewrites it every run; reference §1.2);
 * - drift -> refuse unless forced;
 * - no drift but different content (e.g. a Go-written file without this tool's extensions) -> write.
 *
 * @module
 */
import { compareLockfile } from "../drift/compare.ts";
import type { DriftReport } from "../drift/types.ts";
import type { ServerInterface } from "../mcp/types.ts";
import { canonicalize } from "./canonical.ts";
import type { LoadedLockfile } from "./load.ts";
import type { LockfileV3 } from "./types.ts";

/** The decision. */
export type LockPlan =
  | { action: "create" }
  | { action: "unchanged" }
  | { action: "update"; drift: DriftReport; forced: boolean }
  | { action: "refuse"; drift: DriftReport };

/** Content of a lockfile without `meta`, for comparisons. */
function content(lock: unknown): string {
  const { meta: _meta, ...rest } = lock as Record<string, unknown>;
  return canonicalize(rest, "v2");
}

/**
 * Decides what `lock` does.
 *
 * @param existing the current lockfile, or undefined if there is none
 * @param fresh the lockfile built from `live`
 */
export function planLock(
  existing: LoadedLockfile | undefined,
  fresh: LockfileV3,
  live: ServerInterface,
  force: boolean,
): LockPlan {
  if (!existing) return { action: "create" };
  if (existing.version === "3" && content(existing.lockfile) === content(fresh)) {
    return { action: "unchanged" };
  }
  const drift = compareLockfile(existing, live);
  if (existing.version !== "3" && !force) {
    // Upgrading a v1/v2 file changes its format; ask for an explicit --force.
    return { action: "refuse", drift };
  }
  if (drift.items.length > 0 && !force) return { action: "refuse", drift };
  return { action: "update", drift, forced: force };
}
