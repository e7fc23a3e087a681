/**
 * Verifying a Sigstore bundle against an artifact's digest instead of its bytes.
 *
 * The sigstore-conformance CLI protocol (docs/cli_protocol.md, `verify-bundle ... FILE_OR_DIGEST`) lets
 * the artifact be given as `sha256:<64 hex digits>`. @sigstore/verify only checks a message signature
 * over artifact bytes (it hashes them inside `crypto.verify`), so for a digest this module supplies the
 * signature check itself: an ECDSA verification over the given digest with no further hashing, which is
 * what a Sigstore message signature is (ECDSA over the message digest the bundle names). sigstore-go's
 * `WithArtifactDigest` works the same way and refuses Ed25519 too ("message signatures with ed25519
 * signatures can only be verified with artifacts"), since Ed25519 signs the message, not a digest.
 * sigstore-go also checks RSA PKCS#1 v1.5 over a digest; node:crypto cannot, so RSA keys are refused
 * here (the artifact file still verifies). DSSE bundles need no such help: their signature covers the
 * envelope, and the digest is compared with the in-toto statement's subjects.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import nodeCrypto from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import type { SignedEntity } from "@sigstore/verify";
import { McpTrustError } from "../errors.ts";

/** An artifact named by its digest. Only SHA-256 is accepted (the conformance protocol's form). */
export interface ArtifactDigest {
  algorithm: "sha256";
  /** The 32 digest bytes. */
  digest: Uint8Array;
}

const DIGEST_FORM = /^sha256:[0-9a-f]{64}$/i;
/** Names of hash functions, so that `sha512:...` or `md5:...` reads as a digest (and is refused as one). */
const HASH_NAME = /^(?:sha[0-9a-z_/-]*|md[245]|blake[0-9a-z-]*|sm3|shake[0-9]*|ripemd[0-9]*)$/i;
const DIGEST_HINT = 'give the artifact file, or its SHA-256 as "sha256:" followed by 64 hex digits';

/**
 * Whether `text` is exactly in the protocol's digest form, `sha256:` followed by 64 hex digits (either
 * case).
 */
export function isArtifactDigestForm(text: string): boolean {
  return DIGEST_FORM.test(text);
}

/**
 * Whether `text` is meant as a digest rather than a file name: it starts with a hash function's name
 * and a colon (`sha256:`, `sha512:`, `md5:`, ...). Such text is parsed with {@link parseArtifactDigest},
 * so that a malformed digest is reported as one, not as a missing file.
 */
export function looksLikeArtifactDigest(text: string): boolean {
  const colon = text.indexOf(":");
  return colon > 0 && HASH_NAME.test(text.slice(0, colon));
}

/**
 * Parses `sha256:<64 hex digits>` (hex in either case).
 *
 * @param text the digest as given, e.g. on the command line
 * @param source how to name the input in messages, e.g. "--artifact"
 * @returns the algorithm and the digest bytes
 * @throws McpTrustError (exit 2) naming what is wrong: another or unknown algorithm, wrong length, a
 *   non-hex character
 */
export function parseArtifactDigest(text: string, source = "the artifact digest"): ArtifactDigest {
  const shown = JSON.stringify(text.length > 90 ? `${text.slice(0, 90)}...` : text);
  const colon = text.indexOf(":");
  const algorithm = colon < 0 ? "" : text.slice(0, colon);
  if (algorithm.toLowerCase() !== "sha256") {
    throw new McpTrustError(
      `${source} ${shown} is not a sha256 digest: ${
        algorithm === ""
          ? "it has no algorithm prefix"
          : `algorithm ${JSON.stringify(algorithm)} is not supported`
      }; only sha256 is`,
      { hint: DIGEST_HINT },
    );
  }
  const hex = text.slice(colon + 1);
  const nonHex = hex.search(/[^0-9a-f]/i);
  if (nonHex >= 0) {
    throw new McpTrustError(
      `${source} ${shown} is malformed: ${JSON.stringify(hex[nonHex])} at position ${
        colon + 2 + nonHex
      } is not a hex digit`,
      { hint: DIGEST_HINT },
    );
  }
  if (hex.length !== 64) {
    throw new McpTrustError(
      `${source} ${shown} is malformed: a sha256 digest has 64 hex digits, this has ${hex.length}`,
      { hint: DIGEST_HINT },
    );
  }
  return { algorithm: "sha256", digest: Uint8Array.from(Buffer.from(hex, "hex")) };
}

