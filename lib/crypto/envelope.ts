/**
 * The `.sig` file: the Go MCPTrust's envelope (reference §3.3), read and written byte-compatibly.
 *
 * - Ed25519: `{"canon_version":"v1"}` + "\n" + lowercase hex of the 64-byte signature, no trailing newline.
 * - Sigstore: `{"canon_version":"v1","sig_type":"sigstore_bundle","bundle_encoding":"base64+json"}` + "\n"
 *   + standard base64 of the Sigstore bundle JSON.
 * - Legacy: only the hex, no header; read as Ed25519 over canonical v1.
 *
 * Reading follows the Go reader (trim whitespace; a leading `{` means a header line) but is stricter where
 * the Go tool is loose: an unknown `sig_type`, `canon_version` or `bundle_encoding` is an error rather than
 * a silent Ed25519 fallback.
 *
 * @module
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import type { CanonVersion } from "../lockfile/canonical.ts";
import { SIGNATURE_BYTES } from "./ed25519.ts";
import { base64ToBytes, bytesToBase64 } from "./pem.ts";
import { parseStrictJson } from "./strict_json.ts";

/** Value of the header's `sig_type` for Sigstore signatures. */
export const SIG_TYPE_SIGSTORE = "sigstore_bundle";
/** Value of the header's `bundle_encoding` for Sigstore signatures. */
export const BUNDLE_ENCODING = "base64+json";

/** A parsed `.sig` file. */
export type SignatureEnvelope =
  | {
    type: "ed25519";
    canonVersion: CanonVersion;
    /** The 64-byte signature. */
    signature: Uint8Array;
    /** True for a bare-hex file without a header (the Go tool's first format). */
    legacy: boolean;
  }
  | {
    type: "sigstore";
    canonVersion: CanonVersion;
    /** The Sigstore bundle, parsed from its JSON; shape-checked by the Sigstore verifier. */
    bundle: unknown;
  };

/** Serializes an Ed25519 signature in the Go tool's envelope. */
export function encodeEd25519Envelope(signature: Uint8Array, canonVersion: CanonVersion): string {
  if (signature.length !== SIGNATURE_BYTES) throw new Error("an Ed25519 signature is 64 bytes");
  return `{"canon_version":"${canonVersion}"}\n${bytesToHex(signature)}`;
}

/** Serializes a Sigstore bundle (its JSON text) in the Go tool's envelope. */
export function encodeSigstoreEnvelope(bundleJson: string, canonVersion: CanonVersion): string {
  const header =
    `{"canon_version":"${canonVersion}","sig_type":"${SIG_TYPE_SIGSTORE}","bundle_encoding":"${BUNDLE_ENCODING}"}`;
  return `${header}\n${bytesToBase64(new TextEncoder().encode(bundleJson))}`;
}

/**
 * Parses the text of a `.sig` file.
 *
 * @returns the envelope
 * @throws {Error} with a one-line reason when the file is not a well-formed envelope
 */
export function parseSignatureEnvelope(text: string): SignatureEnvelope {
  const trimmed = text.trim();
  if (trimmed === "") throw new Error("the file is empty");
  if (!trimmed.startsWith("{")) {
    return { type: "ed25519", canonVersion: "v1", signature: decodeSignatureHex(trimmed), legacy: true };
  }
  const nl = trimmed.indexOf("\n");
  if (nl < 0) throw new Error("the header line is not followed by a signature line");
  let header: unknown;
  try {
    header = parseStrictJson(trimmed.slice(0, nl));
  } catch (err) {
    throw new Error(`the header line is not a JSON object: ${(err as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error("the header line is not a JSON object");
  }
  const h = header as Record<string, unknown>;
  const canonVersion = h.canon_version;
  if (canonVersion !== "v1" && canonVersion !== "v2") {
    throw new Error(`unknown canon_version ${JSON.stringify(canonVersion ?? null)} (expected "v1" or "v2")`);
  }
  const payload = trimmed.slice(nl + 1).trim();
  const sigType = h.sig_type ?? "";
  if (sigType === "") {
    return { type: "ed25519", canonVersion, signature: decodeSignatureHex(payload), legacy: false };
  }
  if (sigType !== SIG_TYPE_SIGSTORE) {
    throw new Error(`unknown sig_type ${JSON.stringify(sigType)} (expected "${SIG_TYPE_SIGSTORE}" or none)`);
  }
  const encoding = h.bundle_encoding ?? BUNDLE_ENCODING;
  if (encoding !== BUNDLE_ENCODING) {
    throw new Error(`unknown bundle_encoding ${JSON.stringify(encoding)} (expected "${BUNDLE_ENCODING}")`);
  }
  const raw = base64ToBytes(payload);
  if (raw === undefined) throw new Error("the Sigstore bundle line is not valid base64");
  let bundle: unknown;
  try {
    bundle = parseStrictJson(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (err) {
    throw new Error(`the Sigstore bundle is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) {
    throw new Error("the Sigstore bundle is not a JSON object");
  }
  return { type: "sigstore", canonVersion, bundle };
}

/** Decodes the hex signature line (either case, as Go's hex.DecodeString accepts). */
function decodeSignatureHex(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new Error("the signature line is not hexadecimal");
  if (hex.length !== SIGNATURE_BYTES * 2) {
    throw new Error(
      `the signature line has ${hex.length} hex digits; an Ed25519 signature has ${SIGNATURE_BYTES * 2}`,
    );
  }
  const out = new Uint8Array(SIGNATURE_BYTES);
  for (let i = 0; i < SIGNATURE_BYTES; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
