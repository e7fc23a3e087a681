/**
 * `sign --sigstore` and `verify --certificate-identity` end to end through our envelope, offline:
 * @sigstore/mock's Fulcio, Rekor and timestamp authority on 127.0.0.1 (sigstore_mock_support.ts), a
 * real keyless bundle over the lockfile's canonical bytes, written into the
 * Go tool's `.sig` envelope and verified back against the mock's trusted root.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { goldenV3WithTools, lockfileText, withTempDir } from "../bundle/test_support.ts";
import { parseSignedDocument } from "./signed_document.ts";
import { signLockfile } from "./signer.ts";
import { fakeIdToken, type MockSigstore, startMockSigstore } from "./sigstore_mock_support.ts";
import { verifyLockfile } from "./verifier.ts";

const IDENTITY = "https://github.com/acme/tools/.github/workflows/lock.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";
describe("Sigstore keyless signatures in the .sig envelope", () => {
  let mock: MockSigstore;
  const lockBytes = new TextEncoder().encode(lockfileText(goldenV3WithTools()));
  let envelope = "";

  before(async () => {
    mock = await startMockSigstore();
    const res = await signLockfile(parseSignedDocument(lockBytes, "mcp-lock.json"), "v1", {
      type: "sigstore",
      identityToken: fakeIdToken({ sub: IDENTITY, iss: ISSUER }),
      fulcioURL: mock.url,
      rekorURL: mock.url,
      // No TSA: @sigstore/mock's timestamps drop trailing zeros in the fraction of a second (".5Z"),
      // which @sigstore/core rejects ("invalid time") about one run in ten. Rekor's time is enough.
    });
    envelope = res.envelope;
  });
  after(() => mock?.close());

  test("the .sig has the Go tool's Sigstore header", () => {
    assert.equal(
      envelope.split("\n")[0],
      '{"canon_version":"v1","sig_type":"sigstore_bundle","bundle_encoding":"base64+json"}',
    );
  });

  test("it verifies for the named identity and issuer, and fails for another identity or a changed lockfile", () =>
    withTempDir(async (dir) => {
      const rootPath = join(dir, "trusted_root.json");
      writeFileSync(rootPath, JSON.stringify(mock.trustedRoot));
      const sig = { path: "mcp-lock.json.sig", bytes: new TextEncoder().encode(envelope) };
      const lockfile = { path: "mcp-lock.json", bytes: lockBytes };
      const ok = await verifyLockfile({
        lockfile,
        signature: sig,
        flags: { identity: IDENTITY, issuer: ISSUER, trustedRoot: rootPath },
      });
      assert.equal(ok.signer.type === "sigstore" && ok.signer.identity, IDENTITY);
      assert.equal(ok.signatureFormat, "sigstore-bundle");
      const re = await verifyLockfile({
        lockfile,
        signature: sig,
        flags: { identityRegexp: "https://github\\.com/acme/.*", issuer: ISSUER, trustedRoot: rootPath },
      });
      assert.equal(re.signer.type, "sigstore");

      await assert.rejects(
        verifyLockfile({
          lockfile,
          signature: sig,
          flags: { identity: "https://github.com/evil/x", issuer: ISSUER, trustedRoot: rootPath },
        }),
        (err: unknown) => err instanceof CheckFailedError && /does not match the signature/.test(err.message),
      );
      const changed = new TextEncoder().encode(
        new TextDecoder().decode(lockBytes).replace("test-server", "evil-server"),
      );
      await assert.rejects(
        verifyLockfile({
          lockfile: { ...lockfile, bytes: changed },
          signature: sig,
          flags: { identity: IDENTITY, issuer: ISSUER, trustedRoot: rootPath },
        }),
        (err: unknown) => err instanceof CheckFailedError,
      );
      // Without the mock's trusted root, the public-good root does not vouch for the mock CA.
      await assert.rejects(
        verifyLockfile({ lockfile, signature: sig, flags: { identity: IDENTITY, issuer: ISSUER } }),
        (err: unknown) => err instanceof McpTrustError && err.exitCode === 1,
      );
    }));
});
