import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePrivateKey, generateKeyPair } from "../crypto/keys.ts";
import { archiveName, binaryName, hasOidcIdentity, writeReleaseAssets } from "./assets.ts";
import { parseSums } from "./sums.ts";
import { verifyRelease } from "./verify.ts";

const TARGETS = ["linux-x64", "darwin-arm64", "windows-x64"];

function fakeRelease(version = "9.9.9") {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-assets-"));
  for (const t of TARGETS) writeFileSync(join(dir, binaryName(version, t)), `binary for ${t}\n`);
  return { dir, version, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("archives, SHA256SUMS over binaries and archives, and a signature that verifies", async () => {
  const r = fakeRelease();
  try {
    const key = generateKeyPair();
    writeFileSync(join(r.dir, "release.key"), encodePrivateKey(key), { mode: 0o600 });
    const out = await writeReleaseAssets({
      dir: r.dir,
      version: r.version,
      mtime: 1,
      keyPath: join(r.dir, "release.key"),
    });
    assert.equal(out.signed, true);
    assert.deepEqual(out.archives, [
      "mcptrust-9.9.9-darwin-arm64.tar.gz",
      "mcptrust-9.9.9-linux-x64.tar.gz",
      "mcptrust-9.9.9-windows-x64.zip",
    ]);
    assert.deepEqual(out.archives, TARGETS.map((t) => archiveName(r.version, t)).sort());
    const sums = new Uint8Array(readFileSync(join(r.dir, "SHA256SUMS")));
    assert.deepEqual(parseSums(new TextDecoder().decode(sums)).map((e) => e.name), [
      "mcptrust-9.9.9-darwin-arm64",
      "mcptrust-9.9.9-darwin-arm64.tar.gz",
      "mcptrust-9.9.9-linux-x64",
      "mcptrust-9.9.9-linux-x64.tar.gz",
      "mcptrust-9.9.9-windows-x64.exe",
      "mcptrust-9.9.9-windows-x64.zip",
    ]);
    // The list verifies with the key, and every published file matches it.
    const sig = new Uint8Array(readFileSync(join(r.dir, "SHA256SUMS.sig")));
    const all = readdirSync(r.dir).filter((f) => f.startsWith("mcptrust-")).map((f) => join(r.dir, f));
    assert.equal((await verifyRelease(sums, sig, key.publicKey, all)).ok, true);
    assert.match(
      execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: r.dir, encoding: "utf8" }),
      /zip: OK/,
    );
    // The archive holds the binary as `mcptrust`, byte for byte.
    execFileSync("tar", ["-xzf", "mcptrust-9.9.9-linux-x64.tar.gz", "mcptrust"], { cwd: r.dir });
    assert.equal(readFileSync(join(r.dir, "mcptrust"), "utf8"), "binary for linux-x64\n");
    // Same inputs, same outputs (deterministic archives, sums and Ed25519 signature).
    const again = await writeReleaseAssets({
      dir: r.dir,
      version: r.version,
      mtime: 1,
      keyPath: join(r.dir, "release.key"),
    });
    assert.deepEqual(again.sums, out.sums);
    assert.deepEqual(new Uint8Array(readFileSync(join(r.dir, "SHA256SUMS.sig"))), sig);
  } finally {
    r.done();
  }
});

test("no key: SHA256SUMS is written unsigned, and a stale signature from an earlier run is removed", async () => {
  const r = fakeRelease();
  try {
    writeFileSync(join(r.dir, "SHA256SUMS.sig"), "stale");
    const lines: string[] = [];
    const out = await writeReleaseAssets({
      dir: r.dir,
      version: r.version,
      mtime: 0,
      log: (l) => lines.push(l),
    });
    assert.equal(out.signed, false);
    assert.ok(!readdirSync(r.dir).includes("SHA256SUMS.sig"));
    assert.ok(
      lines.some((l) => /not signed: no release key given \(MCPTRUST_RELEASE_KEY\)/.test(l)),
      lines.join("\n"),
    );
  } finally {
    r.done();
  }
});

test("a bad key stops the release before anything is written; no binaries is an error", async () => {
  const r = fakeRelease();
  try {
    writeFileSync(join(r.dir, "bad.key"), "not a key");
    await assert.rejects(
      writeReleaseAssets({ dir: r.dir, version: r.version, mtime: 0, keyPath: join(r.dir, "bad.key") }),
      /cannot use private key/,
    );
    assert.ok(!readdirSync(r.dir).some((f) => f.endsWith(".tar.gz") || f === "SHA256SUMS"));
    await assert.rejects(
      writeReleaseAssets({ dir: r.dir, version: "0.0.1", mtime: 0 }),
      /no mcptrust-0\.0\.1-\* binaries/,
    );
  } finally {
    r.done();
  }
});

test("Sigstore signing is on only with an OIDC identity", () => {
  assert.equal(hasOidcIdentity({}), false);
  assert.equal(hasOidcIdentity({ SIGSTORE_ID_TOKEN: "a.b.c" }), true);
  assert.equal(hasOidcIdentity({ ACTIONS_ID_TOKEN_REQUEST_URL: "https://x" }), false);
  assert.equal(
    hasOidcIdentity({ ACTIONS_ID_TOKEN_REQUEST_URL: "https://x", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" }),
    true,
  );
});
