/**
 * `lock --pin`: the exact npm artifact a launcher command runs, and its whole dependency tree, pinned
 * for `run --lock` (under `server.artifact` in the lockfile).
 *
 * Steps, each failing closed:
 * 1. read the launcher command (lib/artifact/launcher.ts): package, spec, bin, server arguments;
 *    anything that is not a registry package is refused (exit 2);
 * 2. choose the registry as npm does (lib/artifact/npmrc.ts): `--registry`, else the launcher's own
 *    `--registry`, else .npmrc and the environment; `@scope:registry` wins for scoped packages;
 *    tokens are used for requests and never printed, logged or written;
 * 3. fetch the packument through the hardened fetcher and pick one exact version (range or dist-tag ->
 *    version, lib/artifact/packument.ts; unresolvable -> exit 2);
 * 4. check the registry signature of that version (lib/artifact/registry_signature.ts): recorded as
 *    verified / absent / failed; a signature that does not verify under a known, valid key is refused
 *    (exit 1): the integrity served is not the one the registry signed;
 * 5. resolve the whole tree with the package manager inside mcptrust (lib/artifact/resolve.ts) and read
 *    every package's install path, version, tarball URL, integrity and platform constraints;
 * 6. download every tarball through the hardened fetcher, check its integrity while it streams (a
 *    mismatch is exit 1) and check that it would unpack safely (lib/runner/extract.ts's checks), all
 *    before anything is written; the package itself also gets the sha256 and size of the bytes;
 * 7. read the package's own package.json from its verified tarball: name and version must match, and
 *    the bin the launcher would run gives `launch.entry`;
 * 8. with `--verify-provenance`, verify the registry's npm attestations against the verified integrity
 *    and record them (lib/artifact/provenance.ts); a downgrade or identity change is exit 1.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { posix } from "node:path";
import { Buffer } from "node:buffer";
import { Parser } from "tar/parse";
import type { ReadEntry } from "tar/read-entry";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import type {
  ArtifactPin,
  PinnedDependency,
  ProvenanceInfo,
  RegistrySignatureRecord,
} from "../lockfile/types.ts";
import { inspectTarball } from "../runner/extract.ts";
import { classifyAddress, isIpLiteral } from "./address.ts";
import {
  BlockedAddressError,
  displayUrl,
  fetchHardened,
  FetchNetworkError,
  type FetchOptions,
  type ResolvedAddress,
  type Resolver,
  systemResolver,
  validateFetchUrl,
} from "./fetcher.ts";
import { IntegrityHasher, type SriAlgorithm, strongestSri, verifySri } from "./integrity.ts";
import { type LauncherCommand, parseLauncher } from "./launcher.ts";
import { loadNpmConfig, type NpmConfig, type NpmConfigOptions } from "./npmrc.ts";
import { distOf, fetchPackument, packumentUrl, pickVersion, publishTime } from "./packument.ts";
import {
  fetchAttestations,
  provenanceChange,
  type ProvenanceRecord,
  verifyAttestations,
} from "./provenance.ts";
import { embeddedRegistryKeys, type RegistryKey } from "./registry_keys.ts";
import { checkRegistrySignature, type SignatureCheck } from "./registry_signature.ts";
import { type BunRegistries, parseBunLock, resolveWithBun } from "./resolve.ts";

/** Options for {@link pinNpmArtifact}. */
export interface PinOptions {
  /** `--registry`: the registry for the package (scoped .npmrc registries still win, as in npm). */
  registry?: string;
  /** Registry hosts allowed to resolve to private addresses (`--allow-host`). */
  allowHosts?: readonly string[];
  /** Trusted CA certificates (PEM) for the registry (`--ca`), instead of the system roots. */
  caPem?: string;
  /** Registry signing keys (`--registry-keys`); default: the keys embedded from @sigstore/tuf. */
  registryKeys?: readonly RegistryKey[];
  /** Where .npmrc files and the environment are read from (tests). */
  npmConfig?: NpmConfigOptions;
  /** The Bun executable that resolves the tree (default: this binary, or the toolchain's under tests). */
  runtime?: string;
  /** The lockfile's previous pin: its `registry_signature.checked_at` is kept when nothing changed. */
  previous?: ArtifactPin;
  /** The check time. Default now. */
  now?: Date;
  /** Name resolution for the fetcher (tests). */
  resolve?: Resolver;
  /** Receives warning lines (private hosts allowed, .npmrc notes, signature problems), each once. */
  onWarning?: (line: string) => void;
  /** Parallel tarball downloads. Default 6. */
  concurrency?: number;
  /**
   * `--verify-provenance`: verify the registry's npm attestations (lib/artifact/provenance.ts) and record
   * them. Also on when the previous pin recorded verified provenance (it must not be lost silently).
   */
  verifyProvenance?: boolean;
  /** `--expected-source`: the repository the package must be built from (`https://github.com/o/r`). */
  expectedSource?: string;
  /** `--require-provenance`: no attestations is a failure (exit 1). */
  requireProvenance?: boolean;
  /** `--force`: accept a provenance downgrade or identity change against the previous pin. */
  force?: boolean;
  /** The Sigstore trusted root for attestations (tests); default the embedded public-good root. */
  trustedRoot?: unknown;
}

