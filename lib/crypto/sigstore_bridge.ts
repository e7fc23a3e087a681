/**
 * The seam to the Sigstore code in ./sigstore.ts: loaded lazily, so that Ed25519 sign and verify never
 * pay for loading the Sigstore libraries, and replaceable in tests.
 *
 * @module
 */
import type { IdentityPolicy, signWithSigstore, SigstoreVerified, verifySigstoreBundle } from "./sigstore.ts";

export type { IdentityPolicy, SigstoreVerified };

/** The shape of `verifySigstoreBundle` from ./sigstore.ts. */
export type SigstoreVerifyFn = typeof verifySigstoreBundle;

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
