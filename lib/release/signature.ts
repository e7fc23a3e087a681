/**
 * The release signature, SHA256SUMS.sig: a detached Ed25519 signature (RFC 8032 pure Ed25519, no
 * prehash, no context) over the exact bytes of SHA256SUMS, stored as the raw 64 signature bytes.
 *
 * Why raw bytes over the file, and not the lockfile `.sig` envelope (lib/crypto/envelope.ts): the
 * envelope signs a lockfile's canonical JSON and names a canonicalization, which a checksum list does
 * not have; raw bytes over raw bytes is what OpenSSL signs and verifies as is, so install.sh checks the
 * signature with `openssl pkeyutl -verify -rawin` and no decoding step, and a maintainer can sign without
 * mcptrust (`openssl pkeyutl -sign -rawin -inkey release.key -in SHA256SUMS -out SHA256SUMS.sig`).
 * The keys are mcptrust's own: a PKCS#8 private key from `mcptrust keygen`, an SPKI public key.
 *
 * @module
 */
import { SIGNATURE_BYTES, signEd25519, verifyEd25519 } from "../crypto/ed25519.ts";
import type { PrivateKey, PublicKey } from "../crypto/keys.ts";

/** Signs SHA256SUMS' bytes; returns the 64-byte signature (the content of SHA256SUMS.sig). */
export function signSums(sums: Uint8Array, key: PrivateKey): Uint8Array {
  return signEd25519(sums, key.seed);
}

/**
 * Checks SHA256SUMS.sig over SHA256SUMS' bytes (strict Ed25519: lib/crypto/ed25519.ts).
 *
 * @returns undefined when the signature verifies, else the reason it does not
 */
export function sumsSignatureProblem(sums: Uint8Array, sig: Uint8Array, key: PublicKey): string | undefined {
  if (sig.length !== SIGNATURE_BYTES) {
    return `the signature file holds ${sig.length} bytes; an Ed25519 signature is ${SIGNATURE_BYTES} raw bytes`;
  }
  return verifyEd25519(sig, sums, key.bytes)
    ? undefined
    : `the signature does not verify with key ${key.fingerprint}: SHA256SUMS was changed, or signed with another key`;
}
