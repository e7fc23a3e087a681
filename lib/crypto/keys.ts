/**
 * Ed25519 key files: generation, both PEM encodings, and fingerprints.
 *
 * Encodings, all read everywhere:
 * - "pem" (default for new keys): PKCS#8 `PRIVATE KEY` and SubjectPublicKeyInfo `PUBLIC KEY` (RFC 8410),
 *   what OpenSSL, Go's x509 package and node:crypto read and write.
 * - "raw": the Go MCPTrust's blocks (reference §3.1): `ED25519 PRIVATE KEY` holding 64 bytes
 *   seed‖public key (Go's `ed25519.PrivateKey`), `ED25519 PUBLIC KEY` holding the 32-byte key.
 *
 * A key's fingerprint is `sha256:` + hex SHA-256 of its SubjectPublicKeyInfo DER, so it is the same
 * whichever encoding the key file uses and can be recomputed with
 * `openssl pkey -pubin -in KEY.pub -outform DER | sha256sum`.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { McpTrustError } from "../errors.ts";
import { encodePkcs8Ed25519, encodeSpkiEd25519, parsePkcs8Ed25519, parseSpkiEd25519 } from "./der.ts";
import { isUsablePublicKey, publicKeyOf, randomSeed } from "./ed25519.ts";
import { decodePem, encodePem } from "./pem.ts";
import { decodeUtf8, readInputFile } from "./read_input.ts";

/** Key file encodings: "pem" = PKCS#8/SPKI, "raw" = the Go tool's ED25519 blocks. */
export type KeyFormat = "pem" | "raw";

/** An Ed25519 public key. */
export interface PublicKey {
  /** The 32-byte encoded point. */
  bytes: Uint8Array;
  /** `sha256:<hex>` of the SubjectPublicKeyInfo DER. */
  fingerprint: string;
  /** The encoding it was read from or will be written in. */
  format: KeyFormat;
}

/** An Ed25519 private key. */
export interface PrivateKey {
  /** The 32-byte seed (RFC 8032 private key). */
  seed: Uint8Array;
  publicKey: PublicKey;
  format: KeyFormat;
}

/** Largest key file we read; real ones are under 200 bytes. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

const LABEL_PKCS8 = "PRIVATE KEY";
const LABEL_SPKI = "PUBLIC KEY";
const LABEL_RAW_PRIVATE = "ED25519 PRIVATE KEY";
const LABEL_RAW_PUBLIC = "ED25519 PUBLIC KEY";

/** `sha256:<hex>` of the SubjectPublicKeyInfo DER of a 32-byte Ed25519 public key. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return "sha256:" + bytesToHex(sha256(encodeSpkiEd25519(publicKey)));
}

function makePublicKey(bytes: Uint8Array, format: KeyFormat): PublicKey {
  if (!isUsablePublicKey(bytes)) throw new Error("the public key is not a valid Ed25519 curve point");
  return { bytes, fingerprint: fingerprintOf(bytes), format };
}

function makePrivateKey(seed: Uint8Array, format: KeyFormat): PrivateKey {
  return { seed, publicKey: makePublicKey(publicKeyOf(seed), format), format };
}

/** A new key pair from the platform CSPRNG, to be written in `format`. */
export function generateKeyPair(format: KeyFormat = "pem"): PrivateKey {
  return makePrivateKey(randomSeed(), format);
}

/** The PEM text of a private key in `format` (PKCS#8, or Go's 64-byte raw block). */
export function encodePrivateKey(key: PrivateKey, format: KeyFormat = key.format): string {
  return format === "pem"
    ? encodePem(LABEL_PKCS8, encodePkcs8Ed25519(key.seed))
    : encodePem(LABEL_RAW_PRIVATE, Uint8Array.of(...key.seed, ...key.publicKey.bytes));
}

/** The PEM text of a public key in `format` (SPKI, or Go's 32-byte raw block). */
export function encodePublicKey(key: PublicKey, format: KeyFormat = key.format): string {
  return format === "pem"
    ? encodePem(LABEL_SPKI, encodeSpkiEd25519(key.bytes))
    : encodePem(LABEL_RAW_PUBLIC, key.bytes);
}

/**
 * Parses a private key file's text (either encoding).
 *
 * @throws {Error} with a one-line reason: not PEM, a public key, another algorithm, wrong length,
 *   or (raw format) a stored public half that does not belong to the seed
 */
