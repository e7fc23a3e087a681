/**
 * Sigstore bundle verification against the sigstore-conformance `bundle-verify` vectors
 * (testdata/vectors/sigstore-conformance, see its NOTICE), plus the identity policy rules: identity and
 * issuer are required, exact identities match exactly, identity regexps are anchored. Offline. Runs under
 * Deno (`deno test -A`) and Bun (`bun test`) through node:test.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import nodeCrypto from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import {
  type IdentityPolicy,
  parseBundleJSON,
  type SigstoreCheck,
  SigstoreCheckFailedError,
  verifySigstoreBundle,
} from "./sigstore.ts";
import { parseTrustedRoot, publicGoodTrustedRootJSON } from "./trusted_root.ts";

const VECTORS = new URL("../../testdata/vectors/sigstore-conformance/", import.meta.url);
const CASES = new URL("bundle-verify/", VECTORS);

// From the vectors' README: unless a case says otherwise, this identity and issuer signed.
const IDENTITY =
  "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";
const POLICY: IdentityPolicy = { identity: IDENTITY, issuer: ISSUER };

/**
 * Each case's expectation, from its README upstream. Files present in a case folder: `artifact`
 * (default ../a.txt), `trusted_root.json` (default: public-good root), `key.pub` (verify with the key
 * instead of an identity).
 */
type Expect =
  | { ok: true; kind: "certificate" | "public-key"; signedAt: string }
  | { ok: false; exit: 1; check: SigstoreCheck }
  | { ok: false; exit: 2; message: RegExp };

const TABLE: Record<string, { why: string; expect: Expect }> = {
  "happy-path-v0.1": {
    why: "happy path of verification of a v0.1 bundle",
    expect: { ok: true, kind: "certificate", signedAt: "2023-07-12T15:56:36.000Z" },
  },
  "happy-path-v0.3": {
    why: "happy path of verification of a v0.3 bundle",
    expect: { ok: true, kind: "certificate", signedAt: "2024-03-19T17:26:26.000Z" },
  },
  "happy-path-intoto-in-dsse-v3": {
    why: "valid bundle with in-toto metadata in a DSSE envelope",
    expect: { ok: true, kind: "certificate", signedAt: "2024-12-16T18:42:56.000Z" },
  },
  "intoto-with-custom-trust-root": {
    why: "happy path of verification for DSSE bundle with a custom trust root",
    expect: { ok: true, kind: "certificate", signedAt: "2023-02-01T00:00:00.000Z" },
  },
  "managed-key-happy-path": {
    why: "happy path of verification for bundles signed with a managed key",
    expect: { ok: true, kind: "public-key", signedAt: "2025-12-18T17:04:39.000Z" },
  },
  "bundle-malformed-json_fail": {
    why: "bundle contains truncated/malformed JSON: verification fails with a parse error",
    expect: { ok: false, exit: 2, message: /not valid JSON/ },
  },
  "dsse-invalid-sig_fail": {
    why: "the signature in the DSSE envelope is incorrect",
    expect: { ok: false, exit: 1, check: "signature" },
  },
  "managed-key-wrong-key_fail": {
    // The "wrong key" upstream is not a point on P-256, so it is rejected as unusable before any check.
    why: "expected to fail due to wrong key",
    expect: { ok: false, exit: 2, message: /public key is not a usable PEM public key/ },
  },
  "signature-mismatch_fail": {
    why: "the signature in this bundle is incorrect",
    expect: { ok: false, exit: 1, check: "signature" },
  },
  "wrong-hashedrekord-artifact_fail": {
    // The bundle's own signature and digest are fine; its Rekor entry records another artifact's.
    why: "the bundle is otherwise cryptographically valid but the (logged) artifact is incorrect",
    expect: { ok: false, exit: 1, check: "transparency-log" },
  },
};

interface Case {
  bundle: unknown;
  artifact: Uint8Array;
  publicKeyPem?: string;
  trustedRoot?: unknown;
}

function caseFile(name: string, file: string): URL {
  return new URL(`${name}/${file}`, CASES);
}

