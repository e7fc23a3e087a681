/**
 * Packuments (an npm registry's document for one package: every version's manifest, `dist-tags`,
 * publish `time`s) and the choice of one exact version for a spec, as npm makes it.
 *
 * The packument is fetched through the hardened fetcher ({@link fetchBytes}) in its full form
 * (`Accept: application/json`), because the abbreviated form (`application/vnd.npm.install-v1+json`)
 * has no `time` map and the registry signature check needs the publish time.
 *
 * Version choice follows npm-pick-manifest (what `npx` and `npm install` use):
 * - a dist-tag picks the version it points at;
 * - an exact version must exist;
 * - a range picks the `latest` tag's version when it satisfies the range and is not deprecated; else the
 *   highest satisfying version, non-deprecated ones first. Prereleases only satisfy ranges that name a
 *   prerelease (semver's default). The `engines` preference is not applied: the server runs on the
 *   runtime inside mcptrust, not on the machine's Node.
 *
 * @module
 */
import semver from "semver";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { fetchBytes, type FetchOptions } from "./fetcher.ts";

/** The `dist` block of a version manifest (what pinning reads). */
export interface PackumentDist {
  tarball?: string;
  integrity?: string;
  shasum?: string;
  /** Registry signatures: ECDSA over `${name}@${version}:${integrity}` (npm's registry signing). */
  signatures?: { keyid?: unknown; sig?: unknown }[];
  [key: string]: unknown;
}

/** One version's manifest in a packument. */
export interface VersionManifest {
  name?: string;
  version?: string;
  dist?: PackumentDist;
  deprecated?: unknown;
  bin?: unknown;
  [key: string]: unknown;
}

/** A packument, as far as pinning reads it. */
export interface Packument {
  name?: string;
  "dist-tags"?: Record<string, string>;
  versions: Record<string, VersionManifest>;
  /** Publish times by version (ISO 8601), plus `created`/`modified`. */
  time?: Record<string, string>;
}

/**
 * The packument URL of a package on a registry, as npm requests it: the name with its `/` escaped
 * (`@scope%2fname`), appended to the registry URL.
 *
 * @param registry absolute registry URL; a trailing slash is added if missing
 */
export function packumentUrl(registry: string, name: string): string {
  const base = registry.endsWith("/") ? registry : `${registry}/`;
  return `${base}${name.startsWith("@") ? name.replace("/", "%2f") : encodeURIComponent(name)}`;
}

/**
 * Fetches and parses a packument through the hardened fetcher.
 *
 * @param registry absolute registry URL
 * @param name package name
 * @param fetchOpts fetcher options (CA, allowHosts, token for the registry, warnings)
 * @throws FetchError (exit 2) for network refusals and HTTP errors (404: the package does not exist);
 *   McpTrustError (exit 2) if the body is not a packument
 */
export async function fetchPackument(
  registry: string,
  name: string,
  fetchOpts: FetchOptions = {},
): Promise<Packument> {
  const url = packumentUrl(registry, name);
  const { bytes } = await fetchBytes(url, { ...fetchOpts, headers: { accept: "application/json" } });
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new McpTrustError(`the registry's document for ${name} is not JSON`, {
      hint: `check that ${registry} is an npm registry`,
    });
  }
  return checkPackument(doc, name, registry);
}

/**
 * Checks that a parsed document looks like the packument of `name`.
 *
 * @throws McpTrustError (exit 2) if it has no `versions` object or names another package
 */
export function checkPackument(doc: unknown, name: string, registry = "the registry"): Packument {
  const p = doc as Packument;
  if (typeof doc !== "object" || doc === null || typeof p.versions !== "object" || p.versions === null) {
    throw new McpTrustError(`the registry's document for ${name} is not a packument (no versions)`, {
      hint: `check that ${registry} is an npm registry`,
    });
  }
  if (p.name !== undefined && p.name !== name) {
    throw new McpTrustError(
      `the registry answered for ${name} with the packument of ${JSON.stringify(p.name)}`,
      { hint: `check ${registry}; a registry must not serve one package under another's name` },
    );
  }
  return p;
}

/** The result of {@link pickVersion}. */
export interface PickedVersion {
  version: string;
  manifest: VersionManifest;
  /** How it was chosen, for messages: `exact`, `dist-tag latest`, `range ^1.0.0`. */
  how: string;
}

