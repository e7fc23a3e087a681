/**
 * Fixture packages packed at test time, and a local HTTPS npm registry richer than local_registry.ts's:
 * several versions per package with `dist-tags` and `time`, registry signatures (`dist.signatures`,
 * ECDSA P-256 over `${name}@${version}:${integrity}`, as the public registry signs) made with a key
 * generated at test time, npm's keys endpoint (`/-/npm/v1/keys`), and a switch that serves other bytes
 * than the packument's integrity names (a swapped tarball).
 *
 * Tarballs are packed with `tar` (npm's implementation) under the `package/` prefix, gzipped, with a
 * fixed mtime, as `npm pack` lays them out.
 *
 * Tests only.
 *
 * @module
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Buffer } from "node:buffer";
import { create as tarCreate } from "tar";
import { startHttpsServer, type TestServer, testTls } from "../../lib/artifact/test_support.ts";

/** A file in a fixture package: text, or text with a mode (e.g. 0o755 for a bin). */
export type FixtureFile = string | { content: string; mode: number };

/**
 * Packs files into an npm tarball (`package/<path>`, gzip), deterministically (fixed mtime, portable).
 *
 * @param files path (relative to the package root) -> content; must include package.json
 * @returns the .tgz bytes
 */
export function packPackage(files: Record<string, FixtureFile>): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-pack-"));
  try {
    const root = join(dir, "package");
    for (const [path, f] of Object.entries(files)) {
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, typeof f === "string" ? f : f.content);
      chmodSync(full, typeof f === "string" ? 0o644 : f.mode);
    }
    const out = join(dir, "out.tgz");
    tarCreate(
      {
        gzip: true,
        file: out,
        cwd: dir,
        sync: true,
        portable: true,
        mtime: new Date("1985-10-26T08:15:00Z"),
      },
      Object.keys(files).sort().map((p) => `package/${p}`),
    );
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One version served by {@link startFixtureRegistry}. */
export interface FixtureVersion {
  name: string;
  version: string;
  /** The tarball bytes (the packument's integrity is theirs unless `integrity` is set). */
  tarball: Uint8Array;
  /** More manifest fields (bin, dependencies, optionalDependencies, os, cpu, libc, scripts, ...). */
  manifest?: Record<string, unknown>;
  /** Publish time (packument `time[version]`), ISO 8601. Default 2024-06-01T00:00:00.000Z. */
  time?: string;
  /** Overrides the packument's `dist.integrity` (to lie). */
  integrity?: string;
  /** Serve these bytes for the tarball instead of `tarball` (a swapped artifact). */
  serveTarball?: Uint8Array;
  /** Registry signatures to serve; when absent and the registry has a signing key, one is made. */
  signatures?: { keyid: string; sig: string }[];
  /** Serve no `dist.signatures` for this version even if the registry signs. */
  unsigned?: boolean;
  /**
   * npm attestations to serve: `dist.attestations = {url, provenance}` and this document at
   * `/-/npm/v1/attestations/<name>@<version>` (`{attestations: [{predicateType, bundle}]}`).
   */
  attestations?: unknown;
}

/** A registry signing key made at test time, as npm's keys endpoint describes one. */
export interface SigningKey {
  keyid: string;
  privateKey: KeyObject;
  /** npm's keys endpoint entry: `{expires, keyid, keytype, scheme, key}` (key: base64 SPKI DER). */
  entry: {
    expires: string | null;
    keyid: string;
    keytype: "ecdsa-sha2-nistp256";
    scheme: "ecdsa-sha2-nistp256";
    key: string;
  };
}

/** Makes a P-256 key pair and its keys-endpoint entry. */
export function makeSigningKey(
  keyid = "SHA256:mcptrust-test-key",
  expires: string | null = null,
): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const der = publicKey.export({ type: "spki", format: "der" }) as Buffer;
  return {
    keyid,
    privateKey: createPrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }) as string),
    entry: {
      expires,
      keyid,
      keytype: "ecdsa-sha2-nistp256",
      scheme: "ecdsa-sha2-nistp256",
      key: der.toString("base64"),
    },
  };
}

/** The registry signature npm serves: base64 DER ECDSA over `${name}@${version}:${integrity}`. */
export function signVersion(key: KeyObject, name: string, version: string, integrity: string): string {
  return sign("sha256", Buffer.from(`${name}@${version}:${integrity}`), key).toString("base64");
}

