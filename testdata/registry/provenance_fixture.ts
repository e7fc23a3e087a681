/**
 * npm attestations made at test time (the fixture registry has none): a SLSA provenance v1 statement as
 * `npm publish --provenance` writes it from GitHub Actions (npm/cli libnpmpublish provenance.js), signed
 * keylessly through @sigstore/mock's Fulcio and Rekor on loopback with GitHub-shaped OIDC claims, and an
 * npm publish attestation signed with a test P-256 registry key (a public-key bundle, logged in the mock
 * Rekor). Tests only.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, sign as cryptoSign } from "node:crypto";
import { bundleToJSON } from "@sigstore/bundle";
import { DSSEBundleBuilder, FulcioSigner, RekorWitness } from "@sigstore/sign";
import { fakeIdToken, type MockSigstore } from "../../lib/crypto/sigstore_mock_support.ts";
import {
  GITHUB_ACTIONS_ISSUER,
  npmPurl,
  PUBLISH_PREDICATE_TYPE,
  SLSA_PROVENANCE_V1,
} from "../../lib/artifact/provenance.ts";
import type { SigningKey } from "./fixture_registry.ts";

const IN_TOTO = "application/vnd.in-toto+json";

/** Who built it. */
export interface BuildIdentity {
  /** `owner/repo` */
  repository: string;
  /** Workflow path in the repository. Default `.github/workflows/release.yml`. */
  workflow?: string;
  /** Default `refs/heads/main`. */
  ref?: string;
  /** Default 40 `a`s. */
  sha?: string;
  /** Default GitHub Actions. */
  issuer?: string;
}

/** Overrides to make a wrong attestation. */
export interface Lies {
  purl?: string;
  sha512?: string;
  /** A different commit in the predicate than in the certificate. */
  predicateSha?: string;
}

function sha512Hex(bytes: Uint8Array): string {
  return createHash("sha512").update(bytes).digest("hex");
}

function statement(
  name: string,
  version: string,
  tarball: Uint8Array,
  predicateType: string,
  predicate: unknown,
  lies: Lies,
) {
  return Buffer.from(JSON.stringify({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{
      name: lies.purl ?? npmPurl(name, version),
      digest: { sha512: lies.sha512 ?? sha512Hex(tarball) },
    }],
    predicateType,
    predicate,
  }));
}

/** A SLSA provenance v1 bundle for `name@version` (the tarball's bytes), signed through the mock Fulcio. */
export async function makeSlsaBundle(
  mock: MockSigstore,
  name: string,
  version: string,
  tarball: Uint8Array,
  who: BuildIdentity,
  lies: Lies = {},
): Promise<unknown> {
  const workflow = who.workflow ?? ".github/workflows/release.yml";
  const ref = who.ref ?? "refs/heads/main";
  const sha = who.sha ?? "a".repeat(40);
  const server = "https://github.com";
  const predicate = {
    buildDefinition: {
      buildType: "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
      externalParameters: { workflow: { ref, repository: `${server}/${who.repository}`, path: workflow } },
      internalParameters: { github: { event_name: "push" } },
      resolvedDependencies: [{
        uri: `git+${server}/${who.repository}@${ref}`,
        digest: { gitCommit: lies.predicateSha ?? sha },
      }],
    },
    runDetails: {
      builder: { id: "https://github.com/actions/runner/github-hosted" },
      metadata: { invocationId: `${server}/${who.repository}/actions/runs/1/attempts/1` },
    },
  };
  const jobWorkflowRef = `${who.repository}/${workflow}@${ref}`;
  const token = fakeIdToken({
    iss: who.issuer ?? GITHUB_ACTIONS_ISSUER,
    sub: `${server}/${jobWorkflowRef}`,
    repository: who.repository,
    ref,
    sha,
    job_workflow_ref: jobWorkflowRef,
    workflow_ref: jobWorkflowRef,
    runner_environment: "github-hosted",
    event_name: "push",
  });
  // Logged as an intoto entry (the mock Rekor's dsse entries do not match the bundle the way
  // @sigstore/verify checks them: "signature count mismatch").
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({
      identityProvider: { getToken: () => Promise.resolve(token) },
      fulcioBaseURL: mock.url,
    }),
    witnesses: [new RekorWitness({ rekorBaseURL: mock.url, entryType: "intoto" })],
  });
  const bundle = await builder.create({
    data: statement(name, version, tarball, SLSA_PROVENANCE_V1, predicate, lies),
    type: IN_TOTO,
  });
  return bundleToJSON(bundle);
}

/** An npm publish attestation for `name@version`, signed with a registry key and logged in the mock Rekor. */
export async function makePublishBundle(
  mock: MockSigstore,
  key: SigningKey,
  name: string,
  version: string,
  tarball: Uint8Array,
  lies: Lies = {},
): Promise<unknown> {
  const pem = `-----BEGIN PUBLIC KEY-----\n${key.entry.key}\n-----END PUBLIC KEY-----\n`;
  const builder = new DSSEBundleBuilder({
    signer: {
      sign: (data: Buffer) =>
        Promise.resolve({
          signature: cryptoSign("sha256", data, key.privateKey),
          key: { $case: "publicKey" as const, publicKey: pem, hint: key.keyid },
        }),
    },
    witnesses: [new RekorWitness({ rekorBaseURL: mock.url, entryType: "intoto" })],
  });
  const predicate = { name, version, registry: "https://registry.npmjs.org" };
  const bundle = await builder.create({
    data: statement(name, version, tarball, PUBLISH_PREDICATE_TYPE, predicate, lies),
    type: IN_TOTO,
  });
  // The key's hint is the DSSE signature's keyid (where pacote reads it) and verificationMaterial.publicKey.hint.
  return bundleToJSON(bundle);
}

/** The attestations endpoint's answer. */
export function attestationsDoc(bundles: { predicateType: string; bundle: unknown }[]): unknown {
  return { attestations: bundles };
}
