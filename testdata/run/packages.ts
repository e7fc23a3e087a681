/**
 * The `run --lock` fixture: a small MCP server package with a pinned dependency tree, packed at test time
 * and served by the local HTTPS registry (testdata/registry/local_registry.ts), and the lockfile pin
 * `lock --pin` would write for it (integrity computed here).
 *
 * Packages (every one has install scripts that would write the marker file; none may ever run):
 * - `mcptrust-fixture-server@1.0.0` (bin `mcptrust-fixture-server` -> bin/server.mjs, from
 *   fixture_server.mjs beside this file) depends on `@mcptrust-fixture/dep@1.0.0` and
 *   `mcptrust-fixture-util@1.0.0`, optionally on `mcptrust-fixture-win32` (os win32: skipped here);
 * - `@mcptrust-fixture/dep@1.0.0` depends on `mcptrust-fixture-util@2.0.0`, installed nested at
 *   `node_modules/@mcptrust-fixture/dep/node_modules/mcptrust-fixture-util`.
 * So the `greet` tool says "util 1.0.0, dep's util 2.0.0" only if the tree is laid out exactly as pinned.
 *
 * Tests only.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { type LocalRegistry, type RegistryVersion, startLocalRegistry } from "../registry/local_registry.ts";

/** A file: text (0644) or text with a mode. */
export type PackFile = string | { content: string; mode: number };