export function parsePrivateKey(text: string): PrivateKey {
  const { label, der } = decodePem(text);
  switch (label) {
    case LABEL_PKCS8: {
      const { seed, publicKey } = parsePkcs8Ed25519(der);
      const key = makePrivateKey(seed, "pem");
      if (publicKey && !sameBytes(publicKey, key.publicKey.bytes)) {
        throw new Error("the public key stored in the PKCS#8 file does not belong to its private key");
      }
      return key;
    }
    case LABEL_RAW_PRIVATE: {
      if (der.length !== 64) {
        throw new Error(`an ED25519 PRIVATE KEY block must hold 64 bytes, not ${der.length}`);
      }
      const key = makePrivateKey(der.slice(0, 32), "raw");
      if (!sameBytes(der.subarray(32), key.publicKey.bytes)) {
        throw new Error("the public half stored in the key does not belong to its seed (damaged key?)");
      }
      return key;
    }
    case LABEL_SPKI:
    case LABEL_RAW_PUBLIC:
      throw new Error("this is a public key; signing needs the private key");
    case "ENCRYPTED PRIVATE KEY":
      throw new Error("the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN.key)");
    default:
      throw new Error(`a "${label}" PEM block is not an Ed25519 private key`);
  }
}

/**
 * Parses a public key file's text (either encoding).
 *
 * @throws {Error} with a one-line reason: not PEM, a private key, another algorithm, wrong length,
 *   or not a usable curve point
 */
export function parsePublicKey(text: string): PublicKey {
  const { label, der } = decodePem(text);
  switch (label) {
    case LABEL_SPKI:
      return makePublicKey(parseSpkiEd25519(der), "pem");
    case LABEL_RAW_PUBLIC:
      if (der.length !== 32) {
        throw new Error(`an ED25519 PUBLIC KEY block must hold 32 bytes, not ${der.length}`);
      }
      return makePublicKey(der, "raw");
    case LABEL_PKCS8:
    case LABEL_RAW_PRIVATE:
    case "ENCRYPTED PRIVATE KEY":
      throw new Error(
        "this is a private key; verification needs the public key (never hand out the private key)",
      );
    default:
      throw new Error(`a "${label}" PEM block is not an Ed25519 public key`);
  }
}

/**
 * Reads and parses a private key file.
 *
 * @throws {McpTrustError} exit 2 naming `path`: unreadable, or not an Ed25519 private key
 */
export function readPrivateKeyFile(path: string): PrivateKey {
  const bytes = readInputFile(
    path,
    "private key",
    MAX_KEY_FILE_BYTES,
    "create a key pair with `mcptrust keygen`, or pass --key PATH",
  );
  try {
    return parsePrivateKey(decodeUtf8(bytes, path, "private key"));
  } catch (err) {
    if (err instanceof McpTrustError) throw err;
    throw new McpTrustError(`cannot use private key ${path}: ${(err as Error).message}`, {
      hint: "pass the private key written by `mcptrust keygen` (PKCS#8 or the Go tool's ED25519 PRIVATE KEY)",
    });
  }
}

/**
 * Reads and parses a public key file.
 *
 * @throws {McpTrustError} exit 2 naming `path`: unreadable, or not an Ed25519 public key
 */
export function readPublicKeyFile(path: string): PublicKey {
  const bytes = readInputFile(
    path,
    "public key",
    MAX_KEY_FILE_BYTES,
    "pass the signer's public key with --key PATH",
  );
  return parsePublicKeyBytes(bytes, path);
}

/**
 * Parses public key file bytes that came from somewhere other than a path we read (e.g. a bundle entry).
 *
 * @param source named in the error message
 * @throws {McpTrustError} exit 2 naming `source`
 */
export function parsePublicKeyBytes(bytes: Uint8Array, source: string): PublicKey {
  try {
    return parsePublicKey(decodeUtf8(bytes, source, "public key"));
  } catch (err) {
    if (err instanceof McpTrustError) throw err;
    throw new McpTrustError(`cannot use public key ${source}: ${(err as Error).message}`, {
      hint: "pass the signer's public key (SPKI PEM or the Go tool's ED25519 PUBLIC KEY)",
    });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
