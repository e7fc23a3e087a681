/**
 * Sigstore: offline verification of Sigstore bundles and keyless signing.
 *
 * Verification runs fully offline with @sigstore/verify and @sigstore/bundle against a trusted root
 * (the public-good root embedded in the binary, see ./trusted_root.ts, or one the caller passes). It
 * checks, in order: the bundle's shape (./sigstore_bundle_shape.ts); that its certificate chain carries
 * no root certificate; that the bundle covers these artifact bytes, or this artifact digest
 * (./sigstore_digest.ts), by its message digest or the in-toto subject of its DSSE envelope; the
 * timestamps (Rekor inclusion promises, RFC 3161 timestamps); the Fulcio certificate chain and its
 * SCTs at those times (or the caller's public key); the transparency log entry (SET and/or inclusion
 * proof against a checkpoint, and that the entry describes this signature); the signature itself;
 * and then the certificate identity and OIDC issuer against the caller's policy. There is no "any
 * identity" default (the Go tool's `.*` is a known gap): a keyless bundle only verifies against an
 * explicit identity and issuer. Every refusal is one line: errors that are not the libraries' own
 * verdicts (a TypeError on a field nobody checked) are reported as the step that failed, never as the
 * raw JavaScript message.
 *
 * Signing (keyless, via the `sigstore` package) needs the network: an OIDC token, Fulcio for the
 * short-lived certificate, Rekor for the transparency log entry, and optionally a timestamp authority.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import nodeCrypto from "node:crypto";
import process from "node:process";
import {
  type Bundle,
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  bundleFromJSON,
  ValidationError,
} from "@sigstore/bundle";
import {
  type SignedEntity,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from "@sigstore/verify";
import { HashAlgorithm, type TrustedRoot } from "@sigstore/protobuf-specs";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { findBundleFieldProblem, findTlogEntryProblem } from "./sigstore_bundle_shape.ts";
import { type ArtifactDigest, digestSignatureContent, digestUncheckableReason } from "./sigstore_digest.ts";
import { parseTrustedRoot, publicGoodTrustedRoot } from "./trusted_root.ts";

export type { ArtifactDigest } from "./sigstore_digest.ts";
export { isArtifactDigestForm, looksLikeArtifactDigest, parseArtifactDigest } from "./sigstore_digest.ts";

/**
 * An artifact named by its SHA-512, for DSSE bundles only: the in-toto statement must name it among its
 * subjects (npm attestations name the tarball by sha512, the digest of its integrity). A message
 * signature cannot be checked against it (usage error).
 */
export interface SubjectSha512 {
  algorithm: "sha512";
  /** The 64 digest bytes. */
  digest: Uint8Array;
}

/**
 * Who may have signed: the certificate identity (the Fulcio certificate's subject alternative name, e.g.
 * a GitHub Actions workflow URI or an email) and the OIDC issuer that vouched for it.
 *
 * Give exactly one of `identity` (exact match) or `identityRegexp` (a JavaScript regular expression that
 * must match the whole identity: it is wrapped as `^(?:...)$`, like cosign's
 * `--certificate-identity-regexp` is meant to be used). `issuer` must match exactly.
 */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer: string;
}

/** The outcome of a successful verification. */
export interface SigstoreVerified {
  /**
   * For `kind: "certificate"`, the certificate identity (subject alternative name). For
   * `kind: "public-key"`, `sha256:<hex>` of the verifying key's DER SubjectPublicKeyInfo.
   */
  identity: string;
  /** The OIDC issuer from the Fulcio certificate; "" for `kind: "public-key"`. */
  issuer: string;
  /** ISO-8601 UTC time of the earliest verified timestamp (Rekor integrated time or RFC 3161). */
  signedAt?: string;
  kind: "certificate" | "public-key";
}

/** Which verification step rejected a bundle (see {@link SigstoreCheckFailedError}). */
export type SigstoreCheck =
  | "artifact"
  | "signature"
  | "transparency-log"
  | "certificate-chain"
  | "timestamp"
  | "public-key"
  | "identity"
  | "issuer";

/**
 * A bundle that is well-formed but does not verify (exit 1). `check` names the step that failed, for
 * callers that render or branch on it.
 */
export class SigstoreCheckFailedError extends CheckFailedError {
  /** The verification step that failed. */
  readonly check: SigstoreCheck;

  constructor(check: SigstoreCheck, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts);
    this.name = "SigstoreCheckFailedError";
    this.check = check;
  }
}

const KNOWN_BUNDLE_MEDIA_TYPES = [
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
];

const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

const TRUSTED_ROOT_HINT =
  "if the bundle was made with a private Sigstore instance (or after a public-good key rotation newer than this build), pass its trusted root with --trusted-root";

/**
 * Parses the text of a Sigstore bundle file (`*.sigstore.json`, cosign `--bundle` output).
 *
 * @param text the file's bytes or text (UTF-8)
 * @param source how to name the input in messages, e.g. the file path
 * @returns the parsed JSON, to pass to {@link verifySigstoreBundle}
 * @throws McpTrustError (exit 2) if it is not valid JSON
 */
