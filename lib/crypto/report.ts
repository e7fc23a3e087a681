/**
 * Rendering a verification result for people (text) and machines (JSON).
 *
 * @module
 */
import { safeText } from "./display.ts";
import type { Signer, VerifiedLockfile } from "./verifier.ts";

/** JSON shape of a signer, shared by `verify --format json` and `bundle verify --format json`. */
export type SignerJson =
  | { type: "ed25519"; fingerprint: string; key: string; keyOrigin: "flag" | "default" | "bundle" }
  | { type: "sigstore"; identity: string; issuer: string; signedAt?: string };

/** The signer as JSON. */
export function signerJson(signer: Signer): SignerJson {
  return signer.type === "ed25519"
    ? { type: "ed25519", fingerprint: signer.fingerprint, key: signer.keySource, keyOrigin: signer.keyOrigin }
    : { type: "sigstore", identity: signer.identity, issuer: signer.issuer, signedAt: signer.signedAt };
}

/** One line naming the signer, e.g. `Ed25519 key sha256:ab… (mcptrust.pub)`. */
export function describeSigner(signer: Signer): string {
  if (signer.type === "sigstore") {
    const when = signer.signedAt ? `, signed ${signer.signedAt}` : "";
    return `Sigstore certificate for ${JSON.stringify(safeText(signer.identity))} from issuer ` +
      `${JSON.stringify(safeText(signer.issuer))}${when}`;
  }
  const origin = signer.keyOrigin === "default"
    ? ", the default key path"
    : signer.keyOrigin === "bundle"
    ? ", shipped inside the bundle"
    : "";
  return `Ed25519 key ${signer.fingerprint} (${safeText(signer.keySource)}${origin})`;
}

/** `verify --format json` output for a successful verification. */
export function verificationJson(v: VerifiedLockfile): Record<string, unknown> {
  return {
    verified: true,
    lockfile: { path: v.lockfile.path, sha256: v.lockfile.sha256 },
    signature: { path: v.signaturePath, format: v.signatureFormat, canonicalization: v.canonVersion },
    signer: signerJson(v.signer),
  };
}

/** `verify` text output for a successful verification. */
export function verificationText(v: VerifiedLockfile): string {
  return [
    `verified: ${safeText(v.lockfile.path)} matches its signature`,
    `  signer:           ${describeSigner(v.signer)}`,
    `  signature:        ${
      safeText(v.signaturePath)
    } (${v.signatureFormat}, canonicalization ${v.canonVersion})`,
    `  lockfile sha256:  ${v.lockfile.sha256}`,
    "",
  ].join("\n");
}
