/**
 * npm provenance: the attestations the registry serves for a version, verified offline with Sigstore
 * (`lock --pin --verify-provenance`), recorded under `server.artifact.provenance`, and verified again from
 * the lockfile before `run --lock` starts the server.
 *
 * What the registry serves (npm's attestations API, as pacote reads it in lib/registry.js): the version's
 * `dist.attestations = {url, provenance: {predicateType}}`; `GET <registry><pathname of url>`
 * (`/-/npm/v1/attestations/<name>@<version>`) answers `{attestations: [{predicateType, bundle}]}`, each
 * bundle a Sigstore bundle whose DSSE envelope carries an in-toto statement. Two kinds:
 * - the npm publish attestation ({@link PUBLISH_PREDICATE_TYPE}), signed by the registry's own key: a
 *   public-key bundle whose DSSE signature's keyid names one of the registry keys (./registry_keys.ts);
 *   the key counts only if the log entry's integrated time is before the key's expiry (pacote's rule);
 * - the SLSA provenance ({@link SLSA_PROVENANCE_V1}), signed keylessly by the CI workflow that built the
 *   package: a Fulcio certificate naming the workflow (lib/crypto/fulcio_cert.ts).
 *
 * Checks, each failing closed (exit 1): every in-toto subject is `pkg:npm/<name>@<version>` (npm's purl:
 * a scoped name's `@` as `%40`, npm-package-arg `toPurl`) with the sha512 of the tarball's verified
 * integrity; the statement's predicateType is the one listed; the bundle verifies against the trusted
 * root (Rekor entry required); the provenance's OIDC issuer is exactly the expected one (GitHub Actions);
 * its SAN equals the certificate's Build Signer URI (OID .9); its Source Repository URI (.12) equals
 * `--expected-source` exactly when given; the predicate agrees with the certificate:
 * `externalParameters.workflow.repository` is the source repository, `<repository>/<path>@<ref>` is the
 * Build Config URI (.18), and `resolvedDependencies[0]` is `git+<repository>@<ref .14>` at the commit .13.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createPublicKey } from "node:crypto";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import type { ArtifactPin, ProvenanceInfo } from "../lockfile/types.ts";
import { fulcioIdentity } from "../crypto/fulcio_cert.ts";
import { fetchBytes, type FetchOptions } from "./fetcher.ts";
import { sriToHex } from "./integrity.ts";
import { embeddedRegistryKeys, type RegistryKey } from "./registry_keys.ts";

/** npm's publish attestation predicate type. */
export const PUBLISH_PREDICATE_TYPE = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
/** SLSA provenance v1 (what `npm publish --provenance` writes from GitHub Actions). */
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** The OIDC issuer of GitHub Actions workflow identities. */
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
/** `provenance.method` in the lockfile. */
export const PROVENANCE_METHOD = "npm-attestations";

const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
const MAX_ATTESTATIONS_BYTES = 16 * 1024 * 1024;

/** One attestation as the registry serves it. */
export interface Attestation {
  predicateType: string;
  bundle: unknown;
}

/** The recorded provenance (the Go tool's ProvenanceInfo fields, plus the evidence to verify it again). */
export interface ProvenanceRecord extends ProvenanceInfo {
  method: typeof PROVENANCE_METHOD;
  predicate_type: string;
  source_repo: string;
  source_ref?: string;
  workflow_uri: string;
  issuer: string;
  identity: string;
  verified: true;
  verified_at: string;
  /** The source commit (Fulcio OID .13, equal to the predicate's gitCommit). */
  commit?: string;
  /** Rekor log index of the SLSA provenance's entry. */
  log_index?: string;
  /** The registry key that signed the publish attestation, when one was served. */
  publish_key?: { keyid: string; key: string };
  /** The attestations as served, so `run --lock` can verify them again offline. */
  bundles: { predicate_type: string; bundle: unknown }[];
}

/** The package URL npm signs for a version (npm-package-arg `toPurl`: a leading `@` as `%40`). */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}

/**
 * Reads `--expected-source`: `github.com/<owner>/<repo>` or `https://github.com/<owner>/<repo>`.
 *
 * @returns `https://github.com/<owner>/<repo>`, the form of Fulcio's Source Repository URI
 * @throws McpTrustError (exit 2) for anything else
 */
