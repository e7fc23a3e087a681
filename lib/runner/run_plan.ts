/**
 * The run plan: the npm artifact pin of a v3 lockfile (`server.artifact`, written by `lock --pin`), read
 * strictly, and the packages this machine installs from it.
 *
 * The pin (fields fixed by `lock --pin`):
 * `{ type: "npm", name, version, registry, integrity, tarball_url, tarball_sha256?, tarball_size?,
 *    launch: { bin?, entry, args? }, dependencies: [{ path, name, version, tarball_url, integrity,
 *    os?, cpu?, libc?, optional? }] }`.
 *
 * Layout (the tree the runner builds, relative to its root): the server package at
 * `node_modules/<name>`, each dependency at its `path` (`node_modules/<a>`, `node_modules/<a>/node_modules/<b>`),
 * which is npm's and Bun's layout for a project depending on the server. Node's module resolution from the
 * server's files then finds exactly the pinned copies. A dependency entry at `node_modules/<name>` is the
 * server package itself (lockfiles of a synthetic project list it there) and must pin the same bytes.
 *
 * Platform rules are npm's (npm-install-checks `checkPlatform`): `os`/`cpu` lists match `process.platform`
 * / `process.arch`, entries starting with `!` exclude; `libc` (`glibc`/`musl`) is only checked on Linux.
 * An optional package that does not match is skipped (npm's rule); a required one is refused.
 *
 * Only sha512 pins are accepted: the tarball cache is keyed by the sha512, and npm has published sha512
 * integrity for every package since 2017 (`lock --pin` records it for older ones too).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { posix } from "node:path";
import process from "node:process";
import * as v from "valibot";
import { McpTrustError } from "../errors.ts";
import { sriToHex, strongestSri } from "../artifact/integrity.ts";
import { formatIssues } from "../lockfile/schema.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";

/** npm package names: optional scope, then a name; no leading `.` or `_`, no path tricks (validate-npm-package-name). */
const PACKAGE_NAME = /^(?:@[A-Za-z0-9][A-Za-z0-9._~-]*\/)?[A-Za-z0-9][A-Za-z0-9._~-]*$/;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;

const nameSchema = v.pipe(v.string(), v.maxLength(214), v.regex(PACKAGE_NAME, "is not an npm package name"));
const versionSchema = v.pipe(v.string(), v.maxLength(256), v.regex(VERSION, "is not an exact version"));
const platformList = v.optional(v.union([v.string(), v.array(v.string())]));

const DependencySchema = v.looseObject({
  path: v.pipe(v.string(), v.maxLength(4096)),
  name: nameSchema,
  version: versionSchema,
  tarball_url: v.string(),
  integrity: v.string(),
  tarball_sha256: v.optional(v.string()),
  os: platformList,
  cpu: platformList,
  libc: platformList,
  optional: v.optional(v.boolean()),
});

const NpmPinSchema = v.looseObject({
  type: v.literal("npm"),
  name: nameSchema,
  version: versionSchema,
  registry: v.optional(v.string()),
  integrity: v.string(),
  tarball_url: v.string(),
  tarball_sha256: v.optional(v.string()),
  tarball_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  launch: v.looseObject({
    bin: v.optional(v.string()),
    entry: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
    args: v.optional(v.array(v.string())),
  }),
  dependencies: v.optional(v.array(DependencySchema)),
  registry_signature: v.optional(v.looseObject({ status: v.string(), keyid: v.optional(v.string()) })),
});

/** One package to fetch, verify and place in the tree. */
export interface PlannedPackage {
  /** Where it goes, relative to the tree root: `node_modules/<name>` for the server, else the pinned path. */
  path: string;
  name: string;
  version: string;
  tarballUrl: string;
  /** The pinned SRI (sha512). */
  integrity: string;
  /** The sha512 as 128 hex digits: the tarball cache key. */
  sha512Hex: string;
  /** Pinned sha256 hex, when the pin records one. */
  sha256?: string;
  /** Pinned size in bytes, when recorded. */
  size?: number;
  /** True for the server package itself. */
  root: boolean;
}

/** A pinned package this machine does not install (optional, other platform). */
export interface SkippedPackage {
  path: string;
  name: string;
  version: string;
  reason: string;
}

/** Everything the runner needs from the pin. */
export interface RunPlan {
  /** The server package (also the first element of `packages`). */
  root: PlannedPackage;
  /** Packages to install, parents before the packages nested in them. */
  packages: PlannedPackage[];
  skipped: SkippedPackage[];
  launch: {
    /** The bin name (from the pin, or found in package.json by entry). */
    bin?: string;
    /** The bin file, relative to the server package, normalized (no `./`). */
    entry: string;
    /** Pinned arguments. */
    args: string[];
  };
  /** The registry recorded at pin time (informational). */
  registry?: string;
  /** The registry signature check recorded at pin time (informational: not checked again here). */
  registrySignature?: { status: string; keyid?: string };
  /** sha256 hex over the installed set (layout version, every path and integrity): the tree cache key. */
  treeKey: string;
}

