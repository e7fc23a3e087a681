import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { McpTrustError } from "../errors.ts";
import { withTempDir } from "../bundle/test_support.ts";
import { writeNewKeyPair } from "./keygen.ts";
import { parsePrivateKey, parsePublicKey } from "./keys.ts";

test("writes a matching key pair: private key 0600, public key 0644, in the chosen format", () =>
  withTempDir((dir) => {
    for (const format of ["pem", "raw"] as const) {
      const priv = join(dir, `${format}.key`);
      const pub = join(dir, `${format}.pub`);
      const key = writeNewKeyPair({ privatePath: priv, publicPath: pub, format });
      assert.equal(statSync(priv).mode & 0o777, 0o600);
      assert.equal(statSync(pub).mode & 0o777, 0o644);
      const readBack = parsePrivateKey(readFileSync(priv, "utf8"));
      assert.equal(readBack.format, format);
      assert.equal(readBack.publicKey.fingerprint, key.publicKey.fingerprint);
      assert.equal(parsePublicKey(readFileSync(pub, "utf8")).fingerprint, key.publicKey.fingerprint);
    }
  }));

test("never overwrites: an existing private key, public key or dangling symlink stops it before writing", () =>
  withTempDir((dir) => {
    const priv = join(dir, "k.key");
    const pub = join(dir, "k.pub");
    writeFileSync(priv, "precious");
    assert.throws(
      () => writeNewKeyPair({ privatePath: priv, publicPath: pub, format: "pem" }),
      (err: unknown) => {
        assert.ok(err instanceof McpTrustError && err.exitCode === 2);
        assert.match(err.message, /refusing to overwrite the existing private key file .*k\.key/);
        assert.match(err.hint ?? "", /move .*k\.key away/);
        return true;
      },
    );
    assert.equal(readFileSync(priv, "utf8"), "precious");
    assert.equal(existsSync(pub), false, "nothing else was written");

    const priv2 = join(dir, "j.key");
    const pub2 = join(dir, "j.pub");
    symlinkSync(join(dir, "nowhere"), pub2);
    assert.throws(
      () => writeNewKeyPair({ privatePath: priv2, publicPath: pub2, format: "pem" }),
      /existing public key file/,
    );
    assert.equal(existsSync(priv2), false, "the private key was not written either");
    assert.equal(existsSync(join(dir, "nowhere")), false, "the symlink was not followed");

    assert.throws(
      () => writeNewKeyPair({ privatePath: priv2, publicPath: priv2, format: "pem" }),
      /the same file/,
    );
  }));

test("a failed public key write removes the private key it just wrote", () =>
  withTempDir((dir) => {
    const priv = join(dir, "k.key");
    const pub = join(dir, "missing-dir", "k.pub");
    assert.throws(
      () => writeNewKeyPair({ privatePath: priv, publicPath: pub, format: "pem" }),
      /cannot write the public key/,
    );
    assert.equal(existsSync(priv), false);
  }));
