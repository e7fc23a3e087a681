import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { EXIT_OPERATIONAL, McpTrustError } from "../errors.ts";
import { parseLockfile } from "../lockfile/load.ts";
import {
  checkDependencyPath,
  normalizeEntry,
  planRun,
  type Platform,
  platformListMatches,
  platformMismatch,
} from "./run_plan.ts";

const sri = (s: string) => `sha512-${createHash("sha512").update(s).digest("base64")}`;
const LINUX: Platform = { os: "linux", cpu: "x64", libc: "glibc" };

function pin(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "npm",
    name: "srv",
    version: "1.0.0",
    registry: "https://registry.example/",
    integrity: sri("srv"),
    tarball_url: "https://registry.example/srv/-/srv-1.0.0.tgz",
    launch: { bin: "srv", entry: "./dist/index.js", args: ["--x"] },
    dependencies: [
      {
        path: "node_modules/b",
        name: "b",
        version: "1.0.0",
        tarball_url: "https://r/b.tgz",
        integrity: sri("b"),
      },
      {
        path: "node_modules/@s/a/node_modules/b",
        name: "b",
        version: "2.0.0",
        tarball_url: "https://r/b2.tgz",
        integrity: sri("b2"),
      },
      {
        path: "node_modules/@s/a",
        name: "@s/a",
        version: "1.0.0",
        tarball_url: "https://r/a.tgz",
        integrity: sri("a"),
      },
    ],
    ...extra,
  };
}

function lockfile(artifact: unknown) {
  const doc = {
    lockFileVersion: "3.0",
    meta: { generator: "t", updatedAt: "2026-01-01T00:00:00Z" },
    server: { name: "srv", artifact },
    prompts: { definitions: {} },
    resources: { templates: [] },
    tools: {},
  };
  return parseLockfile(new TextEncoder().encode(JSON.stringify(doc)), "mcp-lock.json");
}

function refuses(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: McpTrustError) => {
    assert.ok(e instanceof McpTrustError, String(e));
    assert.equal(e.exitCode, EXIT_OPERATIONAL);
    assert.match(e.message, re);
    return true;
  });
}

test("the plan: server at node_modules/<name>, parents before nested packages, entry normalized", () => {
  const plan = planRun(lockfile(pin()), LINUX);
  assert.deepEqual(plan.packages.map((p) => p.path), [
    "node_modules/@s/a",
    "node_modules/b",
    "node_modules/srv",
    "node_modules/@s/a/node_modules/b",
  ]);
  assert.equal(plan.root.path, "node_modules/srv");
  assert.ok(plan.root.root);
  assert.equal(plan.root.sha512Hex, createHash("sha512").update("srv").digest("hex"));
  assert.deepEqual(plan.launch, { bin: "srv", entry: "dist/index.js", args: ["--x"] });
  assert.match(plan.treeKey, /^[0-9a-f]{64}$/);
});

test("the tree key changes with any pinned byte or path, and only with those", () => {
  const base = planRun(lockfile(pin()), LINUX).treeKey;
  assert.equal(planRun(lockfile(pin({ registry: "https://other/" })), LINUX).treeKey, base);
  assert.notEqual(planRun(lockfile(pin({ integrity: sri("srv2") })), LINUX).treeKey, base);
  const moved = pin();
  (moved.dependencies as { path: string }[])[0].path = "node_modules/@s/a/node_modules/c";
  (moved.dependencies as { name: string }[])[0].name = "c";
  assert.notEqual(planRun(lockfile(moved), LINUX).treeKey, base);
});

test("npm's platform rules: lists, negations, any; libc only on Linux", () => {
  assert.ok(platformListMatches("linux", ["linux", "darwin"]));
  assert.ok(!platformListMatches("win32", ["linux", "darwin"]));
  assert.ok(platformListMatches("linux", ["!win32"]));
  assert.ok(!platformListMatches("win32", ["!win32"]));
  assert.ok(platformListMatches("linux", "any"));
  assert.ok(platformListMatches("linux", "linux"));
  assert.equal(
    platformMismatch({ os: ["linux"], cpu: ["arm64"] }, LINUX),
    'cpu ["arm64"] does not include x64',
  );
  assert.equal(platformMismatch({ libc: ["musl"] }, LINUX), 'libc ["musl"] does not include glibc');
  assert.equal(platformMismatch({ libc: ["musl"] }, { os: "darwin", cpu: "arm64" }), undefined);
});