function notFound(name: string, spec: string, p: Packument, why: string): McpTrustError {
  const versions = Object.keys(p.versions).filter((v) => semver.valid(v) !== null).sort(semver.rcompare);
  const tags = Object.entries(p["dist-tags"] ?? {}).map(([t, v]) => `${t}=${v}`).join(", ");
  const shown = versions.slice(0, 8).join(", ") +
    (versions.length > 8 ? `, … (${versions.length} in all)` : "");
  return new McpTrustError(`cannot resolve ${name}@${spec}: ${why}`, {
    hint: `the registry has ${shown || "no versions"}${tags ? `; dist-tags: ${tags}` : ""}. ` +
      "Fix the version in the server command",
  });
}

/**
 * Picks the one exact version a spec resolves to (npm-pick-manifest's rules, see the module doc).
 *
 * @param packument the package's packument
 * @param name the package name (for messages)
 * @param spec a version, range or dist-tag, as written
 * @param specType how `spec` reads (lib/artifact/launcher.ts)
 * @throws McpTrustError (exit 2) when nothing matches (an unresolvable spec)
 */
export function pickVersion(
  packument: Packument,
  name: string,
  spec: string,
  specType: "version" | "range" | "tag",
): PickedVersion {
  const versions = packument.versions;
  const tags = packument["dist-tags"] ?? {};
  const found = (version: string, how: string): PickedVersion => {
    const manifest = versions[version];
    if (manifest === undefined || typeof manifest !== "object") {
      throw notFound(name, spec, packument, `the registry names version ${version} but does not serve it`);
    }
    return { version, manifest, how };
  };
  if (specType === "tag") {
    const v = Object.hasOwn(tags, spec) ? tags[spec] : undefined;
    if (typeof v !== "string") throw notFound(name, spec, packument, `no dist-tag ${JSON.stringify(spec)}`);
    return found(v, `dist-tag ${spec}`);
  }
  if (specType === "version") {
    const exact = semver.valid(spec, { loose: true });
    const v = Object.keys(versions).find((k) => k === spec || (exact !== null && semver.eq(k, exact, true)));
    if (v === undefined) throw notFound(name, spec, packument, `version ${spec} does not exist`);
    return found(v, "exact");
  }
  const range = spec === "" ? "*" : spec;
  if (semver.validRange(range, { loose: true }) === null) {
    throw notFound(name, spec, packument, "it is not a version, range or dist-tag");
  }
  const latest = tags.latest;
  if (
    typeof latest === "string" && versions[latest] !== undefined && !versions[latest].deprecated &&
    semver.satisfies(latest, range, { loose: true })
  ) {
    return found(latest, `range ${range} (dist-tag latest)`);
  }
  const candidates = Object.keys(versions)
    .filter((v) => semver.valid(v, { loose: true }) !== null && semver.satisfies(v, range, { loose: true }))
    .sort((a, b) => {
      const depA = versions[a].deprecated ? 1 : 0;
      const depB = versions[b].deprecated ? 1 : 0;
      return depA - depB || semver.rcompare(a, b, true);
    });
  if (candidates.length === 0) throw notFound(name, spec, packument, `no version satisfies ${range}`);
  return found(candidates[0], `range ${range}`);
}

/**
 * The `dist` facts pinning needs from a version manifest, checked.
 *
 * @returns the tarball URL and the SRI integrity (`dist.integrity`)
 * @throws CheckFailedError (exit 1) if the manifest names another package or version;
 *   McpTrustError (exit 2) if it has no tarball URL or no integrity (a `shasum`-only version cannot be
 *   pinned: sha1 is not evidence we rely on)
 */
export function distOf(
  manifest: VersionManifest,
  name: string,
  version: string,
): { tarball: string; integrity: string } {
  if (
    (manifest.name !== undefined && manifest.name !== name) ||
    (manifest.version !== undefined && manifest.version !== version)
  ) {
    throw new CheckFailedError(
      `the registry's manifest for ${name}@${version} names ${String(manifest.name)}@${
        String(manifest.version)
      }`,
      { hint: "the registry is inconsistent or tampered with; do not pin from it" },
    );
  }
  const tarball = manifest.dist?.tarball;
  const integrity = manifest.dist?.integrity;
  if (typeof tarball !== "string" || tarball === "") {
    throw new McpTrustError(`the registry gives no tarball URL for ${name}@${version}`, {
      hint: "check the registry; a version without dist.tarball cannot be pinned",
    });
  }
  if (typeof integrity !== "string" || integrity === "") {
    throw new McpTrustError(`the registry gives no integrity (dist.integrity) for ${name}@${version}`, {
      hint: "only versions with a sha512 integrity can be pinned (a sha1 shasum is not enough); " +
        "republish it from a current npm, or pin another version",
    });
  }
  return { tarball, integrity };
}

/** The publish time of a version from the packument's `time` map, or undefined. */
export function publishTime(packument: Packument, version: string): Date | undefined {
  const t = packument.time?.[version];
  if (typeof t !== "string") return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