/** This machine, as npm's platform checks see it. */
export interface Platform {
  os: string;
  cpu: string;
  /** `glibc`, `musl`, or undefined when unknown or not Linux. */
  libc?: string;
}

/** Detects libc on Linux the cheap way: a musl dynamic loader in /lib means musl (Alpine); else glibc. */
export function detectLibc(platform: string = process.platform): string | undefined {
  if (platform !== "linux") return undefined;
  try {
    if (readdirSync("/lib").some((f) => f.startsWith("ld-musl-"))) return "musl";
  } catch { /* no /lib */ }
  return existsSync("/lib64") || existsSync("/lib") ? "glibc" : undefined;
}

/** The current machine. */
export function currentPlatform(): Platform {
  return { os: process.platform, cpu: process.arch, libc: detectLibc() };
}

/**
 * npm-install-checks `checkList`: `any` matches all; `!x` entries exclude x; otherwise the value must be
 * listed. A list of only exclusions matches everything not excluded.
 */
export function platformListMatches(value: string | undefined, list: string | string[]): boolean {
  const items = typeof list === "string" ? [list] : list;
  if (items.length === 0 || (items.length === 1 && items[0] === "any")) return true;
  let negated = 0;
  let match = false;
  for (const entry of items) {
    if (entry.startsWith("!")) {
      negated++;
      if (value === entry.slice(1)) return false;
    } else if (value === entry) match = true;
  }
  return match || negated === items.length;
}

/** Why a package does not fit this machine, or undefined if it does (npm's checkPlatform). */
export function platformMismatch(
  pkg: { os?: string | string[]; cpu?: string | string[]; libc?: string | string[] },
  here: Platform,
): string | undefined {
  const show = (l: string | string[]) => JSON.stringify(typeof l === "string" ? [l] : l);
  if (pkg.os !== undefined && !platformListMatches(here.os, pkg.os)) {
    return `os ${show(pkg.os)} does not include ${here.os}`;
  }
  if (pkg.cpu !== undefined && !platformListMatches(here.cpu, pkg.cpu)) {
    return `cpu ${show(pkg.cpu)} does not include ${here.cpu}`;
  }
  if (pkg.libc !== undefined && here.os === "linux" && !platformListMatches(here.libc, pkg.libc)) {
    return `libc ${show(pkg.libc)} does not include ${here.libc ?? "unknown"}`;
  }
  return undefined;
}

function unusable(why: string): McpTrustError {
  return new McpTrustError(`the artifact pin cannot be run: ${why}`, {
    hint: "re-pin the server with `mcptrust lock --pin` (and review and sign the new lockfile)",
  });
}

/**
 * Checks a dependency path: `node_modules/<name>` segments only (scoped names take two components).
 *
 * @returns the number of `node_modules` levels (1 for `node_modules/a`)
 * @throws McpTrustError (exit 2) for anything else (absolute, `..`, backslashes, empty segments)
 */
export function checkDependencyPath(path: string): number {
  const parts = path.split("/");
  let i = 0;
  let depth = 0;
  while (i < parts.length) {
    if (parts[i] !== "node_modules") break;
    const scoped = parts[i + 1]?.startsWith("@");
    if (scoped && parts[i + 2] === undefined) break;
    const name = scoped ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1];
    if (name === undefined || !PACKAGE_NAME.test(name)) break;
    i += scoped ? 3 : 2;
    depth++;
  }
  if (depth === 0 || i !== parts.length) {
    throw unusable(
      `dependency path ${JSON.stringify(path)} is not node_modules/<name>[/node_modules/<name>...]`,
    );
  }
  return depth;
}

/**
 * Normalizes the launch entry: a relative `/`-separated path inside the package.
 *
 * @throws McpTrustError (exit 2) if it is absolute, climbs out, or has odd characters
 */
export function normalizeEntry(entry: string): string {
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\\]/.test(entry) || entry.startsWith("/") || /^[A-Za-z]:/.test(entry)) {
    throw unusable(`launch.entry ${JSON.stringify(entry)} is not a relative path inside the package`);
  }
  const n = posix.normalize(entry);
  if (n === "." || n === ".." || n.startsWith("../") || n.endsWith("/")) {
    throw unusable(`launch.entry ${JSON.stringify(entry)} is not a file inside the package`);
  }
  return n.replace(/^\.\//, "");
}

