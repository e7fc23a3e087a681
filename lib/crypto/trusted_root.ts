/**
 * Sigstore trusted roots: the embedded public-good root and parsing of custom ones.
 *
 * A trusted root (media type `application/vnd.dev.sigstore.trustedroot+json;version=0.1` or
 * `application/vnd.dev.sigstore.trustedroot.v0.2+json`) lists the Fulcio certificate authorities,
 * Rekor transparency logs, CT logs and timestamp authorities a verifier trusts, each with a validity
 * window. The public-good root is the `trusted_root.json` target that @sigstore/tuf ships in its
 * `seeds.json` (the snapshot it would otherwise fetch from https://tuf-repo-cdn.sigstore.dev). Importing
 * that file here makes `bun build --compile` embed it, so verification needs no network. It is as fresh
 * as the installed @sigstore/tuf: keys Sigstore rotates in later are unknown until the dependency is
 * updated, and a custom root (`--trusted-root`) is the way to trust them sooner.
 *
 * @module
 */
import seeds from "@sigstore/tuf/seeds.json" with { type: "json" };
import { type TimeRange, TrustedRoot } from "@sigstore/protobuf-specs";
import { Buffer } from "node:buffer";
import { McpTrustError } from "../errors.ts";

/** The TUF mirror whose seed carries the public-good trusted root. */
const PUBLIC_GOOD_TUF_MIRROR = "https://tuf-repo-cdn.sigstore.dev";

const TRUSTED_ROOT_MEDIA_TYPES = [
  "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "application/vnd.dev.sigstore.trustedroot.v0.1+json",
  "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

let publicGood: { json: unknown; root: TrustedRoot } | undefined;

/**
 * Returns the Sigstore public-good trusted root embedded in the binary, as parsed JSON.
 *
 * @throws McpTrustError if the embedded seed is missing or unreadable (a broken build)
 */
export function publicGoodTrustedRootJSON(): unknown {
  return loadPublicGood().json;
}

/**
 * Returns the embedded public-good trusted root as the protobuf-specs `TrustedRoot` message.
 *
 * @throws McpTrustError if the embedded seed is missing or unreadable (a broken build)
 */
export function publicGoodTrustedRoot(): TrustedRoot {
  return loadPublicGood().root;
}

function loadPublicGood(): { json: unknown; root: TrustedRoot } {
  if (publicGood) return publicGood;
  const seed = (seeds as Record<string, { targets?: Record<string, string> }>)[PUBLIC_GOOD_TUF_MIRROR];
  const b64 = seed?.targets?.["trusted_root.json"];
  if (typeof b64 !== "string") {
    throw new McpTrustError(
      "the embedded Sigstore public-good trusted root is missing from @sigstore/tuf's seeds.json",
      {
        hint: "pass --trusted-root <trusted_root.json>, or rebuild mcptrust against a complete @sigstore/tuf",
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
  } catch (cause) {
    throw new McpTrustError("the embedded Sigstore public-good trusted root is not valid JSON", {
      cause,
      hint: "pass --trusted-root <trusted_root.json>, or rebuild mcptrust",
    });
  }
  publicGood = { json, root: parseTrustedRoot(json, "the embedded public-good trusted root") };
  return publicGood;
}

/**
 * Parses and checks a trusted root given as parsed JSON (the `trusted_root.json` format of
 * sigstore/protobuf-specs, as written by `cosign trusted-root create` or served by Sigstore's TUF repos).
 *
 * Checked: it is an object with a known trusted-root media type; every transparency log and CT log has
 * a public key and a log ID; every certificate authority has at least one certificate; and every
 * transparency log key, CT log key, certificate authority and timestamp authority has a validity window
 * (`validFor`) with a `start`, and an `end`, if any, that is a time not before it. The keys and
 * certificates themselves are decoded when trust material is built from the result.
 *
 * The validity rule is sigstore/protobuf-specs' (`TimeRange.start` is required, `end` optional; a
 * `CertificateAuthority`'s window MUST be checked) and sigstore-go's (it refuses a log key without
 * `validFor.start`), and the sigstore-conformance case `trust-root-tlog-missing-validity-start_fail`.
 * @sigstore/verify would read a missing start as the beginning of time, trusting a key for signatures
 * made before it existed; such a root is refused instead.
 *
 * @param json parsed JSON
 * @param source how to name the input in messages, e.g. the file path
 * @returns the `TrustedRoot` message
 * @throws McpTrustError (exit 2) naming what is malformed
 */
export function parseTrustedRoot(json: unknown, source = "trusted root"): TrustedRoot {
  const bad = (why: string) =>
    new McpTrustError(`${source} is not a usable Sigstore trusted root: ${why}`, {
      hint:
        "pass a trusted_root.json in the sigstore/protobuf-specs format (e.g. from `cosign trusted-root create`, or the trusted_root.json target of your Sigstore TUF repository)",
    });
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("expected a JSON object");
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== "string" || !TRUSTED_ROOT_MEDIA_TYPES.includes(mediaType)) {
    throw bad(
      `mediaType is ${JSON.stringify(mediaType)}, expected one of ${TRUSTED_ROOT_MEDIA_TYPES.join(", ")}`,
    );
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (err) {
    throw bad(err instanceof Error ? err.message : String(err));
  }
  for (const [field, logs] of [["tlogs", root.tlogs], ["ctlogs", root.ctlogs]] as const) {
    logs.forEach((log, i) => {
      if (!log.publicKey?.rawBytes?.length) throw bad(`${field}[${i}].publicKey.rawBytes is missing`);
      if (!log.logId?.keyId?.length) throw bad(`${field}[${i}].logId.keyId is missing`);
      const why = validityProblem(log.publicKey.validFor);
      if (why) throw bad(`${field}[${i}]${named(log.baseUrl)}.publicKey.validFor${why}`);
    });
  }
  for (
    const [field, cas] of [
      ["certificateAuthorities", root.certificateAuthorities],
      ["timestampAuthorities", root.timestampAuthorities],
    ] as const
  ) {
    cas.forEach((ca, i) => {
      if (!ca.certChain?.certificates?.length) throw bad(`${field}[${i}].certChain has no certificates`);
      const why = validityProblem(ca.validFor);
      if (why) throw bad(`${field}[${i}]${named(ca.uri)}.validFor${why}`);
    });
  }
  if (root.tlogs.length === 0) throw bad("it lists no transparency logs (tlogs)");
  return root;
}

/** What is wrong with a validity window, as the rest of a sentence after its path, or undefined. */
function validityProblem(range: TimeRange | undefined): string | undefined {
  if (!range) return " is missing: each key and authority must say from when it is trusted";
  if (!range.start) {
    return ".start is missing: the time from which it is trusted is required, and is not assumed to be the beginning of time";
  }
  if (Number.isNaN(range.start.getTime())) return ".start is not a valid time";
  if (range.end && Number.isNaN(range.end.getTime())) return ".end is not a valid time";
  if (range.end && range.end < range.start) return ".end is before its start";
  return undefined;
}

function named(url: string | undefined): string {
  return url ? ` (${url})` : "";
}
