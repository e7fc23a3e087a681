/**
 * Verified install of a run plan: every pinned tarball from the cache or the hardened fetcher, checked
 * against its pin (sha512, and sha256 and size where pinned) on the bytes actually used, then extracted
 * safely (lib/runner/extract.ts) into a private tree laid out exactly as pinned. No lifecycle script
 * (preinstall, install, postinstall, prepare) ever runs: nothing here executes package code.
 *
 * Order, each step failing closed: a cached, verified tree is used as it is (checked against its
 * manifest first: cache.ts); else every tarball is obtained and verified before anything is written, so a
 * refused package leaves no tree behind; then packages are extracted parents first into a staging
 * directory, each package.json must name the pinned name and version, the manifest is written, and the
 * tree is renamed into the cache.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { Buffer } from "node:buffer";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import type { FetchOptions } from "../artifact/fetcher.ts";
import {
  type ArtifactDigests,
  hashBytes,
  IntegrityHasher,
  verifySha256Hex,
  verifySri,
} from "../artifact/integrity.ts";
import { atomicWriteFile } from "../atomic_write.ts";
import {
  type ManifestPackage,
  type RunCache,
  scanTree,
  statFingerprint,
  type TreeManifest,
  verifyTree,
} from "./cache.ts";
import type { PlannedPackage, RunPlan } from "./run_plan.ts";

/** Options for {@link installTree}. */
export interface InstallOptions {
  cache: RunCache;
  /** Fetcher options (allowHosts, ca, resolve, timeouts). `onWarning` defaults to `warn`. */
  fetch?: FetchOptions;
  /** The registry token for a tarball URL (from .npmrc), if any. */
  tokenFor?: (url: string) => string | undefined;
  /** Receives one line per warning (a discarded cache entry, a private host allowed). */
  warn?: (line: string) => void;
  /** Parallel downloads. Default 8. */
  concurrency?: number;
}

/** One package as verified for this run. */
export interface InstalledPackage extends ManifestPackage {
  /**
   * Where the verified bytes came from: downloaded now, the tarball cache (hashed now), or an extracted
   * tree whose files were checked now against the manifest written when these bytes were extracted.
   */
  source: "download" | "cache" | "tree";
}

/** The result of {@link installTree}. */
export interface InstalledTree {
  key: string;
  /** `trees/<key>` */
  treeDir: string;
  /** The tree root (`trees/<key>/root`): node_modules/... */
  root: string;
  /** The server package's directory. */
  packageDir: string;
  packages: InstalledPackage[];
  /** `cache`: an existing tree, checked; `extracted`: extracted by this run. */
  source: "cache" | "extracted";
}

function label(p: PlannedPackage): string {
  return p.root ? `${p.name}@${p.version}` : `${p.name}@${p.version} (${p.path})`;
}

/**
 * Checks digests of a package's bytes against its pin: sha512 (SRI), then sha256 and size when pinned.
 *
 * @throws CheckFailedError (exit 1) naming the package, the pinned and the actual value
 */
export function checkPinned(p: PlannedPackage, d: ArtifactDigests): void {
  verifySri(p.integrity, d, label(p));
  if (p.sha256 !== undefined) verifySha256Hex(p.sha256, d, label(p));
  if (p.size !== undefined && p.size !== d.size) {
    throw new CheckFailedError(
      `size mismatch for ${label(p)}: pinned ${p.size} bytes, downloaded ${d.size} bytes`,
      { hint: "the bytes served are not the bytes pinned: do not run them" },
    );
  }
}

async function download(
  p: PlannedPackage,
  opts: InstallOptions,
): Promise<{ bytes: Uint8Array; digests: ArtifactDigests }> {
  // Loaded only when something is downloaded: a warm start never needs the network stack.
  const { displayUrl, fetchHardened } = await import("../artifact/fetcher.ts");
  const res = await fetchHardened(p.tarballUrl, {
    onWarning: opts.warn,
    ...opts.fetch,
    authToken: opts.tokenFor?.(p.tarballUrl),
  });
  const h = new IntegrityHasher();
  const chunks: Uint8Array[] = [];
  for await (const c of res.body) {
    h.update(c);
    chunks.push(c);
  }
  const d = h.digest();
  try {
    checkPinned(p, d);
  } catch (err) {
    if (err instanceof CheckFailedError) {
      throw new CheckFailedError(`${err.message} (from ${displayUrl(p.tarballUrl)})`, { hint: err.hint });
    }
    throw err;
  }
  const bytes = new Uint8Array(Buffer.concat(chunks));
  opts.cache.writeTarball(p.sha512Hex, bytes);
  return { bytes, digests: d };
}

