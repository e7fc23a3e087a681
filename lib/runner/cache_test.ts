import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpTrustError } from "../errors.ts";
import { defaultCacheDir, RunCache, scanTree, type TreeManifest, verifyTree } from "./cache.ts";

function temp(): string {
  return mkdtempSync(join(tmpdir(), "mcptrust-cache-"));
}

test("the default cache: $XDG_CACHE_HOME/mcptrust when absolute, else ~/.cache/mcptrust", () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache" }, "/home/u"), "/x/cache/mcptrust");
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: "rel" }, "/home/u"), "/home/u/.cache/mcptrust");
  assert.equal(defaultCacheDir({}, "/home/u"), "/home/u/.cache/mcptrust");
});

test("the cache directories are created private (0700); one others can write to is refused", () => {
  const dir = temp();
  try {
    const c = RunCache.open(join(dir, "c"));
    for (const d of [c.dir, c.tarballs, c.trees]) assert.equal(statSync(d).mode & 0o777, 0o700, d);
    const shared = join(dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    assert.throws(
      () => RunCache.open(shared),
      (e: McpTrustError) => /others can write to it \(mode 777\)/.test(e.message) && e.exitCode === 2,
    );
    writeFileSync(join(dir, "file"), "");
    assert.throws(() => RunCache.open(join(dir, "file")), McpTrustError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tarballs are stored atomically under their sha512 hex; a bad key is refused", () => {
  const dir = temp();
  try {
    const c = RunCache.open(dir);
    const hex = "ab".repeat(64);
    assert.equal(c.readTarball(hex), undefined);
    c.writeTarball(hex, new Uint8Array([1, 2, 3]));
    assert.deepEqual(readdirSync(c.tarballs), [hex], "no temp file left");
    assert.deepEqual(c.readTarball(hex), new Uint8Array([1, 2, 3]));
    c.discardTarball(hex);
    assert.equal(c.readTarball(hex), undefined);
    assert.throws(() => c.tarballPath("../../etc/passwd"), /bad cache key/);
    assert.throws(() => c.treePath("x/../y"), /bad tree key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("verifyTree: a link, a manifest for another pin, or no manifest is not a verified tree", () => {
  const dir = temp();
  try {
    const key = "cd".repeat(32);
    const tree = join(dir, key);
    mkdirSync(join(tree, "root/node_modules/a"), { recursive: true });
    writeFileSync(join(tree, "root/node_modules/a/index.js"), "x");
    assert.match((verifyTree(tree, key) as { reason: string }).reason, /manifest is unreadable/);
    const manifest: TreeManifest = {
      schema: 1,
      key,
      created_at: "2026-01-01T00:00:00Z",
      packages: [],
      ...scanTree(join(tree, "root")),
    };
    assert.deepEqual(manifest.dirs, ["node_modules", "node_modules/a"]);
    assert.equal(manifest.files.length, 1);
    writeFileSync(join(tree, "manifest.json"), JSON.stringify(manifest));
    assert.ok(verifyTree(tree, key).ok);
    assert.match((verifyTree(tree, "ef".repeat(32)) as { reason: string }).reason, /not for this pin/);
    symlinkSync("/etc/passwd", join(tree, "root/node_modules/a/link"));
    assert.match((verifyTree(tree, key) as { reason: string }).reason, /node_modules\/a\/link is a link/);
    assert.throws(() => scanTree(join(tree, "root")), /neither a file nor a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
