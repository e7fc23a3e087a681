/**
 * The seam to the Sigstore code in ./sigstore.ts: loaded lazily, so that Ed25519 sign and verify never
 * pay for loading the Sigstore libraries, and replaceable in tests.
 *
 * @module
 */
import type { IdentityPolicy, signWithSigstore, SigstoreVerified, verifySigstoreBundle } from "./sigstore.ts";

export type { IdentityPolicy, SigstoreVerified };

/**
 * `verifySigstoreBundle` from ./sigstore.ts as its callers here use it: over artifact bytes. (It also
 * takes an artifact digest, for `verify-bundle`; lockfile and audit bundle signatures always have the
 * bytes, and fakes in tests need not handle digests.)
 */
export type SigstoreVerifyFn = (
  bundle: unknown,
  artifact: Uint8Array,
  opts: Parameters<typeof verifySigstoreBundle>[2],
) => Promise<SigstoreVerified>;

/** The shape of `signWithSigstore` from ./sigstore.ts. */
export type SigstoreSignFn = typeof signWithSigstore;

/** Loads `verifySigstoreBundle` on first use. */
export async function loadSigstoreVerify(): Promise<SigstoreVerifyFn> {
  return (await import("./sigstore.ts")).verifySigstoreBundle;
}

/** Loads `signWithSigstore` on first use. */
export async function loadSigstoreSign(): Promise<SigstoreSignFn> {
  return (await import("./sigstore.ts")).signWithSigstore;
}
