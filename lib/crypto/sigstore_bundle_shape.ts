/**
 * Shape checks on a Sigstore bundle, on the raw JSON, before @sigstore/bundle and @sigstore/verify see
 * it: its transparency log entries in detail, and the encoding of its other byte fields and lists.
 *
 * Why here and not in the libraries: @sigstore/bundle validates only what the bundle version requires
 * (v0.1 an inclusion promise, v0.2+ an inclusion proof with a checkpoint), and @sigstore/verify then
 * dereferences fields without checking them, so a v0.1 entry whose inclusion proof has no checkpoint, or
 * a field of the wrong type, surfaced as a raw JavaScript TypeError. @sigstore/verify also computes the
 * Merkle root from the checkpoint alone and never compares it with the proof's own `rootHash` and
 * `treeSize`, so a proof that disagrees with its checkpoint was accepted; sigstore-python refuses that
 * (`verify_checkpoint` compares the root hashes), and so do we. It also ignores whatever follows the
 * checkpoint's signature lines; a signed note (golang.org/x/mod/sumdb/note, the format Rekor writes)
 * has nothing else there.
 *
 * Outside the log entries, @sigstore/bundle's JSON decoding throws raw TypeErrors on a byte field that
 * is not a string or a list element that is not an object; those are named here first.
 *
 * Field names and encodings follow sigstore/protobuf-specs `TransparencyLogEntry` in proto3 JSON: int64
 * as a decimal string (or a JSON number), bytes as base64 (standard or URL-safe alphabet, line breaks
 * allowed), `null` the same as absent. Merkle hashes are SHA-256 (RFC 6962 §2.1), so 32 bytes.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** A malformed field: where (a JSON path from the bundle root) and what is wrong with it. */
export interface FieldProblem {
  path: string;
  problem: string;
}

const MERKLE_HASH_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const CHECKPOINT_SEPARATOR = "\n\n";

/**
 * Finds the first malformed transparency log entry field of a bundle given as parsed JSON.
 *
 * Checked for each `verificationMaterial.tlogEntries[i]`: it is an object; `logIndex` and
 * `integratedTime` are non-negative integers (absent means 0, as proto3 JSON omits zeros);
 * `logId.keyId` and `canonicalizedBody` are non-empty base64; `kindVersion.kind` and `.version` are
 * non-empty strings; `inclusionPromise`, if present, has a non-empty base64 `signedEntryTimestamp`;
 * `inclusionProof`, if present, has integer `logIndex` < `treeSize`, a 32-byte `rootHash`, a list of
 * 32-byte `hashes` and a `checkpoint.envelope` whose signature block holds only signature lines, and
 * its `treeSize` and `rootHash` equal those its checkpoint states. Which entries a bundle version requires (promise, proof) is left to @sigstore/bundle; the checkpoint's
 * signature and the Merkle path are left to @sigstore/verify.
 *
 * @param bundle the bundle JSON as parsed (anything; non-objects yield undefined, the caller rejects them)
 * @returns the first problem found, or undefined if the entries are well-formed
 */
export function findTlogEntryProblem(bundle: unknown): FieldProblem | undefined {
  const vm = field(bundle, "verificationMaterial");
  if (!isObject(vm)) return undefined; // the bundle schema check names a missing verificationMaterial
  const entries = field(vm, "tlogEntries");
  const base = "verificationMaterial.tlogEntries";
  if (entries === undefined) return undefined; // likewise for missing tlogEntries
  if (!Array.isArray(entries)) return { path: base, problem: "is not a list" };
  for (let i = 0; i < entries.length; i++) {
    const found = entryProblem(entries[i], `${base}[${i}]`);
    if (found) return found;
  }
  return undefined;
}

/** Byte fields (proto `bytes`, base64 in JSON) of a bundle outside its log entries, by JSON name. */
const BYTES_FIELDS = new Set(["rawBytes", "digest", "signature", "payload", "sig", "signedTimestamp"]);
/** Lists of messages in a bundle outside its log entries, by JSON name. */
const MESSAGE_LISTS = new Set(["certificates", "signatures", "rfc3161Timestamps"]);
/**
 * Message fields of a bundle outside its log entries, by JSON name. The decoder reads any other JSON
 * value there as an empty message, so `"timestampVerificationData": 7` would pass for absent.
 */