export function parseBundleJSON(text: string | Uint8Array, source = "Sigstore bundle"): unknown {
  const s = typeof text === "string" ? text : new TextDecoder("utf-8", { fatal: false }).decode(text);
  try {
    return JSON.parse(s);
  } catch (err) {
    throw new McpTrustError(`${source} is not valid JSON (truncated or corrupted?): ${errText(err)}`, {
      hint:
        "pass the bundle file exactly as written by `cosign sign-blob --bundle` or `mcptrust sign --sigstore`",
    });
  }
}

/**
 * Verifies a Sigstore bundle (parsed JSON) over `artifact` bytes, or an artifact digest, fully offline.
 *
 * Keyless bundles (a Fulcio certificate in `verificationMaterial`) need `opts.policy`; managed-key
 * bundles (`verificationMaterial.publicKey`) need `opts.publicKeyPem` instead (PEM SubjectPublicKeyInfo,
 * as in cosign's `cosign.pub`). Passing both, or neither, is a usage error. Bundle media types v0.1,
 * v0.2 and v0.3 are accepted; message signatures and DSSE envelopes (in-toto statements, bound to the
 * artifact through a subject digest) are supported. At least one transparency log entry and one verified
 * timestamp are required, as in cosign and sigstore-js defaults. A certificate chain that includes a
 * root (self-signed) certificate is refused: signers MUST NOT include one (sigstore/protobuf-specs
 * `VerificationMaterial`), and the sigstore-conformance case `bundle-with-root-cert_fail` expects the
 * refusal. A transparency log entry that is malformed (see ./sigstore_bundle_shape.ts) fails the
 * `transparency-log` check.
 *
 * Given an {@link ArtifactDigest} instead of bytes (the sigstore-conformance `sha256:<hex>` form): a
 * message signature's `messageDigest` must be that SHA-256 and its signature is checked over the digest
 * (ECDSA keys only, see ./sigstore_digest.ts); a DSSE envelope's in-toto statement must name that
 * sha256 among its subjects.
 *
 * Under Deno, `node:crypto.verify(null, …)` throws "no default digest" for EC and RSA keys, where Node
 * and Bun use SHA-256; @sigstore/verify relies on that default for Rekor SETs, checkpoints and DSSE
 * signatures. On such runtimes the library call is wrapped so that a missing digest means SHA-256, for
 * the duration of the (synchronous) verification only.
 *
 * @param bundle the parsed bundle JSON (see {@link parseBundleJSON})
 * @param artifact the signed bytes (for DSSE: the in-toto subject), or their SHA-256 (see
 *   {@link parseArtifactDigest})
 * @param opts `policy` (identity and issuer), `publicKeyPem` (managed key), `trustedRoot` (parsed
 *   trusted_root.json; default: the embedded Sigstore public-good root)
 * @returns who signed, and when
 * @throws McpTrustError (exit 2) for malformed bundles, keys, trusted roots or policies, and for a
 *   digest that cannot be checked (a SHA-384 message digest, an Ed25519 or RSA signing key)
 * @throws SigstoreCheckFailedError (a CheckFailedError, exit 1) when the bundle does not verify; its
 *   `check` says which step failed
 */
