/**
 * `bundle verify`: check an approval bundle offline and say what it approves.
 *
 * Order, each step failing closed: safe ZIP structure and caps (zip_read.ts) -> manifest.json present
 * and well-formed -> the set of entries equals the manifest's list plus manifest.json -> every entry's
 * SHA-256 and size match -> the lockfile signature verifies against the user's trust material (`--key`
 * or Sigstore identity flags), or, when no `--key` is given, against the public key shipped in the bundle
 * (reported loudly: that key is only a claim by whoever made the bundle) -> the lockfile is a valid
 * lockfile -> README.txt says exactly what the verified lockfile says.
 *
 * Exit codes: 0 valid; 1 the bundle is invalid (unsafe, incomplete, altered, or the signature does not
 * match); 2 unusable input (the file is missing or not a ZIP archive, or trust flags are missing or wrong).
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { parseLockfile } from "../lockfile/load.ts";
import { parsePublicKeyBytes, type PublicKey } from "../crypto/keys.ts";
import { parseSignedDocument } from "../crypto/signed_document.ts";
import { type FallbackKey, resolveTrust, type TrustFlags } from "../crypto/trust.ts";
import {
  checkSignature,
  parseSignatureFile,
  type VerifiedLockfile,
  type VerifyDeps,
} from "../crypto/verifier.ts";
import { ENTRY, type Manifest, type ManifestFile, parseManifest } from "./manifest.ts";
import { renderReadme } from "./readme.ts";
import { type ApprovalSummary, summarizeLockfile } from "./summary.ts";
import {
  BUNDLE_ZIP_LIMITS,
  extractEntry,
  NotAZipError,
  readZipDirectory,
  UnsafeZipError,
} from "./zip_read.ts";

/** How the signer's identity was established. */
export type TrustSource =
  /** `--key`: a key the auditor chose. */
  | "key-flag"
  /** public.key inside the bundle: only proves the bundle is self-consistent. */
  | "bundled-key"
  /** Sigstore certificate identity named by the auditor. */
  | "sigstore-identity";

/** The outcome of a successful {@link verifyBundle}. */
export interface BundleReport {
  bundle: { path: string; sha256: string; entries: number };
  manifest: Manifest;
  verified: VerifiedLockfile;
  trustSource: TrustSource;
  /** Things the auditor must read: the bundled-key warning, a mismatching bundled key. */
  warnings: string[];
  summary: ApprovalSummary;
  /** Entries besides the lockfile, signature and README (public key, policy, evidence). */
  otherFiles: ManifestFile[];
}

/** Printed whenever the bundle's own public key was used. */
export const BUNDLED_KEY_WARNING =
  "the signature was checked against the public key shipped INSIDE the bundle. " +
  "That only proves the bundle is consistent with itself: anyone who altered the lockfile could re-sign it " +
  "and ship their own key. Compare the fingerprint with one you obtained independently, or pass --key.";

const invalid = (source: string, msg: string, hint?: string): CheckFailedError =>
  new CheckFailedError(`bundle ${source} is invalid: ${msg}`, {
    hint: hint ?? "do not use this bundle; ask its publisher for a fresh one",
  });

/**
 * Verifies an approval bundle (steps and exit codes in the module note).
 *
 * @param inputs the bundle bytes and where they came from; the auditor's trust flags
 * @throws {CheckFailedError} exit 1 when the bundle is invalid
 * @throws {McpTrustError} exit 2 when the input is not a ZIP archive or the trust flags are unusable
 */
