/**
 * A bundle whose certificates include a root (self-signed) certificate is refused (exit 1,
 * `certificate-chain`): signers MUST NOT include one (sigstore/protobuf-specs `VerificationMaterial`),
 * and sigstore-conformance `bundle-with-root-cert_fail` expects the refusal. The bundles are the
 * conformance happy paths (testdata/vectors/sigstore-conformance, see its NOTICE) with the public-good
 * Fulcio root and intermediate, taken from the embedded trusted root, added to their chain.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import nodeCrypto from "node:crypto";
import { readFileSync } from "node:fs";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { type IdentityPolicy, SigstoreCheckFailedError, verifySigstoreBundle } from "./sigstore.ts";
import { publicGoodTrustedRootJSON } from "./trusted_root.ts";

const VECTORS = new URL("../../testdata/vectors/sigstore-conformance/", import.meta.url);
const A_TXT = readFileSync(new URL("a.txt", VECTORS));
const POLICY: IdentityPolicy = {
  identity:
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
  issuer: "https://token.actions.githubusercontent.com",
};

// deno-lint-ignore no-explicit-any -- bundle JSON as parsed, edited by the tests
type Json = any;
type Cert = { rawBytes: string };

const load = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`bundle-verify/${name}/bundle.sigstore.json`, VECTORS), "utf8"));

/** The public-good Fulcio CA that issued the happy-path leaves: its intermediate and its root. */
function fulcio(): { intermediate: Cert; root: Cert } {
  const certs: Cert[] = (publicGoodTrustedRootJSON() as Json).certificateAuthorities
    .flatMap((ca: Json) => ca.certChain.certificates);
  const parsed = certs.map((c) => ({
    c,
    x: new nodeCrypto.X509Certificate(Buffer.from(c.rawBytes, "base64")),
  }));
  const intermediate = parsed.find(({ x }) => x.subject.includes("CN=sigstore-intermediate"));
  const root = parsed.find(({ x }) => x.checkIssued(x) && intermediate && intermediate.x.checkIssued(x));
  assert.ok(intermediate && root, "the embedded root has the Fulcio intermediate and its root");
  return { intermediate: intermediate.c, root: root.c };
}

function withChain(certs: (leaf: Cert) => Cert[]): Json {
  const b = load("happy-path-v0.1");
  const chain = b.verificationMaterial.x509CertificateChain;
  chain.certificates = certs(chain.certificates[0]);
  return b;
}

describe("root certificates in a bundle", () => {
  const { intermediate, root } = fulcio();

  for (
    const [label, certs, where] of [
      ["leaf, intermediate, root", (leaf: Cert) => [leaf, intermediate, root], "certificates[2]"],
      [
        "leaf, root, intermediate (the conformance case's order)",
        (leaf: Cert) => [leaf, root, intermediate],
        "certificates[1]",
      ],
      ["leaf, root", (leaf: Cert) => [leaf, root], "certificates[1]"],
    ] as [string, (leaf: Cert) => Cert[], string][]
  ) {
    test(`a v0.1 chain of ${label} is refused (exit 1) with a one-line reason`, async () => {
      await assert.rejects(verifySigstoreBundle(withChain(certs), A_TXT, { policy: POLICY }), (e) => {
        assert.ok(e instanceof SigstoreCheckFailedError, String(e));
        assert.equal(e.exitCode, 1);
        assert.equal(e.check, "certificate-chain");
        assert.ok(!e.message.includes("\n"), e.message);
        assert.ok(e.message.includes(`x509CertificateChain.${where}`), e.message);
        assert.match(e.message, /includes a root certificate .*"O=sigstore\.dev, CN=sigstore", self-signed/);
        return true;
      });
    });
  }

  test("control: the same chain without the root verifies (a superfluous intermediate is ignored)", async () => {
    const res = await verifySigstoreBundle(withChain((leaf) => [leaf, intermediate]), A_TXT, {
      policy: POLICY,
    });
    assert.equal(res.identity, POLICY.identity);
  });

  test("a v0.3 bundle whose single certificate is the root is refused (exit 1)", async () => {
    const b = load("happy-path-v0.3");
    b.verificationMaterial.certificate = root;
    await assert.rejects(
      verifySigstoreBundle(b, A_TXT, { policy: POLICY }),
      (e) =>
        e instanceof SigstoreCheckFailedError && e.check === "certificate-chain" &&
        /root certificate/.test(e.message),
    );
  });

  test("a chain member that is not a certificate is a malformed bundle (exit 2), named", async () => {
    const junk = { rawBytes: Buffer.from("not a certificate").toString("base64") };
    await assert.rejects(
      verifySigstoreBundle(withChain((leaf) => [leaf, junk]), A_TXT, { policy: POLICY }),
      (e) => {
        assert.ok(e instanceof McpTrustError && !(e instanceof CheckFailedError), String(e));
        assert.match(e.message, /x509CertificateChain\.certificates\[1\] is not a DER X\.509 certificate/);
        return true;
      },
    );
  });
});