export function normalizeExpectedSource(text: string): string {
  const t = text.trim().replace(/\/+$/, "");
  const m = /^(?:https:\/\/)?github\.com\/([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(t);
  if (!m || m[2].endsWith(".git")) {
    throw new McpTrustError(`--expected-source ${JSON.stringify(text)} is not a GitHub repository`, {
      hint: "give it as github.com/<owner>/<repo>",
    });
  }
  return `https://github.com/${m[1]}/${m[2]}`;
}

/** The `dist.attestations` reference of a version, if the registry serves one. */
export function attestationsRef(dist: Record<string, unknown> | undefined): { url: string } | undefined {
  const a = dist?.attestations as { url?: unknown } | undefined;
  return typeof a?.url === "string" ? { url: a.url } : undefined;
}

function refused(message: string, hint = "do not pin this version; report it to the package's maintainers") {
  return new CheckFailedError(message, { hint });
}

/**
 * Fetches the attestations of a version through the hardened fetcher, from the registry the package came
 * from (pacote: the registry + the pathname of `dist.attestations.url`, never another host).
 *
 * @returns the attestations, or undefined when the version has no `dist.attestations`
 * @throws FetchError (exit 2); McpTrustError (exit 2) when the answer is not `{attestations: [...]}`
 */
export async function fetchAttestations(
  registry: string,
  dist: Record<string, unknown> | undefined,
  fetchOpts: FetchOptions,
): Promise<Attestation[] | undefined> {
  const ref = attestationsRef(dist);
  if (!ref) return undefined;
  let path: string;
  try {
    path = new URL(ref.url).pathname;
  } catch {
    throw new McpTrustError(`dist.attestations.url ${JSON.stringify(ref.url)} is not a URL`, {
      hint: "the registry's metadata is broken; pin without --verify-provenance",
    });
  }
  const url = registry.replace(/\/+$/, "") + path;
  const { bytes } = await fetchBytes(url, {
    ...fetchOpts,
    maxBytes: MAX_ATTESTATIONS_BYTES,
    headers: { accept: "application/json" },
  });
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new McpTrustError(`the registry's attestations (${url}) are not JSON`, {
      hint: "check that the registry serves npm's attestations API",
    });
  }
  const list = (doc as { attestations?: unknown })?.attestations;
  if (
    !Array.isArray(list) ||
    !list.every((a) => typeof a?.predicateType === "string" && typeof a?.bundle === "object" && a.bundle)
  ) {
    throw new McpTrustError(
      `the registry's attestations (${url}) are not {attestations: [{predicateType, bundle}]}`,
      {
        hint: "check that the registry serves npm's attestations API",
      },
    );
  }
  return list as Attestation[];
}

/** What a verification needs. */
export interface VerifyProvenanceInput {
  name: string;
  version: string;
  /** The verified integrity of the tarball (must hold a sha512). */
  integrity: string;
  attestations: readonly Attestation[];
  /** Keys that may sign publish attestations. Default: the embedded npm keys. */
  registryKeys?: readonly RegistryKey[];
  /** `https://github.com/<owner>/<repo>` ({@link normalizeExpectedSource}); any when absent. */
  expectedSource?: string;
  /** The OIDC issuer the provenance must come from. Default {@link GITHUB_ACTIONS_ISSUER}. */
  issuer?: string;
  /** A Sigstore trusted root (parsed JSON); default the embedded public-good root. */
  trustedRoot?: unknown;
  now?: Date;
}

interface Statement {
  _type?: unknown;
  subject?: unknown;
  predicateType?: unknown;
  predicate?: Record<string, unknown>;
}

function statementOf(bundle: unknown, label: string): Statement {
  const env = (bundle as { dsseEnvelope?: { payload?: unknown; payloadType?: unknown } })?.dsseEnvelope;
  if (typeof env?.payload !== "string" || env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw refused(`${label}: the attestation is not a DSSE envelope carrying an in-toto statement`);
  }
  try {
    const s = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8"));
    if (typeof s === "object" && s !== null) return s;
  } catch {
    // reported below
  }
  throw refused(`${label}: the attestation's in-toto statement is not JSON`);
}

/** Every subject must be this package at this version with this sha512 (pacote checks the first only). */
function checkSubjects(st: Statement, purl: string, sha512: string, label: string): void {
  const subjects = Array.isArray(st.subject) ? st.subject : [];
  if (subjects.length === 0) throw refused(`${label}: the attestation names no subject`);
  for (const s of subjects as { name?: unknown; digest?: Record<string, unknown> }[]) {
    if (s?.name !== purl) {
      throw refused(
        `${label}: the attestation is about ${JSON.stringify(s?.name)}, not ${purl}`,
        "the attestation belongs to another package or version; do not pin it",
      );
    }
    const got = typeof s.digest?.sha512 === "string" ? s.digest.sha512.toLowerCase() : undefined;
    if (got !== sha512) {
      throw refused(
        `${label}: the attestation's subject sha512 is ${got ?? "absent"}, the tarball's is ${sha512}`,
        "the attested bytes are not the bytes pinned; do not run them",
      );
    }
  }
}

function tlogEntry(bundle: unknown): { logIndex?: string; integratedTime?: string } {
  const e = (bundle as {
    verificationMaterial?: { tlogEntries?: { logIndex?: unknown; integratedTime?: unknown }[] };
  })
    ?.verificationMaterial?.tlogEntries?.[0];
  return {
    logIndex: typeof e?.logIndex === "string" || typeof e?.logIndex === "number"
      ? String(e.logIndex)
      : undefined,
    integratedTime: typeof e?.integratedTime === "string" || typeof e?.integratedTime === "number"
      ? String(e.integratedTime)
      : undefined,
  };
}

function leafCertificate(bundle: unknown): Uint8Array | undefined {
  const vm = (bundle as {
    verificationMaterial?: {
      certificate?: { rawBytes?: unknown };
      x509CertificateChain?: { certificates?: { rawBytes?: unknown }[] };
    };
  })?.verificationMaterial;
  const raw = vm?.certificate?.rawBytes ?? vm?.x509CertificateChain?.certificates?.[0]?.rawBytes;
  return typeof raw === "string" ? new Uint8Array(Buffer.from(raw, "base64")) : undefined;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The publish attestation: signed with a registry key valid when it was logged. */
async function verifyPublish(
  a: Attestation,
  digest: Uint8Array,
  keys: readonly RegistryKey[],
  label: string,
  trustedRoot: unknown,
): Promise<{ keyid: string; key: string }> {
  const { verifySigstoreBundle } = await import("../crypto/sigstore.ts");
  const keyid = (a.bundle as { dsseEnvelope?: { signatures?: { keyid?: unknown }[] } })?.dsseEnvelope
    ?.signatures?.[0]?.keyid;
  if (typeof keyid !== "string" || keyid === "") {
    throw refused(`${label}: the publish attestation is not signed with a registry key (no keyid)`);
  }
  const candidates = keys.filter((k) => k.keyid === keyid);
  if (candidates.length === 0) {
    throw refused(
      `${label}: the publish attestation is signed with keyid ${keyid}, which no known registry key has`,
      "pass the registry's keys with --registry-keys (the JSON of <registry>/-/npm/v1/keys)",
    );
  }
  const t = tlogEntry(a.bundle).integratedTime;
  const when = t !== undefined ? new Date(Number(t) * 1000) : new Date();
  const valid = candidates.filter((k) => k.expires === null || when.getTime() < Date.parse(k.expires));
  if (valid.length === 0) {
    throw refused(
      `${label}: the registry key ${keyid} had expired (${candidates[0].expires}) when the publish ` +
        `attestation was logged (${when.toISOString()})`,
    );
  }
  let last: unknown;
  for (const k of valid) {
    try {
      await verifySigstoreBundle(a.bundle, { algorithm: "sha512", digest }, {
        publicKeyPem: k.publicKey.export({ type: "spki", format: "pem" }) as string,
        trustedRoot,
      });
      return {
        keyid,
        key: (k.publicKey.export({ type: "spki", format: "der" }) as Buffer).toString("base64"),
      };
    } catch (err) {
      last = err;
    }
  }
  throw prefixed(last, `${label}: the publish attestation does not verify`);
}

function prefixed(err: unknown, prefix: string): unknown {
  if (err instanceof McpTrustError) {
    const Ctor = err instanceof CheckFailedError ? CheckFailedError : McpTrustError;
    return new Ctor(`${prefix}: ${err.message}`, { hint: err.hint, cause: err });
  }
  return err;
}

/**
 * Verifies a version's attestations (see the module doc for every check).
 *
 * @returns the record to store, or undefined when no SLSA provenance is among them (a publish attestation
 *   alone names no source; it is still verified)
 * @throws CheckFailedError (exit 1) when an attestation does not verify or does not match; McpTrustError
 *   (exit 2) for a malformed bundle or trusted root
 */
export async function verifyAttestations(
  input: VerifyProvenanceInput,
): Promise<ProvenanceRecord | undefined> {
  const { name, version } = input;
  const label = `${name}@${version}`;
  const purl = npmPurl(name, version);
  const sri = sriToHex(input.integrity, label);
  if (sri.algorithm !== "sha512") {
    throw refused(`${label}: its integrity has no sha512, so no attestation can be tied to it`);
  }
  const digest = new Uint8Array(Buffer.from(sri.hex, "hex"));
  const issuer = input.issuer ?? GITHUB_ACTIONS_ISSUER;
  const now = input.now ?? new Date();
  const { verifySigstoreBundle } = await import("../crypto/sigstore.ts");

  let publishKey: { keyid: string; key: string } | undefined;
  let slsa: Omit<ProvenanceRecord, "bundles" | "publish_key"> | undefined;
  for (const a of input.attestations) {
    const st = statementOf(a.bundle, label);
    if (st.predicateType !== a.predicateType) {
      throw refused(
        `${label}: an attestation listed as ${a.predicateType} carries ${String(st.predicateType)}`,
      );
    }
    checkSubjects(st, purl, sri.hex, label);
    if (a.predicateType === PUBLISH_PREDICATE_TYPE) {
      publishKey = await verifyPublish(
        a,
        digest,
        input.registryKeys ?? embeddedRegistryKeys(),
        label,
        input.trustedRoot,
      );
      continue;
    }
    if (a.predicateType !== SLSA_PROVENANCE_V1) {
      throw refused(`${label}: an attestation has the unknown predicate type ${a.predicateType}`);
    }
    if (slsa) throw refused(`${label}: the registry serves two SLSA provenance attestations`);
    const der = leafCertificate(a.bundle);
    if (!der) {
      throw refused(`${label}: the SLSA provenance is not signed with a Fulcio certificate`);
    }
    let cert;
    try {
      cert = fulcioIdentity(der);
    } catch {
      throw new McpTrustError(`${label}: the SLSA provenance's certificate cannot be read`, {
        hint: "the attestation is corrupted; do not pin it",
      });
    }
    if (!cert.buildSignerUri || !cert.sourceRepositoryUri) {
      throw refused(
        `${label}: the provenance certificate names no workflow (Fulcio Build Signer URI / Source ` +
          "Repository URI): it was not issued to a CI workflow",
      );
    }
    if (input.expectedSource !== undefined && cert.sourceRepositoryUri !== input.expectedSource) {
      throw refused(
        `${label} was built from ${cert.sourceRepositoryUri}, not from ${input.expectedSource} (--expected-source)`,
        "the package does not come from the repository you expect; do not pin it",
      );
    }
    if (cert.issuer !== issuer) {
      throw refused(
        `${label}: the provenance certificate was issued for ${JSON.stringify(cert.issuer)}, not ${issuer}`,
        "the build identity was vouched for by another OIDC provider; do not pin it",
      );
    }
    try {
      await verifySigstoreBundle(a.bundle, { algorithm: "sha512", digest }, {
        policy: { identity: cert.buildSignerUri, issuer },
        trustedRoot: input.trustedRoot,
      });
    } catch (err) {
      throw prefixed(err, `${label}: the SLSA provenance does not verify`);
    }
    const pred = st.predicate ?? {};
    const bd = pred.buildDefinition as {
      externalParameters?: { workflow?: { repository?: unknown; path?: unknown; ref?: unknown } };
      resolvedDependencies?: { uri?: unknown; digest?: { gitCommit?: unknown } }[];
    } | undefined;
    const wf = bd?.externalParameters?.workflow;
    const mismatch = (what: string, pv: unknown, cv: unknown) =>
      refused(
        `${label}: the provenance says ${what} ${JSON.stringify(pv)}, its certificate ${JSON.stringify(cv)}`,
      );
    if (wf?.repository !== cert.sourceRepositoryUri) {
      throw mismatch("the source repository is", wf?.repository, cert.sourceRepositoryUri);
    }
    if (cert.buildConfigUri !== undefined) {
      const cfg = `${wf?.repository}/${wf?.path}@${wf?.ref}`;
      if (cfg !== cert.buildConfigUri) throw mismatch("the workflow is", cfg, cert.buildConfigUri);
    }
    const dep = bd?.resolvedDependencies?.[0];
    if (cert.sourceRepositoryRef !== undefined) {
      const uri = `git+${cert.sourceRepositoryUri}@${cert.sourceRepositoryRef}`;
      if (dep?.uri !== uri) throw mismatch("the source is", dep?.uri, uri);
    }
    if (cert.sourceRepositoryDigest !== undefined && dep?.digest?.gitCommit !== cert.sourceRepositoryDigest) {
      throw mismatch("the commit is", dep?.digest?.gitCommit, cert.sourceRepositoryDigest);
    }
    const builder = (pred.runDetails as { builder?: { id?: unknown } } | undefined)?.builder?.id;
    const t = tlogEntry(a.bundle);
    slsa = {
      method: PROVENANCE_METHOD,
      predicate_type: SLSA_PROVENANCE_V1,
      ...(typeof builder === "string" ? { builder_id: builder } : {}),
      source_repo: cert.sourceRepositoryUri,
      ...(cert.sourceRepositoryRef !== undefined ? { source_ref: cert.sourceRepositoryRef } : {}),
      workflow_uri: cert.buildSignerUri,
      issuer,
      identity: cert.buildSignerUri,
      verified: true,
      verified_at: rfc3339(now),
      ...(cert.sourceRepositoryDigest !== undefined ? { commit: cert.sourceRepositoryDigest } : {}),
      ...(t.logIndex !== undefined ? { log_index: t.logIndex } : {}),
    };
  }
  if (!slsa) return undefined;
  return {
    ...slsa,
    ...(publishKey ? { publish_key: publishKey } : {}),
    bundles: input.attestations.map((a) => ({ predicate_type: a.predicateType, bundle: a.bundle })),
  };
}

/**
 * Compares the provenance of a new pin with the lockfile's (pnpm's no-downgrade rule): a package that had
 * verified provenance must keep it, from the same source repository and issuer.
 *
 * @returns a reason to refuse, or undefined
 */
export function provenanceChange(
  previous: ProvenanceInfo | undefined,
  next: ProvenanceInfo | undefined,
  label: string,
): string | undefined {
  if (previous?.verified !== true) return undefined;
  if (next?.verified !== true) {
    return `provenance downgrade: the lockfile's ${label} had verified provenance from ${previous.source_repo}, ` +
      "this version has none";
  }
  if (next.source_repo !== previous.source_repo) {
    return `provenance identity change: ${label} was built from ${previous.source_repo}, this version from ` +
      `${next.source_repo}`;
  }
  if (next.issuer !== previous.issuer) {
    return `provenance identity change: ${label}'s provenance was issued by ${previous.issuer}, this ` +
      `version's by ${next.issuer}`;
  }
  return undefined;
}

/**
 * `run --lock`: verifies the provenance recorded in a pin again, offline, against the pinned integrity
 * (which the run has checked against the downloaded bytes): the same checks as at lock time, with the
 * recorded source repository and issuer as the expected ones, and the same workflow and commit as
 * recorded. The publish attestation is checked with the registry key recorded with it (or an embedded
 * npm key).
 *
 * @returns the verified record, or undefined when the pin records no verified provenance
 * @throws CheckFailedError (exit 1) when the recorded evidence does not verify or no longer matches
 */
export async function verifyRecordedProvenance(
  artifact: ArtifactPin | undefined,
  opts: { trustedRoot?: unknown } = {},
): Promise<ProvenanceRecord | undefined> {
  const p = artifact?.provenance as Partial<ProvenanceRecord> | undefined;
  if (!artifact || p?.verified !== true) return undefined;
  const label = `${artifact.name}@${artifact.version}`;
  if (
    !Array.isArray(p.bundles) || p.bundles.length === 0 || typeof p.source_repo !== "string" ||
    typeof p.issuer !== "string" || typeof artifact.integrity !== "string" ||
    typeof artifact.name !== "string" ||
    typeof artifact.version !== "string"
  ) {
    throw refused(
      `${label}: the lockfile records verified provenance without its bundles`,
      "pin again with lock --pin --verify-provenance",
    );
  }
  const keys: RegistryKey[] = [...embeddedRegistryKeys()];
  if (p.publish_key && typeof p.publish_key.key === "string") {
    try {
      keys.unshift({
        keyid: p.publish_key.keyid,
        publicKey: createPublicKey({
          key: Buffer.from(p.publish_key.key, "base64"),
          format: "der",
          type: "spki",
        }),
        expires: null,
        source: "the lockfile",
      });
    } catch {
      throw refused(`${label}: the lockfile's publish attestation key is unreadable`);
    }
  }
  const again = await verifyAttestations({
    name: artifact.name,
    version: artifact.version,
    integrity: artifact.integrity,
    attestations: p.bundles.map((b) => ({ predicateType: b.predicate_type, bundle: b.bundle })),
    registryKeys: keys,
    expectedSource: p.source_repo,
    issuer: p.issuer,
    trustedRoot: opts.trustedRoot,
  });
  if (!again) throw refused(`${label}: the lockfile's provenance bundles hold no SLSA provenance`);
  for (const k of ["workflow_uri", "commit", "source_ref"] as const) {
    if (again[k] !== p[k]) {
      throw refused(
        `${label}: the lockfile records ${k} ${JSON.stringify(p[k])}, its provenance bundle says ${
          JSON.stringify(again[k])
        }`,
        "the lockfile was edited; pin again with lock --pin --verify-provenance",
      );
    }
  }
  return again;
}
