// npm provenance for lock --pin --verify-provenance and run --lock: attestations made at test time (SLSA
// provenance signed keylessly through @sigstore/mock's Fulcio and Rekor on loopback, a publish attestation
// signed with a test registry key), served by the local HTTPS registry, verified against the mock's
// trusted root.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckFailedError } from "../errors.ts";
import { type MockSigstore, startMockSigstore } from "../crypto/sigstore_mock_support.ts";
import { hashBytes } from "./integrity.ts";
import { pinNpmArtifact, type PinOptions, type PinResult } from "./pin.ts";
import {
  type Attestation,
  normalizeExpectedSource,
  npmPurl,
  PUBLISH_PREDICATE_TYPE,
  SLSA_PROVENANCE_V1,
  verifyAttestations,
  verifyRecordedProvenance,
} from "./provenance.ts";
import { parseRegistryKeys } from "./registry_keys.ts";
import {
  type FixtureRegistry,
  type FixtureVersion,
  makeSigningKey,
  type SigningKey,
  startFixtureRegistry,
} from "../../testdata/registry/fixture_registry.ts";
import { pinFixtureVersions } from "../../testdata/registry/pin_fixture.ts";
import {
  attestationsDoc,
  type BuildIdentity,
  type Lies,
  makePublishBundle,
  makeSlsaBundle,
} from "../../testdata/registry/provenance_fixture.ts";

const NAME = "@fixture/server";
const REPO = "fixture/server";
const SOURCE = "https://github.com/fixture/server";
const WORKFLOW = "https://github.com/fixture/server/.github/workflows/release.yml@refs/heads/main";
const COMMIT = "c0ffee".padEnd(40, "0");

let dir: string;
let mock: MockSigstore;
let key: SigningKey;
let reg: FixtureRegistry;
let good: Attestation[];

function served(version: string): FixtureVersion {
  return reg.versions.find((v) => v.name === NAME && v.version === version)!;
}

async function attestationsFor(
  version: string,
  who: BuildIdentity = { repository: REPO, sha: COMMIT },
  lies: Lies = {},
) {
  const tgz = served(version).tarball;
  return [
    { predicateType: PUBLISH_PREDICATE_TYPE, bundle: await makePublishBundle(mock, key, NAME, version, tgz) },
    { predicateType: SLSA_PROVENANCE_V1, bundle: await makeSlsaBundle(mock, NAME, version, tgz, who, lies) },
  ];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcptrust-prov-"));
  mock = await startMockSigstore();
  key = makeSigningKey("SHA256:provenance-test-key");
  reg = await startFixtureRegistry(pinFixtureVersions(join(dir, "marker")), { signingKey: key });
  good = await attestationsFor("1.1.0");
  served("1.1.0").attestations = attestationsDoc(good);
});
after(async () => {
  await reg?.close();
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<PinOptions> = {}): PinOptions & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    registry: reg.url,
    allowHosts: ["localhost"],
    caPem: reg.caPem,
    registryKeys: parseRegistryKeys({ keys: [key.entry] }, "test keys"),
    npmConfig: { cwd: dir, home: dir, env: {} },
    onWarning: (l) => warnings.push(l),
    now: new Date("2026-01-02T03:04:05Z"),
    trustedRoot: mock.trustedRoot,
    warnings,
    ...extra,
  };
}

function verifyInput(version: string, attestations: Attestation[], extra = {}) {
  return {
    name: NAME,
    version,
    integrity: hashBytes(served(version).tarball).sri,
    attestations,
    registryKeys: parseRegistryKeys({ keys: [key.entry] }, "test keys"),
    trustedRoot: mock.trustedRoot,
    ...extra,
  };
}

const refusedWith = (re: RegExp) => (e: unknown) => e instanceof CheckFailedError && re.test(e.message);

describe("npm purl and --expected-source", () => {
  test("a scoped name's @ is percent-encoded, as npm-package-arg's toPurl does", () => {
    assert.equal(npmPurl("@fixture/server", "1.1.0"), "pkg:npm/%40fixture/server@1.1.0");
    assert.equal(npmPurl("left-pad", "1.3.0"), "pkg:npm/left-pad@1.3.0");
  });
  test("--expected-source takes github.com/owner/repo and nothing looser", () => {
    assert.equal(normalizeExpectedSource("github.com/fixture/server"), SOURCE);
    assert.equal(normalizeExpectedSource("https://github.com/fixture/server/"), SOURCE);
    for (
      const bad of ["fixture/server", "github.com/fixture/.*", "https://gitlab.com/a/b", "github.com/a/b/c"]
    ) {
      assert.throws(() => normalizeExpectedSource(bad), /not a GitHub repository/, bad);
    }
  });
});

