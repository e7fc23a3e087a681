/**
 * Verifying Sigstore bundles against an artifact digest (`sha256:<hex>`, the sigstore-conformance CLI
 * protocol's FILE_OR_DIGEST form): parsing the digest, the ECDSA check over a digest, and every
 * conformance happy path verified by digest (testdata/vectors/sigstore-conformance, see its NOTICE).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import nodeCrypto from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import {
  type ArtifactDigest,
  type IdentityPolicy,
  isArtifactDigestForm,
  looksLikeArtifactDigest,
  parseArtifactDigest,
  SigstoreCheckFailedError,
  verifySigstoreBundle,
} from "./sigstore.ts";
import { digestSignatureContent, digestUncheckableReason } from "./sigstore_digest.ts";

const VECTORS = new URL("../../testdata/vectors/sigstore-conformance/", import.meta.url);
const POLICY: IdentityPolicy = {
  identity:
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
  issuer: "https://token.actions.githubusercontent.com",
};
const A_TXT_SHA256 = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

function sha256(bytes: Uint8Array): ArtifactDigest {
  return { algorithm: "sha256", digest: nodeCrypto.createHash("sha256").update(bytes).digest() };
}

/** A conformance case: its bundle, artifact, and verification options (key.pub, trusted_root.json). */
function load(name: string) {
  const f = (file: string) => new URL(`bundle-verify/${name}/${file}`, VECTORS);
  return {
    bundle: JSON.parse(readFileSync(f("bundle.sigstore.json"), "utf8")),
    artifact: readFileSync(existsSync(f("artifact")) ? f("artifact") : new URL("a.txt", VECTORS)),
    opts: {
      ...(existsSync(f("key.pub"))
        ? { publicKeyPem: readFileSync(f("key.pub"), "utf8") }
        : { policy: POLICY }),
      trustedRoot: existsSync(f("trusted_root.json"))
        ? JSON.parse(readFileSync(f("trusted_root.json"), "utf8"))
        : undefined,
    },
  };
}

function isUsageError(e: unknown): e is McpTrustError {
  return e instanceof McpTrustError && !(e instanceof CheckFailedError) && e.exitCode === 2;
}

describe("parseArtifactDigest", () => {
  test("sha256:<64 hex> parses to the 32 digest bytes, in either case", () => {
    for (const text of [`sha256:${A_TXT_SHA256}`, `SHA256:${A_TXT_SHA256.toUpperCase()}`]) {
      const d = parseArtifactDigest(text);
      assert.equal(d.algorithm, "sha256");
      assert.equal(Buffer.from(d.digest).toString("hex"), A_TXT_SHA256);
    }
  });

  for (
    const [label, text, re] of [
      ["one hex digit short", `sha256:${A_TXT_SHA256.slice(1)}`, /has 64 hex digits, this has 63/],
      ["one hex digit long", `sha256:${A_TXT_SHA256}0`, /has 64 hex digits, this has 65/],
      ["empty", "sha256:", /has 64 hex digits, this has 0/],
      [
        "a non-hex digit",
        `sha256:${A_TXT_SHA256.slice(0, 10)}g${A_TXT_SHA256.slice(11)}`,
        /"g" at position 18 is not a hex digit/,
      ],
      [
        "base64 instead of hex",
        "sha256:oM/HEnHW4njlfNMy/5V8P3BD/do1TEy7GQow1W76Ab8=",
        /"o" at position 8 is not a hex digit/,
      ],
      ["sha512", `sha512:${"ab".repeat(64)}`, /algorithm "sha512" is not supported; only sha256 is/],
      ["md5", "md5:d41d8cd98f00b204e9800998ecf8427e", /algorithm "md5" is not supported/],
      ["sha-256 spelled with a dash", `sha-256:${A_TXT_SHA256}`, /algorithm "sha-256" is not supported/],
      ["no algorithm", A_TXT_SHA256, /it has no algorithm prefix/],
    ] as [string, string, RegExp][]
  ) {
    test(`${label} is a usage error (exit 2) saying what is wrong`, () => {
      assert.throws(() => parseArtifactDigest(text, "--artifact"), (e) => {
        assert.ok(isUsageError(e), String(e));
        assert.match(e.message, re);
        assert.match(e.message, /^--artifact /);
        assert.match(e.hint ?? "", /sha256:/);
        return true;
      });
    });
  }

  test("which --artifact values read as digests and which as file names", () => {
    const table: [string, boolean, boolean][] = [
      // text, exact digest form, meant as a digest
      [`sha256:${A_TXT_SHA256}`, true, true],
      [`SHA256:${A_TXT_SHA256}`, true, true],
      [`sha256:${A_TXT_SHA256.slice(2)}`, false, true],
      ["sha512:abcd", false, true],
      ["md5:abcd", false, true],
      [`./sha256:${A_TXT_SHA256}`, false, false],
      ["C:\\artifacts\\server.tgz", false, false],
      ["notes:todo.txt", false, false],
      ["server.tgz", false, false],
    ];
    for (const [text, form, meant] of table) {
      assert.equal(isArtifactDigestForm(text), form, `${text} form`);
      assert.equal(looksLikeArtifactDigest(text), meant, `${text} meant as a digest`);
    }
  });
});

