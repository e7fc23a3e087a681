/**
 * The Sigstore conformance bundles through the compiled binary (`mcptrust verify-bundle`): every happy
 * path passes (exit 0), every `_fail` case fails (exit 1, or 2 for unusable input), exactly as the
 * in-process tests in lib/crypto/sigstore_test.ts expect under Deno; and, as the conformance suite
 * runs each case, with the artifact given as a file and as `sha256:<hex>`. Then the cases built here
 * from those vectors: a chain with its root certificate, a trusted root without a validity start, a
 * v0.1 inclusion proof without a checkpoint, malformed and ambiguous digests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { publicGoodTrustedRootJSON } from "../lib/crypto/trusted_root.ts";
import { ROOT, run, tempDir } from "./helpers.ts";

const DIR = join(ROOT, "testdata/vectors/sigstore-conformance");
const IDENTITY =
  "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";

const EXPECTED_EXIT: Record<string, number> = {
  "happy-path-v0.1": 0,
  "happy-path-v0.3": 0,
  "happy-path-intoto-in-dsse-v3": 0,
  "intoto-with-custom-trust-root": 0,
  "managed-key-happy-path": 0,
  "bundle-malformed-json_fail": 2,
  "dsse-invalid-sig_fail": 1,
  "managed-key-wrong-key_fail": 2,
  "signature-mismatch_fail": 1,
  "wrong-hashedrekord-artifact_fail": 1,
};

test("every Sigstore conformance case gives its expected verdict through the binary, by file and by digest", async () => {
  for (const [name, code] of Object.entries(EXPECTED_EXIT)) {
    for (const byDigest of [false, true]) {
      const r = await run(caseArgs(name, byDigest));
      const label = `${name}${byDigest ? " (by digest)" : ""}`;
      assert.equal(r.code, code, `${label}: ${r.stdout}${r.stderr}`);
      if (code !== 0) assert.ok(r.stderr.length > 0 || r.stdout.length > 0, `${label} says why`);
      if (code === 0 && byDigest) assert.match(r.stdout, /^Verified: digest sha256:[0-9a-f]{64}\n/, label);
    }
  }
});

/** verify-bundle arguments for a conformance case, as the conformance suite's client would pass them. */
function caseArgs(name: string, byDigest = false): string[] {
  const dir = join(DIR, "bundle-verify", name);
  const file = existsSync(join(dir, "artifact")) ? join(dir, "artifact") : join(DIR, "a.txt");
  const artifact = byDigest
    ? `sha256:${createHash("sha256").update(readFileSync(file)).digest("hex")}`
    : file;
  const args = ["verify-bundle", "--bundle", join(dir, "bundle.sigstore.json"), "--artifact", artifact];
  if (existsSync(join(dir, "key.pub"))) args.push("--key", join(dir, "key.pub"));
  else args.push("--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER);
  if (existsSync(join(dir, "trusted_root.json"))) {
    args.push("--trusted-root", join(dir, "trusted_root.json"));
  }
  return args;
}

test("a wrong identity or issuer fails a happy-path bundle through the binary", async () => {
  const dir = join(DIR, "bundle-verify", "happy-path-v0.3");
  const base = [
    "verify-bundle",
    "--bundle",
    join(dir, "bundle.sigstore.json"),
    "--artifact",
    join(DIR, "a.txt"),
  ];
  const wrongId = await run([
    ...base,
    "--certificate-identity",
    IDENTITY + "x",
    "--certificate-oidc-issuer",
    ISSUER,
  ]);
  assert.equal(wrongId.code, 1);
  const wrongIssuer = await run([
    ...base,
    "--certificate-identity",
    IDENTITY,
    "--certificate-oidc-issuer",
    "https://accounts.google.com",
  ]);
  assert.equal(wrongIssuer.code, 1);
  const prefixOnly = await run([
    ...base,
    "--certificate-identity-regexp",
    "https://github.com/sigstore-conformance/",
    "--certificate-oidc-issuer",
    ISSUER,
  ]);
  assert.equal(prefixOnly.code, 1, "identity regexps are anchored");
});

// deno-lint-ignore no-explicit-any -- vector JSON as parsed, edited below
const vector = (path: string): any => JSON.parse(readFileSync(join(DIR, "bundle-verify", path), "utf8"));
const WHO = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER];
const A_TXT_DIGEST = `sha256:${createHash("sha256").update(readFileSync(join(DIR, "a.txt"))).digest("hex")}`;