/** The sha512 SRI of bytes. */
export function sri512(bytes: Uint8Array): string {
  return `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
}

/** A running fixture registry. */
export interface FixtureRegistry {
  /** `https://localhost:<port>/` */
  url: string;
  /** The CA certificate (PEM) that signed the server certificate. */
  caPem: string;
  /** Requests seen. */
  server: TestServer;
  /** The versions served; tests may change fields (e.g. `serveTarball`) between requests. */
  versions: FixtureVersion[];
  /** The tarball URL of a version. */
  tarballUrl(name: string, version: string): string;
  close(): Promise<void>;
}

function tarballFile(name: string, version: string): string {
  return `${name.split("/").pop()}-${version}.tgz`;
}

/**
 * Starts the registry. Routes: `GET /<name>` (packument; scoped names as `@s/n` or `@s%2fn`),
 * `GET /<name>/<version>`, `GET /<name>/-/<file>.tgz`, `GET /-/npm/v1/keys` (when `signingKey` is set).
 * With `requireToken`, requests without `Authorization: Bearer <token>` get 401.
 */
export async function startFixtureRegistry(
  versions: FixtureVersion[],
  opts: {
    requireToken?: string;
    signingKey?: SigningKey;
    distTags?: Record<string, Record<string, string>>;
  } = {},
): Promise<FixtureRegistry> {
  let origin = "";
  const send = (res: import("node:http").ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  };
  const server = await startHttpsServer((req, res) => {
    if (opts.requireToken !== undefined && req.headers.authorization !== `Bearer ${opts.requireToken}`) {
      send(res, 401, { error: "authentication required" });
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? "/", "https://x").pathname).replace(/^\//, "");
    if (path === "-/npm/v1/keys" && opts.signingKey) {
      send(res, 200, { keys: [opts.signingKey.entry] });
      return;
    }
    const att = versions.find((v) =>
      v.attestations && path === `-/npm/v1/attestations/${v.name}@${v.version}`
    );
    if (att) {
      send(res, 200, att.attestations);
      return;
    }
    const tar = versions.find((v) => path === `${v.name}/-/${tarballFile(v.name, v.version)}`);
    if (tar) {
      const bytes = tar.serveTarball ?? tar.tarball;
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(bytes.length),
      });
      res.end(Buffer.from(bytes));
      return;
    }
    const doc = (v: FixtureVersion) => {
      const integrity = v.integrity ?? sri512(v.tarball);
      const dist: Record<string, unknown> = {
        integrity,
        shasum: createHash("sha1").update(v.tarball).digest("hex"),
        tarball: `${origin}${v.name}/-/${tarballFile(v.name, v.version)}`,
      };
      if (!v.unsigned) {
        if (v.signatures) dist.signatures = v.signatures;
        else if (opts.signingKey) {
          dist.signatures = [{
            keyid: opts.signingKey.keyid,
            sig: signVersion(opts.signingKey.privateKey, v.name, v.version, integrity),
          }];
        }
      }
      if (v.attestations) {
        dist.attestations = {
          url: `${origin}-/npm/v1/attestations/${v.name}@${v.version}`,
          provenance: { predicateType: "https://slsa.dev/provenance/v1" },
        };
      }
      return { ...v.manifest, name: v.name, version: v.version, dist };
    };
    const own = versions.filter((v) => path === v.name || path.startsWith(`${v.name}/`));
    const one = own.find((v) => path === `${v.name}/${v.version}`);
    if (one) {
      send(res, 200, doc(one));
      return;
    }
    if (own.length > 0 && path === own[0].name) {
      const name = own[0].name;
      send(res, 200, {
        name,
        "dist-tags": opts.distTags?.[name] ?? { latest: own.at(-1)!.version },
        versions: Object.fromEntries(own.map((v) => [v.version, doc(v)])),
        time: Object.fromEntries(own.map((v) => [v.version, v.time ?? "2024-06-01T00:00:00.000Z"])),
      });
      return;
    }
    send(res, 404, { error: "not found" });
  });
  origin = `${server.origin("localhost")}/`;
  return {
    url: origin,
    caPem: testTls().caPem,
    server,
    versions,
    tarballUrl: (name, version) => `${origin}${name}/-/${tarballFile(name, version)}`,
    close: () => server.close(),
  };
}