/** The bytes of one package, verified: from the cache (hashed again) or downloaded. */
async function verifiedBytes(
  p: PlannedPackage,
  opts: InstallOptions,
): Promise<{ bytes: Uint8Array; digests: ArtifactDigests; source: "cache" | "download" }> {
  const cached = opts.cache.readTarball(p.sha512Hex);
  if (cached !== undefined) {
    try {
      const digests = hashBytes(cached);
      checkPinned(p, digests);
      return { bytes: cached, digests, source: "cache" };
    } catch (err) {
      if (!(err instanceof CheckFailedError)) throw err;
      opts.warn?.(
        `warning: the cached tarball of ${
          label(p)
        } no longer matches its pin; discarded, downloading it again`,
      );
      opts.cache.discardTarball(p.sha512Hex);
    }
  }
  return { ...await download(p, opts), source: "download" };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function depthOf(path: string): number {
  return path.split("/").filter((s) => s === "node_modules").length;
}

function checkManifestName(dir: string, p: PlannedPackage): void {
  let pkg: { name?: unknown; version?: unknown };
  try {
    pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  } catch (err) {
    throw new CheckFailedError(
      `the tarball of ${label(p)} has no readable package.json (${(err as Error).message})`,
    );
  }
  if (pkg.name !== p.name || pkg.version !== p.version) {
    throw new CheckFailedError(
      `the tarball pinned as ${label(p)} says it is ${String(pkg.name)}@${String(pkg.version)}`,
      { hint: "the pin and the package disagree: re-pin with `mcptrust lock --pin` and review" },
    );
  }
}

/** Extracts verified tarballs into `root`, parents first. */
async function extractAll(
  root: string,
  plan: RunPlan,
  bytes: Map<string, Uint8Array>,
): Promise<void> {
  const { extractTarball } = await import("./extract.ts");
  const levels = new Map<number, PlannedPackage[]>();
  for (const p of plan.packages) {
    const d = depthOf(p.path);
    levels.set(d, [...(levels.get(d) ?? []), p]);
  }
  for (const depth of [...levels.keys()].sort((a, b) => a - b)) {
    await mapLimit(levels.get(depth)!, 4, async (p) => {
      const dest = join(root, p.path);
      mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
      await extractTarball(bytes.get(p.path)!, dest, label(p));
      checkManifestName(dest, p);
    });
  }
}

function fromManifest(m: TreeManifest): InstalledPackage[] {
  return m.packages.map((p) => ({ ...p, source: "tree" as const }));
}

function samePackages(m: TreeManifest, plan: RunPlan): boolean {
  return m.packages.length === plan.packages.length &&
    plan.packages.every((p, i) => m.packages[i]?.path === p.path && m.packages[i]?.integrity === p.integrity);
}

/**
 * Installs the plan's packages (or reuses a checked tree) and returns where the tree is.
 *
 * @throws CheckFailedError (exit 1) if any tarball differs from its pin (the message names the package,
 *   the pinned and the actual digest), is refused by the extraction checks, or holds another package
 * @throws McpTrustError / FetchError (exit 2) for network, cache and file system failures
 */
export async function installTree(plan: RunPlan, opts: InstallOptions): Promise<InstalledTree> {
  const { cache } = opts;
  const key = plan.treeKey;
  const treeDir = cache.treePath(key);
  const result = (source: InstalledTree["source"], packages: InstalledPackage[]): InstalledTree => ({
    key,
    treeDir,
    root: join(treeDir, "root"),
    packageDir: join(treeDir, "root", plan.root.path),
    packages,
    source,
  });

  if (existsSync(treeDir)) {
    const existing = verifyTree(treeDir, key);
    if (existing.ok && samePackages(existing.manifest, plan)) {
      return result("cache", fromManifest(existing.manifest));
    }
    opts.warn?.(
      `warning: the cached tree of ${label(plan.root)} changed since it was verified (${
        existing.ok ? "its manifest lists other packages" : existing.reason
      }); extracting it again`,
    );
    cache.discardTree(key);
  }

  // Every tarball verified before anything is written.
  const got = await mapLimit(plan.packages, opts.concurrency ?? 8, (p) => verifiedBytes(p, opts));
  const bytes = new Map<string, Uint8Array>();
  const packages: InstalledPackage[] = plan.packages.map((p, i) => {
    bytes.set(p.path, got[i].bytes);
    const d = got[i].digests;
    return {
      path: p.path,
      name: p.name,
      version: p.version,
      integrity: p.integrity,
      sha256: d.sha256Hex,
      size: d.size,
      source: got[i].source,
    };
  });

  const staging = cache.stageTree(key);
  try {
    const root = join(staging, "root");
    mkdirSync(root, { mode: 0o755 });
    await extractAll(root, plan, bytes);
    const scanned = scanTree(root);
    const manifest: TreeManifest = {
      schema: 1,
      key,
      created_at: new Date().toISOString(),
      packages: packages.map(({ source: _, ...p }) => p),
      ...scanned,
      // Renaming the staging directory into place changes no entry below root/.
      stat: statFingerprint(root),
    };
    atomicWriteFile(join(staging, "manifest.json"), JSON.stringify(manifest) + "\n", { mode: 0o644 });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (!cache.commitTree(staging, key)) {
    // Another run finished the same tree first: use it once it checks out.
    const theirs = verifyTree(treeDir, key);
    if (!theirs.ok) {
      throw new McpTrustError(
        `the cached tree ${treeDir} was replaced while mcptrust wrote it (${theirs.reason})`,
        {
          hint: "run again",
        },
      );
    }
  }
  return result("extracted", packages);
}
