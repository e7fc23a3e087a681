/**
 * Signing a lockfile: Ed25519 with a local key, or Sigstore (keyless, via ./sigstore.ts), producing the
 * `.sig` envelope text (see envelope.ts). The caller writes it atomically.
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import type { CanonVersion } from "../lockfile/canonical.ts";
import { signEd25519, verifyEd25519 } from "./ed25519.ts";
import { encodeEd25519Envelope, encodeSigstoreEnvelope } from "./envelope.ts";
import type { PrivateKey } from "./keys.ts";
import { signedBytes, type SignedDocument } from "./signed_document.ts";
import { loadSigstoreSign, type SigstoreSignFn } from "./sigstore_bridge.ts";

/** How to sign. */
export type SigningMethod =
  | { type: "ed25519"; key: PrivateKey; keySource: string }
  | {
    type: "sigstore";
    identityToken?: string;
    fulcioURL?: string;
    rekorURL?: string;
    tsaServerURL?: string;
  };

/** The outcome of {@link signLockfile}. */
export interface SignResult {
  /** The `.sig` file content. */
  envelope: string;
  canonVersion: CanonVersion;
  /** Ed25519: the key fingerprint. */
  fingerprint?: string;
  /** Sigstore: the bundle JSON, for `--bundle-out`. */
  bundleJson?: string;
}

/**
 * Signs the canonical bytes of `doc`.
 *
 * @param doc the lockfile, from readSignedDocument
 * @param canonVersion "v1" (Go-compatible default) or "v2"
 * @throws {McpTrustError} exit 2 if `doc` is not a lockfile (a JSON object with `lockFileVersion` or
 *   `version`), or Sigstore signing fails; an Ed25519 signature that does not verify right after signing
 *   (a fault) is also refused
 */
export async function signLockfile(
  doc: SignedDocument,
  canonVersion: CanonVersion,
  method: SigningMethod,
  deps: { sigstoreSign?: SigstoreSignFn } = {},
): Promise<SignResult> {
  const v = doc.value;
  const isLockfile = typeof v === "object" && v !== null && !Array.isArray(v) &&
    (typeof v.lockFileVersion === "string" || typeof v.version === "string");
  if (!isLockfile) {
    throw new McpTrustError(`${doc.path} is not an mcptrust lockfile (no lockFileVersion or version field)`, {
      hint: "sign the lockfile written by `mcptrust lock`",
    });
  }
  const message = signedBytes(doc, canonVersion);
  if (method.type === "ed25519") {
    const signature = signEd25519(message, method.key.seed);
    // Check our own output before anyone relies on it (fault attacks, broken RNG-free paths alike).
    if (!verifyEd25519(signature, message, method.key.publicKey.bytes)) {
      throw new McpTrustError("internal error: the new signature does not verify; nothing was written");
    }
    return {
      envelope: encodeEd25519Envelope(signature, canonVersion),
      canonVersion,
      fingerprint: method.key.publicKey.fingerprint,
    };
  }
  const sign = deps.sigstoreSign ?? await loadSigstoreSign();
  let bundle: unknown;
  try {
    bundle = await sign(message, {
      identityToken: method.identityToken,
      fulcioURL: method.fulcioURL,
      rekorURL: method.rekorURL,
      tsaServerURL: method.tsaServerURL,
    });
  } catch (err) {
    if (err instanceof McpTrustError) throw err;
    throw new McpTrustError(`Sigstore signing failed: ${(err as Error).message}`, {
      hint:
        "check the OIDC identity token (--identity-token or the CI's ambient token) and network access to Fulcio and Rekor",
    });
  }
  if (typeof bundle !== "object" || bundle === null) {
    throw new McpTrustError("Sigstore signing returned no bundle; nothing was written");
  }
  const bundleJson = JSON.stringify(bundle);
  return { envelope: encodeSigstoreEnvelope(bundleJson, canonVersion), canonVersion, bundleJson };
}
