/**
 * Choosing the trust material a signature is checked against, from the command-line flags and the kind
 * of `.sig` file: an Ed25519 public key, or a Sigstore identity policy (who must have signed).
 *
 * Rules (each refusal is a usage error, exit 2, saying why):
 * - Ed25519 signature: the key from `--key`; else a fallback the caller names (the default key path
 *   for `verify`, the key shipped inside a bundle for `bundle verify`). Identity flags are refused: they
 *   would suggest a check that is not made.
 * - Sigstore signature: `--certificate-oidc-issuer` plus exactly one of `--certificate-identity` /
 *   `--certificate-identity-regexp` are required. A Sigstore signature alone proves only that *someone*
 *   with a certificate from the public Fulcio signed; the Go tool's default of accepting any identity
 *   (reference §11.6) is not repeated. `--key` is refused for Sigstore signatures.
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import type { SignatureEnvelope } from "./envelope.ts";
import { parsePublicKeyBytes, type PublicKey, readPublicKeyFile } from "./keys.ts";
import { decodeUtf8, readInputFile } from "./read_input.ts";
import type { IdentityPolicy } from "./sigstore_bridge.ts";
import { parseStrictJson } from "./strict_json.ts";

/** Trust flags as given on the command line (all optional). */
export interface TrustFlags {
  /** `--key`: the signer's Ed25519 public key file. */
  key?: string;
  /** `--certificate-identity` (Go: `--identity`). */
  identity?: string;
  /** `--certificate-identity-regexp` (Go: `--identity-regexp`). */
  identityRegexp?: string;
  /** `--certificate-oidc-issuer` (Go: `--issuer`). */
  issuer?: string;
  /** `--trusted-root`: a Sigstore trusted root JSON file, instead of the embedded public-good root. */
  trustedRoot?: string;
}

/** Where an Ed25519 key came from, which decides how much it can be trusted. */
export type KeyOrigin =
  /** `--key`, or a key the library caller supplied: chosen by the user. */
  | "flag"
  /** The default path (e.g. mcptrust.pub in the working directory). */
  | "default"
  /** Shipped inside the bundle being verified: only a claim by whoever made the bundle. */
  | "bundle";

/** The trust material a signature is checked against. */
export type Trust =
  | { type: "ed25519"; key: PublicKey; keySource: string; origin: KeyOrigin }
  | { type: "sigstore"; policy: IdentityPolicy; trustedRoot?: unknown; trustedRootSource?: string };

/** The key to use when `--key` is absent. */
export type FallbackKey =
  /** A key file path: origin "default". */
  | { kind: "path"; path: string }
  /** Key file bytes shipped in a bundle: origin "bundle". */
  | { kind: "bytes"; bytes: Uint8Array; source: string }
  /** An already-parsed key shipped in a bundle: origin "bundle". */
  | { kind: "key"; key: PublicKey; source: string };

/** Options for {@link resolveTrust}. */
export interface ResolveTrustOptions {
  /** An already-loaded key, taking the place of `--key` (library callers, tests). */
  publicKey?: { key: PublicKey; source: string };
  /** Used for Ed25519 signatures when neither `--key` nor `publicKey` is given. */
  fallbackKey?: FallbackKey;
  /** Names the signature in messages, e.g. "mcp-lock.json.sig". */
  signatureSource: string;
}

const IDENTITY_EXAMPLE =
  "--certificate-identity https://github.com/ORG/REPO/.github/workflows/release.yml@refs/heads/main " +
  "--certificate-oidc-issuer https://token.actions.githubusercontent.com";

/**
 * Picks and loads the trust material for `envelope` (rules in the module note).
 *
 * @throws {McpTrustError} exit 2: flags that do not fit the signature kind, no key or identity given,
 *   an invalid identity regexp, or an unreadable/malformed key or trusted root file
 */
