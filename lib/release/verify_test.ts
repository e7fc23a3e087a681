import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { CheckFailedError } from "../errors.ts";
import { encodePrivateKey, encodePublicKey, generateKeyPair } from "../crypto/keys.ts";
import { signSums, sumsSignatureProblem } from "./signature.ts";
import { formatSums, sha256Hex } from "./sums.ts";
import { verifyRelease } from "./verify.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A release directory: two files, SHA256SUMS over them, its signature. */
function release() {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-rel-"));
  const key = generateKeyPair();
  const files = {
    "mcptrust-1.0.0-linux-x64.tar.gz": enc("archive bytes"),
    "mcptrust-1.0.0-linux-x64": enc("binary"),
  };
  for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
  const sums = enc(formatSums(Object.entries(files).map(([name, b]) => ({ name, sha256: sha256Hex(b) }))));
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  const sig = signSums(sums, key);
  writeFileSync(join(dir, "SHA256SUMS.sig"), sig);
  return {
    dir,
    key,
    sums,
    sig,
    path: (n: string) => join(dir, n),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test("our SHA256SUMS.sig is what OpenSSL signs and verifies (install.sh's check), both ways", () => {
  const r = release();
  try {
    writeFileSync(r.path("release.pub"), encodePublicKey(r.key.publicKey));
    writeFileSync(r.path("release.key"), encodePrivateKey(r.key));
    const verify = (sig: string) =>
      execFileSync("openssl", [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "release.pub",
        "-rawin",
        "-in",
        "SHA256SUMS",
        "-sigfile",
        sig,
      ], { cwd: r.dir, encoding: "utf8" });
    assert.match(verify("SHA256SUMS.sig"), /Signature Verified Successfully/);
    execFileSync("openssl", [
      "pkeyutl",
      "-sign",
      "-inkey",
      "release.key",
      "-rawin",
      "-in",
      "SHA256SUMS",
      "-out",
      "by-openssl.sig",
    ], { cwd: r.dir });
    const byOpenssl = new Uint8Array(readFileSync(r.path("by-openssl.sig")));
    assert.equal(sumsSignatureProblem(r.sums, byOpenssl, r.key.publicKey), undefined);
    assert.deepEqual(byOpenssl, r.sig, "Ed25519 is deterministic: the same signature");
    writeFileSync(r.path("SHA256SUMS"), Uint8Array.of(...r.sums, 0x0a));
    assert.throws(() => verify("SHA256SUMS.sig"), "OpenSSL refuses a changed SHA256SUMS");
  } finally {
    r.done();
  }
});

test("verifyRelease: signed list, matching files pass; a renamed file is found by its hash", async () => {
  const r = release();
  try {
    writeFileSync(r.path("mcptrust"), enc("binary")); // taken out of the archive and renamed
    const c = await verifyRelease(r.sums, r.sig, r.key.publicKey, [
      r.path("mcptrust-1.0.0-linux-x64.tar.gz"),
      r.path("mcptrust"),
    ]);
    assert.equal(c.ok, true);
    assert.equal(c.keyFingerprint, r.key.publicKey.fingerprint);
    assert.deepEqual(c.files.map((f) => f.listedAs), [
      "mcptrust-1.0.0-linux-x64.tar.gz",
      "mcptrust-1.0.0-linux-x64",
    ]);
  } finally {
    r.done();
  }
});

test("verifyRelease: a changed or unlisted file fails, the others are still reported", async () => {
  const r = release();
  try {
    writeFileSync(r.path("mcptrust-1.0.0-linux-x64"), enc("binary, patched"));
    writeFileSync(r.path("other"), enc("x"));
    const c = await verifyRelease(r.sums, r.sig, r.key.publicKey, [
      r.path("mcptrust-1.0.0-linux-x64"),
      r.path("other"),
      r.path("mcptrust-1.0.0-linux-x64.tar.gz"),
    ]);
    assert.equal(c.ok, false);
    assert.match(c.files[0].problem!, /is not the released mcptrust-1\.0\.0-linux-x64's/);
    assert.match(c.files[1].problem!, /neither its name nor its SHA-256/);
    assert.equal(c.files[2].problem, undefined);
  } finally {
    r.done();
  }
});

test("verifyRelease fails closed on the signature before looking at any file", async () => {
  const r = release();
  try {
    const file = [r.path("does-not-exist")]; // never opened: the signature fails first
    const other = generateKeyPair().publicKey;
    const tampered = Uint8Array.of(...r.sums);
    tampered[0] = tampered[0] === 0x61 ? 0x62 : 0x61; // one hex digit of the first hash
    const flipped = Uint8Array.of(...r.sig);
    flipped[10] ^= 1;
    const cases: [Uint8Array, Uint8Array, typeof other, RegExp][] = [
      [tampered, r.sig, r.key.publicKey, /does not verify/],
      [r.sums, flipped, r.key.publicKey, /does not verify/],
      [r.sums, r.sig, other, /does not verify with key sha256:/],
      [r.sums, r.sig.subarray(0, 63), r.key.publicKey, /63 bytes/],
      [r.sums, new Uint8Array(0), r.key.publicKey, /0 bytes/],
      [r.sums, enc(Buffer.from(r.sig).toString("hex")), r.key.publicKey, /128 bytes/],
    ];
    for (const [sums, sig, key, re] of cases) {
      await assert.rejects(verifyRelease(sums, sig, key, file), (e: unknown) => {
        assert.ok(e instanceof CheckFailedError);
        assert.match(e.message, re);
        return true;
      });
    }
    // Signed but not a checksum list: refused too.
    const junk = enc("not a checksum list\n");
    await assert.rejects(
      verifyRelease(junk, signSums(junk, r.key), r.key.publicKey, file),
      /signed but malformed/,
    );
  } finally {
    r.done();
  }
});
