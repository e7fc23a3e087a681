/**
 * Dependency tree resolution for `lock --pin`, done by a package manager: the Bun runtime inside the
 * mcptrust binary (`BUN_BE_BUN=1 <self> install --lockfile-only ...`), then read from the text lockfile it
 * writes (bun.lock).
 *
 * How Bun is run (measured with Bun 1.4.5 against the local HTTPS test registry and the public registry):
 * - in a fresh private temp directory holding only a `package.json` that depends on `<name>@<exact
 *   version>` and a `bunfig.toml` passed with `--config=<absolute path>` (the separate-word form
 *   `--config <path>` does not work there);
 * - `--lockfile-only` fetches packuments only, never a tarball (the test registry sees no tarball
 *   request); `--ignore-scripts` (no lifecycle script runs: the marker tests check it);
 *   `--save-text-lockfile`; `--linker hoisted`, so paths are npm's node_modules layout;
 * - registries and tokens in the bunfig (`[install] registry = { url, token }`, `[install.scopes]`);
 *   tokens are referenced as `$MCPTRUST_REGISTRY_TOKEN_<n>` and passed in the child's environment, so
 *   they are never written to disk; a custom CA as `[install] cafile` (NODE_EXTRA_CA_CERTS works too;
 *   without either, Bun refuses the test registry's certificate: UNABLE_TO_VERIFY_LEAF_SIGNATURE);
 * - the environment is replaced: HOME, XDG dirs, TMPDIR and the install cache point into the temp
 *   directory, so the user's ~/.npmrc, ~/.bunfig.toml, npm_config_* / BUN_CONFIG_* variables, cache and
 *   proxy settings are not read; the user's working directory is never touched.
 *
 * bun.lock is JSON with trailing commas (read with jsonc-parser). `packages` maps a key to
 * `["<name>@<version>", "<tarball URL>", {dependencies, optionalDependencies, peerDependencies,
 * optionalPeers, os, cpu, libc, bin, ...}, "<integrity>"]` for registry packages. The key is the install
 * path without the `node_modules/` parts (`@a/b/c` = `node_modules/@a/b/node_modules/c`). The tarball URL
 * is written as `""` for packages from the public registry (then it is the registry's standard URL).
 * Whether a package is optional is not written: it is computed here (reachable from the root only
 * through optionalDependencies or optional peers).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parse as parseJsonc, type ParseError, printParseErrorCode } from "jsonc-parser";
import semver from "semver";
import { McpTrustError } from "../errors.ts";
import type { PinnedDependency } from "../lockfile/types.ts";

/** Registries (and tokens) Bun resolves from. */
export interface BunRegistries {
  /** The default registry, absolute URL. */
  registry: string;
  /** Scope (`@scope`) -> registry URL, for scopes served elsewhere. */
  scopes?: Readonly<Record<string, string>>;
  /** Registry URL -> token (revealed), for the registries above that need one. */
  tokens?: Readonly<Record<string, string>>;
}

/** Options for {@link resolveWithBun}. */
export interface ResolveOptions {
  /** The package and its exact version. */
  name: string;
  version: string;
  registries: BunRegistries;
  /** Trusted CA certificates (PEM) for the registries, when not the system's. */
  caPem?: string;
  /** The Bun executable (run with BUN_BE_BUN=1). Default {@link defaultBunRuntime}. */
  runtime?: string;
  /** Deadline, in milliseconds. Default 120 000. */
  timeoutMs?: number;
}

/** The name of the synthetic root project (never a real package: it has a space). */
const ROOT_NAME = "mcptrust pin root";

/**
 * The Bun runtime to resolve with: this process's own executable when it is Bun (the compiled mcptrust
 * binary, or `bun run`), else (tests under Deno or Node) the pinned toolchain's `tools/node_modules/.bin/bun`.
 *
 * @throws McpTrustError (exit 2) when neither exists
 */
