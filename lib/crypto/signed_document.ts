/**
 * The signed document (a lockfile) and the exact bytes a signature covers.
 *
 * What is signed (reference §3.2): the file is parsed as JSON and canonicalized ("v1", Go-compatible,
 * default; or "v2", JCS-like); the signature covers those canonical bytes, not the file bytes. So the
 * whole JSON value is covered (every field, including `meta.updatedAt` and unknown fields), while
 * whitespace and member order are not. Parsing here is strict (fatal UTF-8, no duplicate names, no lone
 * surrogates; see strict_json.ts) so that a file cannot say one thing to mcptrust and another to a
 * different JSON reader.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { McpTrustError } from "../errors.ts";
import { canonicalBytes, type CanonVersion, type Json } from "../lockfile/canonical.ts";
import { decodeUtf8, readInputFile } from "./read_input.ts";
import { parseStrictJson } from "./strict_json.ts";

/** Largest lockfile we sign or verify (a 10,000-tool lockfile is about 3 MiB). */
export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

/** A lockfile read for signing or verification. */
export interface SignedDocument {
  /** Where it came from (a path, or a bundle entry name), for messages. */
  path: string;
  /** The file's bytes. */
  bytes: Uint8Array;
  /** Lowercase hex SHA-256 of `bytes` (what `sha256sum` prints). */
  sha256: string;
  /** The parsed JSON value. */
  value: Json;
}

/**
 * Parses lockfile bytes for signing or verification.
 *
 * @param bytes the file content
 * @param path named in error messages
 * @throws {McpTrustError} exit 2 naming `path`: not UTF-8, not strict JSON (see module note)
 */
export function parseSignedDocument(bytes: Uint8Array, path: string): SignedDocument {
  const text = decodeUtf8(bytes, path, "lockfile");
  let value: Json;
  try {
    value = parseStrictJson(text);
  } catch (err) {
    throw new McpTrustError(`lockfile ${path} cannot be checked: ${(err as Error).message}`, {
      hint: `restore ${path} from a trusted copy (version control, the approval bundle), or re-create it ` +
        "with `mcptrust lock` and sign it again",
    });
  }
  return { path, bytes, sha256: bytesToHex(sha256(bytes)), value };
}

/**
 * Reads a lockfile for signing or verification.
 *
 * @throws {McpTrustError} exit 2 naming `path`: unreadable, over 64 MiB, or malformed
 */
export function readSignedDocument(path: string): SignedDocument {
  const bytes = readInputFile(
    path,
    "lockfile",
    MAX_LOCKFILE_BYTES,
    "create it with `mcptrust lock -o FILE -- <server command>`, or name the lockfile to use",
  );
  return parseSignedDocument(bytes, path);
}

/**
 * The bytes a signature covers: the canonical form of the parsed document.
 *
 * @throws {McpTrustError} exit 2 if the value cannot be canonicalized (not expected for parsed JSON)
 */
export function signedBytes(doc: SignedDocument, canonVersion: CanonVersion): Uint8Array {
  try {
    return canonicalBytes(doc.value, canonVersion);
  } catch (err) {
    throw new McpTrustError(
      `lockfile ${doc.path} cannot be canonicalized (${canonVersion}): ${(err as Error).message}`,
    );
  }
}
