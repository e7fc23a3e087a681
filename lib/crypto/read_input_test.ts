import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { McpTrustError } from "../errors.ts";
import { withTempDir } from "../bundle/test_support.ts";
import { decodeUtf8, readInputFile } from "./read_input.ts";

const exit2 = (re: RegExp) => (err: unknown) =>
  err instanceof McpTrustError && err.exitCode === 2 && re.test(err.message);

test("reads a file, and names the file and the problem when it cannot", () =>
  withTempDir((dir) => {
    writeFileSync(join(dir, "ok"), "hello");
    mkdirSync(join(dir, "adir"));
    writeFileSync(join(dir, "big"), new Uint8Array(11));
    assert.equal(new TextDecoder().decode(readInputFile(join(dir, "ok"), "lockfile", 10)), "hello");
    assert.throws(() => readInputFile(join(dir, "nope"), "lockfile", 10, "run lock"), (err: unknown) => {
      assert.ok(exit2(/cannot read lockfile .*nope: no such file/)(err));
      assert.equal((err as McpTrustError).hint, "run lock");
      return true;
    });
    assert.throws(
      () => readInputFile(join(dir, "adir"), "signature", 10),
      exit2(/adir: (not a regular file|it is a directory)/),
    );
    assert.throws(
      () => readInputFile(join(dir, "big"), "public key", 10),
      exit2(/big: 11 bytes is over the 10-byte limit/),
    );
  }));

test("text must be valid UTF-8; a byte-order mark is kept (JSON.parse then rejects it, as Go does)", () => {
  assert.throws(
    () => decodeUtf8(Uint8Array.of(0xc3, 0x28), "f.json", "lockfile"),
    exit2(/lockfile f\.json is not valid UTF-8/),
  );
  assert.equal(decodeUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d), "f", "lockfile"), "\ufeff{}");
});