// deno-lint-ignore require-await -- async by contract (stable API); the checks themselves are synchronous
export async function verifySigstoreBundle(
  bundle: unknown,
  artifact: Uint8Array | ArtifactDigest | SubjectSha512,
  opts: { policy?: IdentityPolicy; publicKeyPem?: string; trustedRoot?: unknown },
): Promise<SigstoreVerified> {
  const matcher = opts.policy === undefined ? undefined : compilePolicy(opts.policy);
  if (matcher && opts.publicKeyPem !== undefined) {
    throw new McpTrustError("give either an identity policy or a public key, not both", {
      hint:
        "keyless bundles are verified by certificate identity and issuer; managed-key bundles by --key alone",
    });
  }
  if (!matcher && opts.publicKeyPem === undefined) {
    throw new McpTrustError("no signer identity given: refusing to accept a Sigstore bundle from anyone", {
      hint:
        "pass --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer, or --key for a managed-key bundle",
    });
  }
  const publicKey = opts.publicKeyPem === undefined ? undefined : parsePublicKey(opts.publicKeyPem);
  const root: TrustedRoot = opts.trustedRoot === undefined
    ? publicGoodTrustedRoot()
    : parseTrustedRoot(opts.trustedRoot, "the trusted root");

  const parsed = parseBundle(bundle);
  const keyKind = parsed.verificationMaterial.content.$case;
  if (keyKind === "publicKey" && !publicKey) {
    throw new McpTrustError("this Sigstore bundle was signed with a managed key, not a Fulcio certificate", {
      hint: "pass the signer's public key with --key <cosign.pub>",
    });
  }
  if (keyKind !== "publicKey" && publicKey) {
    throw new SigstoreCheckFailedError(
      "public-key",
      "this Sigstore bundle was signed with a Fulcio certificate, not with the key given in --key",
      { hint: "verify it by certificate identity: --certificate-identity and --certificate-oidc-issuer" },
    );
  }

  checkNoRootCertificate(parsed);

  const data = artifact instanceof Uint8Array
    ? Buffer.from(artifact.buffer, artifact.byteOffset, artifact.byteLength)
    : undefined;
  const sha512 = artifact instanceof Uint8Array || artifact?.algorithm !== "sha512"
    ? undefined
    : checkSha512Arg(artifact, parsed);
  const digest = artifact instanceof Uint8Array || sha512
    ? undefined
    : checkArtifactDigestArg(artifact as ArtifactDigest);
  if (data) checkMessageDigest(parsed, data);
  else if (digest) checkMessageDigestAgainst(parsed, digest);

  let trust;
  try {
    trust = toTrustMaterial(root, publicKey ? () => ({ publicKey, validFor: () => true }) : undefined);
  } catch (err) {
    throw new McpTrustError(
      `the trusted root has a key or certificate that cannot be decoded${because(err)}`,
      {
        hint: "check the trusted_root.json passed with --trusted-root",
      },
    );
  }

  let entity: SignedEntity;
  try {
    entity = toSignedEntity(parsed, data);
  } catch (err) {
    throw new McpTrustError(
      `the Sigstore bundle has a certificate or timestamp that cannot be decoded${because(err)}`,
      {
        hint: "the bundle is corrupted; obtain it again from the signer",
      },
    );
  }
  if (digest && parsed.content.$case === "messageSignature") {
    let why: string | undefined;
    try {
      why = digestUncheckableReason(signingKey(entity, publicKey));
    } catch {
      why = "the signing certificate's key cannot be read";
    }
    if (why) {
      throw new McpTrustError(`cannot verify against a digest: ${why}`, {
        hint: "pass the artifact file instead of its digest",
      });
    }
    const ms = parsed.content.messageSignature;
    entity = { ...entity, signature: digestSignatureContent(ms.signature, ms.messageDigest!.digest, digest) };
  }

  let step: SigstoreCheck = "timestamp";
  const keyStep: SigstoreCheck = publicKey ? "public-key" : "certificate-chain";
  let signer;
  try {
    const watched = watchSteps(entity, keyStep, (s) => (step = s));
    signer = withDefaultDigestSha256(() => new Verifier(trust).verify(watched));
  } catch (err) {
    if (err instanceof VerificationError) throw describeVerificationError(err, entity, publicKey);
    if (err instanceof McpTrustError) throw err;
    throw uncheckable(step, err);
  }

  if (parsed.content.$case === "dsseEnvelope") {
    checkInTotoSubject(
      parsed,
      data
        ? {
          sha256: nodeCrypto.createHash("sha256").update(data).digest("hex"),
          sha512: nodeCrypto.createHash("sha512").update(data).digest("hex"),
        }
        : sha512
        ? { sha512: Buffer.from(sha512).toString("hex") }
        : { sha256: Buffer.from(digest!).toString("hex") },
    );
  }

  const signedAt = earliestTimestamp(entity);
  if (publicKey) {
    const der = publicKey.export({ format: "der", type: "spki" });
    return {
      identity: `sha256:${nodeCrypto.createHash("sha256").update(der).digest("hex")}`,
      issuer: "",
      signedAt,
      kind: "public-key",
    };
  }
  const identity = signer.identity?.subjectAlternativeName ?? "";
  const issuer = signer.identity?.extensions?.issuer ?? "";
  if (!matcher) throw new Error("unreachable: a keyless bundle is only checked with an identity policy");
  matcher(identity, issuer);
  return { identity, issuer, signedAt, kind: "certificate" };
}

/**
 * Keyless signing with Sigstore: gets an OIDC identity token, a short-lived Fulcio certificate for an
 * ephemeral key, and a Rekor transparency log entry (plus an RFC 3161 timestamp if `tsaServerURL` is set).
 *
 * The OIDC token comes from `opts.identityToken`, else the `SIGSTORE_ID_TOKEN` environment variable, else
 * GitHub Actions ambient credentials (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
 * audience "sigstore"; the workflow needs `permissions: id-token: write`). Needs network access to the
 * OIDC token endpoint, Fulcio and Rekor (defaults: the public-good https://fulcio.sigstore.dev and
 * https://rekor.sigstore.dev). The `sigstore` library writes message-signature bundles as v0.2 with a
 * one-certificate chain; when every transparency log entry carries an inclusion proof (Rekor returns
 * one), the result is re-expressed as a v0.3 bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`,
 * single `certificate`), which is the same evidence in the current format.
 *
 * @param artifact the bytes to sign (for lockfiles: the canonical bytes)
 * @param opts token and service URLs
 * @returns the bundle as JSON (an object), ready for `JSON.stringify`
 * @throws McpTrustError (exit 2) if there is no OIDC token, or Fulcio, Rekor or the TSA fail or are
 *   unreachable. The token is never included in messages.
 */
