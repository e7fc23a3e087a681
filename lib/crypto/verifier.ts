/**
 * Verifying a lockfile against its `.sig`: the one entry point used by `verify`, `bundle export` (which
 * refuses unverified lockfiles) and `bundle verify`.
 *
 * Steps, each failing closed: parse the envelope (exit 2 if malformed) -> choose trust material from the
 * flags and the signature kind (exit 2 if missing or contradictory, see trust.ts) -> parse the lockfile
 * strictly (exit 2 if malformed) -> canonicalize with the envelope's canon_version -> check the Ed25519
 * signature or the Sigstore bundle against the canonical bytes (exit 1 if it does not match).
 *
 * @module
 */
import { CheckFailedError, McpTrustError } from "../errors.ts";
import type { CanonVersion } from "../lockfile/canonical.ts";
import { verifyEd25519 } from "./ed25519.ts";
import { parseSignatureEnvelope, type SignatureEnvelope } from "./envelope.ts";
import { decodeUtf8, readInputFile } from "./read_input.ts";
import { parseSignedDocument, signedBytes, type SignedDocument } from "./signed_document.ts";
import { loadSigstoreVerify, type SigstoreVerifyFn } from "./sigstore_bridge.ts";
import {
  type KeyOrigin,
  resolveTrust,
  type ResolveTrustOptions,
  type Trust,
  type TrustFlags,
} from "./trust.ts";

/** Largest `.sig` file we read (a Sigstore bundle is a few KiB). */
export const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

/** How the `.sig` file was encoded. */
export type SignatureFormat = "ed25519" | "ed25519-legacy-hex" | "sigstore-bundle";

/** Who signed, as established by verification. */
export type Signer =
  | { type: "ed25519"; fingerprint: string; keySource: string; keyOrigin: KeyOrigin }
  | { type: "sigstore"; identity: string; issuer: string; signedAt?: string };

/** The result of a successful verification. */
export interface VerifiedLockfile {
  lockfile: SignedDocument;
  signaturePath: string;
  signatureFormat: SignatureFormat;
  canonVersion: CanonVersion;
  signer: Signer;
}

/** Inputs of {@link verifyLockfile}. */
export interface VerifyInputs {
  lockfile: { path: string; bytes: Uint8Array };
  signature: { path: string; bytes: Uint8Array };
  flags: TrustFlags;
  /** Fallback key and library-supplied key; see resolveTrust. */
  trust?: Omit<ResolveTrustOptions, "signatureSource">;
}

/** Replaceable collaborators (tests inject a Sigstore verifier). */
export interface VerifyDeps {
  sigstoreVerify?: SigstoreVerifyFn;
}

/**
 * Parses `.sig` file bytes.
 *
 * @throws {McpTrustError} exit 2 naming `path` when the file is not a well-formed envelope
 */
export function parseSignatureFile(bytes: Uint8Array, path: string): SignatureEnvelope {
  try {
    return parseSignatureEnvelope(decodeUtf8(bytes, path, "signature"));
  } catch (err) {
    if (err instanceof McpTrustError) throw err;
    throw new McpTrustError(`signature ${path} is malformed: ${(err as Error).message}`, {
      hint: `re-create it with \`mcptrust sign\`, or restore ${path} from where it was published`,
    });
  }
}

/**
 * Reads a `.sig` file's bytes.
 *
 * @throws {McpTrustError} exit 2 naming `path`: unreadable or over 4 MiB
 */
export function readSignatureBytes(path: string): Uint8Array {
  return readInputFile(
    path,
    "signature",
    MAX_SIGNATURE_BYTES,
    "sign the lockfile with `mcptrust sign`, or pass -s PATH",
  );
}

/**
 * Verifies a lockfile against its signature (steps in the module note).
 *
 * @returns who signed, the canonicalization, and the parsed lockfile with its file SHA-256
 * @throws {McpTrustError} exit 2 for malformed or missing inputs and unusable flags
 * @throws {CheckFailedError} exit 1 when the lockfile does not match the signature, or the Sigstore
 *   bundle does not verify for the required identity
 */
export async function verifyLockfile(inputs: VerifyInputs, deps: VerifyDeps = {}): Promise<VerifiedLockfile> {
  const sigPath = inputs.signature.path;
  const envelope = parseSignatureFile(inputs.signature.bytes, sigPath);
  const trust = resolveTrust(envelope, inputs.flags, { ...inputs.trust, signatureSource: sigPath });
  const doc = parseSignedDocument(inputs.lockfile.bytes, inputs.lockfile.path);
  return await checkSignature(doc, envelope, sigPath, trust, deps);
}