describe("ECDSA over a digest", () => {
  for (const namedCurve of ["P-256", "P-384"]) {
    test(`${namedCurve}: a signature verifies over the message's digest, and not over another digest`, () => {
      const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync("ec", { namedCurve });
      const message = Buffer.from("the artifact");
      const sig = nodeCrypto.sign("sha256", message, privateKey);
      const digest = sha256(message).digest;
      assert.equal(digestUncheckableReason(publicKey), undefined);
      assert.equal(digestSignatureContent(sig, digest, digest).verifySignature(publicKey), true);
      const other = sha256(Buffer.from("another artifact")).digest;
      assert.equal(digestSignatureContent(sig, other, other).verifySignature(publicKey), false);
      const otherKey = nodeCrypto.generateKeyPairSync("ec", { namedCurve }).publicKey;
      assert.equal(digestSignatureContent(sig, digest, digest).verifySignature(otherKey), false);
      assert.equal(
        digestSignatureContent(Buffer.from("not DER"), digest, digest).verifySignature(publicKey),
        false,
      );
    });
  }

  test("Ed25519 and RSA keys cannot be checked against a digest, and say so", () => {
    const ed = nodeCrypto.generateKeyPairSync("ed25519").publicKey;
    const rsa = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    assert.match(digestUncheckableReason(ed) ?? "", /an Ed25519 key.*cannot be checked against a digest/);
    assert.match(digestUncheckableReason(rsa) ?? "", /an RSA key.*cannot be checked against a digest/);
    const digest = sha256(Buffer.from("x")).digest;
    assert.equal(digestSignatureContent(Buffer.alloc(64), digest, digest).verifySignature(ed), false);
  });
});

describe("verifySigstoreBundle with a digest", () => {
  for (
    const name of [
      "happy-path-v0.1",
      "happy-path-v0.3",
      "happy-path-intoto-in-dsse-v3",
      "intoto-with-custom-trust-root",
      "managed-key-happy-path",
    ]
  ) {
    test(`${name}: verifies by the artifact's sha256 exactly as by its bytes`, async () => {
      const c = load(name);
      const byBytes = await verifySigstoreBundle(c.bundle, c.artifact, c.opts);
      const byDigest = await verifySigstoreBundle(c.bundle, sha256(c.artifact), c.opts);
      assert.deepEqual(byDigest, byBytes);
    });

    test(`${name}: another artifact's sha256 fails the artifact check (exit 1)`, async () => {
      const c = load(name);
      const other = sha256(Buffer.concat([c.artifact, Buffer.from("\n")]));
      await assert.rejects(verifySigstoreBundle(c.bundle, other, c.opts), (e) => {
        assert.ok(e instanceof SigstoreCheckFailedError, String(e));
        assert.equal(e.check, "artifact");
        assert.ok(e.message.includes(Buffer.from(other.digest).toString("hex")), e.message);
        return true;
      });
    });
  }

  test("a bundle whose signature does not match fails by digest too (exit 1)", async () => {
    const c = load("signature-mismatch_fail");
    await assert.rejects(
      verifySigstoreBundle(c.bundle, sha256(c.artifact), c.opts),
      (e) => e instanceof SigstoreCheckFailedError && e.check === "signature",
    );
  });

  test("a message digest that is not SHA-256 cannot be compared with a sha256 digest (exit 2)", async () => {
    const c = load("happy-path-v0.3");
    c.bundle.messageSignature.messageDigest.algorithm = "SHA2_384";
    await assert.rejects(verifySigstoreBundle(c.bundle, sha256(c.artifact), c.opts), (e) => {
      assert.ok(isUsageError(e), String(e));
      assert.match(e.message, /the bundle signs a sha384/);
      assert.match(e.hint ?? "", /artifact file/);
      return true;
    });
  });

  test("a digest object of the wrong shape is a usage error (exit 2)", async () => {
    const c = load("happy-path-v0.3");
    const cases: [unknown, RegExp][] = [
      // sha512 names npm tarballs; only a DSSE bundle's in-toto subjects can carry one.
      [
        { algorithm: "sha512", digest: new Uint8Array(64) },
        /sha512 digest can only be checked against a DSSE/,
      ],
      [{ algorithm: "sha256", digest: new Uint8Array(31) }, /32-byte sha256/],
    ];
    for (const [bad, why] of cases) {
      await assert.rejects(
        verifySigstoreBundle(c.bundle, bad as ArtifactDigest, c.opts),
        (e) => isUsageError(e) && why.test(e.message),
      );
    }
  });
});