export async function signWithSigstore(
  artifact: Uint8Array,
  opts: { identityToken?: string; fulcioURL?: string; rekorURL?: string; tsaServerURL?: string },
): Promise<unknown> {
  const identityToken = await resolveIdentityToken(opts.identityToken);
  if (identityToken.split(".").length !== 3) {
    throw new McpTrustError("the OIDC identity token is not a JWT (expected three dot-separated parts)", {
      hint: 'pass the raw ID token from your OIDC provider (audience "sigstore") in SIGSTORE_ID_TOKEN',
    });
  }
  // Loaded on demand: the signing stack (tuf-js, make-fetch-happen) is not needed to verify.
  const { sign } = await import("sigstore");
  let serialized;
  try {
    serialized = await sign(Buffer.from(artifact.buffer, artifact.byteOffset, artifact.byteLength), {
      identityToken,
      fulcioURL: opts.fulcioURL,
      rekorURL: opts.rekorURL,
      tsaServerURL: opts.tsaServerURL,
    });
  } catch (err) {
    throw describeSigningError(err, opts);
  }
  return toV03IfPossible(serialized);
}

// ---------------------------------------------------------------------------------------------------
// verification helpers

type Matcher = (identity: string, issuer: string) => void;

function compilePolicy(policy: IdentityPolicy): Matcher {
  const { identity, identityRegexp, issuer } = policy;
  if (typeof issuer !== "string" || issuer === "") {
    throw new McpTrustError("no OIDC issuer given for the certificate identity", {
      hint:
        "pass --certificate-oidc-issuer, e.g. https://token.actions.githubusercontent.com for GitHub Actions or https://accounts.google.com",
    });
  }
  const hasId = typeof identity === "string" && identity !== "";
  const hasRe = typeof identityRegexp === "string" && identityRegexp !== "";
  if (hasId === hasRe) {
    throw new McpTrustError(
      hasId
        ? "give either an exact certificate identity or an identity regexp, not both"
        : "no certificate identity given: refusing to accept a Sigstore bundle from anyone",
      {
        hint:
          "pass --certificate-identity <exact identity> or --certificate-identity-regexp <regexp matching the whole identity>",
      },
    );
  }
  let matchIdentity: (found: string) => boolean;
  let expected: string;
  if (hasId) {
    matchIdentity = (found) => found === identity;
    expected = JSON.stringify(identity);
  } else {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${identityRegexp})$`);
    } catch (err) {
      throw new McpTrustError(
        `the certificate identity regexp ${JSON.stringify(identityRegexp)} is invalid: ${errText(err)}`,
        {
          hint: "use JavaScript regular expression syntax; it must match the whole identity",
        },
      );
    }
    matchIdentity = (found) => re.test(found);
    expected = `a match for /^(?:${identityRegexp})$/`;
  }
  return (found, foundIssuer) => {
    if (!matchIdentity(found)) {
      throw new SigstoreCheckFailedError(
        "identity",
        `certificate identity mismatch: expected ${expected}, found ${JSON.stringify(found)}`,
        {
          hint:
            "check who signed; if that signer is trusted, pass its identity with --certificate-identity (a regexp must match the whole identity)",
        },
      );
    }
    if (foundIssuer !== issuer) {
      throw new SigstoreCheckFailedError(
        "issuer",
        `OIDC issuer mismatch: expected ${JSON.stringify(issuer)}, found ${JSON.stringify(foundIssuer)}`,
        {
          hint:
            "the identity was vouched for by a different OIDC provider; pass the right --certificate-oidc-issuer",
        },
      );
    }
  };
}

function parsePublicKey(pem: string): nodeCrypto.KeyObject {
  try {
    const key = nodeCrypto.createPublicKey(pem);
    if (key.type !== "public") throw new Error(`expected a public key, got a ${key.type} key`);
    return key;
  } catch (err) {
    throw new McpTrustError(`the public key is not a usable PEM public key: ${errText(err)}`, {
      hint: "pass the signer's public key in PEM (-----BEGIN PUBLIC KEY-----), e.g. cosign.pub",
    });
  }
}

function parseBundle(json: unknown): Bundle {
  const bad = (why: string) =>
    new McpTrustError(`the Sigstore bundle is malformed: ${why}`, {
      hint:
        "pass the bundle file exactly as written by `cosign sign-blob --bundle` or `mcptrust sign --sigstore`",
    });
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("expected a JSON object");
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== "string" || !KNOWN_BUNDLE_MEDIA_TYPES.includes(mediaType)) {
    throw bad(
      `${
        mediaType === undefined || mediaType === null
          ? "it has no mediaType"
          : `unsupported mediaType ${JSON.stringify(mediaType)}`
      } (known: ${KNOWN_BUNDLE_MEDIA_TYPES.join(", ")})`,
    );
  }
  // A malformed log entry is evidence that proves nothing: the transparency-log check fails (exit 1).
  const entry = findTlogEntryProblem(json);
  if (entry) {
    throw new SigstoreCheckFailedError(
      "transparency-log",
      `transparency log check failed: the bundle's log entry is malformed: ${entry.path} ${entry.problem}`,
      { hint: "the bundle is corrupted or was altered; obtain it again from the signer" },
    );
  }
  const field = findBundleFieldProblem(json);
  if (field) throw bad(`${field.path} ${field.problem}`);
  try {
    return bundleFromJSON(json);
  } catch (err) {
    if (err instanceof ValidationError) {
      throw bad(`${err.message}${err.fields?.length ? `: ${err.fields.join(", ")}` : ""}`);
    }
    throw bad(`it could not be decoded${because(err)}`);
  }
}

