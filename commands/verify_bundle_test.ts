/**
 * `mcptrust verify-bundle`: flags, rendering and exit codes, on the sigstore-conformance vectors.
 * Runs under Deno (`deno test -A`) and Bun (`bun test`) through node:test.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CheckFailedError, McpTrustError } from "../lib/errors.ts";
import { main } from "../main.ts";
import { verifyBundleCommand } from "./verify_bundle.ts";

const V = (p: string) =>
  fileURLToPath(new URL(`../testdata/vectors/sigstore-conformance/${p}`, import.meta.url));
const A_TXT = V("a.txt");
const HAPPY = V("bundle-verify/happy-path-v0.3/bundle.sigstore.json");
const IDENTITY =
  "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";
const WHO = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER];
const A_TXT_SHA256 = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

/** Runs the command in-process; returns what it wrote and what it threw. */
async function run(args: string[]): Promise<{ out: string; err?: unknown }> {
  let out = "";
  const cmd = verifyBundleCommand((s) => {
    out += s;
  }).exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: () => {} });
  try {
    await cmd.parseAsync(args, { from: "user" });
    return { out };
  } catch (err) {
    return { out, err };
  }
}

describe("verify-bundle", () => {
  test("a valid keyless bundle prints who signed what, when", async () => {
    const { out, err } = await run(["--bundle", HAPPY, "--artifact", A_TXT, ...WHO]);
    assert.equal(err, undefined);
    assert.match(
      out,
      /^Verified: .*a\.txt \(sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf\)/,
    );
    assert.ok(out.includes(`signed by:  ${IDENTITY}`), out);
    assert.ok(out.includes(`issuer:     ${ISSUER}`), out);
    assert.ok(out.includes("signed at:  2024-03-19T17:26:26.000Z"), out);
  });

  test("--format json prints one JSON object with the verified facts", async () => {
    const { out, err } = await run(["--bundle", HAPPY, "--artifact", A_TXT, ...WHO, "--format", "json"]);
    assert.equal(err, undefined);
    assert.deepEqual(JSON.parse(out), {
      verified: true,
      kind: "certificate",
      identity: IDENTITY,
      issuer: ISSUER,
      signedAt: "2024-03-19T17:26:26.000Z",
      bundle: HAPPY,
      artifact: A_TXT,
      artifactSha256: "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    });
  });

  test("a wrong identity fails the check (exit 1); JSON output says which check and why", async () => {
    const { out, err } = await run([
      "--bundle",
      HAPPY,
      "--artifact",
      A_TXT,
      "--certificate-identity-regexp",
      "https://github\\.com/sigstore-conformance/",
      "--certificate-oidc-issuer",
      ISSUER,
      "--format",
      "json",
    ]);
    assert.ok(err instanceof CheckFailedError);
    assert.equal(err.exitCode, 1);
    const j = JSON.parse(out);
    assert.equal(j.verified, false);
    assert.equal(j.failedCheck, "identity");
    assert.match(j.error, /expected .*found/);
  });

  test("a managed-key bundle verifies with --key and reports the key", async () => {
    const { out, err } = await run([
      "--bundle",
      V("bundle-verify/managed-key-happy-path/bundle.sigstore.json"),
      "--artifact",
      A_TXT,
      "--key",
      V("bundle-verify/managed-key-happy-path/key.pub"),
    ]);
    assert.equal(err, undefined);
    assert.match(
      out,
      /signed by: {2}public key sha256:4cb32c4837c6dda8cfb1681efb3fef5f94ffce5b979e6bdb9139302c857af139/,
    );
  });

  test("--trusted-root replaces the built-in root", async () => {
    const dir = "bundle-verify/intoto-with-custom-trust-root";
    const base = ["--bundle", V(`${dir}/bundle.sigstore.json`), "--artifact", V(`${dir}/artifact`), ...WHO];
    assert.ok((await run(base)).err instanceof CheckFailedError);
    const { err } = await run([...base, "--trusted-root", V(`${dir}/trusted_root.json`)]);
    assert.equal(err, undefined);
  });

  for (
    const [label, args, re] of [
      ["no identity at all", ["--bundle", HAPPY, "--artifact", A_TXT], /no signer identity/],
      ["an identity without an issuer", [
        "--bundle",
        HAPPY,
        "--artifact",
        A_TXT,
        "--certificate-identity",
        IDENTITY,
      ], /issuer/],
      [
        "both identity and regexp",
        ["--bundle", HAPPY, "--artifact", A_TXT, ...WHO, "--certificate-identity-regexp", ".*"],
        /alternatives/,
      ],
      [
        "--key with identity flags",
        [
          "--bundle",
          HAPPY,
          "--artifact",
          A_TXT,
          ...WHO,
          "--key",
          V("bundle-verify/managed-key-happy-path/key.pub"),
        ],
        /--key cannot be combined/,
      ],
      [
        "a missing bundle file",
        ["--bundle", V("nope.json"), "--artifact", A_TXT, ...WHO],
        /cannot read --bundle .*ENOENT/,
      ],
      [
        "a malformed bundle",
        [
          "--bundle",
          V("bundle-verify/bundle-malformed-json_fail/bundle.sigstore.json"),
          "--artifact",
          A_TXT,
          ...WHO,
        ],
        /not valid JSON/,
      ],
      ["a trusted root that is not JSON", [
        "--bundle",
        HAPPY,
        "--artifact",
        A_TXT,
        ...WHO,
        "--trusted-root",
        A_TXT,
      ], /not valid JSON/],
    ] as [string, string[], RegExp][]
  ) {
    test(`${label} is unusable input (exit 2)`, async () => {
      const { err } = await run(args);
      assert.ok(err instanceof McpTrustError && !(err instanceof CheckFailedError), String(err));
      assert.equal(err.exitCode, 2);
      assert.match(err.message, re);
      assert.ok(err.hint);
    });
  }

  describe("--artifact as a digest (sigstore-conformance FILE_OR_DIGEST)", () => {
    const DIGEST = `sha256:${A_TXT_SHA256}`;

    test("sha256:<hex> verifies the bundle against the digest and says so", async () => {
      const { out, err } = await run(["--bundle", HAPPY, "--artifact", DIGEST, ...WHO]);
      assert.equal(err, undefined);
      assert.match(out, new RegExp(`^Verified: digest sha256:${A_TXT_SHA256}\n`));
      assert.ok(out.includes(`signed by:  ${IDENTITY}`), out);
    });

    test("--format json reports the digest as given and its hex", async () => {
      const { out, err } = await run([
        "--bundle",
        HAPPY,
        "--artifact",
        DIGEST.toUpperCase().replace("SHA256", "sha256"),
        ...WHO,
        "--format",
        "json",
      ]);
      assert.equal(err, undefined);
      const j = JSON.parse(out);
      assert.equal(j.verified, true);
      assert.equal(j.artifactSha256, A_TXT_SHA256);
      assert.equal(j.artifactIsDigest, undefined, "the JSON shape is the same for files and digests");
    });

    test("a DSSE bundle verifies against its in-toto subject's digest", async () => {
      const { err } = await run([
        "--bundle",
        V("bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json"),
        "--artifact",
        DIGEST,
        ...WHO,
      ]);
      assert.equal(err, undefined);
    });

    test("another artifact's digest fails the artifact check (exit 1)", async () => {
      const other = `sha256:${"0".repeat(64)}`;
      const { out, err } = await run(["--bundle", HAPPY, "--artifact", other, ...WHO, "--format", "json"]);
      assert.ok(err instanceof CheckFailedError, String(err));
      assert.equal(err.exitCode, 1);
      const j = JSON.parse(out);
      assert.equal(j.failedCheck, "artifact");
      assert.equal(j.artifact, other);
    });

    for (
      const [label, value, re] of [
        ["too short", `sha256:${A_TXT_SHA256.slice(0, 40)}`, /has 64 hex digits, this has 40/],
        ["not hex", `sha256:${"z".repeat(64)}`, /"z" at position 8 is not a hex digit/],
        ["sha512", `sha512:${"a".repeat(128)}`, /algorithm "sha512" is not supported/],
        ["md5", "md5:d41d8cd98f00b204e9800998ecf8427e", /algorithm "md5" is not supported/],
      ] as [string, string, RegExp][]
    ) {
      test(`a malformed digest (${label}) is unusable input (exit 2), not a missing file`, async () => {
        const { err } = await run(["--bundle", HAPPY, "--artifact", value, ...WHO]);
        assert.ok(err instanceof McpTrustError && !(err instanceof CheckFailedError), String(err));
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /^--artifact /);
        assert.match(err.message, re);
        assert.doesNotMatch(err.message, /cannot read|ENOENT/);
      });
    }

    test("a name that is not digest-like is still a file", async () => {
      const { err } = await run(["--bundle", HAPPY, "--artifact", V("notes:missing.txt"), ...WHO]);
      assert.ok(err instanceof McpTrustError);
      assert.match(err.message, /cannot read --artifact .*ENOENT/);
    });

    test("the CLI maps digest results to exit codes 0, 1 and 2", async () => {
      const cli = (artifact: string) =>
        main(["runtime", "mcptrust", "verify-bundle", "--bundle", HAPPY, "--artifact", artifact, ...WHO]);
      assert.equal(await cli(DIGEST), 0);
      assert.equal(await cli(`sha256:${"1".repeat(64)}`), 1);
      assert.equal(await cli("sha256:1234"), 2);
    });
  });

  test("--help explains the checks, the exit codes and shows examples", async () => {
    const { out } = await run(["--help"]);
    assert.match(out, /--certificate-identity-regexp/);
    assert.match(out, /Exit codes: 0 verified, 1 does not verify/);
    assert.match(out, /Examples:\n\s+# .*\n\s+mcptrust verify-bundle --bundle /);
    assert.match(out, /sha256:<64 hex digits>/);
  });

  test("the CLI maps results to exit codes 0, 1 and 2", async () => {
    const cli = (args: string[]) => main(["runtime", "mcptrust", "verify-bundle", ...args]);
    assert.equal(await cli(["--bundle", HAPPY, "--artifact", A_TXT, ...WHO]), 0);
    assert.equal(
      await cli([
        "--bundle",
        V("bundle-verify/signature-mismatch_fail/bundle.sigstore.json"),
        "--artifact",
        A_TXT,
        ...WHO,
      ]),
      1,
    );
    assert.equal(await cli(["--bundle", HAPPY, "--artifact", A_TXT]), 2);
  });
});
