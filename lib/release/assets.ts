/**
 * What `make release` publishes besides the binaries (scripts/release.sh builds those): an archive per
 * binary, SHA256SUMS over binaries and archives, its Ed25519 signature SHA256SUMS.sig when a release key
 * is given, and a Sigstore bundle SHA256SUMS.sigstore.json when an OIDC identity is at hand (CI).
 *
 * @module
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { atomicWriteFile } from "../atomic_write.ts";
import { McpTrustError } from "../errors.ts";
import { readPrivateKeyFile } from "../crypto/keys.ts";
import { tarGzOneFile, zipOneFile } from "./archive.ts";
import { embeddedReleaseKey } from "./key.ts";
import { signSums, sumsSignatureProblem } from "./signature.ts";
import { formatSums, sha256File, type SumEntry } from "./sums.ts";

/** File names in a release directory. */
export const SUMS_FILE = "SHA256SUMS";
/** The Ed25519 signature of SHA256SUMS. */
export const SIG_FILE = "SHA256SUMS.sig";
/** The Sigstore bundle over SHA256SUMS. */
export const SIGSTORE_FILE = "SHA256SUMS.sigstore.json";

/** The release binary name of a target: `mcptrust-<version>-<os>-<arch>[.exe]`. */
export function binaryName(version: string, target: string): string {
  return `mcptrust-${version}-${target}${target.startsWith("windows-") ? ".exe" : ""}`;
}

/** The archive name of a target: `.zip` for Windows, `.tar.gz` otherwise. */
export function archiveName(version: string, target: string): string {
  return `mcptrust-${version}-${target}${target.startsWith("windows-") ? ".zip" : ".tar.gz"}`;
}

/** Options of {@link writeReleaseAssets}. */
export interface ReleaseAssetOptions {
  /** The directory holding the binaries (dist/release). */
  dir: string;
  version: string;
  /** Archive entry mtime, seconds since the epoch (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** PKCS#8 (or the Go tool's raw) Ed25519 private key file; no signature without it. */
  keyPath?: string;
  /** Also make a Sigstore bundle (needs an OIDC token: SIGSTORE_ID_TOKEN or GitHub Actions'). */
  sigstore?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@link writeReleaseAssets} wrote. */
export interface ReleaseAssets {
  archives: string[];
  sums: SumEntry[];
  signed: boolean;
  keyFingerprint?: string;
  sigstore: boolean;
}

/**
 * Writes the archives, SHA256SUMS, and the signatures the options allow, into `opts.dir`.
 *
 * @throws {McpTrustError} when no binary of `version` is in the directory, when the key cannot be read,
 *   or when it is not the release key embedded in this source (lib/release/key.ts, install.sh): a
 *   release signed with another key would be refused by every installer
 */
export async function writeReleaseAssets(opts: ReleaseAssetOptions): Promise<ReleaseAssets> {
  const log = opts.log ?? (() => {});
  const prefix = `mcptrust-${opts.version}-`;
  const binaries = readdirSync(opts.dir).filter((f) =>
    f.startsWith(prefix) && !f.endsWith(".tar.gz") && !f.endsWith(".zip")
  ).sort();
  if (!binaries.length) {
    throw new McpTrustError(`no ${prefix}* binaries in ${opts.dir}`, { hint: "run `make release`" });
  }
  // Read and check the key before any output, so a bad key leaves nothing half-made.
  const key = opts.keyPath === undefined ? undefined : readPrivateKeyFile(opts.keyPath);
  const embedded = embeddedReleaseKey();
  if (key && embedded && embedded.fingerprint !== key.publicKey.fingerprint) {
    throw new McpTrustError(
      `the signing key ${key.publicKey.fingerprint} is not the release key embedded in install.sh and ` +
        `lib/release/key.ts (${embedded.fingerprint})`,
      { hint: "sign with the release key, or (key rotation) embed the new public key in both files first" },
    );
  }
  for (const stale of [SUMS_FILE, SIG_FILE, SIGSTORE_FILE]) rmSync(join(opts.dir, stale), { force: true });

  const archives: string[] = [];
  for (const bin of binaries) {
    const target = bin.slice(prefix.length).replace(/\.exe$/, "");
    const data = readFileSync(join(opts.dir, bin));
    const name = archiveName(opts.version, target);
    const bytes = target.startsWith("windows-")
      ? zipOneFile("mcptrust.exe", data)
      : tarGzOneFile("mcptrust", data, 0o755, opts.mtime);
    atomicWriteFile(join(opts.dir, name), bytes, { mode: 0o644 });
    archives.push(name);
    log(`archived ${bin} -> ${name} (${bytes.length} bytes)`);
  }
  const sums: SumEntry[] = [];
  for (const f of [...binaries, ...archives]) {
    sums.push({ name: f, sha256: await sha256File(join(opts.dir, f)) });
  }
  const sumsText = formatSums(sums);
  const sumsBytes = new TextEncoder().encode(sumsText);
  atomicWriteFile(join(opts.dir, SUMS_FILE), sumsBytes, { mode: 0o644 });
  log(`wrote ${SUMS_FILE} (${sums.length} files)`);

  const result: ReleaseAssets = { archives, sums, signed: false, sigstore: false };
  if (key) {
    const sig = signSums(sumsBytes, key);
    const problem = sumsSignatureProblem(sumsBytes, sig, key.publicKey);
    if (problem) throw new McpTrustError(`the new signature does not verify: ${problem}`);
    atomicWriteFile(join(opts.dir, SIG_FILE), sig, { mode: 0o644 });
    result.signed = true;
    result.keyFingerprint = key.publicKey.fingerprint;
    log(`signed ${SUMS_FILE} -> ${SIG_FILE} with ${key.publicKey.fingerprint}`);
    if (!embedded) {
      log(
        "warning: install.sh and lib/release/key.ts embed no release key yet; installers will refuse this " +
          "release until the public key is embedded (docs/CI.md)",
      );
    }
  } else {
    log(`not signed: no release key given (MCPTRUST_RELEASE_KEY); ${SIG_FILE} was not written`);
  }
  if (opts.sigstore) {
    const { signWithSigstore } = await import("../crypto/sigstore.ts");
    const bundle = await signWithSigstore(sumsBytes, {});
    atomicWriteFile(join(opts.dir, SIGSTORE_FILE), JSON.stringify(bundle) + "\n", { mode: 0o644 });
    result.sigstore = true;
    log(`signed ${SUMS_FILE} with Sigstore -> ${SIGSTORE_FILE}`);
  }
  return result;
}

/** True when this process has an OIDC identity for Sigstore (SIGSTORE_ID_TOKEN, or GitHub Actions'). */
export function hasOidcIdentity(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(
    env.SIGSTORE_ID_TOKEN || (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN),
  );
}
