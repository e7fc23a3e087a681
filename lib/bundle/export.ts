/**
 * `bundle export`: pack a signed lockfile, its signature, the signer's public key, an optional policy
 * and evidence files into a deterministic approval bundle (ZIP) for auditors, after checking that the
 * signature verifies. Entry order: manifest.json, mcp-lock.json, mcp-lock.json.sig, public.key,
 * policy.yaml, evidence/* (sorted by name), README.txt.
 *
 * Unlike the Go tool (reference §7), the signature is verified before anything is packed, the source
 * files' modes and times never reach the archive, and the manifest holds no toolchain version.
 *
 * @module
 */
import { basename } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { compareCodePoints } from "../lockfile/canonical.ts";
import { parseLockfile } from "../lockfile/load.ts";
import { VERSION } from "../version.ts";
import { parsePublicKeyBytes } from "../crypto/keys.ts";
import { readInputFile } from "../crypto/read_input.ts";
import type { TrustFlags } from "../crypto/trust.ts";
import { type VerifiedLockfile, type VerifyDeps, verifyLockfile } from "../crypto/verifier.ts";
import { unsafeEntryNameReason } from "./entry_name.ts";
import {
  BUNDLE_FORMAT,
  ENTRY,
  type EntryRole,
  type Manifest,
  type ManifestFile,
  serializeManifest,
} from "./manifest.ts";
import { renderReadme } from "./readme.ts";
import { type ApprovalSummary, summarizeLockfile } from "./summary.ts";
import { BUNDLE_ZIP_LIMITS, readZipDirectory, UnsafeZipError } from "./zip_read.ts";
import { DEFLATE_LEVEL, DOS_DATE_1980, DOS_TIME_1980, writeDeterministicZip } from "./zip_write.ts";

/** A file given to the exporter. */
export interface InputFile {
  /** As the user named it (messages only; never stored in the bundle). */
  path: string;
  bytes: Uint8Array;
}

/** Inputs of {@link buildBundle}. */
export interface ExportInputs {
  lockfile: InputFile;
  signature: InputFile;
  /** Trust flags; for Ed25519 signatures `key` (or `defaultKeyPath`) is the key checked and packed. */
  flags: TrustFlags;
  /** Public key used when `flags.key` is absent (the CLI passes mcptrust.pub). */
  defaultKeyPath?: string;
  policy?: InputFile;
  /** Evidence files, stored as evidence/<base name>. */
  includes?: InputFile[];
  /** Written to the manifest; default this build's VERSION. */
  toolVersion?: string;
}

/** The outcome of {@link buildBundle}. */
export interface ExportResult {
  zip: Uint8Array;
  /** Lowercase hex SHA-256 of the archive. */
  sha256: string;
  manifest: Manifest;
  verified: VerifiedLockfile;
  summary: ApprovalSummary;
}

/**
 * Verifies the lockfile's signature and builds the bundle bytes (the caller writes them atomically).
 *
 * @throws {CheckFailedError} exit 1 when the signature does not verify: nothing is bundled
 * @throws {McpTrustError} exit 2 for malformed inputs, missing trust flags, two includes with the same
 *   base name, or a bundle that would exceed the caps `bundle verify` enforces
 */
