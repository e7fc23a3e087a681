// Registry signatures (dist.signatures) and registry keys: a P-256 key made at test time signs
// `${name}@${version}:${integrity}` as the npm registry does; verified, tampered, expired, unknown keyid.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPairSync } from "node:crypto";
import { McpTrustError } from "../errors.ts";
import { checkRegistrySignature, signedPayload } from "./registry_signature.ts";
import {
  EMBEDDED_KEYS_SOURCE,
  embeddedRegistryKeys,
  loadRegistryKeysFile,
  parseRegistryKeys,
} from "./registry_keys.ts";
import { makeSigningKey, signVersion } from "../../testdata/registry/fixture_registry.ts";

const NAME = "@fixture/server";
const VERSION = "1.1.0";
const INTEGRITY = "sha512-" + "b".repeat(86) + "==";
const PUBLISHED = new Date("2024-06-01T00:00:00Z");

function setup(expires: string | null = null) {
  const key = makeSigningKey("SHA256:test-key-1", expires);
  const keys = parseRegistryKeys({ keys: [key.entry] }, "test keys");
  const sig = signVersion(key.privateKey, NAME, VERSION, INTEGRITY);
  return { key, keys, sig };
}

test("a signature by a known key over name@version:integrity verifies", () => {
  const { keys, sig } = setup();
  assert.equal(signedPayload(NAME, VERSION, INTEGRITY), `${NAME}@${VERSION}:${INTEGRITY}`);
  assert.deepEqual(
    checkRegistrySignature({
      name: NAME,
      version: VERSION,
      integrity: INTEGRITY,
      signatures: [{ keyid: "SHA256:test-key-1", sig }],
      publishedAt: PUBLISHED,
      keys,
    }),
    { status: "verified", keyid: "SHA256:test-key-1" },
  );
});

test("tampered: another integrity, version or name, or a changed signature, does not verify", () => {
  const { keys, sig } = setup();
  const base = { name: NAME, version: VERSION, integrity: INTEGRITY, publishedAt: PUBLISHED, keys };
  const sigs = [{ keyid: "SHA256:test-key-1", sig }];
  for (
    const changed of [
      { integrity: "sha512-" + "c".repeat(86) + "==" },
      { version: "1.1.1" },
      { name: "@fixture/serverx" },
    ]
  ) {
    const r = checkRegistrySignature({ ...base, ...changed, signatures: sigs });
    assert.equal(r.status, "failed");
    assert.equal(r.status === "failed" && r.reason, "bad-signature");
  }
  const other = makeSigningKey("SHA256:test-key-1");
  const forged = signVersion(other.privateKey, NAME, VERSION, INTEGRITY);
  const r = checkRegistrySignature({ ...base, signatures: [{ keyid: "SHA256:test-key-1", sig: forged }] });
  assert.equal(
    r.status === "failed" && r.reason,
    "bad-signature",
    "signed by another key under the same keyid",
  );
  // Every signature served must verify (pacote): one good and one bad fails.
  const both = checkRegistrySignature({
    ...base,
    signatures: [...sigs, { keyid: "SHA256:test-key-1", sig: forged }],
  });
  assert.equal(both.status, "failed");
});

test("expired: a key that expired before the publish time does not count; after it, it does", () => {
  const { keys, sig } = setup("2024-01-01T00:00:00.000Z");
  const input = {
    name: NAME,
    version: VERSION,
    integrity: INTEGRITY,
    signatures: [{ keyid: "SHA256:test-key-1", sig }],
    keys,
  };
  const r = checkRegistrySignature({ ...input, publishedAt: PUBLISHED });
  assert.equal(r.status === "failed" && r.reason, "expired-key");
  assert.match(r.status === "failed" ? r.message : "", /expired 2024-01-01/);
  assert.equal(
    checkRegistrySignature({ ...input, publishedAt: new Date("2023-12-31T00:00:00Z") }).status,
    "verified",
    "published while the key was valid",
  );
  // No publish time: the check time stands in.
  assert.equal(checkRegistrySignature({ ...input, now: new Date("2025-01-01T00:00:00Z") }).status, "failed");
  assert.equal(
    checkRegistrySignature({ ...input, now: new Date("2023-01-01T00:00:00Z") }).status,
    "verified",
  );
});

