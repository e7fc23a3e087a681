/**
 * npm registry signatures: `dist.signatures` in a version manifest, `[{keyid, sig}]`, where `sig` is a
 * base64 DER ECDSA P-256 / SHA-256 signature by the registry over the string
 * `${name}@${version}:${integrity}` (npm/pacote lib/registry.js, `npm audit signatures`).
 *
 * Rules (pacote's): every signature served must verify; a signature whose keyid names no known key does
 * not verify; a key counts only if the version was published before the key's `expires` (a key expired
 * before the publish time does not count). When the packument has no publish time for the version, the
 * check time stands in for it (a key still valid now was valid at any earlier publish time). A key's
 * Sigstore `validFor.start` is not checked, as npm does not.
 *
 * The result says why a check failed, so the caller can tell a signature that does not match the
 * integrity (the manifest was changed after signing: a failed integrity check) from one it merely
 * cannot judge (an unknown or expired key).
 *
 * @module
 */
import { verify } from "node:crypto";
import { Buffer } from "node:buffer";
import type { RegistryKey } from "./registry_keys.ts";

/** Why a served signature did not verify. */
export type SignatureFailure = "malformed" | "unknown-key" | "expired-key" | "bad-signature";

/** The outcome of {@link checkRegistrySignature}. */
export type SignatureCheck =
  | { status: "absent" }
  | { status: "verified"; keyid: string }
  | { status: "failed"; keyid?: string; reason: SignatureFailure; message: string };

/** Input of {@link checkRegistrySignature}. */
export interface SignatureInput {
  name: string;
  version: string;
  /** `dist.integrity` exactly as served (the signed string contains it verbatim). */
  integrity: string;
  /** `dist.signatures` as served (anything; its shape is checked). */
  signatures: unknown;
  /** Publish time of the version (packument `time[version]`), if known. */
  publishedAt?: Date;
  /** The registry keys to trust. */
  keys: readonly RegistryKey[];
  /** The check time. Default now. */
  now?: Date;
}

/** The string the registry signs for a version. */
export function signedPayload(name: string, version: string, integrity: string): string {
  return `${name}@${version}:${integrity}`;
}

/**
 * Checks the registry signatures of one version (see the module doc for the rules).
 *
 * @returns `absent` when none are served; `verified` (with the first keyid) when every one verifies;
 *   `failed` with the reason and keyid of the first one that does not
 */
export function checkRegistrySignature(input: SignatureInput): SignatureCheck {
  const { name, version, integrity, signatures, keys } = input;
  const spec = `${name}@${version}`;
  if (signatures === undefined || signatures === null) return { status: "absent" };
  if (!Array.isArray(signatures)) {
    return { status: "failed", reason: "malformed", message: `${spec}: dist.signatures is not a list` };
  }
  if (signatures.length === 0) return { status: "absent" };
  const when = input.publishedAt ?? input.now ?? new Date();
  const payload = Buffer.from(signedPayload(name, version, integrity), "utf8");
  let first: string | undefined;
  for (const s of signatures as { keyid?: unknown; sig?: unknown }[]) {
    const keyid = typeof s?.keyid === "string" ? s.keyid : undefined;
    if (keyid === undefined || typeof s.sig !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(s.sig)) {
      return {
        status: "failed",
        keyid,
        reason: "malformed",
        message: `${spec}: a registry signature has no keyid or no base64 sig`,
      };
    }
    first ??= keyid;
    const candidates = keys.filter((k) => k.keyid === keyid);
    if (candidates.length === 0) {
      return {
        status: "failed",
        keyid,
        reason: "unknown-key",
        message:
          `${spec} has a registry signature with keyid ${keyid}, but no known registry key has that id`,
      };
    }
    const valid = candidates.filter((k) => k.expires === null || when.getTime() < Date.parse(k.expires));
    if (valid.length === 0) {
      return {
        status: "failed",
        keyid,
        reason: "expired-key",
        message: `${spec} has a registry signature with keyid ${keyid}, but that key expired ` +
          `${candidates[0].expires} before the version was published (${when.toISOString()})`,
      };
    }
    const sig = Buffer.from(s.sig, "base64");
    const ok = valid.some((k) => {
      try {
        return verify("sha256", payload, { key: k.publicKey, dsaEncoding: "der" }, sig);
      } catch {
        return false;
      }
    });
    if (!ok) {
      return {
        status: "failed",
        keyid,
        reason: "bad-signature",
        message: `${spec}: the registry signature (keyid ${keyid}) does not verify over ` +
          `"${
            signedPayload(name, version, integrity)
          }": the integrity served is not the one the registry signed`,
      };
    }
  }
  return { status: "verified", keyid: first! };
}
