/**
 * The seam to the Sigstore code in ./sigstore.ts: its function shapes, loaded lazily so that Ed25519
 * sign/verify never pay for loading the Sigstore libraries, and replaceable in tests.
 *
 * @module
 */

/** Who must have signed: an exact certificate identity or an identity regexp, plus the OIDC issuer. */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer: string;
}

/** What a successful Sigstore verification established. */
export interface SigstoreVerification {
  identity: string;
  issuer: string;
  /** When the signature was made (RFC 3339), from the transparency log or timestamp authority. */
  signedAt?: string;
  kind: "certificate" | "public-key";
}

/** `verifySigstoreBundle` from ./sigstore.ts. Throws when the bundle does not verify. */
export type SigstoreVerifyFn = (
  bundle: unknown,
  artifact: Uint8Array,
  opts: { policy?: IdentityPolicy; publicKeyPem?: string; trustedRoot?: unknown },
) => Promise<SigstoreVerification>;

/** `signWithSigstore` from ./sigstore.ts: returns the Sigstore bundle as JSON-ready data. */
export type SigstoreSignFn = (
  artifact: Uint8Array,
  opts: { identityToken?: string; fulcioURL?: string; rekorURL?: string },
) => Promise<unknown>;

/** Loads `verifySigstoreBundle` on first use. */
export async function loadSigstoreVerify(): Promise<SigstoreVerifyFn> {
  const mod = await import("./sigstore.ts");
  return mod.verifySigstoreBundle;
}

/** Loads `signWithSigstore` on first use. */
export async function loadSigstoreSign(): Promise<SigstoreSignFn> {
  const mod = await import("./sigstore.ts");
  return mod.signWithSigstore;
}