test("unknown keyid, absent and malformed signatures", () => {
  const { keys, sig } = setup();
  const base = { name: NAME, version: VERSION, integrity: INTEGRITY, publishedAt: PUBLISHED, keys };
  const unknown = checkRegistrySignature({ ...base, signatures: [{ keyid: "SHA256:other", sig }] });
  assert.deepEqual(
    [
      unknown.status,
      unknown.status === "failed" && unknown.reason,
      unknown.status === "failed" && unknown.keyid,
    ],
    ["failed", "unknown-key", "SHA256:other"],
  );
  assert.equal(checkRegistrySignature({ ...base, signatures: undefined }).status, "absent");
  assert.equal(checkRegistrySignature({ ...base, signatures: [] }).status, "absent");
  const bad = checkRegistrySignature({ ...base, signatures: [{ keyid: 1, sig: "!!" }] });
  assert.equal(bad.status === "failed" && bad.reason, "malformed");
  assert.equal(checkRegistrySignature({ ...base, signatures: "x" }).status, "failed");
  assert.equal(
    checkRegistrySignature({ ...base, keys: [], signatures: [{ keyid: "SHA256:test-key-1", sig }] }).status,
    "failed",
  );
});

test("embedded keys: @sigstore/tuf's seed carries npm's registry.npmjs.org/keys.json target", () => {
  const keys = embeddedRegistryKeys();
  assert.ok(keys.length >= 2, "the old and the current npm signing keys");
  assert.ok(keys.every((k) => k.source === EMBEDDED_KEYS_SOURCE));
  const old = keys.find((k) => k.keyid === "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA");
  assert.equal(old?.expires, "2025-01-29T00:00:00.000Z", "npm's first key expired in January 2025");
  assert.ok(
    keys.some((k) => k.keyid === "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U" && k.expires === null),
  );
});

test("keys files: npm's keys-endpoint format; other algorithms and broken files are refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-keys-"));
  try {
    const { key, sig } = setup();
    const path = join(dir, "keys.json");
    writeFileSync(path, JSON.stringify({ keys: [key.entry] }));
    const keys = loadRegistryKeysFile(path);
    assert.equal(
      checkRegistrySignature({
        name: NAME,
        version: VERSION,
        integrity: INTEGRITY,
        signatures: [{ keyid: key.keyid, sig }],
        keys,
      }).status,
      "verified",
    );
    const ed = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" }).toString(
      "base64",
    );
    for (
      const [doc, why] of [
        [{ keys: [{ ...key.entry, scheme: "ed25519" }] }, /not ecdsa-sha2-nistp256/],
        [{ keys: [{ ...key.entry, key: ed }] }, /not an ECDSA P-256 key/],
        [{ keys: [{ ...key.entry, key: "AAAA" }] }, /not a DER SubjectPublicKeyInfo/],
        [{ keys: [{ ...key.entry, expires: "soon" }] }, /unreadable expiry/],
        [{ keys: [{ ...key.entry, keyid: "" }] }, /no keyid/],
        [{ nope: [] }, /no "keys" array/],
      ] as const
    ) {
      writeFileSync(path, JSON.stringify(doc));
      assert.throws(
        () => loadRegistryKeysFile(path),
        (e: unknown) => e instanceof McpTrustError && why.test(e.message),
      );
    }
    writeFileSync(path, "{");
    assert.throws(() => loadRegistryKeysFile(path), /not JSON/);
    assert.throws(() => loadRegistryKeysFile(join(dir, "missing.json")), /cannot read registry keys/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
