import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tarGzOneFile, tarOneFile, zipOneFile } from "./archive.ts";

function payload(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 7)) & 0xff;
  return b;
}

test("the .tar.gz unpacks with the system tar to the same bytes, mode 0755, owner 0", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-tar-"));
  try {
    const data = payload(70_001); // not a multiple of 512
    writeFileSync(join(dir, "a.tar.gz"), tarGzOneFile("mcptrust", data, 0o755, 1_700_000_000));
    const listing = execFileSync("tar", ["-tvzf", "a.tar.gz"], { cwd: dir, encoding: "utf8" });
    assert.match(listing, /^-rwxr-xr-x 0\/0 +70001 2023-11-1\d \d\d:\d\d mcptrust\n$/);
    execFileSync("tar", ["-xzf", "a.tar.gz"], { cwd: dir });
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "mcptrust"))), data);
    assert.equal(statSync(join(dir, "mcptrust")).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir, "mcptrust")).mtimeMs, 1_700_000_000_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("archives are deterministic: same input, same bytes; the timestamp is the only input besides the file", () => {
  const data = payload(5000);
  const a = tarGzOneFile("mcptrust", data, 0o755, 42);
  assert.deepEqual(tarGzOneFile("mcptrust", data, 0o755, 42), a);
  assert.notDeepEqual(tarGzOneFile("mcptrust", data, 0o755, 43), a);
  // gzip header: no file name (FLG 0), MTIME 0, OS 3 (RFC 1952 §2.3).
  assert.deepEqual([...a.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  assert.deepEqual(zipOneFile("mcptrust.exe", data), zipOneFile("mcptrust.exe", data));
  // The tar is padded to whole 10240-byte records with two zero blocks at the end.
  const tar = tarOneFile("x", data, 0o755, 0);
  assert.equal(tar.length % 10240, 0);
  assert.ok(tar.subarray(512 + 5120).every((b) => b === 0));
});

test("the .zip unpacks with unzip to the same bytes", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-zip-"));
  try {
    const data = payload(12_345);
    writeFileSync(join(dir, "a.zip"), zipOneFile("mcptrust.exe", data));
    execFileSync("unzip", ["-q", "a.zip"], { cwd: dir });
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "mcptrust.exe"))), data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tar header fields that do not fit are refused, not truncated", () => {
  assert.throws(() => tarOneFile("n".repeat(101), new Uint8Array(1), 0o755, 0), /too long/);
  assert.throws(() => tarOneFile("x", new Uint8Array(1), 0o755, -1), /out of range/);
});