const MESSAGES = new Set([
  "verificationMaterial",
  "x509CertificateChain",
  "certificate",
  "publicKey",
  "timestampVerificationData",
  "messageSignature",
  "messageDigest",
  "dsseEnvelope",
]);

/**
 * Finds the first byte field of a bundle (outside `verificationMaterial.tlogEntries`, see
 * {@link findTlogEntryProblem}) that is not a base64 string, message field that is not an object, or
 * list of messages that is not a list of objects: the inputs on which @sigstore/bundle's decoder fails
 * with an unhelpful TypeError or silently reads "absent". Which fields are required is left to
 * @sigstore/bundle's validation.
 *
 * @param bundle the bundle JSON as parsed
 * @returns the first problem found, or undefined
 */
export function findBundleFieldProblem(bundle: unknown): FieldProblem | undefined {
  return walk(bundle, "");
}

function walk(obj: unknown, at: string): FieldProblem | undefined {
  if (!isObject(obj)) return undefined;
  for (const key of Object.keys(obj)) {
    const v = field(obj, key);
    const path = at === "" ? key : `${at}.${key}`;
    if (v === undefined || path === "verificationMaterial.tlogEntries") continue;
    if (BYTES_FIELDS.has(key)) {
      if (typeof v !== "string" || !isBase64(v)) return { path, problem: "is not base64" };
    } else if (MESSAGE_LISTS.has(key)) {
      if (!Array.isArray(v)) return { path, problem: "is not a list" };
      for (let i = 0; i < v.length; i++) {
        if (!isObject(v[i])) return { path: `${path}[${i}]`, problem: "is not an object" };
        const inner = walk(v[i], `${path}[${i}]`);
        if (inner) return inner;
      }
    } else if (MESSAGES.has(key) && !isObject(v)) {
      return { path, problem: "is not an object" };
    } else if (isObject(v)) {
      const inner = walk(v, path);
      if (inner) return inner;
    }
  }
  return undefined;
}

function entryProblem(entry: unknown, at: string): FieldProblem | undefined {
  if (!isObject(entry)) return { path: at, problem: "is not an object" };
  return integer(entry, "logIndex", at) ??
    base64(field(entry, "logId"), "keyId", `${at}.logId`) ??
    nonEmptyString(field(entry, "kindVersion"), "kind", `${at}.kindVersion`) ??
    nonEmptyString(field(entry, "kindVersion"), "version", `${at}.kindVersion`) ??
    integer(entry, "integratedTime", at) ??
    promiseProblem(field(entry, "inclusionPromise"), `${at}.inclusionPromise`) ??
    proofProblem(field(entry, "inclusionProof"), `${at}.inclusionProof`) ??
    base64(entry, "canonicalizedBody", at);
}

function promiseProblem(promise: unknown, at: string): FieldProblem | undefined {
  if (promise === undefined) return undefined;
  if (!isObject(promise)) return { path: at, problem: "is not an object" };
  return base64(promise, "signedEntryTimestamp", at);
}

function proofProblem(proof: unknown, at: string): FieldProblem | undefined {
  if (proof === undefined) return undefined;
  if (!isObject(proof)) return { path: at, problem: "is not an object" };
  const shape = integer(proof, "logIndex", at) ??
    integer(proof, "treeSize", at) ??
    hash(proof, "rootHash", at);
  if (shape) return shape;
  const logIndex = BigInt((field(proof, "logIndex") ?? 0) as string | number);
  const treeSize = BigInt((field(proof, "treeSize") ?? 0) as string | number);
  if (logIndex >= treeSize) {
    return { path: `${at}.logIndex`, problem: `(${logIndex}) is not inside the tree (treeSize ${treeSize})` };
  }
  const hashes = field(proof, "hashes");
  if (hashes !== undefined) {
    if (!Array.isArray(hashes)) return { path: `${at}.hashes`, problem: "is not a list" };
    for (let i = 0; i < hashes.length; i++) {
      const bad = hashProblem(hashes[i]);
      if (bad) return { path: `${at}.hashes[${i}]`, problem: bad };
    }
  }
  const checkpoint = field(proof, "checkpoint");
  if (checkpoint === undefined) {
    return {
      path: `${at}.checkpoint`,
      problem: "is missing: an inclusion proof cannot be checked without the log's signed checkpoint",
    };
  }
  if (!isObject(checkpoint)) return { path: `${at}.checkpoint`, problem: "is not an object" };
  const envelope = field(checkpoint, "envelope");
  if (typeof envelope !== "string" || envelope === "") {
    return { path: `${at}.checkpoint.envelope`, problem: "is missing or not a string" };
  }
  return checkpointProblem(envelope, treeSize, field(proof, "rootHash") as string, at);
}