describe("lock --pin --verify-provenance", () => {
  let pinned: PinResult;

  test("good provenance verifies and is recorded with its identity and bundles", async () => {
    pinned = await pinNpmArtifact(
      ["npx", "-y", `${NAME}@1.1.0`],
      options({ verifyProvenance: true, expectedSource: SOURCE }),
    );
    const { bundles, publish_key, ...rest } = pinned.pin.provenance as unknown as Record<string, unknown>;
    assert.deepEqual(rest, {
      method: "npm-attestations",
      predicate_type: SLSA_PROVENANCE_V1,
      builder_id: "https://github.com/actions/runner/github-hosted",
      source_repo: SOURCE,
      source_ref: "refs/heads/main",
      workflow_uri: WORKFLOW,
      issuer: "https://token.actions.githubusercontent.com",
      identity: WORKFLOW,
      verified: true,
      verified_at: "2026-01-02T03:04:05Z",
      commit: COMMIT,
      log_index: rest.log_index,
    });
    assert.match(String(rest.log_index), /^\d+$/);
    assert.deepEqual(publish_key, { keyid: key.keyid, key: key.entry.key });
    assert.deepEqual(bundles, good.map((a) => ({ predicate_type: a.predicateType, bundle: a.bundle })));
    // The pin round-trips through JSON (as the lockfile stores it) and verifies again offline.
    const stored = JSON.parse(JSON.stringify(pinned.pin));
    const again = await verifyRecordedProvenance(stored, { trustedRoot: mock.trustedRoot });
    assert.equal(again?.commit, COMMIT);
  });

  test("the provenance does not verify against the public-good root (the mock CA is not trusted there)", async () => {
    await assert.rejects(
      pinNpmArtifact(
        ["npx", "-y", `${NAME}@1.1.0`],
        options({ verifyProvenance: true, trustedRoot: undefined }),
      ),
      (e) => e instanceof CheckFailedError,
    );
  });

  test("a source repository other than --expected-source is refused (exit 1)", async () => {
    await assert.rejects(
      pinNpmArtifact(
        ["npx", "-y", `${NAME}@1.1.0`],
        options({ verifyProvenance: true, expectedSource: "https://github.com/fixture/serverx" }),
      ),
      refusedWith(
        /built from https:\/\/github\.com\/fixture\/server, not from https:\/\/github\.com\/fixture\/serverx/,
      ),
    );
  });

  test("no attestations served: one note line; --require-provenance then fails (exit 1)", async () => {
    const r = await pinNpmArtifact(["npx", "-y", `${NAME}@1.0.0`], options({ verifyProvenance: true }));
    assert.equal(r.pin.provenance, undefined);
    assert.deepEqual(r.notes.filter((n) => /provenance/.test(n)), [
      `${reg.url} serves no provenance attestations for ${NAME}@1.0.0`,
    ]);
    await assert.rejects(
      pinNpmArtifact(
        ["npx", "-y", `${NAME}@1.0.0`],
        options({ verifyProvenance: true, requireProvenance: true }),
      ),
      refusedWith(/no verifiable provenance, and --require-provenance is set/),
    );
  });

  test("re-lock of a new version without provenance is a downgrade: refused, accepted with --force", async () => {
    await assert.rejects(
      pinNpmArtifact(["npx", "-y", `${NAME}@2.0.0`], options({ previous: pinned.pin })),
      refusedWith(
        /provenance downgrade: .* had verified provenance from https:\/\/github\.com\/fixture\/server/,
      ),
    );
    const forced = options({ previous: pinned.pin, force: true });
    const r = await pinNpmArtifact(["npx", "-y", `${NAME}@2.0.0`], forced);
    assert.equal(r.pin.version, "2.0.0");
    assert.equal(r.pin.provenance, undefined);
    assert.ok(
      forced.warnings.some((w) => /provenance downgrade.*accepted with --force/.test(w)),
      forced.warnings.join("\n"),
    );
  });

  test("re-lock of a new version built from another repository is an identity change: refused", async () => {
    served("2.0.0").attestations = attestationsDoc(
      await attestationsFor("2.0.0", { repository: "mallory/server", sha: COMMIT }),
    );
    try {
      await assert.rejects(
        pinNpmArtifact(["npx", "-y", `${NAME}@2.0.0`], options({ previous: pinned.pin })),
        refusedWith(
          /provenance identity change: .* built from https:\/\/github\.com\/fixture\/server, this version from https:\/\/github\.com\/mallory\/server/,
        ),
      );
    } finally {
      served("2.0.0").attestations = undefined;
    }
  });

  test("re-lock of the same source keeps verifying (identity unchanged passes)", async () => {
    served("2.0.0").attestations = attestationsDoc(await attestationsFor("2.0.0"));
    try {
      const r = await pinNpmArtifact(["npx", "-y", `${NAME}@2.0.0`], options({ previous: pinned.pin }));
      assert.equal(r.pin.provenance?.source_repo, SOURCE);
      assert.equal(r.pin.provenance?.verified, true);
    } finally {
      served("2.0.0").attestations = undefined;
    }
  });
});

