// Verified install against the local HTTPS registry: the fixture package tree (testdata/run/packages.ts),
// laid out as pinned; every refusal names the package, the pinned and the actual value; the cache is
// checked on every use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckFailedError, EXIT_CHECK_FAILED } from "../errors.ts";
import { parseLockfile } from "../lockfile/load.ts";
import { testTls } from "../artifact/test_support.ts";
import { packTarball, pinOnlyLockfile, startFixtureRegistry } from "../../testdata/run/packages.ts";
import { RunCache, statFingerprint, verifyTree } from "./cache.ts";
import { type InstallOptions, installTree } from "./install.ts";
import { planRun } from "./run_plan.ts";

const LINUX = { os: "linux", cpu: "x64", libc: "glibc" };
const DEP_UTIL = "node_modules/@mcptrust-fixture/dep/node_modules/mcptrust-fixture-util";

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-install-"));
  return { dir, marker: join(dir, "INSTALL-SCRIPT-RAN"), cache: RunCache.open(join(dir, "cache")) };
}

function planOf(pin: Record<string, unknown>) {
  const bytes = new TextEncoder().encode(JSON.stringify(pinOnlyLockfile(pin)));
  return planRun(parseLockfile(bytes, "mcp-lock.json"), LINUX);
}

function options(cache: RunCache, warnings: string[] = []): InstallOptions {
  return {
    cache,
    fetch: { allowHosts: ["localhost"], ca: testTls().caPem, onWarning: () => {} },
    warn: (l) => warnings.push(l),
  };
}

async function refusal(p: Promise<unknown>): Promise<CheckFailedError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CheckFailedError, String(e));
    assert.equal(e.exitCode, EXIT_CHECK_FAILED);
    return e;
  }
  assert.fail("expected a refusal");
}

/** Writes `text` into an existing file at `position` (Deno's appendFileSync would also chmod it 0666). */
function overwrite(path: string, text: string, position: number | "end") {
  const fd = openSync(path, position === "end" ? "a" : "r+");
  writeSync(fd, text, position === "end" ? undefined : position);
  closeSync(fd);
}

/** Nothing was left under trees/ (no tree, no staging directory). */
function noTree(cache: RunCache) {
  assert.deepEqual(readdirSync(cache.trees), []);
}