/** Reads a case folder the way the conformance suite defines it. */
function loadCase(name: string): Case {
  const bundle = parseBundleJSON(readFileSync(caseFile(name, "bundle.sigstore.json")), `${name} bundle`);
  const artifactFile = caseFile(name, "artifact");
  return {
    bundle,
    artifact: readFileSync(existsSync(artifactFile) ? artifactFile : new URL("a.txt", VECTORS)),
    publicKeyPem: existsSync(caseFile(name, "key.pub"))
      ? readFileSync(caseFile(name, "key.pub"), "utf8")
      : undefined,
    trustedRoot: existsSync(caseFile(name, "trusted_root.json"))
      ? JSON.parse(readFileSync(caseFile(name, "trusted_root.json"), "utf8"))
      : undefined,
  };
}

/** Verifies a case as the conformance suite would: with key.pub if present, else the identity policy. */
async function verifyCase(name: string) {
  const c = loadCase(name);
  return await verifySigstoreBundle(c.bundle, c.artifact, {
    ...(c.publicKeyPem !== undefined ? { publicKeyPem: c.publicKeyPem } : { policy: POLICY }),
    trustedRoot: c.trustedRoot,
  });
}

function isOperational(e: unknown): e is McpTrustError {
  return e instanceof McpTrustError && !(e instanceof CheckFailedError) && e.exitCode === 2;
}

describe("sigstore-conformance bundle-verify vectors", () => {
  test("the table covers every copied case", () => {
    const folders = [
      "bundle-malformed-json_fail",
      "dsse-invalid-sig_fail",
      "happy-path-intoto-in-dsse-v3",
      "happy-path-v0.1",
      "happy-path-v0.3",
      "intoto-with-custom-trust-root",
      "managed-key-happy-path",
      "managed-key-wrong-key_fail",
      "signature-mismatch_fail",
      "wrong-hashedrekord-artifact_fail",
    ];
    for (const f of folders) assert.ok(existsSync(caseFile(f, "bundle.sigstore.json")), f);
    assert.deepEqual(Object.keys(TABLE).sort(), folders);
    for (const [name, { expect }] of Object.entries(TABLE)) {
      assert.equal(name.endsWith("_fail"), !expect.ok, name);
    }
  });

  for (const [name, { why, expect }] of Object.entries(TABLE)) {
    test(`${name}: ${why}`, async () => {
      if (expect.ok) {
        const res = await verifyCase(name);
        assert.equal(res.kind, expect.kind);
        assert.equal(res.signedAt, expect.signedAt);
        if (expect.kind === "certificate") {
          assert.equal(res.identity, IDENTITY);
          assert.equal(res.issuer, ISSUER);
        } else {
          // The managed-key bundle's hint is the SHA-256 of the key: it must name the key we verified with.
          const hint = (loadCase(name).bundle as { verificationMaterial: { publicKey: { hint: string } } })
            .verificationMaterial.publicKey.hint;
          assert.equal(res.identity, `sha256:${Buffer.from(hint, "base64").toString("hex")}`);
          assert.equal(res.issuer, "");
        }
        return;
      }
      await assert.rejects(verifyCase(name), (e) => {
        if (expect.exit === 2) {
          assert.ok(isOperational(e), `expected an operational error (exit 2), got ${e}`);
          assert.match(e.message, expect.message);
        } else {
          assert.ok(e instanceof SigstoreCheckFailedError, `expected a failed check (exit 1), got ${e}`);
          assert.equal(e.exitCode, 1);
          assert.equal(e.check, expect.check, e.message);
        }
        return true;
      });
    });
  }
});

