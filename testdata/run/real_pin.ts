/**
 * A real published server's pin, for tests and benchmarks of `run --lock` on a real dependency tree: the
 * server's closure in the repository's package-lock.json (its dependencies, resolved as Node resolves them
 * from each package's directory; optional peers left out), with the exact tarballs npm cached during
 * `npm ci` (checked against their integrity), laid out at the same paths. Until `lock --pin` writes
 * such pins, this is what it would write for a server installed here.
 *
 * Tests and benchmarks only.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cachedTarball, type RegistryVersion } from "../registry/local_registry.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

interface LockEntry {
  name?: string;
  version: string;
  integrity: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optional?: boolean;
  bin?: Record<string, string>;
}

/** One package of the closure. */
export interface RealPackage {
  path: string;
  name: string;
  version: string;
  integrity: string;
  tarball: Uint8Array;
  /** The installed package.json (what the registry's version document carries). */
  manifest: Record<string, unknown>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optional?: boolean;
}

/** Node's resolution of `dep` from the package at `from`, within package-lock paths. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, dep: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf("/node_modules/");
    base = i >= 0 ? base.slice(0, i) : "";
  }
}

/**
 * The closure of an installed package, with its cached tarballs.
 *
 * @param name e.g. `@modelcontextprotocol/server-filesystem`
 * @returns the packages, the server first; undefined if a tarball is not in npm's cache
 */
export function realPackages(name: string): RealPackage[] | undefined {
  const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8"));
  const packages: Record<string, LockEntry> = lock.packages;
  const root = `node_modules/${name}`;
  if (!packages[root]) return undefined;
  const seen: string[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.includes(p)) continue;
    seen.push(p);
    const e = packages[p];
    const optionalPeers = Object.entries(e.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map((
      [d],
    ) => d);
    const deps = [
      ...Object.keys(e.dependencies ?? {}),
      ...Object.keys(e.optionalDependencies ?? {}),
      ...Object.keys(e.peerDependencies ?? {}).filter((d) => !optionalPeers.includes(d)),
    ];
    for (const d of deps) {
      const r = resolveFrom(packages, p, d);
      if (r) stack.push(r);
    }
  }
  const out: RealPackage[] = [];
  for (const path of [root, ...seen.filter((p) => p !== root).sort()]) {
    const e = packages[path];
    const tarball = cachedTarball(e.integrity);
    if (!tarball) return undefined;
    const manifest = JSON.parse(readFileSync(join(REPO, path, "package.json"), "utf8"));
    out.push({
      path,
      name: e.name ?? manifest.name,
      version: e.version,
      integrity: e.integrity,
      tarball,
      manifest,
      ...(e.os ? { os: e.os } : {}),
      ...(e.cpu ? { cpu: e.cpu } : {}),
      ...(e.libc ? { libc: e.libc } : {}),
      ...(e.optional ? { optional: true } : {}),
    });
  }
  return out;
}

/** The registry versions serving `pkgs` (one per name@version). */
export function registryVersions(pkgs: RealPackage[]): RegistryVersion[] {
  const byKey = new Map<string, RegistryVersion>();
  for (const p of pkgs) {
    byKey.set(`${p.name}@${p.version}`, {
      name: p.name,
      version: p.version,
      tarball: p.tarball,
      manifest: p.manifest,
    });
  }
  return [...byKey.values()];
}

/**
 * The artifact pin for the closure, served at `registry` (local_registry.ts's tarball URLs).
 *
 * @param bin the bin to run (default: the only one, or the one named like the package)
 */
export function realPin(
  registry: string,
  pkgs: RealPackage[],
  args: string[] = [],
  bin?: string,
): Record<string, unknown> {
  const [server, ...deps] = pkgs;
  const url = (p: RealPackage) => `${registry}${p.name}/-/${p.name.split("/").pop()}-${p.version}.tgz`;
  const bins = typeof server.manifest.bin === "string"
    ? { [server.name.split("/").pop()!]: server.manifest.bin }
    : server.manifest.bin as Record<string, string>;
  const chosen = bin ?? Object.keys(bins)[0];
  return {
    type: "npm",
    name: server.name,
    version: server.version,
    registry,
    integrity: server.integrity,
    tarball_url: url(server),
    tarball_sha256: createHash("sha256").update(server.tarball).digest("hex"),
    tarball_size: server.tarball.length,
    launch: { bin: chosen, entry: bins[chosen].replace(/^\.\//, ""), args },
    dependencies: deps.map((d) => ({
      path: d.path,
      name: d.name,
      version: d.version,
      tarball_url: url(d),
      integrity: d.integrity,
      ...(d.os ? { os: d.os } : {}),
      ...(d.cpu ? { cpu: d.cpu } : {}),
      ...(d.libc ? { libc: d.libc } : {}),
      ...(d.optional ? { optional: true } : {}),
    })),
  };
}
