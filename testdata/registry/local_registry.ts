/**
 * A local npm registry over HTTPS for tests of pinning and verified runs: it serves packuments and
 * tarballs on 127.0.0.1 (host name `localhost`, certificate from a CA made at test time).
 *
 * The tarballs are the real ones where possible: {@link cachedTarball} reads the exact bytes npm
 * downloaded during `npm ci` from npm's content-addressed cache (`~/.npm/_cacache/content-v2`, or
 * `$npm_config_cache`), keyed by the sha512 integrity in package-lock.json, so tests see real published
 * artifacts with their real integrity, offline. Tarballs built at test time (malicious ones) can be
 * served the same way.
 *
 * Tests only.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startHttpsServer, type TestServer, testTls } from "../../lib/artifact/test_support.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** A package as package-lock.json pins it. */
export interface LockedPackage {
  name: string;
  version: string;
  integrity: string;
}

/** The entry for `node_modules/<name>` in the repository's package-lock.json, or undefined. */
export function lockedPackage(name: string): LockedPackage | undefined {
  const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8"));
  const e = lock.packages?.[`node_modules/${name}`];
  if (!e?.version || !e?.integrity) return undefined;
  return { name, version: e.version, integrity: e.integrity };
}

/** The installed package.json of `name` under the repository's node_modules. */
export function installedManifest(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REPO, "node_modules", name, "package.json"), "utf8"));
}

/**
 * The bytes npm cached for a sha512 integrity, checked against it, or undefined if not cached.
 * (npm's cacache layout: content-v2/sha512/<hex 0-2>/<hex 2-4>/<rest of hex>.)
 */
export function cachedTarball(integrity: string): Uint8Array | undefined {
  const m = /^sha512-([A-Za-z0-9+/]+={0,2})$/.exec(integrity.trim());
  if (!m) return undefined;
  const hex = Buffer.from(m[1], "base64").toString("hex");
  const cache = process.env.npm_config_cache ?? process.env.NPM_CONFIG_CACHE ?? join(homedir(), ".npm");
  try {
    const bytes = readFileSync(
      join(cache, "_cacache", "content-v2", "sha512", hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)),
    );
    return createHash("sha512").update(bytes).digest("hex") === hex ? new Uint8Array(bytes) : undefined;
  } catch {
    return undefined;
  }
}

/** One version the registry serves. */
export interface RegistryVersion {
  name: string;
  version: string;
  /** The tarball bytes served. */
  tarball: Uint8Array;
  /** `dist.integrity` in the packument. Default: the sha512 of `tarball` (set it to lie). */
  integrity?: string;
  /** More manifest fields (bin, dependencies, ...). */
  manifest?: Record<string, unknown>;
}

/** A running local registry. */
export interface LocalRegistry {
  /** `https://localhost:<port>/` */
  url: string;
  /** The CA certificate (PEM) to pass to the fetcher. */
  caPem: string;
  /** The underlying server (requests seen, port). */
  server: TestServer;
  /** The packument URL of a package (scoped names with `%2f`, as npm requests them). */
  packumentUrl(name: string): string;
  close(): Promise<void>;
}

function tarballName(name: string, version: string): string {
  return `${name.split("/").pop()}-${version}.tgz`;
}

/**
 * Starts the registry. Routes: `GET /<name>` (packument; scoped names with `/` or `%2f`),
 * `GET /<name>/<version>`, `GET /<name>/-/<file>.tgz`. With `requireToken`, every request without
 * `Authorization: Bearer <token>` gets 401.
 */
export async function startLocalRegistry(
  versions: RegistryVersion[],
  opts: { requireToken?: string } = {},
): Promise<LocalRegistry> {
  let origin = "";
  const server = await startHttpsServer((req, res) => {
    if (opts.requireToken !== undefined && req.headers.authorization !== `Bearer ${opts.requireToken}`) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end('{"error":"authentication required"}');
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? "/", "https://x").pathname).replace(/^\//, "");
    const tar = versions.find((v) => path === `${v.name}/-/${tarballName(v.name, v.version)}`);
    if (tar) {
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(tar.tarball.length),
      });
      res.end(Buffer.from(tar.tarball));
      return;
    }
    const doc = (v: RegistryVersion) => ({
      ...v.manifest,
      name: v.name,
      version: v.version,
      dist: {
        integrity: v.integrity ?? `sha512-${createHash("sha512").update(v.tarball).digest("base64")}`,
        shasum: createHash("sha1").update(v.tarball).digest("hex"),
        tarball: `${origin}${v.name}/-/${tarballName(v.name, v.version)}`,
      },
    });
    const own = versions.filter((v) => path === v.name || path.startsWith(`${v.name}/`));
    const one = own.find((v) => path === `${v.name}/${v.version}`);
    let body: unknown;
    if (one) body = doc(one);
    else if (own.length > 0 && path === own[0].name) {
      body = {
        name: own[0].name,
        "dist-tags": { latest: own.at(-1)!.version },
        versions: Object.fromEntries(own.map((v) => [v.version, doc(v)])),
      };
    }
    if (body === undefined) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"error":"not found"}');
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  });
  origin = `${server.origin("localhost")}/`;
  return {
    url: origin,
    caPem: testTls().caPem,
    server,
    packumentUrl: (name) => `${origin}${name.replace("/", "%2f")}`,
    close: () => server.close(),
  };
}