describe("identity policy", () => {
  const happy = () => loadCase("happy-path-v0.3");

  test("a different exact identity fails, showing expected and found", async () => {
    const c = happy();
    const other = IDENTITY.replace("@refs/heads/main", "@refs/heads/evil");
    await assert.rejects(
      verifySigstoreBundle(c.bundle, c.artifact, { policy: { identity: other, issuer: ISSUER } }),
      (e) => {
        assert.ok(e instanceof SigstoreCheckFailedError && e.check === "identity");
        assert.ok(e.message.includes(JSON.stringify(other)), e.message);
        assert.ok(e.message.includes(JSON.stringify(IDENTITY)), e.message);
        return true;
      },
    );
  });

  test("a different issuer fails, showing expected and found", async () => {
    const c = happy();
    await assert.rejects(
      verifySigstoreBundle(c.bundle, c.artifact, {
        policy: { identity: IDENTITY, issuer: "https://accounts.google.com" },
      }),
      (e) => {
        assert.ok(e instanceof SigstoreCheckFailedError && e.check === "issuer");
        assert.match(
          e.message,
          /expected "https:\/\/accounts\.google\.com", found "https:\/\/token\.actions\.githubusercontent\.com"/,
        );
        return true;
      },
    );
  });

  test("an identity regexp matching the whole identity passes", async () => {
    const c = happy();
    const res = await verifySigstoreBundle(c.bundle, c.artifact, {
      policy: {
        identityRegexp: "https://github\\.com/sigstore-conformance/.*@refs/heads/main",
        issuer: ISSUER,
      },
    });
    assert.equal(res.identity, IDENTITY);
  });

  for (
    const [label, re] of [
      ["a prefix-only regexp", "https://github\\.com/sigstore-conformance/"],
      ["a regexp matching only the middle", "extremely-dangerous-public-oidc-beacon"],
      ["a regexp matching only the start, given with its own ^", "^https://github\\.com/"],
      [
        "an alternation whose one branch is a prefix",
        "https://nope\\.example|https://github\\.com/sigstore-conformance/",
      ],
    ]
  ) {
    test(`identity regexps are anchored: ${label} fails`, async () => {
      const c = happy();
      await assert.rejects(
        verifySigstoreBundle(c.bundle, c.artifact, { policy: { identityRegexp: re, issuer: ISSUER } }),
        (e) => e instanceof SigstoreCheckFailedError && e.check === "identity",
      );
    });
  }

  test("an exact identity is not a regexp: one that would match as a regexp fails", async () => {
    const c = happy();
    await assert.rejects(
      verifySigstoreBundle(c.bundle, c.artifact, {
        policy: { identity: "https://github.com/sigstore-conformance/.*", issuer: ISSUER },
      }),
      (e) => e instanceof SigstoreCheckFailedError && e.check === "identity",
    );
  });

  for (
    const [label, opts] of [
      ["no policy and no key", {}],
      ["an empty issuer", { policy: { identity: IDENTITY, issuer: "" } }],
      ["no identity", { policy: { issuer: ISSUER } }],
      ["an empty identity", { policy: { identity: "", issuer: ISSUER } }],
      ["both identity and regexp", { policy: { identity: IDENTITY, identityRegexp: ".*", issuer: ISSUER } }],
      ["an invalid regexp", { policy: { identityRegexp: "(unclosed", issuer: ISSUER } }],
      ["a policy and a key together", {
        policy: POLICY,
        publicKeyPem: readFileSync(caseFile("managed-key-happy-path", "key.pub"), "utf8"),
      }],
    ] as [string, { policy?: IdentityPolicy; publicKeyPem?: string }][]
  ) {
    test(`${label} is refused as unusable input (there is no "any identity" default)`, async () => {
      const c = happy();
      await assert.rejects(verifySigstoreBundle(c.bundle, c.artifact, opts), (e) => {
        assert.ok(isOperational(e), String(e));
        assert.ok(e.hint, "a refusal says what to do next");
        return true;
      });
    });
  }
});

