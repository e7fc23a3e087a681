/**
 * The Sigstore conformance bundles through the compiled binary (`mcptrust verify-bundle`): every happy
 * path passes (exit 0), every `_fail` case fails (exit 1, or 2 for unusable input), exactly as the
 * in-process tests in lib/crypto/sigstore_test.ts expect under Deno.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, run } from "./helpers.ts";

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

test("every Sigstore conformance case gives its expected verdict through the binary", async () => {
  for (const [name, code] of Object.entries(EXPECTED_EXIT)) {
    const dir = join(DIR, "bundle-verify", name);
    const artifact = existsSync(join(dir, "artifact")) ? join(dir, "artifact") : join(DIR, "a.txt");
    const args = ["verify-bundle", "--bundle", join(dir, "bundle.sigstore.json"), "--artifact", artifact];
    if (existsSync(join(dir, "key.pub"))) args.push("--key", join(dir, "key.pub"));
    else args.push("--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER);
    if (existsSync(join(dir, "trusted_root.json"))) {
      args.push("--trusted-root", join(dir, "trusted_root.json"));
    }
    const r = await run(args);
    assert.equal(r.code, code, `${name}: ${r.stdout}${r.stderr}`);
    if (code !== 0) assert.ok(r.stderr.length > 0 || r.stdout.length > 0, `${name} says why`);
  }
});

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