const enc = new TextEncoder();

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, size: number, mode: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number) => h.set(enc.encode(s), off);
  if (enc.encode(name).length > 100) throw new Error(`pack: name too long: ${name}`);
  put(name, 0);
  put(octal(mode, 8), 100);
  put(octal(0, 8), 108);
  put(octal(0, 8), 116);
  put(octal(size, 12), 124);
  put(octal(499162500, 12), 136); // 1985-10-26T08:15:00Z, as npm pack's fixed mtime
  put("        ", 148);
  put("0", 156);
  put("ustar\0", 257);
  put("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

/**
 * Packs files into an npm tarball (ustar, every entry under `package/`, gzip).
 *
 * @param files path relative to the package root -> content
 */
export function packTarball(files: Record<string, PackFile>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const path of Object.keys(files).sort()) {
    const f = files[path];
    const data = enc.encode(typeof f === "string" ? f : f.content);
    parts.push(header(`package/${path}`, data.length, typeof f === "string" ? 0o644 : f.mode), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(1024));
  return new Uint8Array(gzipSync(Buffer.concat(parts)));
}

/** One fixture package, packed. */
export interface FixturePackage {
  name: string;
  version: string;
  /** Where `lock --pin` places it (relative to the tree root). */
  path: string;
  tarball: Uint8Array;
  manifest: Record<string, unknown>;
  os?: string[];
  optional?: boolean;
}

const SERVER = "mcptrust-fixture-server";
const DEP = "@mcptrust-fixture/dep";
const UTIL = "mcptrust-fixture-util";
const WIN32 = "mcptrust-fixture-win32";

function scripts(marker: string): Record<string, string> {
  const touch = (what: string) => `sh -c 'echo ${what} >> ${marker}'`;
  return {
    preinstall: touch("preinstall"),
    install: touch("install"),
    postinstall: touch("postinstall"),
    prepare: touch("prepare"),
  };
}

function pkg(
  name: string,
  version: string,
  path: string,
  manifest: Record<string, unknown>,
  files: Record<string, PackFile>,
  extra: Partial<FixturePackage> = {},
): FixturePackage {
  const full = { name, version, ...manifest };
  return {
    name,
    version,
    path,
    manifest: full,
    tarball: packTarball({ "package.json": JSON.stringify(full, null, 2) + "\n", ...files }),
    ...extra,
  };
}

/**
 * Packs the fixture packages.
 *
 * @param marker absolute path every install script would append to (it must never appear)
 * @param server overrides for the server package (files, manifest fields)
 */
export function fixturePackages(
  marker: string,
  server: { files?: Record<string, PackFile>; manifest?: Record<string, unknown> } = {},
): FixturePackage[] {
  const serverJs = readFileSync(new URL("./fixture_server.mjs", import.meta.url), "utf8");
  return [
    pkg(SERVER, "1.0.0", `node_modules/${SERVER}`, {
      type: "module",
      bin: { [SERVER]: "./bin/server.mjs" },
      dependencies: { [DEP]: "^1.0.0", [UTIL]: "1.0.0" },
      optionalDependencies: { [WIN32]: "1.0.0" },
      scripts: scripts(marker),
      ...server.manifest,
    }, { "bin/server.mjs": { content: serverJs, mode: 0o755 }, ...server.files }),
    pkg(DEP, "1.0.0", `node_modules/${DEP}`, {
      type: "module",
      exports: "./index.js",
      dependencies: { [UTIL]: "2.0.0" },
      scripts: scripts(marker),
    }, {
      "index.js": `import { version } from "${UTIL}";\nexport const utilVersion = version;\n` +
        "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n",
    }),
    pkg(UTIL, "1.0.0", `node_modules/${UTIL}`, {
      type: "module",
      exports: "./index.js",
      scripts: scripts(marker),
    }, {
      "index.js": 'export const version = "1.0.0";\n',
    }),
    pkg(UTIL, "2.0.0", `node_modules/${DEP}/node_modules/${UTIL}`, {
      type: "module",
      exports: "./index.js",
      scripts: scripts(marker),
    }, { "index.js": 'export const version = "2.0.0";\n' }),
    pkg(WIN32, "1.0.0", `node_modules/${WIN32}`, { os: ["win32"], scripts: scripts(marker) }, {
      "index.js": "throw new Error('win32 only');\n",
    }, { os: ["win32"], optional: true }),
  ];
}

function sri(bytes: Uint8Array): string {
  return `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
}

function tarballUrl(registry: string, p: { name: string; version: string }): string {
  return `${registry}${p.name}/-/${p.name.split("/").pop()}-${p.version}.tgz`;
}

/**
 * The artifact pin `lock --pin` writes for the fixture (server.artifact of a v3 lockfile).
 *
 * @param registry the registry URL (trailing slash)
 * @param pkgs the packages as pinned (the first is the server)
 * @param args the pinned server arguments
 */
export function fixturePin(
  registry: string,
  pkgs: FixturePackage[],
  args: string[] = ["--pinned", "a b"],
): Record<string, unknown> {
  const [server, ...deps] = pkgs;
  return {
    type: "npm",
    name: server.name,
    version: server.version,
    registry,
    integrity: sri(server.tarball),
    tarball_url: tarballUrl(registry, server),
    tarball_sha256: createHash("sha256").update(server.tarball).digest("hex"),
    tarball_size: server.tarball.length,
    launch: { bin: SERVER, entry: "bin/server.mjs", args },
    dependencies: deps.map((d) => ({
      path: d.path,
      name: d.name,
      version: d.version,
      tarball_url: tarballUrl(registry, d),
      integrity: sri(d.tarball),
      ...(d.os ? { os: d.os } : {}),
      ...(d.optional ? { optional: true } : {}),
    })),
  };
}

/** A minimal v3 lockfile holding only the pin (no interface: enough for `run --no-proxy`). */
export function pinOnlyLockfile(pin: Record<string, unknown>): Record<string, unknown> {
  return {
    lockFileVersion: "3.0",
    meta: { generator: "testdata/run/packages.ts", updatedAt: "2026-01-01T00:00:00Z" },
    server: { name: "mcptrust-fixture-server", artifact: pin },
    prompts: { definitions: {} },
    resources: { templates: [] },
    tools: {},
  };
}

/** The fixture served by a local registry. */
export interface FixtureRegistry {
  registry: LocalRegistry;
  packages: FixturePackage[];
  pin: Record<string, unknown>;
  /** Tarball requests the registry saw, by package name and version (`name@version`). */
  tarballRequests(): string[];
  close(): Promise<void>;
}

/**
 * Starts a local registry serving the fixture packages.
 *
 * @param marker as {@link fixturePackages}
 * @param opts.serve replaces what the registry serves for some packages (`name@version` -> bytes):
 *   the pin keeps the original bytes' integrity (a tarball swapped after lock)
 */
export async function startFixtureRegistry(
  marker: string,
  opts: { serve?: Record<string, Uint8Array>; server?: Parameters<typeof fixturePackages>[1] } = {},
): Promise<FixtureRegistry> {
  const packages = fixturePackages(marker, opts.server);
  const versions: RegistryVersion[] = packages.map((p) => ({
    name: p.name,
    version: p.version,
    tarball: opts.serve?.[`${p.name}@${p.version}`] ?? p.tarball,
    manifest: p.manifest,
  }));
  const registry = await startLocalRegistry(versions);
  return {
    registry,
    packages,
    pin: fixturePin(registry.url, packages),
    tarballRequests: () =>
      registry.server.seen.filter((r) => r.path.includes("/-/")).map((r) => {
        const p = decodeURIComponent(r.path.replace(/^\//, ""));
        const m = /^(.*)\/-\/[^/]*-(\d+\.\d+\.\d+)\.tgz$/.exec(p);
        return m ? `${m[1]}@${m[2]}` : p;
      }),
    close: () => registry.close(),
  };
}
