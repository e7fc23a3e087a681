/**
 * Pure Ed25519 (RFC 8032 §5.1, no prehash, no context) over @noble/curves, with strict verification.
 *
 * Verification uses RFC 8032 / FIPS 186-5 encodings (`zip215: false`): non-canonical point encodings,
 * non-reduced S and small-order public keys are rejected, so a valid signature cannot be re-encoded into
 * a second valid one. Signatures made by Go's crypto/ed25519 (the Go MCPTrust) are canonical and verify.
 *
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";

/** Byte lengths of Ed25519 seeds, public keys and signatures. */
export const SEED_BYTES = 32;
/** Length of an encoded Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;

/** A fresh random 32-byte seed from the platform CSPRNG (crypto.getRandomValues). */
export function randomSeed(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

/** The public key (32 bytes) of a 32-byte seed. */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/**
 * Whether `publicKey` is a usable Ed25519 public key: a canonical encoding of a curve point that is not
 * of small order (small-order keys let one signature verify for many messages).
 */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

/** Signs `message` with the 32-byte `seed`; returns the 64-byte signature. */
export function signEd25519(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

/**
 * Verifies an Ed25519 signature strictly (see the module note).
 *
 * @returns true only for a valid signature; false for any malformed or mismatching input (never throws)
 */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
