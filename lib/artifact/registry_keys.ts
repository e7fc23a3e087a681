/**
 * npm registry signing keys: the public keys that verify `dist.signatures` in packuments.
 *
 * Two sources, two formats:
 * - embedded: the `registry.npmjs.org/keys.json` target that @sigstore/tuf ships in its `seeds.json`
 *   (the snapshot of Sigstore's TUF repository that npm's own `npm audit signatures` starts from). Its
 *   format is Sigstore's: `{keys: [{keyId, keyUsage, publicKey: {rawBytes, keyDetails, validFor: {start,
 *   end?}}}]}`; only `keyUsage: "npm:signatures"` keys sign packuments. Importing the JSON makes
 *   `bun build --compile` embed it, so no network is needed. It is as fresh as the installed
 *   @sigstore/tuf: a key npm rotates in later is unknown until the dependency is updated (use a keys file).
 * - a keys file (`--registry-keys FILE`): npm's keys endpoint format (`GET <registry>/-/npm/v1/keys`):
 *   `{keys: [{expires, keyid, keytype, scheme, key}]}` with `key` the base64 SPKI DER public key. The
 *   Sigstore format is accepted too.
 *
 * Only ECDSA P-256 with SHA-256 keys are accepted (`scheme`/`keytype` `ecdsa-sha2-nistp256`,
 * `keyDetails` `PKIX_ECDSA_P256_SHA_256`): that is what npm signs with; anything else is refused rather
 * than guessed.
 *
 * @module
 */
import seeds from "@sigstore/tuf/seeds.json" with { type: "json" };
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { McpTrustError } from "../errors.ts";

/** One registry signing key. */
export interface RegistryKey {
  /** e.g. `SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U` */
  keyid: string;
  /** The P-256 public key. */
  publicKey: KeyObject;
  /**
   * When the key stopped being valid (ISO 8601), or null if it has not. A signature counts only if the
   * version was published before this time (pacote's rule).
   */
  expires: string | null;
  /** Where the key came from, for messages. */
  source: string;
}

/** The TUF mirror whose seed carries the registry keys target. */
const PUBLIC_GOOD_TUF_MIRROR = "https://tuf-repo-cdn.sigstore.dev";
/** The target name of npm's registry keys in the Sigstore TUF repository. */
export const NPM_KEYS_TARGET = "registry.npmjs.org%2Fkeys.json";
/** Where the embedded keys come from, for messages. */
export const EMBEDDED_KEYS_SOURCE = "@sigstore/tuf seed (registry.npmjs.org/keys.json)";

const P256 = "ecdsa-sha2-nistp256";

function bad(source: string, why: string): McpTrustError {
  return new McpTrustError(`registry keys from ${source} are unusable: ${why}`, {
    hint: "give a keys file in npm's format: the JSON of GET <registry>/-/npm/v1/keys " +
      '({"keys":[{"keyid","keytype":"ecdsa-sha2-nistp256","scheme":"ecdsa-sha2-nistp256","key","expires"}]})',
  });
}

function p256Key(b64: unknown, source: string, keyid: string): KeyObject {
  if (typeof b64 !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw bad(source, `key ${keyid} is not base64`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(b64, "base64"), format: "der", type: "spki" });
  } catch {
    throw bad(source, `key ${keyid} is not a DER SubjectPublicKeyInfo`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || (curve !== "prime256v1" && curve !== "P-256")) {
    throw bad(source, `key ${keyid} is not an ECDSA P-256 key`);
  }
  return key;
}

function isoOrNull(value: unknown, source: string, keyid: string): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
    throw bad(source, `key ${keyid} has an unreadable expiry ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Parses registry keys in npm's keys-endpoint format or Sigstore's TUF target format (see the module
 * doc). Sigstore-format keys with another `keyUsage` than `npm:signatures` are skipped.
 *
 * @param doc parsed JSON
 * @param source where it came from, for messages
 * @throws McpTrustError (exit 2) if the document is not a key list, or a key is not P-256/SHA-256,
 *   not base64 SPKI DER, or has an unreadable expiry
 */
export function parseRegistryKeys(doc: unknown, source: string): RegistryKey[] {
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw bad(source, 'it has no "keys" array');
  const out: RegistryKey[] = [];
  for (const k of keys as Record<string, unknown>[]) {
    if (typeof k !== "object" || k === null) throw bad(source, "a key entry is not an object");
    if (typeof k.keyId === "string" && typeof k.publicKey === "object" && k.publicKey !== null) {
      // Sigstore's format.
      if (k.keyUsage !== undefined && k.keyUsage !== "npm:signatures") continue;
      const pk = k.publicKey as { rawBytes?: unknown; keyDetails?: unknown; validFor?: { end?: unknown } };
      if (pk.keyDetails !== "PKIX_ECDSA_P256_SHA_256") {
        throw bad(source, `key ${k.keyId} is ${String(pk.keyDetails)}, not PKIX_ECDSA_P256_SHA_256`);
      }
      out.push({
        keyid: k.keyId,
        publicKey: p256Key(pk.rawBytes, source, k.keyId),
        expires: isoOrNull(pk.validFor?.end, source, k.keyId),
        source,
      });
      continue;
    }
    if (typeof k.keyid !== "string" || k.keyid === "") throw bad(source, "a key has no keyid");
    if (k.scheme !== P256 || (k.keytype !== undefined && k.keytype !== P256)) {
      throw bad(source, `key ${k.keyid} uses ${String(k.scheme ?? k.keytype)}, not ${P256}`);
    }
    out.push({
      keyid: k.keyid,
      publicKey: p256Key(k.key, source, k.keyid),
      expires: isoOrNull(k.expires, source, k.keyid),
      source,
    });
  }
  return out;
}

/**
 * Reads a keys file (`--registry-keys FILE`).
 *
 * @throws McpTrustError (exit 2) if it cannot be read, is not JSON, or {@link parseRegistryKeys} refuses it
 */
export function loadRegistryKeysFile(path: string): RegistryKey[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new McpTrustError(`cannot read registry keys ${path}: ${(err as { code?: string }).code ?? err}`, {
      hint: "check the --registry-keys path",
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(path, "it is not JSON");
  }
  return parseRegistryKeys(doc, path);
}

/**
 * The npm registry's signing keys embedded from @sigstore/tuf's seed, or an empty list if the seed has
 * no such target (then every signature reads `failed: unknown keyid` and a keys file is needed).
 *
 * @throws McpTrustError (exit 2) if the embedded target exists but is unreadable (a broken build)
 */
export function embeddedRegistryKeys(): RegistryKey[] {
  const seed = (seeds as Record<string, { targets?: Record<string, string> }>)[PUBLIC_GOOD_TUF_MIRROR];
  const b64 = seed?.targets?.[NPM_KEYS_TARGET];
  if (typeof b64 !== "string") return [];
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
  } catch {
    throw bad(EMBEDDED_KEYS_SOURCE, "the embedded target is not JSON");
  }
  return parseRegistryKeys(doc, EMBEDDED_KEYS_SOURCE);
}
