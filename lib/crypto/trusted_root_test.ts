/**
 * Trusted root parsing: validity windows. A transparency log key, CT log key, certificate authority or
 * timestamp authority without `validFor.start` is refused (exit 2, naming the entry), never read as
 * "valid since 1970" (sigstore-conformance `trust-root-tlog-missing-validity-start_fail`).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { verifySigstoreBundle } from "./sigstore.ts";
import { parseTrustedRoot, publicGoodTrustedRootJSON } from "./trusted_root.ts";

const CASE = new URL(
  "../../testdata/vectors/sigstore-conformance/bundle-verify/intoto-with-custom-trust-root/",
  import.meta.url,
);
const IDENTITY =
  "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";

// deno-lint-ignore no-explicit-any -- trusted_root.json as parsed, mutated in place by the tests
type Root = any;

const customRoot = (): Root => JSON.parse(readFileSync(new URL("trusted_root.json", CASE), "utf8"));

/** Each kind of entry with a validity window, and where the window sits in it. */
const WINDOWS: { field: string; window: (entry: Root) => Root; label: string }[] = [
  { field: "tlogs", window: (e) => e.publicKey, label: "publicKey.validFor" },
  { field: "ctlogs", window: (e) => e.publicKey, label: "publicKey.validFor" },
  { field: "certificateAuthorities", window: (e) => e, label: "validFor" },
  { field: "timestampAuthorities", window: (e) => e, label: "validFor" },
];

function isUsageError(e: unknown): e is McpTrustError {
  return e instanceof McpTrustError && !(e instanceof CheckFailedError) && e.exitCode === 2;
}

describe("trusted root validity windows", () => {
  test("the embedded public-good root and the conformance custom root parse", () => {
    assert.ok(parseTrustedRoot(publicGoodTrustedRootJSON()).tlogs.length > 0);
    assert.ok(parseTrustedRoot(customRoot()).tlogs.length > 0);
  });

  for (const { field, window, label } of WINDOWS) {
    for (
      const [what, change, re] of [
        ["no start", (w: Root) => delete w.validFor.start, /\.start is missing/],
        ["a null start", (w: Root) => (w.validFor.start = null), /\.start is missing/],
        ["no validFor at all", (w: Root) => delete w.validFor, / is missing: each key and authority/],
        [
          "a start that is not a time",
          (w: Root) => (w.validFor.start = "yesterday"),
          /\.start is not a valid time/,
        ],
        [
          "an end before the start",
          (w: Root) => (w.validFor.end = "2022-01-01T00:00:00Z"),
          /\.end is before its start/,
        ],
      ] as [string, (w: Root) => void, RegExp][]
    ) {
      test(`${field}[0] with ${what} is refused (exit 2), naming the entry`, () => {
        const root = customRoot();
        change(window(root[field][0]));
        assert.throws(() => parseTrustedRoot(root, "trusted root t.json"), (e) => {
          assert.ok(isUsageError(e), String(e));
          assert.ok(
            e.message.startsWith("trusted root t.json is not a usable Sigstore trusted root: "),
            e.message,
          );
          assert.ok(e.message.includes(`${field}[0] (http://localhost:8000).${label}`), e.message);
          assert.match(e.message, re);
          assert.ok(e.hint);
          return true;
        });
      });
    }
  }

  test("the entry is named by its index, also past the first", () => {
    const root = publicGoodTrustedRootJSON() as Root;
    const copy = structuredClone(root);
    delete copy.tlogs[1].publicKey.validFor.start;
    assert.throws(
      () => parseTrustedRoot(copy),
      (e) =>
        isUsageError(e) &&
        /tlogs\[1\] \(https:\/\/log2025-1\.rekor\.sigstore\.dev\)\.publicKey\.validFor\.start is missing/
          .test(e.message),
    );
  });

  test("an open end is fine: only the start is required", () => {
    const root = customRoot();
    for (const { field, window } of WINDOWS) delete window(root[field][0]).validFor.end;
    assert.doesNotThrow(() => parseTrustedRoot(root));
  });

  test("a bundle checked against a root with a start missing is refused (exit 2), not verified", async () => {
    const bundle = JSON.parse(readFileSync(new URL("bundle.sigstore.json", CASE), "utf8"));
    const artifact = readFileSync(new URL("artifact", CASE));
    const policy = { identity: IDENTITY, issuer: ISSUER };
    await verifySigstoreBundle(bundle, artifact, { policy, trustedRoot: customRoot() }); // control: verifies
    for (const { field, window } of WINDOWS) {
      const root = customRoot();
      delete window(root[field][0]).validFor.start;
      await assert.rejects(
        verifySigstoreBundle(bundle, artifact, { policy, trustedRoot: root }),
        (e) => isUsageError(e) && e.message.includes(`${field}[0]`),
        field,
      );
    }
  });
});