/** The refusal is one `mcptrust: ...` line (plus the hint), free of JavaScript engine text. */
function assertOneLineRefusal(stderr: string, re: RegExp): void {
  const first = stderr.split("\n")[0];
  assert.match(first, /^mcptrust: /, stderr);
  assert.match(first, re, stderr);
  assert.doesNotMatch(stderr, /TypeError|undefined|Cannot read|\n\s+at /, stderr);
}

test("built cases: root certificate in the chain (1), no validity start (2), no checkpoint (1)", async () => {
  const dir = tempDir("mcptrust-sigstore-conformance-");
  // deno-lint-ignore no-explicit-any -- trusted_root.json as parsed
  const root = (publicGoodTrustedRootJSON() as any).certificateAuthorities
    .flatMap((ca: { certChain: { certificates: { rawBytes: string }[] } }) => ca.certChain.certificates)
    .at(-1);
  const withRoot = vector("happy-path-v0.1/bundle.sigstore.json");
  withRoot.verificationMaterial.x509CertificateChain.certificates.push(root);
  writeFileSync(join(dir, "with-root.json"), JSON.stringify(withRoot));
  const r1 = await run([
    "verify-bundle",
    "--bundle",
    join(dir, "with-root.json"),
    "--artifact",
    join(DIR, "a.txt"),
    ...WHO,
  ]);
  assert.equal(r1.code, 1, r1.stderr);
  assertOneLineRefusal(
    r1.stderr,
    /certificate chain check failed: the bundle's chain includes a root certificate/,
  );

  const noStart = vector("intoto-with-custom-trust-root/trusted_root.json");
  delete noStart.tlogs[0].publicKey.validFor.start;
  writeFileSync(join(dir, "no-start.json"), JSON.stringify(noStart));
  const args = caseArgs("intoto-with-custom-trust-root");
  args[args.length - 1] = join(dir, "no-start.json");
  const r2 = await run(args);
  assert.equal(r2.code, 2, r2.stderr);
  assertOneLineRefusal(
    r2.stderr,
    /tlogs\[0\] \(http:\/\/localhost:8000\)\.publicKey\.validFor\.start is missing/,
  );

  const noCheckpoint = vector("happy-path-v0.1/bundle.sigstore.json");
  delete noCheckpoint.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
  writeFileSync(join(dir, "no-checkpoint.json"), JSON.stringify(noCheckpoint));
  for (const artifact of [join(DIR, "a.txt"), A_TXT_DIGEST]) {
    const r3 = await run([
      "verify-bundle",
      "--bundle",
      join(dir, "no-checkpoint.json"),
      "--artifact",
      artifact,
      ...WHO,
    ]);
    assert.equal(r3.code, 1, r3.stderr);
    assertOneLineRefusal(r3.stderr, /inclusionProof\.checkpoint is missing/);
  }
});

test("digests: malformed is exit 2; a digest-named file is ambiguous (2) unless written ./", async () => {
  const bundle = join(DIR, "bundle-verify/happy-path-v0.3/bundle.sigstore.json");
  const bad = await run(["verify-bundle", "--bundle", bundle, "--artifact", "sha256:abc", ...WHO]);
  assert.equal(bad.code, 2, bad.stderr);
  assertOneLineRefusal(bad.stderr, /--artifact "sha256:abc" is malformed: a sha256 digest has 64 hex digits/);

  const cwd = tempDir("mcptrust-digest-named-");
  writeFileSync(join(cwd, A_TXT_DIGEST), readFileSync(join(DIR, "a.txt")));
  const ambiguous = await run(["verify-bundle", "--bundle", bundle, "--artifact", A_TXT_DIGEST, ...WHO], {
    cwd,
  });
  assert.equal(ambiguous.code, 2, ambiguous.stderr);
  assertOneLineRefusal(ambiguous.stderr, /is ambiguous/);
  const asFile = await run(["verify-bundle", "--bundle", bundle, "--artifact", `./${A_TXT_DIGEST}`, ...WHO], {
    cwd,
  });
  assert.equal(asFile.code, 0, asFile.stderr);
  assert.match(asFile.stdout, /^Verified: \.\/sha256:/);
});