describe("keys, artifacts and trusted roots", () => {
  test("a different artifact fails the artifact check, naming both digests", async () => {
    const c = loadCase("happy-path-v0.3");
    const tampered = Buffer.concat([Buffer.from(c.artifact), Buffer.from("\n")]);
    await assert.rejects(verifySigstoreBundle(c.bundle, tampered, { policy: POLICY }), (e) => {
      assert.ok(e instanceof SigstoreCheckFailedError && e.check === "artifact");
      assert.ok(
        e.message.includes(nodeCrypto.createHash("sha256").update(tampered).digest("hex")),
        e.message,
      );
      return true;
    });
  });

  test("a DSSE bundle fails for an artifact that is not a subject of its in-toto statement", async () => {
    const c = loadCase("happy-path-intoto-in-dsse-v3");
    await assert.rejects(
      verifySigstoreBundle(c.bundle, new TextEncoder().encode("not a.txt"), { policy: POLICY }),
      (e) => e instanceof SigstoreCheckFailedError && e.check === "artifact" && /in-toto/.test(e.message),
    );
  });

  test("a managed-key bundle fails the signature check with another valid key", async () => {
    const c = loadCase("managed-key-happy-path");
    const other = nodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey
      .export({ format: "pem", type: "spki" }).toString();
    await assert.rejects(
      verifySigstoreBundle(c.bundle, c.artifact, { publicKeyPem: other }),
      (e) => e instanceof SigstoreCheckFailedError && e.check === "signature",
    );
  });

  test("a managed-key bundle without --key is unusable input that asks for the key", async () => {
    const c = loadCase("managed-key-happy-path");
    await assert.rejects(verifySigstoreBundle(c.bundle, c.artifact, { policy: POLICY }), (e) => {
      assert.ok(isOperational(e));
      assert.match(e.hint ?? "", /--key/);
      return true;
    });
  });

  test("a certificate bundle does not verify with a key instead of an identity", async () => {
    const c = loadCase("happy-path-v0.3");
    const key = readFileSync(caseFile("managed-key-happy-path", "key.pub"), "utf8");
    await assert.rejects(
      verifySigstoreBundle(c.bundle, c.artifact, { publicKeyPem: key }),
      (e) => e instanceof SigstoreCheckFailedError && e.check === "public-key",
    );
  });

  test("the custom-trust-root case fails against the embedded public-good root (its TSA, CA, logs are not trusted there)", async () => {
    const c = loadCase("intoto-with-custom-trust-root");
    await assert.rejects(
      verifySigstoreBundle(c.bundle, c.artifact, { policy: POLICY }),
      (e) =>
        e instanceof SigstoreCheckFailedError &&
        ["timestamp", "certificate-chain", "transparency-log"].includes(e.check) &&
        /--trusted-root/.test(e.hint ?? ""),
    );
  });

  test("a public-good bundle fails against a custom trusted root that does not include public-good", async () => {
    const c = loadCase("happy-path-v0.3");
    const custom = loadCase("intoto-with-custom-trust-root").trustedRoot;
    await assert.rejects(
      verifySigstoreBundle(c.bundle, c.artifact, { policy: POLICY, trustedRoot: custom }),
      (e) => e instanceof SigstoreCheckFailedError,
    );
  });

  test("passing the public-good root explicitly gives the same result as the embedded default", async () => {
    const c = loadCase("happy-path-v0.1");
    const res = await verifySigstoreBundle(c.bundle, c.artifact, {
      policy: POLICY,
      trustedRoot: publicGoodTrustedRootJSON(),
    });
    assert.equal(res.identity, IDENTITY);
  });

  test("the embedded root is Sigstore public-good (Rekor and Fulcio at sigstore.dev)", () => {
    const root = parseTrustedRoot(publicGoodTrustedRootJSON());
    assert.ok(root.tlogs.some((t) => t.baseUrl === "https://rekor.sigstore.dev"));
    assert.ok(root.certificateAuthorities.some((ca) => ca.uri === "https://fulcio.sigstore.dev"));
  });

  test("malformed bundles are unusable input naming the problem", async () => {
    const c = loadCase("happy-path-v0.3");
    const b = c.bundle as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      ["a string", /expected a JSON object/],
      [[], /expected a JSON object/],
      [{ ...b, mediaType: "application/json" }, /unsupported mediaType "application\/json"/],
      [{ ...b, verificationMaterial: undefined }, /verificationMaterial/],
      [{ mediaType: b.mediaType, verificationMaterial: b.verificationMaterial }, /content/],
    ];
    for (const [bundle, re] of cases) {
      await assert.rejects(verifySigstoreBundle(bundle, c.artifact, { policy: POLICY }), (e) => {
        assert.ok(isOperational(e), String(e));
        assert.match(e.message, re);
        return true;
      });
    }
  });

  test("malformed trusted roots and keys are unusable input", async () => {
    const c = loadCase("happy-path-v0.3");
    for (
      const trustedRoot of [42, {}, {
        mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      }]
    ) {
      await assert.rejects(
        verifySigstoreBundle(c.bundle, c.artifact, { policy: POLICY, trustedRoot }),
        (e) => {
          assert.ok(isOperational(e), String(e));
          assert.match(e.message, /trusted root/);
          return true;
        },
      );
    }
    const m = loadCase("managed-key-happy-path");
    await assert.rejects(
      verifySigstoreBundle(m.bundle, m.artifact, { publicKeyPem: "not a key" }),
      (e) => isOperational(e) && /public key/.test(e.message),
    );
  });

  test("node:crypto.verify is left as it was after verification (the Deno digest shim is scoped)", async () => {
    const before = nodeCrypto.verify;
    await verifyCase("happy-path-intoto-in-dsse-v3");
    await assert.rejects(verifyCase("signature-mismatch_fail"));
    assert.equal(nodeCrypto.verify, before);
  });
});