export function defaultBunRuntime(): string {
  if (process.versions.bun !== undefined) return process.execPath;
  const tool = fileURLToPath(new URL("../../tools/node_modules/.bin/bun", import.meta.url));
  if (existsSync(tool)) return tool;
  throw new McpTrustError("no Bun runtime to resolve the dependency tree with", {
    hint: "run lock --pin with the mcptrust binary (it carries its runtime), or run `make setup`",
  });
}

function toml(s: string): string {
  // A TOML basic string: JSON's escapes are valid TOML for the characters JSON escapes.
  return JSON.stringify(s).replace(/\u007f/g, "\\u007f");
}

/** The bunfig.toml for a resolution; tokens as `$MCPTRUST_REGISTRY_TOKEN_<n>` (values go in `env`). */
export function bunfigFor(
  regs: BunRegistries,
  caFile: string | undefined,
): { text: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const ids = new Map<string, string>();
  const entry = (url: string) => {
    const token = regs.tokens?.[url];
    if (token === undefined || token === "") return `{ url = ${toml(url)} }`;
    let id = ids.get(url);
    if (id === undefined) {
      id = `MCPTRUST_REGISTRY_TOKEN_${ids.size}`;
      ids.set(url, id);
      env[id] = token;
    }
    return `{ url = ${toml(url)}, token = ${toml(`$${id}`)} }`;
  };
  const lines = [
    "[install]",
    `registry = ${entry(regs.registry)}`,
    "exact = true",
    'linker = "hoisted"',
    "saveTextLockfile = true",
  ];
  if (caFile !== undefined) lines.push(`cafile = ${toml(caFile)}`);
  const scopes = Object.entries(regs.scopes ?? {});
  if (scopes.length > 0) {
    lines.push("", "[install.scopes]");
    for (const [scope, url] of scopes) lines.push(`${toml(scope.replace(/^@/, ""))} = ${entry(url)}`);
  }
  return { text: lines.join("\n") + "\n", env };
}

function lastLines(text: string, n: number): string {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").slice(-n).join("; ");
}

/**
 * Resolves the whole dependency tree of `name@version` with Bun (see the module doc) and returns the
 * text of the bun.lock it wrote. Nothing is installed and no lifecycle script runs.
 *
 * @throws McpTrustError (exit 2) if Bun cannot be started, fails (an unresolvable dependency, a registry
 *   error: its error lines are in the message, tokens never), or exceeds the deadline
 */
