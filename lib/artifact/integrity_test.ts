import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { CheckFailedError, EXIT_CHECK_FAILED, EXIT_OPERATIONAL, McpTrustError } from "../errors.ts";
import {
  hashBytes,
  hashFile,
  IntegrityHasher,
  normalizeSha256Hex,
  parseSri,
  sriToHex,
  strongestSri,
  toSri,
  verifySha256Hex,
  verifySri,
} from "./integrity.ts";

const enc = new TextEncoder();
const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

// FIPS 180-2 appendix C.1 / B.1: "abc".
const ABC_SHA512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
const ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABC_SHA384 = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed" +
  "8086072ba1e7cc2358baeca134c825a7";

test("digests of 'abc' match the FIPS 180-2 vectors, in SRI and hex forms", () => {
  const d = hashBytes(enc.encode("abc"), ["sha384"]);
  assert.equal(d.sri, `sha512-${b64(ABC_SHA512)}`);
  assert.equal(d.sha256Hex, ABC_SHA256);
  assert.equal(Buffer.from(d.raw.sha384!).toString("hex"), ABC_SHA384);
  assert.equal(d.size, 3);
  assert.deepEqual(sriToHex(d.sri), { algorithm: "sha512", hex: ABC_SHA512 });
});

test("streaming in uneven chunks, and from a file, agrees with sha512sum and sha256sum", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-integrity-"));
  try {
    const data = new Uint8Array(3 * 65536 + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const file = join(dir, "a.tgz");
    writeFileSync(file, data);
    const h = new IntegrityHasher();
    for (let off = 0, step = 1; off < data.length; off += step, step = step * 3 + 1) {
      h.update(data.subarray(off, Math.min(off + step, data.length)));
    }
    const streamed = h.digest();
    const fromFile = await hashFile(file);
    const want512 = execFileSync("sha512sum", [file]).toString().split(" ")[0];
    const want256 = execFileSync("sha256sum", [file]).toString().split(" ")[0];
    for (const d of [streamed, fromFile]) {
      assert.equal(d.sri, `sha512-${b64(want512)}`);
      assert.equal(d.sha256Hex, want256);
      assert.equal(d.size, data.length);
    }
    assert.throws(() => h.update(data), /after digest/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the strongest listed algorithm is the one checked (npm's rule); any digest of it may match", () => {
  const d = hashBytes(enc.encode("abc"));
  const right512 = toSri("sha512", d.raw.sha512!);
  const right256 = toSri("sha256", d.raw.sha256!);
  const wrong512 = toSri("sha512", new Uint8Array(64));
  const wrong256 = toSri("sha256", new Uint8Array(32));
  verifySri(right512, d, "abc");
  verifySri(`${wrong512} ${right512}`, d, "abc"); // two sha512 entries: either may match
  verifySri(`sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0= ${right256}`, d, "abc"); // sha1 ignored
  verifySri(`${right512}?opt=1`, d, "abc"); // options are ignored (W3C SRI §3.1)
  // A right sha256 does not rescue a wrong sha512: only the strongest counts.
  assert.throws(() => verifySri(`${right256} ${wrong512}`, d, "abc"), CheckFailedError);
  assert.throws(() => verifySri(wrong256, d, "abc"), CheckFailedError);
  assert.equal(strongestSri(`${right256} ${right512}`).algorithm, "sha512");
  // sha384 is checked when it is the strongest; the hasher must have computed it.
  const d384 = hashBytes(enc.encode("abc"), ["sha384"]);
  verifySri(`${right256} sha384-${b64(ABC_SHA384)}`, d384, "abc");
  assert.throws(() => verifySri(`sha384-${b64(ABC_SHA384)}`, d, "abc"), /sha384 was not computed/);
});

test("a mismatch is a check failure (exit 1) naming both digests", () => {
  const d = hashBytes(enc.encode("tampered"));
  const pinned = hashBytes(enc.encode("original"));
  const err = (() => {
    try {
      verifySri(pinned.sri, d, "@acme/srv@1.0.0");
    } catch (e) {
      return e as CheckFailedError;
    }
  })()!;
  assert.ok(err instanceof CheckFailedError);
  assert.equal(err.exitCode, EXIT_CHECK_FAILED);
  assert.ok(err.message.includes(pinned.sri) && err.message.includes(d.sri));
  assert.match(err.message, /@acme\/srv@1\.0\.0/);
  assert.match(err.hint ?? "", /do not run/);
  assert.throws(() => verifySha256Hex(pinned.sha256Hex, d, "x"), CheckFailedError);
  verifySha256Hex(`sha256:${d.sha256Hex.toUpperCase()}`, d, "x");
});

test("unusable pins are operational errors (exit 2): sha1 only, empty, bad base64, wrong length", () => {
  for (
    const [sri, why] of [
      ["sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", /no sha512, sha384 or sha256 digest \(found: sha1\)/],
      ["", /empty/],
      ["   ", /empty/],
      ["sha512-not*base64", /64 bytes of base64/],
      [`sha512-${b64(ABC_SHA256)}`, /64 bytes/],
      ["md5-abc sha3-xyz", /found: md5, sha3/],
    ] as const
  ) {
    assert.throws(() => parseSri(sri, "pkg@1"), (e: unknown) => {
      assert.ok(e instanceof McpTrustError && !(e instanceof CheckFailedError), String(e));
      assert.equal(e.exitCode, EXIT_OPERATIONAL);
      assert.match(e.message, why);
      assert.match(e.message, /pkg@1/);
      return true;
    });
  }
  assert.throws(() => normalizeSha256Hex("abc"), McpTrustError);
  assert.equal(normalizeSha256Hex(`SHA256:${ABC_SHA256.toUpperCase()}`), ABC_SHA256);
});
