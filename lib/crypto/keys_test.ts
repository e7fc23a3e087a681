import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { McpTrustError } from "../errors.ts";
import { vectorPath, withTempDir } from "../bundle/test_support.ts";
import { verifyEd25519 } from "./ed25519.ts";
import {
  encodePrivateKey,
  encodePublicKey,
  generateKeyPair,
  parsePrivateKey,
  parsePublicKey,
  readPrivateKeyFile,
  readPublicKeyFile,
} from "./keys.ts";
import { encodePem } from "./pem.ts";

const goPriv = () => readFileSync(vectorPath("backward_compat/test_private.key"), "utf8");
const goPub = () => readFileSync(vectorPath("backward_compat/test_public.key"), "utf8");

function openssl(args: string[], input?: Uint8Array | string): Buffer {
  return execFileSync("openssl", args, { input, stdio: ["pipe", "pipe", "pipe"] });
}

test("the Go tool's raw ED25519 keys are read, and the private key's public half is the public key file", () => {
  const priv = parsePrivateKey(goPriv());
  const pub = parsePublicKey(goPub());
  assert.equal(priv.format, "raw");
  assert.equal(pub.format, "raw");
  assert.deepEqual(priv.publicKey.bytes, pub.bytes);
  assert.equal(priv.publicKey.fingerprint, pub.fingerprint);
  // Writing them back in raw format gives the Go files byte for byte.
  assert.equal(encodePrivateKey(priv, "raw"), goPriv());
  assert.equal(encodePublicKey(pub, "raw"), goPub());
});

test("a key converts between PKCS#8/SPKI and the Go raw format without changing its fingerprint", () => {
  const key = generateKeyPair("pem");
  for (const format of ["pem", "raw"] as const) {
    const back = parsePrivateKey(encodePrivateKey(key, format));
    assert.deepEqual(back.seed, key.seed);
    assert.equal(back.format, format);
    const pub = parsePublicKey(encodePublicKey(key.publicKey, format));
    assert.equal(pub.fingerprint, key.publicKey.fingerprint);
  }
  assert.match(
    encodePrivateKey(key, "pem"),
    /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]{64}\n-----END PRIVATE KEY-----\n$/,
  );
  assert.match(
    encodePublicKey(key.publicKey, "pem"),
    /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=]{60}\n-----END PUBLIC KEY-----\n$/,
  );
});

test("openssl reads our PKCS#8 and SPKI keys, and computes the same fingerprint", () =>
  withTempDir((dir) => {
    const key = generateKeyPair("pem");
    writeFileSync(join(dir, "k.key"), encodePrivateKey(key), { mode: 0o600 });
    writeFileSync(join(dir, "k.pub"), encodePublicKey(key.publicKey));
    // openssl derives the public key from our private key file: same SPKI PEM as ours.
    assert.equal(
      openssl(["pkey", "-in", join(dir, "k.key"), "-pubout"]).toString(),
      encodePublicKey(key.publicKey),
    );
    const der = openssl(["pkey", "-pubin", "-in", join(dir, "k.pub"), "-outform", "DER"]);
    assert.equal("sha256:" + createHash("sha256").update(der).digest("hex"), key.publicKey.fingerprint);
    // And a signature openssl makes with our private key verifies with our public key.
    const msg = new TextEncoder().encode('{"lockFileVersion":"3.0"}');
    writeFileSync(join(dir, "msg"), msg);
    const sig = openssl([
      "pkeyutl",
      "-sign",
      "-inkey",
      join(dir, "k.key"),
      "-rawin",
      "-in",
      join(dir, "msg"),
    ]);
    assert.ok(verifyEd25519(new Uint8Array(sig), msg, key.publicKey.bytes));
  }));