/**
 * Refuses a bundle whose certificates include a root: a self-issued certificate that its own key
 * signed. Signers MUST NOT include root certificates (sigstore/protobuf-specs `VerificationMaterial`);
 * a chain that carries its own trust anchor invites a verifier to trust it, so the bundle is refused
 * rather than the root ignored (the sigstore-conformance case `bundle-with-root-cert_fail`).
 */
function checkNoRootCertificate(bundle: Bundle): void {
  const vm = bundle.verificationMaterial.content;
  const certs = vm.$case === "x509CertificateChain"
    ? vm.x509CertificateChain.certificates.map((c, i) =>
      [`x509CertificateChain.certificates[${i}]`, c] as const
    )
    : vm.$case === "certificate"
    ? [["certificate", vm.certificate] as const]
    : [];
  for (const [where, c] of certs) {
    let cert: nodeCrypto.X509Certificate;
    try {
      cert = new nodeCrypto.X509Certificate(c.rawBytes);
    } catch {
      throw new McpTrustError(
        `the Sigstore bundle is malformed: verificationMaterial.${where} is not a DER X.509 certificate`,
        { hint: "the bundle is corrupted; obtain it again from the signer" },
      );
    }
    let selfSigned = false;
    try {
      selfSigned = cert.checkIssued(cert) && cert.verify(cert.publicKey);
    } catch {
      selfSigned = false; // a key this runtime cannot use is not a root we can recognise; chain building decides
    }
    if (selfSigned) {
      throw new SigstoreCheckFailedError(
        "certificate-chain",
        `certificate chain check failed: the bundle's chain includes a root certificate (verificationMaterial.${where}, ${
          oneLineName(cert.subject)
        }, self-signed); a bundle must not carry its own trust anchor`,
        {
          hint:
            "the signer must leave the root out of the bundle (trust comes from the trusted root); obtain a conforming bundle",
        },
      );
    }
  }
}

function oneLineName(dn: string): string {
  return JSON.stringify(dn.split("\n").filter(Boolean).join(", "));
}

/** The argument's own shape, for library callers that build an {@link ArtifactDigest} themselves. */
function checkArtifactDigestArg(d: ArtifactDigest): Uint8Array {
  if (d?.algorithm !== "sha256" || !(d.digest instanceof Uint8Array) || d.digest.length !== 32) {
    throw new McpTrustError("the artifact digest must be a 32-byte sha256 digest", {
      hint: 'give the artifact file, or its SHA-256 as "sha256:" followed by 64 hex digits',
    });
  }
  return d.digest;
}

/** A {@link SubjectSha512}'s own shape; only a DSSE bundle can be checked against it. */
function checkSha512Arg(d: SubjectSha512, bundle: Bundle): Uint8Array {
  if (!(d.digest instanceof Uint8Array) || d.digest.length !== 64) {
    throw new McpTrustError("the artifact digest must be a 64-byte sha512 digest", {
      hint: "give the artifact's sha512 (the digest of its sha512 integrity)",
    });
  }
  if (bundle.content.$case !== "dsseEnvelope") {
    throw new McpTrustError("a sha512 digest can only be checked against a DSSE bundle's in-toto subjects", {
      hint: "pass the artifact bytes for a message signature",
    });
  }
  return d.digest;
}

/** With a digest instead of bytes: the message signature's digest must be that very SHA-256. */
function checkMessageDigestAgainst(bundle: Bundle, digest: Uint8Array): void {
  if (bundle.content.$case !== "messageSignature") return;
  const md = bundle.content.messageSignature.messageDigest!; // required by the bundle schema check
  const alg = DIGEST_NAMES[md.algorithm];
  if (alg !== "sha256") {
    throw new McpTrustError(
      `cannot verify against a sha256 digest: the bundle signs a ${alg ?? "digest of an unknown algorithm"}`,
      { hint: "pass the artifact file instead of its digest" },
    );
  }
  const given = Buffer.from(digest).toString("hex");
  const signed = Buffer.from(md.digest).toString("hex");
  if (given !== signed) {
    throw new SigstoreCheckFailedError(
      "artifact",
      `the bundle signs a different artifact: its sha256 is ${signed}, the digest given is ${given}`,
      { hint: "check that the digest is the signed file's SHA-256" },
    );
  }
}

/** The key the signature must verify with: the leaf certificate's, or the managed key given. */
function signingKey(entity: SignedEntity, publicKey: nodeCrypto.KeyObject | undefined): nodeCrypto.KeyObject {
  if (entity.key.$case === "certificate") {
    return nodeCrypto.createPublicKey({ key: entity.key.certificate.publicKey, format: "der", type: "spki" });
  }
  if (!publicKey) throw new Error("unreachable: a managed-key bundle is only checked with --key");
  return publicKey;
}

/**
 * Wraps `entity` so that `onStep` learns which verification step @sigstore/verify is in: its Verifier
 * reads the timestamps, then the key, then the log entries, then checks the signature. Only used to
 * name the step when the library fails with something other than a VerificationError.
 */