/**
 * The last step of {@link verifyLockfile}, for callers that parse the pieces themselves (bundle verify
 * tells malformed bundle content apart from malformed user input).
 *
 * @param sigPath names the signature in messages
 * @throws {CheckFailedError} exit 1 when the signature does not match
 * @throws {McpTrustError} exit 2 when the envelope and trust kinds differ, or the Sigstore bundle is malformed
 */
export async function checkSignature(
  doc: SignedDocument,
  envelope: SignatureEnvelope,
  sigPath: string,
  trust: Trust,
  deps: VerifyDeps = {},
): Promise<VerifiedLockfile> {
  const message = signedBytes(doc, envelope.canonVersion);

  if (envelope.type === "ed25519" && trust.type === "ed25519") {
    if (!verifyEd25519(envelope.signature, message, trust.key.bytes)) {
      throw new CheckFailedError(
        `the lockfile does not match the signature: ${doc.path} was changed after it was signed, or ` +
          `${sigPath} was not made by the key ${trust.key.fingerprint} (${trust.keySource})`,
        {
          hint: trust.origin === "bundle"
            ? "do not use this bundle; ask its publisher for a fresh one"
            : `do not use ${doc.path}. If you changed it on purpose, review the change and sign it again ` +
              "(`mcptrust sign`); otherwise restore it from a trusted copy. Check that --key is the signer's public key",
        },
      );
    }
    return {
      lockfile: doc,
      signaturePath: sigPath,
      signatureFormat: envelope.legacy ? "ed25519-legacy-hex" : "ed25519",
      canonVersion: envelope.canonVersion,
      signer: {
        type: "ed25519",
        fingerprint: trust.key.fingerprint,
        keySource: trust.keySource,
        keyOrigin: trust.origin,
      },
    };
  }
  if (envelope.type === "sigstore" && trust.type === "sigstore") {
    const verify = deps.sigstoreVerify ?? await loadSigstoreVerify();
    let result;
    try {
      result = await verify(envelope.bundle, message, {
        policy: trust.policy,
        trustedRoot: trust.trustedRoot,
      });
    } catch (err) {
      if (err instanceof McpTrustError) {
        // Keep the exit code and hint; add which files were checked.
        if (err instanceof CheckFailedError) {
          throw new CheckFailedError(
            `the lockfile does not match the signature: ${sigPath} (Sigstore) over ${doc.path}: ${err.message}`,
            { hint: err.hint, cause: err },
          );
        }
        throw new McpTrustError(`signature ${sigPath} (Sigstore): ${err.message}`, {
          exitCode: err.exitCode,
          hint: err.hint,
          cause: err,
        });
      }
      throw new CheckFailedError(
        `the lockfile does not match the signature: the Sigstore bundle in ${sigPath} does not verify for ` +
          `${describePolicy(trust.policy)} over ${doc.path}: ${(err as Error).message}`,
        {
          hint:
            `do not use ${doc.path}; check the identity and issuer you expect, and where the lockfile came from`,
        },
      );
    }
    // Belt and braces: the verifier must report the identity the policy asked for.
    const p = trust.policy;
    if (
      result.kind !== "certificate" || result.issuer !== p.issuer ||
      (p.identity !== undefined && result.identity !== p.identity)
    ) {
      throw new CheckFailedError(
        `the Sigstore bundle in ${sigPath} was verified for ${JSON.stringify(result.identity)} ` +
          `(issuer ${JSON.stringify(result.issuer)}, ${result.kind}), which is not ${describePolicy(p)}`,
      );
    }
    return {
      lockfile: doc,
      signaturePath: sigPath,
      signatureFormat: "sigstore-bundle",
      canonVersion: envelope.canonVersion,
      signer: {
        type: "sigstore",
        identity: result.identity,
        issuer: result.issuer,
        signedAt: result.signedAt,
      },
    };
  }
  // resolveTrust always matches the envelope type; reaching here is a bug, and we fail closed.
  throw new McpTrustError(
    `internal error: no verifier for ${envelope.type} signature with ${trust.type} trust`,
  );
}

function describePolicy(p: { identity?: string; identityRegexp?: string; issuer: string }): string {
  const who = p.identity !== undefined
    ? `identity ${JSON.stringify(p.identity)}`
    : `identity matching /${p.identityRegexp}/`;
  return `${who} from issuer ${JSON.stringify(p.issuer)}`;
}