export async function resolveWithBun(opts: ResolveOptions): Promise<string> {
  const runtime = opts.runtime ?? defaultBunRuntime();
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-pin-"));
  try {
    let caFile: string | undefined;
    if (opts.caPem !== undefined) {
      caFile = join(dir, "ca.pem");
      writeFileSync(caFile, opts.caPem, { mode: 0o600 });
    }
    const cfg = bunfigFor(opts.registries, caFile);
    writeFileSync(join(dir, "bunfig.toml"), cfg.text, { mode: 0o600 });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify(
        { name: ROOT_NAME, private: true, dependencies: { [opts.name]: opts.version } },
        null,
        2,
      ),
      { mode: 0o600 },
    );
    const env: Record<string, string> = {
      ...cfg.env,
      BUN_BE_BUN: "1",
      HOME: dir,
      XDG_CONFIG_HOME: dir,
      XDG_CACHE_HOME: join(dir, "cache"),
      TMPDIR: dir,
      BUN_INSTALL_CACHE_DIR: join(dir, "cache", "bun"),
      DO_NOT_TRACK: "1",
      NO_COLOR: "1",
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    };
    const args = [
      "install",
      "--lockfile-only",
      "--ignore-scripts",
      "--save-text-lockfile",
      "--linker",
      "hoisted",
      "--no-progress",
      `--config=${join(dir, "bunfig.toml")}`,
    ];
    const { code, stderr, stdout, timedOut } = await run(runtime, args, dir, env, opts.timeoutMs ?? 120_000);
    const what = `${opts.name}@${opts.version}`;
    const scrub = (s: string) => {
      let out = s;
      for (const t of Object.values(cfg.env)) if (t.length >= 4) out = out.split(t).join("[redacted]");
      return out;
    };
    if (timedOut) {
      throw new McpTrustError(`resolving the dependency tree of ${what} took too long: gave up`, {
        hint: "check the network and the registry, then retry",
      });
    }
    if (code !== 0 || !existsSync(join(dir, "bun.lock"))) {
      const errors = scrub(`${stderr}\n${stdout}`).split("\n").filter((l) => /error/i.test(l));
      throw new McpTrustError(
        `cannot resolve the dependency tree of ${what}: ${
          errors.length ? errors.slice(0, 5).join("; ") : lastLines(scrub(stderr), 3) || `exit ${code}`
        }`,
        {
          hint: "a dependency has no matching version or the registry refused a request; fix the registry " +
            "configuration (--registry, .npmrc) or pin another version",
        },
      );
    }
    return readFileSync(join(dir, "bun.lock"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const cap = 64 * 1024;
    child.stdout.on("data", (d) => stdout.length < cap && (stdout += String(d)));
    child.stderr.on("data", (d) => stderr.length < cap && (stderr += String(d)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(
        new McpTrustError(`cannot start the package manager (${cmd}): ${err.message}`, {
          hint: "run lock --pin with the mcptrust binary, which carries its own runtime",
        }),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Splits a bun.lock package key into package names: `@a/b/c` -> `["@a/b", "c"]`. */
export function splitLockKey(key: string): string[] {
  const parts = key.split("/");
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].startsWith("@")) {
      out.push(`${parts[i]}/${parts[i + 1] ?? ""}`);
      i++;
    } else out.push(parts[i]);
  }
  return out;
}

/** The node_modules path of a bun.lock key: `@a/b/c` -> `node_modules/@a/b/node_modules/c`. */
export function lockKeyToPath(key: string): string {
  return splitLockKey(key).map((n) => `node_modules/${n}`).join("/");
}

/** The standard tarball URL of a registry package: `<registry><name>/-/<unscoped name>-<version>.tgz`. */
export function standardTarballUrl(registry: string, name: string, version: string): string {
  const base = registry.endsWith("/") ? registry : `${registry}/`;
  return `${base}${name}/-/${name.replace(/^@[^/]+\//, "")}-${version}.tgz`;
}

interface LockInfo {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalPeers?: string[];
  os?: unknown;
  cpu?: unknown;
  libc?: unknown;
}

function platformList(v: unknown): string[] | undefined {
  if (typeof v === "string") return v === "" ? undefined : [v];
  if (Array.isArray(v)) {
    const l = v.filter((x): x is string => typeof x === "string");
    return l.length ? l : undefined;
  }
  return undefined;
}

function badLock(why: string): McpTrustError {
  return new McpTrustError(`the package manager's lockfile (bun.lock) is unreadable: ${why}`, {
    hint: "this is a bug or an unsupported Bun version; report it with the package you pinned",
  });
}

/** Options for {@link parseBunLock}. */
export interface ParseBunLockOptions {
  /** The registry a package was resolved from (for `""` tarball URLs). */
  registryFor(name: string): string;
}

/**
 * Reads a bun.lock (text lockfile, versions 0-2) into the pinned dependency list: every package with its
 * install path, name, exact version, tarball URL, integrity, platform constraints, and `optional` when
 * only optional edges reach it. Sorted by path (code points).
 *
 * @param text the bun.lock text (JSON with trailing commas)
 * @throws McpTrustError (exit 2) for unreadable lockfiles, packages that are not registry packages
 *   (git, file, tarball URL, workspace: they cannot be pinned), and packages without an integrity
 */
export function parseBunLock(text: string, opts: ParseBunLockOptions): PinnedDependency[] {
  const errors: ParseError[] = [];
  const doc = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false }) as {
    lockfileVersion?: unknown;
    workspaces?: Record<string, { dependencies?: Record<string, string> }>;
    packages?: Record<string, unknown>;
  };
  if (errors.length > 0) {
    throw badLock(`${printParseErrorCode(errors[0].error)} at offset ${errors[0].offset}`);
  }
  if (typeof doc !== "object" || doc === null) throw badLock("not an object");
  if (typeof doc.lockfileVersion !== "number" || doc.lockfileVersion < 0 || doc.lockfileVersion > 2) {
    throw badLock(
      `lockfileVersion ${JSON.stringify(doc.lockfileVersion)} is not one this mcptrust reads (0-2)`,
    );
  }
  const packages = doc.packages ?? {};
  if (typeof packages !== "object") throw badLock("packages is not an object");
  const infos = new Map<string, LockInfo>();
  const out: PinnedDependency[] = [];
  for (const [key, entry] of Object.entries(packages)) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string") throw badLock(`entry ${key} is not a package`);
    const resolution = entry[0];
    const at = resolution.lastIndexOf("@");
    const name = at > 0 ? resolution.slice(0, at) : resolution;
    const version = at > 0 ? resolution.slice(at + 1) : "";
    if (semver.valid(version) === null || entry.length !== 4) {
      throw new McpTrustError(
        `cannot pin the dependency ${JSON.stringify(key)}: it resolves to ${JSON.stringify(resolution)}, ` +
          "not a registry package with an exact version",
        { hint: "only registry packages can be pinned; git, file and tarball-URL dependencies cannot" },
      );
    }
    const [, url, info, integrity] = entry as [string, unknown, unknown, unknown];
    if (typeof url !== "string" || typeof info !== "object" || info === null || Array.isArray(info)) {
      throw badLock(`entry ${key} has no tarball URL or metadata`);
    }
    if (typeof integrity !== "string" || integrity === "") {
      throw new McpTrustError(`the registry gives no integrity for ${name}@${version} (${key})`, {
        hint: "only packages with a registry integrity can be pinned",
      });
    }
    const i = info as LockInfo;
    infos.set(key, i);
    const dep: PinnedDependency = {
      path: lockKeyToPath(key),
      name,
      version,
      tarball_url: url === "" ? standardTarballUrl(opts.registryFor(name), name, version) : url,
      integrity,
    };
    const os = platformList(i.os), cpu = platformList(i.cpu), libc = platformList(i.libc);
    if (os) dep.os = os;
    if (cpu) dep.cpu = cpu;
    if (libc) dep.libc = libc;
    out.push(dep);
  }
  const required = requiredKeys(infos, doc.workspaces?.[""]?.dependencies ?? {});
  const byPath = new Map(out.map((d) => [d.path, d]));
  for (const key of infos.keys()) {
    if (!required.has(key)) byPath.get(lockKeyToPath(key))!.optional = true;
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The keys reachable from the root through required edges only (dependencies, and peers not marked
 * optional), following Node's lookup: from key `a/b`, dependency `d` is `a/b/d`, else `a/d`, else `d`.
 */
function requiredKeys(infos: Map<string, LockInfo>, rootDeps: Record<string, string>): Set<string> {
  const lookup = (from: string[], dep: string): string | undefined => {
    for (let n = from.length; n >= 0; n--) {
      const k = [...from.slice(0, n), dep].join("/");
      if (infos.has(k)) return k;
    }
    return undefined;
  };
  const seen = new Set<string>();
  const queue: string[] = [];
  const visit = (k: string | undefined) => {
    if (k !== undefined && !seen.has(k)) {
      seen.add(k);
      queue.push(k);
    }
  };
  for (const d of Object.keys(rootDeps)) visit(lookup([], d));
  while (queue.length > 0) {
    const key = queue.shift()!;
    const info = infos.get(key)!;
    const from = splitLockKey(key);
    const optionalPeers = new Set(info.optionalPeers ?? []);
    // npm's manifests may list an optional dependency under dependencies too: optional wins.
    const optional = new Set(Object.keys(info.optionalDependencies ?? {}));
    for (const d of Object.keys(info.dependencies ?? {})) if (!optional.has(d)) visit(lookup(from, d));
    for (const d of Object.keys(info.peerDependencies ?? {})) {
      if (!optionalPeers.has(d)) visit(lookup(from, d));
    }
  }
  return seen;
}