test("keys made by openssl genpkey are read", () =>
  withTempDir((dir) => {
    const keyPath = join(dir, "o.key");
    openssl(["genpkey", "-algorithm", "ed25519", "-out", keyPath]);
    const pubPem = openssl(["pkey", "-in", keyPath, "-pubout"]).toString();
    const key = readPrivateKeyFile(keyPath);
    assert.equal(encodePublicKey(key.publicKey, "pem"), pubPem);
    assert.equal(parsePublicKey(pubPem).fingerprint, key.publicKey.fingerprint);
  }));

test("a key of another algorithm is refused with the reason", () =>
  withTempDir((dir) => {
    const keyPath = join(dir, "ec.key");
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath]);
    assert.throws(() => parsePrivateKey(readFileSync(keyPath, "utf8")), /not an Ed25519 key/);
    const pub = openssl(["pkey", "-in", keyPath, "-pubout"]).toString();
    assert.throws(() => parsePublicKey(pub), /not an Ed25519 key/);
  }));

test("malformed keys are refused with a reason", () => {
  const key = generateKeyPair();
  const pubPem = encodePublicKey(key.publicKey);
  const cases: [string, () => unknown, RegExp][] = [
    ["empty", () => parsePublicKey(""), /empty/],
    ["not PEM", () => parsePublicKey("hello"), /no PEM block/],
    ["truncated to 10 bytes", () => parsePublicKey(pubPem.slice(0, 10)), /no PEM block/],
    ["truncated body", () => parsePublicKey(pubPem.slice(0, 40)), /no END line/],
    [
      "a private key where a public key is needed",
      () => parsePublicKey(encodePrivateKey(key)),
      /this is a private key/,
    ],
    ["a public key where a private key is needed", () => parsePrivateKey(pubPem), /this is a public key/],
    ["bad base64", () => parsePublicKey(pubPem.replace(/\n[A-Za-z]/, "\n!")), /valid base64/],
    ["two blocks", () => parsePublicKey(pubPem + pubPem), /exactly one block/],
    [
      "raw public key of 31 bytes",
      () => parsePublicKey(encodePem("ED25519 PUBLIC KEY", new Uint8Array(31))),
      /32 bytes/,
    ],
    [
      "raw private key of 32 bytes",
      () => parsePrivateKey(encodePem("ED25519 PRIVATE KEY", key.seed)),
      /64 bytes/,
    ],
    [
      "raw private key whose public half belongs to another key",
      () =>
        parsePrivateKey(
          encodePem("ED25519 PRIVATE KEY", Uint8Array.of(...key.seed, ...generateKeyPair().publicKey.bytes)),
        ),
      /does not belong/,
    ],
    [
      "small-order public key",
      () => parsePublicKey(encodePem("ED25519 PUBLIC KEY", Uint8Array.of(1, ...new Uint8Array(31)))),
      /not a valid Ed25519 curve point/,
    ],
    [
      "SPKI with trailing bytes",
      () => {
        const der = Uint8Array.from(atob(pubPem.split("\n")[1]), (c) => c.charCodeAt(0));
        return parsePublicKey(encodePem("PUBLIC KEY", Uint8Array.of(...der, 0)));
      },
      /not a DER SubjectPublicKeyInfo/,
    ],
    [
      "encrypted key",
      () => parsePrivateKey(encodePem("ENCRYPTED PRIVATE KEY", new Uint8Array(8))),
      /encrypted/,
    ],
  ];
  for (const [name, fn, re] of cases) assert.throws(fn, re, name);
});

test("key file errors name the file and exit 2", () =>
  withTempDir((dir) => {
    const key = generateKeyPair();
    const pubPem = encodePublicKey(key.publicKey);
    const truncated = join(dir, "truncated.pub");
    writeFileSync(truncated, pubPem.slice(0, 10));
    for (
      const fn of [() => readPublicKeyFile(truncated), () => readPublicKeyFile(join(dir, "missing.pub"))]
    ) {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof McpTrustError);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /public key .*(truncated|missing)\.pub/);
        return true;
      });
    }
  }));