test("the tree is laid out exactly as pinned, the foreign optional package skipped, no install script run", async () => {
  const w = workspace();
  const fx = await startFixtureRegistry(w.marker);
  try {
    const plan = planOf(fx.pin);
    assert.deepEqual(plan.skipped.map((s) => s.name), ["mcptrust-fixture-win32"]);
    const tree = await installTree(plan, options(w.cache));
    assert.equal(tree.source, "extracted");
    const read = (p: string) => readFileSync(join(tree.root, p), "utf8");
    assert.match(read("node_modules/mcptrust-fixture-util/index.js"), /"1\.0\.0"/);
    assert.match(read(`${DEP_UTIL}/index.js`), /"2\.0\.0"/);
    assert.match(read("node_modules/mcptrust-fixture-server/bin/server.mjs"), /fixture/);
    assert.equal(statSync(join(tree.packageDir, "bin/server.mjs")).mode & 0o777, 0o755);
    assert.equal(statSync(tree.treeDir).mode & 0o777, 0o700, "the tree is private");
    assert.ok(!existsSync(join(tree.root, "node_modules/mcptrust-fixture-win32")));
    assert.ok(!existsSync(join(tree.root, "node_modules/.bin")), "no bin links: nothing but the tarballs");
    assert.deepEqual(fx.tarballRequests().sort(), [
      "@mcptrust-fixture/dep@1.0.0",
      "mcptrust-fixture-server@1.0.0",
      "mcptrust-fixture-util@1.0.0",
      "mcptrust-fixture-util@2.0.0",
    ]);
    for (const p of tree.packages) {
      const served = fx.packages.find((f) => f.path === p.path)!.tarball;
      assert.equal(p.sha256, createHash("sha256").update(served).digest("hex"));
      assert.equal(p.source, "download");
    }
    assert.ok(!existsSync(w.marker), "an install script ran");

    // Warm: the cached tree is checked and used; no request is made.
    await fx.close();
    const again = await installTree(planOf(fx.pin), options(w.cache));
    assert.equal(again.source, "cache");
    assert.equal(again.root, tree.root);
    assert.deepEqual(again.packages.map((p) => p.source), ["tree", "tree", "tree", "tree"]);
    assert.ok(!existsSync(w.marker));
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("sha512 mismatch: refused (exit 1) with the pinned and the actual digest; nothing written", async () => {
  const w = workspace();
  const fx = await startFixtureRegistry(w.marker);
  try {
    const wrong = `sha512-${createHash("sha512").update("other bytes").digest("base64")}`;
    const served = fx.packages[0].tarball;
    const actual = `sha512-${createHash("sha512").update(served).digest("base64")}`;
    const e = await refusal(installTree(planOf({ ...fx.pin, integrity: wrong }), options(w.cache)));
    assert.equal(
      e.message,
      `integrity mismatch for mcptrust-fixture-server@1.0.0: pinned ${wrong}, downloaded bytes are ${actual} ` +
        `(from ${fx.registry.url}mcptrust-fixture-server/-/mcptrust-fixture-server-1.0.0.tgz)`,
    );
    noTree(w.cache);
    assert.ok(!existsSync(w.cache.tarballPath(createHash("sha512").update("other bytes").digest("hex"))));
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("sha256 mismatch with a matching sha512: refused (exit 1) with both sha256 values", async () => {
  const w = workspace();
  const fx = await startFixtureRegistry(w.marker);
  try {
    const actual = createHash("sha256").update(fx.packages[0].tarball).digest("hex");
    const e = await refusal(
      installTree(planOf({ ...fx.pin, tarball_sha256: "ab".repeat(32) }), options(w.cache)),
    );
    assert.match(
      e.message,
      new RegExp(
        `^sha256 mismatch for mcptrust-fixture-server@1\\.0\\.0: pinned ${
          "ab".repeat(32)
        }, downloaded bytes are ${actual}`,
      ),
    );
    noTree(w.cache);
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("a dependency's tarball swapped after lock: refused (exit 1) naming the dependency and its path", async () => {
  const w = workspace();
  const evil = packTarball({
    "package.json": JSON.stringify({ name: "mcptrust-fixture-util", version: "2.0.0", type: "module" }),
    "index.js":
      'import { writeFileSync } from "node:fs"; writeFileSync("/tmp/pwned", "x");\nexport const version = "2.0.0";\n',
  });
  const fx = await startFixtureRegistry(w.marker, { serve: { "mcptrust-fixture-util@2.0.0": evil } });
  try {
    const e = await refusal(installTree(planOf(fx.pin), options(w.cache)));
    const pinned = (fx.pin.dependencies as { path: string; integrity: string }[]).find((d) =>
      d.path === DEP_UTIL
    )!;
    assert.match(
      e.message,
      /^integrity mismatch for mcptrust-fixture-util@2\.0\.0 \(node_modules\/@mcptrust-fixture\/dep\/node_modules\/mcptrust-fixture-util\): /,
    );
    assert.ok(e.message.includes(`pinned ${pinned.integrity}, downloaded bytes are sha512-`));
    noTree(w.cache);
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("a tarball whose package.json names another package or version is refused", async () => {
  const w = workspace();
  const fx = await startFixtureRegistry(w.marker, { server: { manifest: { version: "9.9.9" } } });
  try {
    const e = await refusal(installTree(planOf(fx.pin), options(w.cache)));
    assert.match(
      e.message,
      /pinned as mcptrust-fixture-server@1\.0\.0 says it is mcptrust-fixture-server@9\.9\.9/,
    );
    noTree(w.cache);
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("a corrupted cached tarball is discarded and downloaded again", async () => {
  const w = workspace();
  const fx = await startFixtureRegistry(w.marker);
  try {
    const plan = planOf(fx.pin);
    await installTree(plan, options(w.cache));
    const dep = plan.packages.find((p) => p.name === "@mcptrust-fixture/dep")!;
    // Only the tarballs are left; one of them is corrupted.
    w.cache.discardTree(plan.treeKey);
    writeFileSync(w.cache.tarballPath(dep.sha512Hex), "not the pinned bytes");
    const before = fx.tarballRequests().length;
    const warnings: string[] = [];
    const tree = await installTree(plan, options(w.cache, warnings));
    assert.deepEqual(
      fx.tarballRequests().slice(before),
      ["@mcptrust-fixture/dep@1.0.0"],
      "only that one again",
    );
    assert.deepEqual(warnings, [
      "warning: the cached tarball of @mcptrust-fixture/dep@1.0.0 (node_modules/@mcptrust-fixture/dep) no longer " +
      "matches its pin; discarded, downloading it again",
    ]);
    assert.deepEqual(
      tree.packages.map((p) => [p.name, p.source]).sort(),
      [["@mcptrust-fixture/dep", "download"], ["mcptrust-fixture-server", "cache"], [
        "mcptrust-fixture-util",
        "cache",
      ], [
        "mcptrust-fixture-util",
        "cache",
      ]],
    );
    const fixed = readFileSync(w.cache.tarballPath(dep.sha512Hex));
    assert.equal(
      createHash("sha512").update(fixed).digest("hex"),
      dep.sha512Hex,
      "the cache holds the right bytes",
    );
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("a cached tree changed after extraction (content, size, added file, mode, removed file) is detected and extracted again", async () => {
  const w = workspace();
  const fx = await startFixtureRegistry(w.marker);
  try {
    const plan = planOf(fx.pin);
    const tree = await installTree(plan, options(w.cache));
    const index = join(tree.root, "node_modules/mcptrust-fixture-util/index.js");
    const original = readFileSync(index, "utf8");
    const changes: [string, () => void, RegExp][] = [
      [
        "content",
        () => overwrite(index, "/", 0),
        /file node_modules\/mcptrust-fixture-util\/index\.js changed content/,
      ],
      ["size", () => overwrite(index, "globalThis.x = 1;\n", "end"), /index\.js changed size/],
      [
        "added",
        () => writeFileSync(join(tree.packageDir, "evil.js"), "x"),
        /file node_modules\/mcptrust-fixture-server\/evil\.js was added/,
      ],
      ["mode", () => chmodSync(index, 0o777), /index\.js changed mode/],
      ["removed", () => rmSync(index), /removed/],
    ];
    for (const [what, change, reason] of changes) {
      // A later clock tick than the extraction's writes (file times are coarse-grained).
      await new Promise((r) => setTimeout(r, 20));
      change();
      const warnings: string[] = [];
      const again = await installTree(plan, options(w.cache, warnings));
      assert.equal(again.source, "extracted", what);
      assert.equal(warnings.length, 1, what);
      assert.match(warnings[0], reason);
      assert.equal(readFileSync(index, "utf8"), original, `${what}: the pinned file is back`);
      assert.equal(statSync(index).mode & 0o777, 0o644);
      assert.ok(!existsSync(join(tree.packageDir, "evil.js")));
    }
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("the tree check: metadata first; a touched but unchanged tree is hashed once, then trusted again", async () => {
  const w = workspace();
  const fx = await startFixtureRegistry(w.marker);
  try {
    const plan = planOf(fx.pin);
    const tree = await installTree(plan, options(w.cache));
    const checked = () => {
      const r = verifyTree(tree.treeDir, plan.treeKey);
      return r.ok ? r.checked : r.reason;
    };
    // Deno's node:fs gives ctime in whole seconds: no fingerprint, every check hashes (the binary's Bun: ns).
    const precise = statFingerprint(tree.root) !== undefined;
    const cheap = precise ? "metadata" : "content";
    assert.equal(checked(), cheap);
    // Same bytes, new times (as `touch` or a copy leaves them): every file is hashed, then the fingerprint renewed.
    await new Promise((r) => setTimeout(r, 20));
    const index = join(tree.root, "node_modules/mcptrust-fixture-util/index.js");
    utimesSync(index, new Date(), new Date());
    assert.equal(checked(), "content");
    assert.equal(checked(), cheap);
    // Same size, other bytes, the old times put back (utimes): the ctime still moved, so it is caught.
    const st = statSync(index);
    await new Promise((r) => setTimeout(r, 20));
    overwrite(index, "/", 0);
    utimesSync(index, st.atime, st.mtime);
    assert.equal(checked(), "file node_modules/mcptrust-fixture-util/index.js changed content");
  } finally {
    await fx.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});
