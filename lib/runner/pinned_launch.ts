/**
 * The server as `run --lock` would start it, for `lock --pin`'s scan: the pinned, verified tree (from
 * the run cache, or downloaded and checked now), its entry on the runtime inside our own binary, no
 * lifecycle scripts, an allowlisted environment. So the interface `lock --pin` records is the interface
 * of exactly the bytes it pinned, and pinning never runs the launcher (npx would resolve the package
 * again, on its own, and run its install scripts).
 *
 * @module
 */
import process from "node:process";
import type { LoadedLockfile } from "../lockfile/load.ts";
import type { ArtifactPin } from "../lockfile/types.ts";
import type { FetchOptions } from "../artifact/fetcher.ts";
import { defaultCacheDir, RunCache } from "./cache.ts";
import { installTree } from "./install.ts";
import { buildLaunch, parseEnvFlags, resolveEntry, selfPath } from "./launch.ts";
import { planRun } from "./run_plan.ts";

/** What the scan needs to start the pinned server. */
export interface PinnedServer {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

/**
 * Installs the pin's verified tree and returns how to start its server, unsandboxed (the scan only
 * lists the interface; `run --lock` sandboxes the real runs).
 *
 * @param artifact the npm pin `lock --pin` just made (every tarball already verified once)
 * @throws McpTrustError (exit 2) for an unusable pin; CheckFailedError (exit 1) if a tarball no longer
 *   matches its pin
 */
export async function pinnedServer(
  artifact: ArtifactPin,
  opts: { fetch?: FetchOptions; tokenFor?: (url: string) => string | undefined; warn?: (l: string) => void },
): Promise<PinnedServer> {
  const loaded = {
    version: "3",
    path: "the new pin",
    bytes: new Uint8Array(),
    lockfile: { server: { name: "", artifact } },
  } as unknown as LoadedLockfile;
  const plan = planRun(loaded);
  const tree = await installTree(plan, {
    cache: RunCache.open(defaultCacheDir()),
    fetch: opts.fetch,
    tokenFor: opts.tokenFor,
    warn: opts.warn,
  });
  const { entry } = resolveEntry(tree.packageDir, plan);
  const launch = buildLaunch({
    self: selfPath(),
    tree: tree.root,
    entry,
    args: plan.launch.args,
    env: process.env,
    envFlags: parseEnvFlags([]),
    cwd: process.cwd(),
  });
  return { argv: launch.argv, env: launch.env, cwd: launch.cwd };
}