describe("verifyAttestations refusals", () => {
  test("a subject whose sha512 is not the tarball's is refused", async () => {
    const atts = await attestationsFor("1.1.0", { repository: REPO, sha: COMMIT }, {
      sha512: "ab".repeat(64),
    });
    await assert.rejects(
      verifyAttestations(verifyInput("1.1.0", [atts[1]])),
      refusedWith(/subject sha512 is abab.*, the tarball's is/),
    );
  });

  test("a subject naming another package URL is refused", async () => {
    const atts = await attestationsFor("1.1.0", { repository: REPO, sha: COMMIT }, {
      purl: npmPurl("@fixture/greeting", "1.1.0"),
    });
    await assert.rejects(
      verifyAttestations(verifyInput("1.1.0", [atts[1]])),
      refusedWith(
        /is about "pkg:npm\/%40fixture\/greeting@1\.1\.0", not pkg:npm\/%40fixture\/server@1\.1\.0/,
      ),
    );
  });

  test("a provenance certificate from another OIDC issuer is refused", async () => {
    const atts = await attestationsFor("1.1.0", {
      repository: REPO,
      sha: COMMIT,
      issuer: "https://gitlab.com",
    });
    await assert.rejects(
      verifyAttestations(verifyInput("1.1.0", [atts[1]])),
      refusedWith(/issued for "https:\/\/gitlab\.com", not https:\/\/token\.actions\.githubusercontent\.com/),
    );
  });

  test("a predicate whose commit differs from the certificate's is refused", async () => {
    const atts = await attestationsFor("1.1.0", { repository: REPO, sha: COMMIT }, {
      predicateSha: "b".repeat(40),
    });
    await assert.rejects(
      verifyAttestations(verifyInput("1.1.0", [atts[1]])),
      refusedWith(/the provenance says the commit is "b{40}", its certificate "c0ffee0+"/),
    );
  });

  test("a publish attestation by a key the registry keys do not hold is refused", async () => {
    await assert.rejects(
      verifyAttestations(verifyInput("1.1.0", good, {
        registryKeys: parseRegistryKeys({ keys: [makeSigningKey(key.keyid).entry] }, "other key"),
      })),
      (e) => e instanceof CheckFailedError && /publish attestation does not verify/.test(e.message),
    );
  });

  test("attestations checked against another version's integrity are refused", async () => {
    await assert.rejects(
      verifyAttestations({
        ...verifyInput("1.1.0", good),
        integrity: hashBytes(served("1.0.0").tarball).sri,
      }),
      refusedWith(/subject sha512/),
    );
  });
});

describe("run --lock: verifyRecordedProvenance", () => {
  async function recorded() {
    const r = await pinNpmArtifact(["npx", "-y", `${NAME}@1.1.0`], options({ verifyProvenance: true }));
    return JSON.parse(JSON.stringify(r.pin));
  }

  test("a pin without verified provenance needs nothing", async () => {
    assert.equal(await verifyRecordedProvenance({ type: "npm", name: NAME }), undefined);
  });

  test("the recorded bundles verify again offline against the pinned integrity", async () => {
    const pin = await recorded();
    const again = await verifyRecordedProvenance(pin, { trustedRoot: mock.trustedRoot });
    assert.equal(again?.workflow_uri, WORKFLOW);
  });

  test("a tampered recorded bundle is refused", async () => {
    const pin = await recorded();
    const slsa = pin.provenance.bundles.find((b: { predicate_type: string }) =>
      b.predicate_type === SLSA_PROVENANCE_V1
    );
    const st = JSON.parse(Buffer.from(slsa.bundle.dsseEnvelope.payload, "base64").toString());
    st.predicate.buildDefinition.externalParameters.workflow.path = ".github/workflows/evil.yml";
    slsa.bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString("base64");
    await assert.rejects(
      verifyRecordedProvenance(pin, { trustedRoot: mock.trustedRoot }),
      (e) => e instanceof CheckFailedError,
    );
  });

  test("a recorded identity edited away from its bundle is refused", async () => {
    const pin = await recorded();
    pin.provenance.commit = "d".repeat(40);
    await assert.rejects(
      verifyRecordedProvenance(pin, { trustedRoot: mock.trustedRoot }),
      refusedWith(/records commit "d{40}", its provenance bundle says "c0ffee0+"/),
    );
  });

  test("a pinned integrity the bundles do not attest is refused", async () => {
    const pin = await recorded();
    pin.integrity = hashBytes(served("1.0.0").tarball).sri;
    await assert.rejects(
      verifyRecordedProvenance(pin, { trustedRoot: mock.trustedRoot }),
      refusedWith(/subject sha512/),
    );
  });

  test("recorded provenance without bundles is refused", async () => {
    const pin = await recorded();
    delete pin.provenance.bundles;
    await assert.rejects(
      verifyRecordedProvenance(pin, { trustedRoot: mock.trustedRoot }),
      refusedWith(/without its bundles/),
    );
  });
});