function watchSteps(
  entity: SignedEntity,
  keyStep: SigstoreCheck,
  onStep: (s: SigstoreCheck) => void,
): SignedEntity {
  const sig = entity.signature;
  return {
    get timestamps() {
      onStep("timestamp");
      return entity.timestamps;
    },
    get key() {
      onStep(keyStep);
      return entity.key;
    },
    get tlogEntries() {
      onStep("transparency-log");
      return entity.tlogEntries;
    },
    signature: {
      get signature() {
        return sig.signature;
      },
      compareSignature: (x) => sig.compareSignature(x),
      compareDigest: (x) => sig.compareDigest(x),
      compareSignedDigest: (x) => sig.compareSignedDigest(x),
      verifySignature: (key) => {
        onStep("signature");
        return sig.verifySignature(key);
      },
    },
  };
}

const STEP_NAMES: Record<SigstoreCheck, string> = {
  "artifact": "artifact check",
  "signature": "signature check",
  "transparency-log": "transparency log check",
  "certificate-chain": "certificate chain check",
  "timestamp": "timestamp check",
  "public-key": "public key check",
  "identity": "identity check",
  "issuer": "issuer check",
};

/** A failure inside a verification step that is not the library's verdict: the bundle is refused. */
function uncheckable(step: SigstoreCheck, err: unknown): SigstoreCheckFailedError {
  return new SigstoreCheckFailedError(
    step,
    `${STEP_NAMES[step]} failed: the bundle's evidence for it is malformed and could not be checked${
      because(err)
    }`,
    { hint: "the bundle is corrupted or was altered; obtain it again from the signer", cause: err },
  );
}

const DIGEST_NAMES: Partial<Record<HashAlgorithm, string>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: "sha256",
  [HashAlgorithm.SHA2_256]: "sha256",
  [HashAlgorithm.SHA2_384]: "sha384",
  [HashAlgorithm.SHA2_512]: "sha512",
};

/** A message signature names the digest of what it signs; check it is this artifact's before anything else. */
function checkMessageDigest(bundle: Bundle, data: Buffer): void {
  if (bundle.content.$case !== "messageSignature") return;
  const md = bundle.content.messageSignature.messageDigest;
  if (!md) return; // v0.1/v0.2 allow it absent; the signature check still binds the artifact
  const alg = DIGEST_NAMES[md.algorithm];
  if (!alg) return; // unknown algorithm: left to the library, which fails closed
  const actual = nodeCrypto.createHash(alg).update(data).digest();
  if (!actual.equals(Buffer.from(md.digest))) {
    throw new SigstoreCheckFailedError(
      "artifact",
      `the bundle signs a different artifact: its ${alg} is ${
        Buffer.from(md.digest).toString("hex")
      }, the artifact's is ${actual.toString("hex")}`,
      {
        hint: "check that you passed the file that was signed, byte for byte (lockfiles: the canonical form)",
      },
    );
  }
}

/**
 * A DSSE bundle signs an in-toto statement; the artifact must be one of its subjects. `want` holds the
 * artifact's hex digests by in-toto algorithm name (sha256, and sha512 when the bytes are at hand).
 */
function checkInTotoSubject(bundle: Bundle, want: Record<string, string>): void {
  if (bundle.content.$case !== "dsseEnvelope") return;
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new SigstoreCheckFailedError(
      "artifact",
      `the bundle's DSSE envelope carries ${
        JSON.stringify(env.payloadType)
      }, not an in-toto statement, so it cannot be tied to the artifact`,
      { hint: "verify DSSE bundles whose payload is an in-toto statement naming the artifact as a subject" },
    );
  }
  let statement: { subject?: unknown };
  try {
    statement = JSON.parse(Buffer.from(env.payload).toString("utf8"));
  } catch {
    throw new SigstoreCheckFailedError("artifact", "the bundle's in-toto statement is not valid JSON", {
      hint: "the signer produced a broken attestation; obtain a new one",
    });
  }
  const subjects = Array.isArray(statement?.subject) ? statement.subject as unknown[] : [];
  const found: string[] = [];
  for (const s of subjects) {
    const digest = (s as { digest?: Record<string, unknown> } | null)?.digest;
    if (!digest || typeof digest !== "object") continue;
    for (const [alg, hex] of Object.entries(digest)) {
      if (typeof hex !== "string") continue;
      found.push(`${alg}:${hex}`);
      if (want[alg] !== undefined && hex.toLowerCase() === want[alg]) return;
    }
  }
  throw new SigstoreCheckFailedError(
    "artifact",
    `the artifact (${
      want.sha256 !== undefined ? `sha256:${want.sha256}` : `sha512:${want.sha512}`
    }) is not a subject of the bundle's in-toto statement (subjects: ${found.join(", ") || "none"})`,
    { hint: "check that you passed the file the attestation is about" },
  );
}