test("optional packages for another platform are skipped; required ones are refused", () => {
  const deps = (pin().dependencies as Record<string, unknown>[]).concat([
    {
      path: "node_modules/n-win",
      name: "n-win",
      version: "1.0.0",
      tarball_url: "https://r/w.tgz",
      integrity: sri("w"),
      os: ["win32"],
      optional: true,
    },
    {
      path: "node_modules/n-musl",
      name: "n-musl",
      version: "1.0.0",
      tarball_url: "https://r/m.tgz",
      integrity: sri("m"),
      os: ["linux"],
      libc: ["musl"],
      optional: true,
    },
    {
      path: "node_modules/n-gnu",
      name: "n-gnu",
      version: "1.0.0",
      tarball_url: "https://r/g.tgz",
      integrity: sri("g"),
      os: ["linux"],
      cpu: ["x64"],
      libc: ["glibc"],
      optional: true,
    },
  ]);
  const plan = planRun(lockfile(pin({ dependencies: deps })), LINUX);
  assert.deepEqual(plan.skipped.map((s) => [s.path, s.reason]), [
    ["node_modules/n-win", 'os ["win32"] does not include linux'],
    ["node_modules/n-musl", 'libc ["musl"] does not include glibc'],
  ]);
  assert.ok(plan.packages.some((p) => p.path === "node_modules/n-gnu"));
  const required = deps.concat([{
    path: "node_modules/only-mac",
    name: "only-mac",
    version: "1.0.0",
    tarball_url: "https://r/o.tgz",
    integrity: sri("o"),
    os: ["darwin"],
  }]);
  refuses(
    () => planRun(lockfile(pin({ dependencies: required })), LINUX),
    /only-mac@1\.0\.0.*required.*os \["darwin"\]/,
  );
});

test("dependency paths: node_modules/<name> segments only", () => {
  assert.equal(checkDependencyPath("node_modules/a"), 1);
  assert.equal(checkDependencyPath("node_modules/@s/a/node_modules/b"), 2);
  for (
    const bad of [
      "node_modules/../etc",
      "/node_modules/a",
      "node_modules/a/../../x",
      "node_modules/a/lib",
      "node_modules/@s",
      "node_modules/.bin",
      "lib/node_modules/a",
      "node_modules/a\\b",
      "node_modules//a",
      "",
    ]
  ) {
    refuses(() => checkDependencyPath(bad), /not node_modules/);
  }
});

test("the launch entry must stay inside the package", () => {
  assert.equal(normalizeEntry("./bin/cli.js"), "bin/cli.js");
  assert.equal(normalizeEntry("dist//index.js"), "dist/index.js");
  for (const bad of ["/etc/passwd", "../x.js", "a/../../x.js", "C:/x.js", "bin\\x.js", ".", "dir/"]) {
    refuses(() => normalizeEntry(bad), /launch\.entry/);
  }
});

test("unusable pins are refused with exit 2 and a re-pin hint", () => {
  refuses(() => planRun(lockfile(undefined), LINUX), /pins no artifact/);
  refuses(() => planRun(lockfile({ type: "oci", image: "x" }), LINUX), /"oci" artifact/);
  refuses(() => planRun(lockfile(pin({ name: "../evil" })), LINUX), /malformed.*name/);
  refuses(() => planRun(lockfile(pin({ launch: {} })), LINUX), /malformed.*launch/);
  refuses(
    () => planRun(lockfile(pin({ integrity: "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=" })), LINUX),
    /sha512|sha384/,
  );
  refuses(
    () =>
      planRun(
        lockfile(pin({ integrity: `sha256-${createHash("sha256").update("x").digest("base64")}` })),
        LINUX,
      ),
    /is sha256; run --lock needs sha512/,
  );
  const dup = pin();
  (dup.dependencies as unknown[]).push((dup.dependencies as unknown[])[0]);
  refuses(() => planRun(lockfile(dup), LINUX), /node_modules\/b is pinned twice/);
  try {
    planRun(lockfile(pin({ launch: { bin: "srv", entry: "../x", args: [] } })), LINUX);
    assert.fail("expected a refusal");
  } catch (e) {
    assert.match((e as McpTrustError).hint ?? "", /lock --pin/);
  }
});

test("the server listed again among its dependencies (a synthetic project's lockfile) must be the same bytes", () => {
  const self = {
    path: "node_modules/srv",
    name: "srv",
    version: "1.0.0",
    tarball_url: "https://r/s.tgz",
    integrity: sri("srv"),
  };
  const plan = planRun(lockfile(pin({ dependencies: [self] })), LINUX);
  assert.deepEqual(plan.packages.map((p) => p.path), ["node_modules/srv"]);
  refuses(
    () => planRun(lockfile(pin({ dependencies: [{ ...self, integrity: sri("other") }] })), LINUX),
    /node_modules\/srv is pinned twice/,
  );
});