export function resolveTrust(
  envelope: SignatureEnvelope,
  flags: TrustFlags,
  opts: ResolveTrustOptions,
): Trust {
  const identityFlags = [
    flags.identity !== undefined ? "--certificate-identity" : "",
    flags.identityRegexp !== undefined ? "--certificate-identity-regexp" : "",
    flags.issuer !== undefined ? "--certificate-oidc-issuer" : "",
    flags.trustedRoot !== undefined ? "--trusted-root" : "",
  ].filter((f) => f !== "");

  if (envelope.type === "ed25519") {
    if (identityFlags.length > 0) {
      throw new McpTrustError(
        `${opts.signatureSource} is an Ed25519 signature, so ${identityFlags.join(", ")} cannot apply to it`,
        { hint: "verify it with --key <the signer's public key>, and drop the Sigstore identity flags" },
      );
    }
    if (flags.key !== undefined) {
      return { type: "ed25519", key: readPublicKeyFile(flags.key), keySource: flags.key, origin: "flag" };
    }
    if (opts.publicKey) {
      return { type: "ed25519", key: opts.publicKey.key, keySource: opts.publicKey.source, origin: "flag" };
    }
    const fb = opts.fallbackKey;
    if (fb?.kind === "path") {
      return { type: "ed25519", key: readPublicKeyFile(fb.path), keySource: fb.path, origin: "default" };
    }
    if (fb?.kind === "bytes") {
      return {
        type: "ed25519",
        key: parsePublicKeyBytes(fb.bytes, fb.source),
        keySource: fb.source,
        origin: "bundle",
      };
    }
    if (fb?.kind === "key") return { type: "ed25519", key: fb.key, keySource: fb.source, origin: "bundle" };
    throw new McpTrustError(`${opts.signatureSource} is an Ed25519 signature and no public key was given`, {
      hint: "pass the signer's public key with --key PATH",
    });
  }

  if (flags.key !== undefined || opts.publicKey) {
    throw new McpTrustError(
      `${opts.signatureSource} holds a Sigstore bundle, which is not checked with --key`,
      {
        hint: `name the signer instead: ${IDENTITY_EXAMPLE}`,
      },
    );
  }
  if ((flags.identity === undefined && flags.identityRegexp === undefined) || flags.issuer === undefined) {
    const missing = [
      flags.identity === undefined && flags.identityRegexp === undefined
        ? "--certificate-identity (or --certificate-identity-regexp)"
        : "",
      flags.issuer === undefined ? "--certificate-oidc-issuer" : "",
    ].filter((m) => m !== "").join(" and ");
    throw new McpTrustError(
      `${opts.signatureSource} holds a Sigstore signature; say who must have signed it with ${missing}. ` +
        "Anyone can get a Sigstore certificate for their own identity, so a Sigstore signature means nothing " +
        "until the expected signer is named (mcptrust does not accept any identity by default)",
      { hint: `for example: ${IDENTITY_EXAMPLE}` },
    );
  }
  if (flags.identity !== undefined && flags.identityRegexp !== undefined) {
    throw new McpTrustError("give --certificate-identity or --certificate-identity-regexp, not both", {
      hint: "an exact identity is the safer choice when you know it",
    });
  }
  if (flags.issuer === "" || flags.identity === "" || flags.identityRegexp === "") {
    throw new McpTrustError("the certificate identity and OIDC issuer must not be empty");
  }
  if (flags.identityRegexp !== undefined) {
    try {
      new RegExp(flags.identityRegexp);
    } catch (err) {
      throw new McpTrustError(
        `--certificate-identity-regexp is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  }
  const policy: IdentityPolicy = flags.identity !== undefined
    ? { identity: flags.identity, issuer: flags.issuer }
    : { identityRegexp: flags.identityRegexp, issuer: flags.issuer };
  if (flags.trustedRoot === undefined) return { type: "sigstore", policy };
  const bytes = readInputFile(flags.trustedRoot, "trusted root", 16 * 1024 * 1024);
  let trustedRoot: unknown;
  try {
    trustedRoot = parseStrictJson(decodeUtf8(bytes, flags.trustedRoot, "trusted root"));
  } catch (err) {
    if (err instanceof McpTrustError) throw err;
    throw new McpTrustError(`cannot use trusted root ${flags.trustedRoot}: ${(err as Error).message}`, {
      hint: "pass a Sigstore trusted_root.json (e.g. from `cosign trusted-root create` or TUF)",
    });
  }
  return { type: "sigstore", policy, trustedRoot, trustedRootSource: flags.trustedRoot };
}
