// Choosing one exact version for a spec, as npm (npm-pick-manifest) does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import {
  checkPackument,
  distOf,
  type Packument,
  packumentUrl,
  pickVersion,
  publishTime,
} from "./packument.ts";

const v = (version: string, extra: Record<string, unknown> = {}) => ({
  name: "p",
  version,
  dist: { tarball: `https://r.example/p/-/p-${version}.tgz`, integrity: `sha512-${version}` },
  ...extra,
});
const doc: Packument = {
  name: "p",
  "dist-tags": { latest: "1.4.0", next: "2.0.0-rc.1" },
  versions: {
    "1.0.0": v("1.0.0"),
    "1.4.0": v("1.4.0"),
    "1.5.0": v("1.5.0"),
    "1.6.0": v("1.6.0", { deprecated: "broken" }),
    "2.0.0-rc.1": v("2.0.0-rc.1"),
    "3.0.0": v("3.0.0", { deprecated: "do not use" }),
  },
  time: { "1.4.0": "2024-01-02T03:04:05.000Z", "1.5.0": "garbage" },
};

test("a range picks the latest tag when it satisfies, else the highest non-deprecated match", () => {
  assert.equal(pickVersion(doc, "p", "^1.0.0", "range").version, "1.4.0", "latest satisfies ^1: latest wins");
  assert.equal(pickVersion(doc, "p", ">=1.5.0 <2", "range").version, "1.5.0", "1.6.0 is deprecated");
  assert.equal(pickVersion(doc, "p", "^1.6.0", "range").version, "1.6.0", "deprecated only if nothing else");
  assert.equal(pickVersion(doc, "p", "*", "range").version, "1.4.0");
  assert.equal(pickVersion(doc, "p", ">=2", "range").version, "3.0.0", "prereleases do not satisfy >=2");
  assert.equal(pickVersion(doc, "p", "^2.0.0-rc.0", "range").version, "2.0.0-rc.1");
});

test("tags and exact versions", () => {
  assert.equal(pickVersion(doc, "p", "latest", "tag").version, "1.4.0");
  assert.equal(pickVersion(doc, "p", "next", "tag").version, "2.0.0-rc.1");
  assert.equal(pickVersion(doc, "p", "1.5.0", "version").version, "1.5.0");
  assert.equal(pickVersion(doc, "p", "v1.5.0", "version").version, "1.5.0");
});

test("unresolvable specs are refused (exit 2) with what the registry has", () => {
  for (
    const [spec, type, why] of [
      ["^9", "range", /no version satisfies \^9/],
      ["9.9.9", "version", /version 9\.9\.9 does not exist/],
      ["beta", "tag", /no dist-tag "beta"/],
      ["constructor", "tag", /no dist-tag/],
    ] as const
  ) {
    assert.throws(
      () => pickVersion(doc, "p", spec, type),
      (err: unknown) =>
        err instanceof McpTrustError && err.exitCode === 2 && why.test(err.message) &&
        /3\.0\.0, 2\.0\.0-rc\.1/.test(err.hint ?? "") && /latest=1\.4\.0/.test(err.hint ?? ""),
    );
  }
  const dangling = { ...doc, "dist-tags": { latest: "7.0.0" } };
  assert.throws(
    () => pickVersion(dangling, "p", "latest", "tag"),
    /names version 7\.0\.0 but does not serve it/,
  );
});

test("packument URLs escape scoped names as npm requests them", () => {
  assert.equal(packumentUrl("https://r.example/npm", "@s/p"), "https://r.example/npm/@s%2fp");
  assert.equal(packumentUrl("https://r.example/", "p"), "https://r.example/p");
});

test("dist: tarball and integrity required; a manifest naming another package is a failed check", () => {
  assert.deepEqual(distOf(doc.versions["1.4.0"], "p", "1.4.0"), {
    tarball: "https://r.example/p/-/p-1.4.0.tgz",
    integrity: "sha512-1.4.0",
  });
  assert.throws(() => distOf(doc.versions["1.4.0"], "p", "1.5.0"), CheckFailedError);
  assert.throws(
    () => distOf({ dist: { tarball: "https://x/y.tgz", shasum: "ab" } }, "p", "1"),
    /no integrity/,
  );
  assert.throws(() => distOf({ dist: { integrity: "sha512-x" } }, "p", "1"), /no tarball URL/);
  assert.throws(() => checkPackument({ name: "q", versions: {} }, "p"), /packument of "q"/);
  assert.throws(() => checkPackument({ error: "not found" }, "p"), /not a packument/);
});

test("publish time from the time map", () => {
  assert.equal(publishTime(doc, "1.4.0")?.toISOString(), "2024-01-02T03:04:05.000Z");
  assert.equal(publishTime(doc, "1.5.0"), undefined);
  assert.equal(publishTime(doc, "1.0.0"), undefined);
});
