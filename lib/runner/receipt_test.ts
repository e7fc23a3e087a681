import { test } from "node:test";
import assert from "node:assert/strict";
import { buildRunVerification, RUN_VERIFICATION_SCHEMA } from "./receipt.ts";
import type { InstalledTree } from "./install.ts";
import type { RunPlan } from "./run_plan.ts";

const plan = {
  root: {
    path: "node_modules/srv",
    name: "srv",
    version: "1.0.0",
    root: true,
    tarballUrl: "https://r/srv.tgz",
  },
  packages: [
    { path: "node_modules/srv", name: "srv", version: "1.0.0", root: true },
    { path: "node_modules/a", name: "a", version: "2.0.0", root: false },
  ],
  skipped: [{
    path: "node_modules/w",
    name: "w",
    version: "1.0.0",
    reason: 'os ["win32"] does not include linux',
  }],
  launch: { bin: "srv", entry: "cli.js", args: [] },
  registry: "https://r/",
  treeKey: "k".repeat(64),
} as unknown as RunPlan;

const tree: InstalledTree = {
  key: "k".repeat(64),
  treeDir: "/c/trees/k",
  root: "/c/trees/k/root",
  packageDir: "/c/trees/k/root/node_modules/srv",
  source: "extracted",
  packages: [
    {
      path: "node_modules/a",
      name: "a",
      version: "2.0.0",
      integrity: "sha512-A",
      sha256: "aa",
      size: 10,
      source: "cache",
    },
    {
      path: "node_modules/srv",
      name: "srv",
      version: "1.0.0",
      integrity: "sha512-S",
      sha256: "ss",
      size: 20,
      source: "download",
    },
  ],
};

test("the verification record holds the lockfile, signer, each package as verified, sandbox and time; env names only", () => {
  const r = buildRunVerification({
    now: new Date("2026-02-03T04:05:06.789Z"),
    dryRun: false,
    lockfile: { path: "/p/mcp-lock.json", sha256: "f".repeat(64) },
    signature: {
      status: "verified",
      signer: { type: "ed25519", fingerprint: "SHA256:x", keySource: "k.pub", keyOrigin: "flag" },
    },
    plan,
    tree,
    launch: {
      bin: "srv",
      entry: "/c/trees/k/root/node_modules/srv/cli.js",
      args: [],
      runtime: "/opt/mcptrust",
      argv: [],
      cwd: "/tmp/home",
    },
    environment: ["PATH", "BUN_BE_BUN", "HOME"],
    sandbox: {
      applied: true,
      kind: "bubblewrap",
      bwrap: "/usr/bin/bwrap",
      network: "cut",
      writable: [],
      readable: [],
    },
    proxy: { enabled: true, mode: "enforce", fail_on: "critical" },
  });
  assert.equal(r.schema, RUN_VERIFICATION_SCHEMA);
  assert.equal(r.verified_at, "2026-02-03T04:05:06.789Z");
  assert.deepEqual(r.package, {
    path: "node_modules/srv",
    name: "srv",
    version: "1.0.0",
    integrity: "sha512-S",
    sha256: "ss",
    size: 20,
    verified_from: "download",
    tarball_url: "https://r/srv.tgz",
    registry: "https://r/",
  });
  assert.deepEqual(r.dependencies.map((d) => [d.path, d.integrity, d.verified_from]), [[
    "node_modules/a",
    "sha512-A",
    "cache",
  ]]);
  assert.equal(r.skipped.length, 1);
  assert.deepEqual(r.environment, ["BUN_BE_BUN", "HOME", "PATH"]);
  assert.equal(r.signature.signer?.type, "ed25519");
  assert.equal(r.tree.reused, false);
  assert.equal(r.sandbox.network, "cut");
});