export async function buildBundle(inputs: ExportInputs, deps: VerifyDeps = {}): Promise<ExportResult> {
  let verified: VerifiedLockfile;
  try {
    verified = await verifyLockfile({
      lockfile: inputs.lockfile,
      signature: inputs.signature,
      flags: inputs.flags,
      trust: inputs.defaultKeyPath
        ? { fallbackKey: { kind: "path", path: inputs.defaultKeyPath } }
        : undefined,
    }, deps);
  } catch (err) {
    if (err instanceof CheckFailedError) {
      throw new CheckFailedError(
        `refusing to bundle a lockfile whose signature does not verify: ${err.message}`,
        {
          hint: err.hint,
          cause: err,
        },
      );
    }
    throw err;
  }
  const summary = summarizeLockfile(parseLockfile(inputs.lockfile.bytes, inputs.lockfile.path));

  const files: { name: string; role: EntryRole; data: Uint8Array }[] = [
    { name: ENTRY.lockfile, role: "lockfile", data: inputs.lockfile.bytes },
    { name: ENTRY.signature, role: "signature", data: inputs.signature.bytes },
  ];
  if (verified.signer.type === "ed25519") {
    // Pack the key that verified, read again and checked, so a file swapped in between cannot slip in.
    const path = verified.signer.keySource;
    const bytes = readInputFile(path, "public key", 64 * 1024);
    if (parsePublicKeyBytes(bytes, path).fingerprint !== verified.signer.fingerprint) {
      throw new McpTrustError(`public key ${path} changed while the bundle was being built`);
    }
    files.push({ name: ENTRY.publicKey, role: "public-key", data: bytes });
  }
  if (inputs.policy) files.push({ name: ENTRY.policy, role: "policy", data: inputs.policy.bytes });
  const evidence = (inputs.includes ?? []).map((f) => ({
    name: ENTRY.evidenceDir + basename(f.path),
    role: "evidence" as const,
    data: f.bytes,
    source: f.path,
  })).sort((a, b) => compareCodePoints(a.name, b.name));
  for (let i = 0; i < evidence.length; i++) {
    const e = evidence[i];
    const reason = unsafeEntryNameReason(e.name);
    if (reason) {
      throw new McpTrustError(
        `cannot include ${e.source}: its bundle name ${JSON.stringify(e.name)} has ${reason}`,
      );
    }
    if (i > 0 && evidence[i - 1].name === e.name) {
      throw new McpTrustError(`two included files are both named ${basename(e.source)}`, {
        hint: "rename one of them; included files are stored as evidence/<file name>",
      });
    }
  }
  files.push(...evidence.map(({ name, role, data }) => ({ name, role, data })));

  const listed = (f: { name: string; role: EntryRole; data: Uint8Array }): ManifestFile => ({
    name: f.name,
    role: f.role,
    sha256: bytesToHex(sha256(f.data)),
    size: f.data.length,
  });
  const readme = new TextEncoder().encode(renderReadme({
    summary,
    signer: verified.signer,
    lockfileSha256: verified.lockfile.sha256,
    canonVersion: verified.canonVersion,
    otherFiles: files.slice(2).map(listed),
  }));
  files.push({ name: ENTRY.readme, role: "readme", data: readme });

  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    tool_version: inputs.toolVersion ?? VERSION,
    canon_version: verified.canonVersion,
    signature_type: verified.signer.type === "ed25519" ? "ed25519" : "sigstore_bundle",
    compression_method: "deflate",
    compression_level: DEFLATE_LEVEL,
    files: files.map(listed),
  };
  const total = files.reduce((n, f) => n + f.data.length, 0);
  if (total > BUNDLE_ZIP_LIMITS.maxTotalBytes) {
    throw new McpTrustError(
      `the bundle would hold ${total} bytes; bundle verify accepts at most ${BUNDLE_ZIP_LIMITS.maxTotalBytes}`,
      {
        hint: "include fewer or smaller evidence files",
      },
    );
  }
  const zip = writeDeterministicZip([
    { name: ENTRY.manifest, data: new TextEncoder().encode(serializeManifest(manifest)) },
    ...files.map((f) => ({ name: f.name, data: f.data })),
  ]);
  // What we write must pass the checks `bundle verify` makes, and carry the fixed DOS time everywhere.
  try {
    for (const e of readZipDirectory(zip)) {
      if (e.dosTime !== DOS_TIME_1980 || e.dosDate !== DOS_DATE_1980) {
        throw new McpTrustError(`internal error: ${e.name} did not get the fixed 1980-01-01 timestamp`);
      }
    }
  } catch (err) {
    if (err instanceof UnsafeZipError) {
      throw new McpTrustError(`the bundle would be refused by bundle verify: ${err.message}`, {
        hint: "highly compressible evidence files (over 100:1) look like zip bombs; compress or trim them",
      });
    }
    throw err;
  }
  return { zip, sha256: bytesToHex(sha256(zip)), manifest, verified, summary };
}