/** The result of {@link pinNpmArtifact}. */
export interface PinResult {
  /** The pin to store under `server.artifact`. */
  pin: ArtifactPin & { type: "npm"; name: string; version: string };
  /** The launcher command as read. */
  command: LauncherCommand;
  /** How the version was chosen (`exact`, `range ^1.0.0 (dist-tag latest)`, ...). */
  how: string;
  /** One-line notes for the user (e.g. "the registry serves no signatures"). Never contain a token. */
  notes: string[];
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Checks a registry URL before the package manager talks to it: https, no credentials, and every address
 * its host resolves to is public unless the host is allowed by name (the fetcher's rules, applied to the
 * registries Bun reads packuments from; Bun resolves the name again itself).
 *
 * @throws UnsafeUrlError, BlockedAddressError, FetchNetworkError (exit 2)
 */
export async function checkRegistryHost(url: string, opts: FetchOptions): Promise<void> {
  const u = validateFetchUrl(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const shown = displayUrl(u);
  const allowed = (opts.allowHosts ?? []).some((h) => h.replace(/^\[(.*)\]$/, "$1").toLowerCase() === host);
  let addrs: string[];
  if (isIpLiteral(host)) addrs = [host];
  else {
    try {
      addrs = (await (opts.resolve ?? systemResolver)(host)).map((a) => a.address);
    } catch (err) {
      throw new FetchNetworkError(`cannot resolve ${host} (registry ${shown})`, shown, {
        code: (err as { code?: string }).code,
        hint: "check the registry URL and that this machine can resolve it",
      });
    }
  }
  for (const a of addrs) {
    const c = classifyAddress(a);
    if (c.public || allowed) continue;
    throw new BlockedAddressError(
      `refused the registry ${shown}: ${host} resolves to ${a}, a ${c.description} address, not a public one`,
      shown,
      host,
      a,
      c.range,
      `if ${host} is your internal registry, allow it by name (--allow-host ${host})`,
    );
  }
}

/**
 * A resolver that asks `base` once per host name for the whole pin: every request (the packument, 100+
 * tarballs) then connects to the same checked addresses, and a slow resolver is paid once (measured here:
 * an occasional 5 s getaddrinfo stall, and EAI_AGAIN with 100 lookups at once). A failed lookup is not kept.
 */
export function memoResolver(base: Resolver): Resolver {
  const cache = new Map<string, Promise<ResolvedAddress[]>>();
  return (host) => {
    let p = cache.get(host);
    if (p === undefined) {
      p = base(host);
      cache.set(host, p);
      p.catch(() => cache.delete(host));
    }
    return p;
  };
}

/** The bins of a package.json as npm normalizes them: a string means one bin named after the package. */
export function binsOf(pkg: Record<string, unknown>): Record<string, string> {
  const name = typeof pkg.name === "string" ? pkg.name : "";
  if (typeof pkg.bin === "string") return { [name.replace(/^@[^/]+\//, "")]: pkg.bin };
  const out: Record<string, string> = {};
  if (typeof pkg.bin === "object" && pkg.bin !== null) {
    for (const [k, v] of Object.entries(pkg.bin as Record<string, unknown>)) {
      if (typeof v === "string") out[k.replace(/^@[^/]+\//, "")] = v;
    }
  }
  return out;
}

/** A bin path relative to the package root, as npm's normalize-package-bin makes it (no `./`, `/`-separated). */
function normalizeBinPath(raw: string): string {
  return posix.normalize(raw.replace(/\\/g, "/")).replace(/^(\.\/)+/, "");
}

/**
 * The bin a launcher runs, as npx chooses it (libnpmexec `getBinFromManifest`): the one named with
 * `--package`; else the only bin (or several names for one file); else the bin named like the package
 * without its scope.
 *
 * @returns the bin name and its file, normalized relative to the package root (no `./`)
 * @throws McpTrustError (exit 2) when there is no bin, the named bin does not exist, or the choice is
 *   ambiguous; CheckFailedError (exit 1) when the file escapes the package
 */
export function chooseBin(
  pkg: Record<string, unknown>,
  name: string,
  wanted: string | undefined,
): { bin: string; entry: string } {
  const bins = binsOf(pkg);
  const names = Object.keys(bins);
  let bin: string | undefined;
  if (wanted !== undefined) {
    if (!Object.hasOwn(bins, wanted)) {
      throw new McpTrustError(
        `${name} has no bin named ${JSON.stringify(wanted)}` +
          (names.length ? ` (it has: ${names.join(", ")})` : " (it has none)"),
        { hint: "name one of its bins, or drop --package" },
      );
    }
    bin = wanted;
  } else if (names.length === 0) {
    throw new McpTrustError(`${name} has no bin: there is nothing for the launcher to run`, {
      hint: "pin the package that provides the server's command",
    });
  } else if (new Set(Object.values(bins).map(normalizeBinPath)).size === 1) bin = names[0];
  else if (Object.hasOwn(bins, name.replace(/^@[^/]+\//, ""))) bin = name.replace(/^@[^/]+\//, "");
  else {
    throw new McpTrustError(
      `${name} has several bins (${names.join(", ")}) and none is named like the package`,
      { hint: `name the bin as npx needs it: npx -y --package=${name}@<version> -- <bin> [args]` },
    );
  }
  const raw = bins[bin];
  const entry = normalizeBinPath(raw);
  if (entry === "" || entry === "." || entry.startsWith("../") || entry === ".." || posix.isAbsolute(entry)) {
    throw new CheckFailedError(
      `the bin ${bin} of ${name} points outside the package (${JSON.stringify(raw)})`,
      {
        hint: "do not run this package",
      },
    );
  }
  return { bin, entry };
}

/**
 * Reads `package.json` from an npm tarball (the first path component stripped). The tarball must have
 * passed {@link inspectTarball} (so its size is bounded and its entries are sane).
 *
 * @throws CheckFailedError (exit 1) if there is no package.json or it is not a JSON object
 */
export function readPackageJson(tgz: Uint8Array, label: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let found = false;
    const parser = new Parser({ strict: true });
    parser.on("entry", (e: ReadEntry) => {
      const stripped = e.path.split("/").slice(1).join("/");
      if (!found && stripped === "package.json" && e.type === "File") {
        found = true;
        e.on("data", (c: Buffer) => chunks.push(c));
      } else e.resume();
    });
    parser.on("error", reject);
    parser.on("end", () => {
      const missing = () =>
        new CheckFailedError(`the tarball of ${label} has no readable package.json`, {
          hint: "the artifact is not a valid npm package; do not run it",
        });
      if (!found) return reject(missing());
      try {
        const pkg = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (typeof pkg !== "object" || pkg === null || Array.isArray(pkg)) return reject(missing());
        resolve(pkg);
      } catch {
        reject(missing());
      }
    });
    parser.end(gunzipSync(tgz));
  });
}

/** A downloaded, verified tarball. */
interface Verified {
  bytes: Uint8Array;
  sha256Hex: string;
  size: number;
  /** The integrity to record: as served, or sha512 of the bytes for a registry that served sha1 only. */
  integrity: string;
  entries: string[];
}

/**
 * Downloads one tarball through the hardened fetcher, checks its integrity while it streams, and checks
 * it would unpack safely.
 *
 * @throws CheckFailedError (exit 1) on an integrity mismatch or an unsafe tarball; FetchError (exit 2)
 */
async function downloadVerified(
  url: string,
  integrity: string,
  label: string,
  fetchOpts: FetchOptions,
  notes: string[],
): Promise<Verified> {
  let algorithm: SriAlgorithm | undefined;
  let sha1: string | undefined;
  try {
    algorithm = strongestSri(integrity, label).algorithm;
  } catch (err) {
    // A registry that serves only a sha1 (pre-2017 packages): check that, record sha512 of the bytes.
    const m = /(?:^|\s)sha1-([A-Za-z0-9+/]+={0,2})(?:\s|$)/.exec(integrity);
    if (!m) throw err;
    sha1 = Buffer.from(m[1], "base64").toString("hex");
  }
  const res = await fetchHardened(url, fetchOpts);
  const hasher = new IntegrityHasher(algorithm === "sha384" ? ["sha384"] : []);
  const sha1Hash = sha1 !== undefined ? createHash("sha1") : undefined;
  const chunks: Uint8Array[] = [];
  for await (const c of res.body) {
    hasher.update(c);
    sha1Hash?.update(c);
    chunks.push(c);
  }
  const digests = hasher.digest();
  let recorded = integrity;
  if (sha1Hash !== undefined) {
    const got = sha1Hash.digest("hex");
    if (got !== sha1) {
      throw new CheckFailedError(
        `integrity mismatch for ${label}: pinned sha1 ${sha1}, downloaded bytes are ${got}`,
        {
          hint: "the bytes served are not the bytes the registry names: do not run them",
        },
      );
    }
    recorded = digests.sri;
    notes.push(
      `${label}: the registry gives only a sha1; recorded the sha512 of the bytes checked against it`,
    );
  } else verifySri(integrity, digests, label);
  const bytes = new Uint8Array(Buffer.concat(chunks));
  const { entries } = await inspectTarball(bytes, label);
  return {
    bytes,
    sha256Hex: digests.sha256Hex,
    size: digests.size,
    integrity: recorded,
    entries: entries.filter((e) => e.type === "file").map((e) => e.path),
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}

function scopeOf(name: string): string | undefined {
  return /^(@[^/]+)\//.exec(name)?.[1];
}

/**
 * Resolves the tree with Bun, adding the registries of scopes the .npmrc serves elsewhere (found in the
 * package's direct dependencies up front, then in each resolved tree) until every scoped package came
 * from its configured registry.
 */
async function resolveTree(
  name: string,
  version: string,
  directDeps: readonly string[],
  cfg: NpmConfig,
  opts: PinOptions,
  fetchBase: FetchOptions,
): Promise<PinnedDependency[]> {
  const defaultRegistry = cfg.registryFor("mcptrust-unscoped-probe").url;
  const regs: BunRegistries & { scopes: Record<string, string>; tokens: Record<string, string> } = {
    registry: defaultRegistry,
    scopes: {},
    tokens: {},
  };
  const checked = new Set<string>();
  const use = async (url: string) => {
    if (!checked.has(url)) {
      await checkRegistryHost(url, fetchBase);
      checked.add(url);
    }
    const t = cfg.tokenFor(url)?.reveal();
    if (t !== undefined) regs.tokens[url] = t;
  };
  const registryOf = (n: string) => {
    const s = scopeOf(n);
    return (s !== undefined ? regs.scopes[s] : undefined) ?? regs.registry;
  };
  const addScopes = async (names: Iterable<string>): Promise<boolean> => {
    let added = false;
    for (const n of names) {
      const s = scopeOf(n);
      if (s === undefined) continue;
      const want = cfg.registryFor(n).url;
      if (want !== registryOf(n)) {
        await use(want);
        regs.scopes[s] = want;
        added = true;
      }
    }
    return added;
  };
  await use(defaultRegistry);
  await addScopes([name, ...directDeps]);
  for (let round = 0; round < 5; round++) {
    const text = await resolveWithBun({
      name,
      version,
      registries: regs,
      caPem: opts.caPem,
      runtime: opts.runtime,
    });
    const deps = parseBunLock(text, { registryFor: registryOf });
    if (!(await addScopes(deps.map((d) => d.name)))) return deps;
  }
  throw new McpTrustError(
    `resolving the dependency tree of ${name}@${version} did not settle on registries`,
    {
      hint: "check the @scope:registry lines of your .npmrc",
    },
  );
}

/** The signature record to store, keeping the previous `checked_at` when the same check gave the same result. */
function signatureRecord(
  check: SignatureCheck,
  now: Date,
  previous: ArtifactPin | undefined,
  same: boolean,
): RegistrySignatureRecord {
  const rec: RegistrySignatureRecord = { status: check.status };
  if (check.status !== "absent" && check.keyid !== undefined) rec.keyid = check.keyid;
  if (check.status === "absent") return rec;
  const prev = previous?.registry_signature;
  rec.checked_at = same && prev?.status === rec.status && prev.keyid === rec.keyid &&
      typeof prev.checked_at === "string"
    ? prev.checked_at
    : rfc3339(now);
  return rec;
}

/**
 * Pins the npm package a launcher command runs, with its whole dependency tree (see the module doc).
 *
 * @param argv the server command, e.g. `["npx", "-y", "@scope/pkg@^1", "--flag"]`
 * @returns the pin for `server.artifact`, how the version was chosen, and notes to print
 * @throws McpTrustError (exit 2): not a registry package, an unresolvable spec, network refusals,
 *   registry errors; CheckFailedError (exit 1): an integrity mismatch, a registry signature that does
 *   not verify, an unsafe tarball, a tarball whose package.json names another package
 */
export async function pinNpmArtifact(argv: readonly string[], opts: PinOptions = {}): Promise<PinResult> {
  const now = opts.now ?? new Date();
  const notes: string[] = [];
  const warned = new Set<string>();
  const warn = (line: string) => {
    if (warned.has(line)) return;
    warned.add(line);
    opts.onWarning?.(line);
  };
  const command = parseLauncher(argv);
  const cfg = loadNpmConfig({ ...opts.npmConfig, cliRegistry: opts.registry ?? command.registry });
  for (const w of cfg.warnings) warn(w);
  const registry = cfg.registryFor(command.name).url;
  const fetchBase: FetchOptions = {
    allowHosts: opts.allowHosts,
    ca: opts.caPem,
    resolve: memoResolver(opts.resolve ?? systemResolver),
    onWarning: warn,
  };
  const fetchFor = (url: string): FetchOptions => ({ ...fetchBase, authToken: cfg.tokenFor(url)?.reveal() });

  // 3. The packument, one exact version.
  const packument = await fetchPackument(
    registry,
    command.name,
    fetchFor(packumentUrl(registry, command.name)),
  );
  const picked = pickVersion(packument, command.name, command.spec, command.specType);
  const { name } = command;
  const { version } = picked;
  const dist = distOf(picked.manifest, name, version);
  const label = `${name}@${version}`;

  // 4. The registry signature.
  const keys = opts.registryKeys ?? embeddedRegistryKeys();
  const check = checkRegistrySignature({
    name,
    version,
    integrity: dist.integrity,
    signatures: picked.manifest.dist?.signatures,
    publishedAt: publishTime(packument, version),
    keys,
    now,
  });
  if (check.status === "failed" && check.reason === "bad-signature") {
    throw new CheckFailedError(check.message, {
      hint: "the registry's answer was changed after it was signed (or the mirror rewrote it); do not pin it",
    });
  }
  if (check.status === "absent") notes.push(`${registry} serves no registry signature for ${label}`);
  if (check.status === "failed") {
    warn(
      `registry signature of ${label} not verified: ${check.message}` +
        (check.reason === "unknown-key" ? " (pass the registry's keys with --registry-keys)" : ""),
    );
  }

  // 5. The whole tree, resolved by the package manager.
  const direct = ["dependencies", "optionalDependencies", "peerDependencies"].flatMap((k) =>
    Object.keys((picked.manifest[k] as Record<string, string> | undefined) ?? {})
  );
  const deps = await resolveTree(name, version, direct, cfg, opts, fetchBase);
  const topPath = `node_modules/${name}`;
  const top = deps.find((d) => d.path === topPath);
  if (top === undefined || top.name !== name || top.version !== version) {
    throw new CheckFailedError(
      `the package manager resolved ${
        top ? `${top.name}@${top.version}` : "nothing"
      } at ${topPath}, not ${label}`,
      { hint: "the registry answered inconsistently; retry, and do not pin if it persists" },
    );
  }
  if (top.integrity !== dist.integrity) {
    throw new CheckFailedError(
      `the registry gave two integrities for ${label}: ${dist.integrity} (packument) and ${top.integrity} ` +
        "(to the package manager)",
      { hint: "the registry answered inconsistently; do not pin from it" },
    );
  }
  top.tarball_url = dist.tarball;

  // 6. Every tarball downloaded and checked before anything is written.
  const verified = await mapLimit(
    deps,
    opts.concurrency ?? 6,
    (d) =>
      downloadVerified(d.tarball_url, d.integrity, `${d.name}@${d.version}`, fetchFor(d.tarball_url), notes),
  );
  deps.forEach((d, i) => d.integrity = verified[i].integrity);
  const topBytes = verified[deps.indexOf(top)];

  // 7. The package's own package.json: identity and the bin the launcher runs.
  const pkg = await readPackageJson(topBytes.bytes, label);
  if (pkg.name !== name || pkg.version !== version) {
    throw new CheckFailedError(
      `the tarball of ${label} holds the package.json of ${String(pkg.name)}@${String(pkg.version)}`,
      { hint: "the artifact is not what the registry names; do not run it" },
    );
  }
  const { bin, entry } = chooseBin(pkg, name, command.bin);
  if (!topBytes.entries.includes(entry)) {
    throw new McpTrustError(`the bin ${bin} of ${label} names ${entry}, which is not in the package`, {
      hint: "the package is broken; pin another version",
    });
  }

  // 8. Provenance (npm attestations), checked against the verified integrity.
  const provenance = await checkProvenance(
    opts,
    registry,
    picked.manifest.dist as Record<string, unknown> | undefined,
    { name, version, integrity: top.integrity },
    fetchFor,
    notes,
    warn,
  );

  const same = opts.previous?.name === name && opts.previous?.version === version &&
    opts.previous?.integrity === top.integrity;
  const pin: PinResult["pin"] = {
    type: "npm",
    name,
    version,
    registry,
    integrity: top.integrity,
    tarball_url: dist.tarball,
    tarball_sha256: topBytes.sha256Hex,
    tarball_size: topBytes.size,
    launch: { bin, entry, args: [...command.args] },
    dependencies: deps,
    registry_signature: signatureRecord(check, now, opts.previous, same),
  };
  if (provenance) pin.provenance = provenance;
  return { pin, command, how: picked.how, notes };
}

/**
 * Step 8 of the pin: with `--verify-provenance` (or a previous pin with verified provenance), fetches and
 * verifies the version's npm attestations, and refuses a downgrade or identity change unless `--force`.
 *
 * @throws CheckFailedError (exit 1): attestations that do not verify or match; none with
 *   `--require-provenance`; a downgrade or identity change without `--force`
 */
async function checkProvenance(
  opts: PinOptions,
  registry: string,
  dist: Record<string, unknown> | undefined,
  pkg: { name: string; version: string; integrity: string },
  fetchFor: (url: string) => FetchOptions,
  notes: string[],
  warn: (line: string) => void,
): Promise<ProvenanceRecord | undefined> {
  const previous = opts.previous?.name === pkg.name ? opts.previous.provenance : undefined;
  if (!opts.verifyProvenance && !opts.requireProvenance && previous?.verified !== true) return undefined;
  const label = `${pkg.name}@${pkg.version}`;
  const attestations = await fetchAttestations(registry, dist, fetchFor(registry));
  let record: ProvenanceRecord | undefined;
  if (attestations === undefined || attestations.length === 0) {
    notes.push(`${registry} serves no provenance attestations for ${label}`);
  } else {
    record = await verifyAttestations({
      ...pkg,
      attestations,
      registryKeys: opts.registryKeys,
      expectedSource: opts.expectedSource,
      trustedRoot: opts.trustedRoot,
      now: opts.now,
    });
    if (!record) notes.push(`${registry} serves a publish attestation but no SLSA provenance for ${label}`);
  }
  if (!record && opts.requireProvenance) {
    throw new CheckFailedError(`${label} has no verifiable provenance, and --require-provenance is set`, {
      hint:
        "pin a version published with provenance (npm publish --provenance), or drop --require-provenance",
    });
  }
  const change = provenanceChange(previous, record, label);
  if (change !== undefined) {
    if (!opts.force) {
      throw new CheckFailedError(change, {
        hint: "review who publishes this package now; if the change is intended, lock again with --force",
      });
    }
    warn(`${change} (accepted with --force)`);
  }
  if (record && previous?.verified === true && sameIdentity(previous, record)) {
    record.verified_at = previous.verified_at ?? record.verified_at;
  }
  return record;
}

function sameIdentity(a: ProvenanceInfo, b: ProvenanceRecord): boolean {
  const p = a as Partial<ProvenanceRecord>;
  return p.workflow_uri === b.workflow_uri && p.commit === b.commit && p.log_index === b.log_index &&
    p.source_repo === b.source_repo;
}