export async function verifyBundle(
  inputs: { bundle: { path: string; bytes: Uint8Array }; flags: TrustFlags },
  deps: VerifyDeps = {},
): Promise<BundleReport> {
  const src = inputs.bundle.path;
  const zip = inputs.bundle.bytes;
  let dir;
  try {
    dir = readZipDirectory(zip, BUNDLE_ZIP_LIMITS);
  } catch (err) {
    if (err instanceof NotAZipError) {
      throw new McpTrustError(`cannot read bundle ${src}: ${err.message}`, {
        hint: "pass the approval bundle written by `mcptrust bundle export`",
      });
    }
    if (err instanceof UnsafeZipError) throw invalid(src, err.message);
    throw err;
  }
  const byName = new Map(dir.map((e) => [e.name, e]));
  const extract = (name: string): Uint8Array => {
    try {
      return extractEntry(zip, byName.get(name)!);
    } catch (err) {
      if (err instanceof UnsafeZipError) throw invalid(src, err.message);
      throw err;
    }
  };

  // The manifest and the archive must list exactly the same entries.
  if (!byName.has(ENTRY.manifest)) throw invalid(src, `it has no ${ENTRY.manifest}`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(new TextDecoder("utf-8", { fatal: true }).decode(extract(ENTRY.manifest)));
  } catch (err) {
    if (err instanceof McpTrustError) throw err;
    throw invalid(src, `${ENTRY.manifest} is malformed: ${(err as Error).message}`);
  }
  const listed = new Map(manifest.files.map((f) => [f.name, f]));
  for (const e of dir) {
    if (e.name !== ENTRY.manifest && !listed.has(e.name)) {
      throw invalid(src, `it holds ${JSON.stringify(e.name)}, which ${ENTRY.manifest} does not list`);
    }
  }
  for (const f of manifest.files) {
    if (!byName.has(f.name)) {
      throw invalid(src, `${ENTRY.manifest} lists ${JSON.stringify(f.name)}, which is missing`);
    }
  }
  for (const required of [ENTRY.lockfile, ENTRY.signature, ENTRY.readme]) {
    if (!listed.has(required)) throw invalid(src, `it has no ${required}`);
  }
  const data = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const bytes = extract(f.name);
    if (bytes.length !== f.size || bytesToHex(sha256(bytes)) !== f.sha256) {
      throw invalid(
        src,
        `${JSON.stringify(f.name)} does not match its SHA-256 or size in ${ENTRY.manifest} (altered?)`,
      );
    }
    data.set(f.name, bytes);
  }

  // The signature, checked against trust material the auditor chose (or, failing that, the bundled key).
  const sigSource = `${src}:${ENTRY.signature}`;
  const lockSource = `${src}:${ENTRY.lockfile}`;
  const keySource = `${src}:${ENTRY.publicKey}`;
  let envelope;
  try {
    envelope = parseSignatureFile(data.get(ENTRY.signature)!, sigSource);
  } catch (err) {
    throw invalid(src, (err as Error).message);
  }
  const expectType = envelope.type === "ed25519" ? "ed25519" : "sigstore_bundle";
  if (manifest.signature_type !== expectType || manifest.canon_version !== envelope.canonVersion) {
    throw invalid(src, `${ENTRY.manifest} describes the signature differently from ${ENTRY.signature}`);
  }
  const warnings: string[] = [];
  let bundledKey: PublicKey | undefined;
  const bundledKeyBytes = data.get(ENTRY.publicKey);
  if (bundledKeyBytes !== undefined) {
    try {
      bundledKey = parsePublicKeyBytes(bundledKeyBytes, keySource);
    } catch (err) {
      throw invalid(src, (err as Error).message);
    }
  }
  const fallbackKey: FallbackKey | undefined = bundledKey &&
    { kind: "key", key: bundledKey, source: keySource };
  const trust = resolveTrust(envelope, inputs.flags, { signatureSource: sigSource, fallbackKey });
  if (trust.type === "ed25519" && trust.origin === "bundle") warnings.push(BUNDLED_KEY_WARNING);
  if (
    trust.type === "ed25519" && trust.origin !== "bundle" && bundledKey &&
    bundledKey.fingerprint !== trust.key.fingerprint
  ) {
    warnings.push(
      `the bundle's ${ENTRY.publicKey} (${bundledKey.fingerprint}) is not the key you passed; it was ignored`,
    );
  }
  let doc;
  try {
    doc = parseSignedDocument(data.get(ENTRY.lockfile)!, lockSource);
  } catch (err) {
    throw invalid(src, (err as Error).message);
  }
  const verified = await checkSignature(doc, envelope, sigSource, trust, deps);

  let summary: ApprovalSummary;
  try {
    summary = summarizeLockfile(parseLockfile(doc.bytes, lockSource));
  } catch (err) {
    throw invalid(src, (err as Error).message);
  }
  const otherFiles = manifest.files.filter((f) =>
    f.name !== ENTRY.lockfile && f.name !== ENTRY.signature && f.name !== ENTRY.readme
  );
  const expectedReadme = renderReadme({
    summary,
    signer: verified.signer,
    lockfileSha256: doc.sha256,
    canonVersion: verified.canonVersion,
    otherFiles,
  });
  if (new TextDecoder().decode(data.get(ENTRY.readme)!) !== expectedReadme) {
    throw invalid(src, `${ENTRY.readme} does not say what the signed lockfile says (altered after export?)`);
  }
  return {
    bundle: { path: src, sha256: bytesToHex(sha256(zip)), entries: dir.length },
    manifest,
    verified,
    trustSource: trust.type === "sigstore"
      ? "sigstore-identity"
      : trust.origin === "bundle"
      ? "bundled-key"
      : "key-flag",
    warnings,
    summary,
    otherFiles,
  };
}