function describeVerificationError(
  err: VerificationError,
  entity: SignedEntity,
  publicKey: nodeCrypto.KeyObject | undefined,
): SigstoreCheckFailedError {
  const msg = err.message;
  // @sigstore/verify compares the log entry with the bundle before it checks the signature, so an
  // altered signature first shows up as a log entry mismatch. Say what is actually wrong if we can.
  if (err.code === "TLOG_BODY_ERROR" && signatureIsInvalid(entity, publicKey)) {
    return new SigstoreCheckFailedError(
      "signature",
      `signature check failed: the signature does not match the artifact and signing key, and the transparency log entry records a different one (${msg})`,
      { hint: "the artifact or the bundle was altered, or they do not belong together" },
    );
  }
  switch (err.code) {
    case "SIGNATURE_ERROR":
      return new SigstoreCheckFailedError(
        "signature",
        `signature check failed: the signature does not match the artifact and signing key (${msg})`,
        {
          hint: "the artifact or the bundle was altered, or they do not belong together",
        },
      );
    case "CERTIFICATE_ERROR":
      return new SigstoreCheckFailedError(
        "certificate-chain",
        `certificate chain check failed: the signing certificate does not chain to a trusted Fulcio CA with valid SCTs at signing time (${msg})`,
        { hint: TRUSTED_ROOT_HINT },
      );
    case "PUBLIC_KEY_ERROR":
      return new SigstoreCheckFailedError("public-key", `public key check failed (${msg})`, {
        hint: "check that --key is the signer's public key",
      });
    case "TIMESTAMP_ERROR":
      return new SigstoreCheckFailedError(
        "timestamp",
        `timestamp check failed: no trusted time of signing (${msg})`,
        {
          hint: TRUSTED_ROOT_HINT,
        },
      );
    case "TLOG_ERROR":
    case "TLOG_BODY_ERROR":
    case "TLOG_INCLUSION_PROMISE_ERROR":
    case "TLOG_INCLUSION_PROOF_ERROR":
    case "TLOG_MISSING_INCLUSION_ERROR":
      return new SigstoreCheckFailedError(
        "transparency-log",
        `transparency log check failed: the Rekor entry does not prove this signature was logged (${msg})`,
        { hint: `the bundle or its log entry was altered; ${TRUSTED_ROOT_HINT}` },
      );
    default:
      return new SigstoreCheckFailedError("signature", `Sigstore verification failed: ${msg}`, {
        hint: "the bundle does not verify; obtain it again from the signer",
      });
  }
}

/** True only if the signature can be checked here and does not verify; for diagnostics after a failure. */
function signatureIsInvalid(entity: SignedEntity, publicKey: nodeCrypto.KeyObject | undefined): boolean {
  try {
    const key = entity.key.$case === "certificate"
      ? nodeCrypto.createPublicKey({ key: entity.key.certificate.publicKey, format: "der", type: "spki" })
      : publicKey;
    if (!key) return false;
    return !withDefaultDigestSha256(() => entity.signature.verifySignature(key));
  } catch {
    return false;
  }
}

function earliestTimestamp(entity: SignedEntity): string | undefined {
  let min: Date | undefined;
  for (const t of entity.timestamps) {
    let d: Date | undefined;
    if (t.$case === "timestamp-authority") d = t.timestamp.signingTime;
    else if (t.tlogEntry.inclusionPromise) d = new Date(Number(t.tlogEntry.integratedTime) * 1000);
    if (d && !Number.isNaN(d.getTime()) && (!min || d < min)) min = d;
  }
  return min?.toISOString();
}

type VerifyFn = (...args: unknown[]) => unknown;
let lacksDefaultDigest: boolean | undefined;

/** Does `crypto.verify(null, …)` with an EC key fail here (Deno) where Node and Bun use SHA-256? */
function runtimeLacksDefaultDigest(): boolean {
  if (lacksDefaultDigest === undefined) {
    const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    const data = Buffer.from("mcptrust default digest probe");
    const sig = nodeCrypto.sign("sha256", data, privateKey);
    try {
      lacksDefaultDigest = !nodeCrypto.verify(null, data, publicKey, sig);
    } catch {
      lacksDefaultDigest = true;
    }
  }
  return lacksDefaultDigest;
}

/**
 * Runs the synchronous `fn` with `node:crypto.verify` defaulting a null digest to SHA-256 for EC and RSA
 * keys, as Node does, on runtimes that lack that default. The original function is restored before
 * returning; nothing else can run in between because `fn` is synchronous.
 */
function withDefaultDigestSha256<T>(fn: () => T): T {
  if (!runtimeLacksDefaultDigest()) return fn();
  const mod = nodeCrypto as unknown as { verify: VerifyFn };
  const original = mod.verify;
  mod.verify = (algorithm: unknown, data: unknown, key: unknown, ...rest: unknown[]) => {
    if (algorithm === null || algorithm === undefined) {
      const type = key instanceof nodeCrypto.KeyObject ? key.asymmetricKeyType : undefined;
      if (type === "ec" || type === "rsa" || type === "rsa-pss") algorithm = "sha256";
    }
    return original(algorithm, data, key, ...rest);
  };
  try {
    return fn();
  } finally {
    mod.verify = original;
  }
}

// ---------------------------------------------------------------------------------------------------
// signing helpers

async function resolveIdentityToken(explicit: string | undefined): Promise<string> {
  if (explicit) return explicit.trim();
  const fromEnv = process.env.SIGSTORE_ID_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const url = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && bearer) return await fetchGitHubActionsToken(url, bearer);
  throw new McpTrustError("no OIDC identity token for Sigstore keyless signing", {
    hint:
      'set SIGSTORE_ID_TOKEN to an ID token with audience "sigstore", or run in GitHub Actions with `permissions: id-token: write`; to sign without an identity provider, use an Ed25519 key (mcptrust keygen / sign --key)',
  });
}