function sha512Of(integrity: string, what: string): string {
  const { algorithm } = strongestSri(integrity, what);
  if (algorithm !== "sha512") {
    throw unusable(`the integrity of ${what} is ${algorithm}; run --lock needs sha512 pins`);
  }
  return sriToHex(integrity, what).hex;
}

/**
 * Reads the npm pin of a lockfile and decides what this machine installs.
 *
 * @param loaded the lockfile (v3; `server.artifact`)
 * @param here the machine (default: this one)
 * @throws McpTrustError (exit 2) if there is no npm pin, or it is malformed or unusable (bad paths,
 *   duplicate paths, non-sha512 integrity, a required package for another platform)
 */
export function planRun(loaded: LoadedLockfile, here: Platform = currentPlatform()): RunPlan {
  const artifact = loaded.version === "3"
    ? loaded.lockfile.server.artifact
    : (loaded.lockfile as { artifact?: unknown }).artifact;
  if (artifact === undefined || artifact === null) {
    throw new McpTrustError(`${loaded.path} pins no artifact, so there is nothing to run`, {
      hint: "pin the server's npm package first: `mcptrust lock --pin -- npx -y <package>`",
    });
  }
  const type = (artifact as { type?: unknown }).type;
  if (type !== "npm") {
    throw new McpTrustError(
      `${loaded.path} pins a ${JSON.stringify(type)} artifact; run --lock runs npm packages only`,
      { hint: "run other servers with `mcptrust proxy --lock ... -- <command>`" },
    );
  }
  const res = v.safeParse(NpmPinSchema, artifact);
  if (!res.success) {
    throw unusable(`server.artifact in ${loaded.path} is malformed: ${formatIssues(res.issues)}`);
  }
  if (loaded.version !== "3") {
    throw unusable(`${loaded.path} is a v${loaded.version} lockfile; run --lock reads v3 lockfiles`);
  }
  const pin = res.output;
  const rootLabel = `${pin.name}@${pin.version}`;
  const root: PlannedPackage = {
    path: `node_modules/${pin.name}`,
    name: pin.name,
    version: pin.version,
    tarballUrl: pin.tarball_url,
    integrity: pin.integrity,
    sha512Hex: sha512Of(pin.integrity, rootLabel),
    sha256: pin.tarball_sha256,
    size: pin.tarball_size,
    root: true,
  };
  const packages: (PlannedPackage & { depth: number })[] = [{ ...root, depth: 1 }];
  const skipped: SkippedPackage[] = [];
  const seen = new Set<string>([root.path]);
  for (const d of pin.dependencies ?? []) {
    const depth = checkDependencyPath(d.path);
    const label = `${d.name}@${d.version} (${d.path})`;
    const hex = sha512Of(d.integrity, label);
    if (d.path === root.path) {
      // The server package itself, as a synthetic project's lockfile lists it: it must be the same bytes.
      if (d.version !== root.version || hex !== root.sha512Hex) {
        throw unusable(`${d.path} is pinned twice, as ${rootLabel} and as ${d.name}@${d.version}`);
      }
      continue;
    }
    if (seen.has(d.path)) throw unusable(`${d.path} is pinned twice`);
    seen.add(d.path);
    const mismatch = platformMismatch(d, here);
    if (mismatch !== undefined) {
      if (d.optional) {
        skipped.push({ path: d.path, name: d.name, version: d.version, reason: mismatch });
        continue;
      }
      throw new McpTrustError(
        `${label} is required, but is built for another platform: ${mismatch}`,
        { hint: "run on a platform the package supports, or pin the server on this platform" },
      );
    }
    packages.push({
      path: d.path,
      name: d.name,
      version: d.version,
      tarballUrl: d.tarball_url,
      integrity: d.integrity,
      sha512Hex: hex,
      sha256: d.tarball_sha256,
      root: false,
      depth,
    });
  }
  // Parents first: a nested package is extracted into its parent's directory.
  packages.sort((a, b) => a.depth - b.depth || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const entry = normalizeEntry(pin.launch.entry);
  const keyDoc = JSON.stringify({
    layout: 1,
    packages: packages.map((p) => [p.path, p.name, p.version, p.sha512Hex]),
  });
  return {
    root,
    packages: packages.map(({ depth: _, ...p }) => p),
    skipped,
    launch: { bin: pin.launch.bin, entry, args: [...(pin.launch.args ?? [])] },
    registry: pin.registry,
    registrySignature: pin.registry_signature
      ? { status: pin.registry_signature.status, keyid: pin.registry_signature.keyid }
      : undefined,
    treeKey: createHash("sha256").update(keyDoc).digest("hex"),
  };
}