type EcdsaCurve = typeof p256;
const CURVES: Record<string, EcdsaCurve> = { "P-256": p256, "P-384": p384, "P-521": p521 };

/**
 * Says why a signature by `key` cannot be checked against a digest alone, or undefined if it can (an
 * ECDSA key on P-256, P-384 or P-521).
 */
export function digestUncheckableReason(key: nodeCrypto.KeyObject): string | undefined {
  const jwk = exportJwk(key);
  if (jwk?.kty === "EC" && typeof jwk.crv === "string" && CURVES[jwk.crv]) return undefined;
  const what = jwk?.kty === "OKP"
    ? `an ${jwk.crv} key`
    : jwk?.kty === "RSA"
    ? "an RSA key"
    : jwk?.kty === "EC"
    ? `an EC key on ${jwk.crv}`
    : "a key of an unsupported type";
  return `the bundle was signed with ${what}, whose signature cannot be checked against a digest alone (only ECDSA P-256, P-384 and P-521 signatures can)`;
}

/**
 * The signature of a message-signature bundle, checked over `digest` (no further hashing) instead of
 * over artifact bytes. Stands in for @sigstore/verify's own message signature content, with which it
 * agrees on everything else: the transparency log entry must record this signature and the bundle's
 * message digest.
 *
 * @param signature the bundle's `messageSignature.signature` (DER ECDSA)
 * @param messageDigest the bundle's `messageSignature.messageDigest.digest`, already compared with
 *   `digest` by the caller
 * @param digest the artifact digest the user gave
 */
export function digestSignatureContent(
  signature: Uint8Array,
  messageDigest: Uint8Array,
  digest: Uint8Array,
): SignedEntity["signature"] {
  const sig = Buffer.from(signature);
  const md = Buffer.from(messageDigest);
  return {
    signature: sig,
    compareSignature: (other) => equal(other, sig),
    compareDigest: (other) => equal(other, md),
    // A message signature signs the artifact itself, so the signed bytes' digest is the message digest.
    compareSignedDigest: (other) => equal(other, md),
    verifySignature: (key) => verifyEcdsaOverDigest(key, digest, sig),
  };
}

function verifyEcdsaOverDigest(key: nodeCrypto.KeyObject, digest: Uint8Array, sig: Uint8Array): boolean {
  const jwk = exportJwk(key);
  const curve = jwk?.kty === "EC" && typeof jwk.crv === "string" ? CURVES[jwk.crv] : undefined;
  if (!curve || typeof jwk?.x !== "string" || typeof jwk?.y !== "string") return false;
  const point = Buffer.concat([
    Buffer.of(0x04),
    Buffer.from(jwk.x, "base64url"),
    Buffer.from(jwk.y, "base64url"),
  ]);
  try {
    // lowS: false because X9.62 ECDSA (what Fulcio keys and cosign produce) does not normalize s.
    return curve.verify(sig, digest, point, { prehash: false, lowS: false, format: "der" });
  } catch {
    return false; // a signature that is not DER, or a point off the curve, does not verify
  }
}

function exportJwk(key: nodeCrypto.KeyObject): nodeCrypto.JsonWebKey | undefined {
  try {
    return key.export({ format: "jwk" });
  } catch {
    return undefined;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && nodeCrypto.timingSafeEqual(a, b);
}