async function fetchGitHubActionsToken(requestURL: string, bearer: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(requestURL);
  } catch {
    throw new McpTrustError("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL", {
      hint: "this variable is set by GitHub Actions; do not override it",
    });
  }
  url.searchParams.set("audience", "sigstore");
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { Accept: "application/json", Authorization: `Bearer ${bearer}` },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new McpTrustError(
      `cannot reach the GitHub Actions OIDC token endpoint ${url.origin}: ${errText(err)}`,
      {
        hint: "check the runner's network, or pass a token in SIGSTORE_ID_TOKEN",
      },
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new McpTrustError(`the GitHub Actions OIDC token endpoint answered HTTP ${res.status}`, {
      hint: "give the workflow job `permissions: id-token: write`",
    });
  }
  const body = await res.json().catch(() => undefined) as { value?: unknown } | undefined;
  if (typeof body?.value !== "string" || body.value === "") {
    throw new McpTrustError("the GitHub Actions OIDC token endpoint returned no token", {
      hint: "give the workflow job `permissions: id-token: write`",
    });
  }
  return body.value;
}

function describeSigningError(
  err: unknown,
  opts: { fulcioURL?: string; rekorURL?: string; tsaServerURL?: string },
): McpTrustError {
  const code = (err as { code?: unknown } | null)?.code;
  // Messages from the library may quote the identity token (IDENTITY_TOKEN_PARSE_ERROR does): only use
  // our own wording there, and the library's message elsewhere.
  switch (code) {
    case "IDENTITY_TOKEN_PARSE_ERROR":
    case "IDENTITY_TOKEN_READ_ERROR":
      return new McpTrustError("the OIDC identity token could not be read or has no subject/email claim", {
        hint: 'pass a fresh ID token with audience "sigstore" in SIGSTORE_ID_TOKEN',
      });
    case "CA_CREATE_SIGNING_CERTIFICATE_ERROR":
      return new McpTrustError(
        `Fulcio (${opts.fulcioURL ?? "https://fulcio.sigstore.dev"}) did not issue a signing certificate: ${
          errText(err)
        }`,
        {
          hint: "check network access to Fulcio and that the ID token is fresh (they expire within minutes)",
        },
      );
    case "TLOG_CREATE_ENTRY_ERROR":
    case "TLOG_FETCH_ENTRY_ERROR":
      return new McpTrustError(
        `Rekor (${opts.rekorURL ?? "https://rekor.sigstore.dev"}) did not record the signature: ${
          errText(err)
        }`,
        { hint: "check network access to Rekor and retry" },
      );
    case "TSA_CREATE_TIMESTAMP_ERROR":
      return new McpTrustError(
        `the timestamp authority (${opts.tsaServerURL}) did not issue a timestamp: ${errText(err)}`,
        {
          hint: "check network access to the TSA, or sign without --tsa-server-url",
        },
      );
    default:
      return new McpTrustError(`Sigstore signing failed: ${errText(err)}`, {
        hint: "check network access to Fulcio and Rekor and retry",
      });
  }
}

/**
 * Re-expresses a v0.2 message-signature bundle with a single-certificate chain as v0.3 (same evidence,
 * `certificate` instead of `x509CertificateChain`). v0.3 requires an inclusion proof with a checkpoint
 * in every log entry; if one lacks it, the v0.2 bundle is returned unchanged.
 */
function toV03IfPossible(serialized: unknown): unknown {
  const b = serialized as {
    mediaType?: string;
    verificationMaterial?: {
      x509CertificateChain?: { certificates?: { rawBytes: string }[] };
      tlogEntries?: { inclusionProof?: { checkpoint?: unknown } }[];
      timestampVerificationData?: unknown;
    };
    messageSignature?: unknown;
  };
  const vm = b.verificationMaterial;
  const certs = vm?.x509CertificateChain?.certificates;
  const entries = vm?.tlogEntries ?? [];
  if (
    b.mediaType !== BUNDLE_V02_MEDIA_TYPE || !b.messageSignature || certs?.length !== 1 ||
    entries.length === 0 || !entries.every((e) => e.inclusionProof?.checkpoint)
  ) {
    return serialized;
  }
  const v03 = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      certificate: certs[0],
      tlogEntries: entries,
      ...(vm!.timestampVerificationData ? { timestampVerificationData: vm!.timestampVerificationData } : {}),
    },
    messageSignature: b.messageSignature,
  };
  try {
    bundleFromJSON(v03); // asserts the v0.3 rules
    return v03;
  } catch {
    return serialized;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `: <reason>` from a library error, or "" when the error is the JavaScript engine's (a TypeError on
 * a field nobody checked, a RangeError...): those describe code, not the input, and are not shown.
 */
function because(err: unknown): string {
  if (!(err instanceof Error)) return "";
  if (
    err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError ||
    err instanceof SyntaxError
  ) {
    return "";
  }
  const line = err.message.split("\n")[0].trim();
  if (line === "" || /undefined|Cannot read|is not a function|of null/.test(line)) return "";
  return `: ${line.length > 200 ? `${line.slice(0, 200)}...` : line}`;
}