/**
 * The checkpoint must be a signed note, and the proof's tree size and root hash the ones it signs;
 * otherwise the proof says nothing about the signed tree. A note that cannot be parsed (no blank line,
 * too few lines) is left to @sigstore/verify, which rejects it with its own reason.
 */
function checkpointProblem(
  envelope: string,
  treeSize: bigint,
  rootHash: string,
  at: string,
): FieldProblem | undefined {
  const end = envelope.indexOf(CHECKPOINT_SEPARATOR);
  if (end < 0) return undefined;
  // After the note come only signature lines, "— <name> <base64>", each ending in a newline.
  const sigBlock = envelope.slice(end + CHECKPOINT_SEPARATOR.length);
  if (!/^(?:\u2014 \S+ \S+\n)+$/.test(sigBlock)) {
    return {
      path: `${at}.checkpoint.envelope`,
      problem:
        "is not a signed note: after the note there must be only signature lines, each ending in a newline",
    };
  }
  const lines = envelope.slice(0, end).split("\n");
  if (lines.length < 3 || !/^\d+$/.test(lines[1]) || !BASE64.test(lines[2])) return undefined;
  if (BigInt(lines[1]) !== treeSize) {
    return {
      path: `${at}.treeSize`,
      problem: `(${treeSize}) differs from the tree size its checkpoint signs (${lines[1]})`,
    };
  }
  if (!decode(lines[2]).equals(decode(rootHash))) {
    return { path: `${at}.rootHash`, problem: "differs from the root hash its checkpoint signs" };
  }
  return undefined;
}

/** An int64 field; absent means 0, as proto3 JSON omits default values. */
function integer(obj: unknown, key: string, at: string): FieldProblem | undefined {
  const v = field(obj, key);
  const path = `${at}.${key}`;
  if (v === undefined) return undefined;
  if (typeof v === "number" ? Number.isSafeInteger(v) && v >= 0 : typeof v === "string" && /^\d+$/.test(v)) {
    return undefined;
  }
  const shown = typeof v === "string" || typeof v === "number" ? ` (${JSON.stringify(v)})` : "";
  return { path, problem: `is not a non-negative integer${shown}` };
}

/** A bytes field that must be non-empty (absent reads as empty, as proto3 JSON omits empty bytes). */
function base64(obj: unknown, key: string, at: string): FieldProblem | undefined {
  const path = `${at}.${key}`;
  const v = field(obj, key);
  if (v === undefined) return { path, problem: "is missing" };
  if (typeof v !== "string" || !isBase64(v)) return { path, problem: "is not base64" };
  if (decode(v).length === 0) return { path, problem: "is empty" };
  return undefined;
}

function hash(obj: unknown, key: string, at: string): FieldProblem | undefined {
  const v = field(obj, key);
  const path = `${at}.${key}`;
  if (v === undefined) return { path, problem: "is missing" };
  const bad = hashProblem(v);
  return bad ? { path, problem: bad } : undefined;
}

function hashProblem(v: unknown): string | undefined {
  if (typeof v !== "string" || !isBase64(v)) return "is not base64";
  const n = decode(v).length;
  return n === MERKLE_HASH_BYTES ? undefined : `is ${n} bytes, not a ${MERKLE_HASH_BYTES}-byte SHA-256 hash`;
}

function nonEmptyString(obj: unknown, key: string, at: string): FieldProblem | undefined {
  const path = `${at}.${key}`;
  const v = isObject(obj) ? field(obj, key) : undefined;
  return typeof v === "string" && v !== "" ? undefined : { path, problem: "is missing or not a string" };
}

/** Standard or URL-safe base64, padded or not; line breaks are ignored, as Go's decoder does. */
function isBase64(s: string): boolean {
  const t = s.replace(/[\r\n]/g, "");
  return BASE64.test(t) && t.replace(/=+$/, "").length % 4 !== 1;
}

function decode(s: string): Buffer {
  return Buffer.from(s, "base64");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A field of a JSON object; `null` reads as absent, as in proto3 JSON. */
function field(obj: unknown, key: string): unknown {
  if (!isObject(obj) || !Object.hasOwn(obj, key)) return undefined;
  const v = obj[key];
  return v === null ? undefined : v;
}
