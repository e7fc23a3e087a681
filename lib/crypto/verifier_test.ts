import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { canonicalBytes } from "../lockfile/canonical.ts";
import { goldenV3WithTools, lockfileText, vectorPath, withTempDir } from "../bundle/test_support.ts";
import { encodeSigstoreEnvelope } from "./envelope.ts";
import {
  encodePrivateKey,
  encodePublicKey,
  generateKeyPair,
  parsePrivateKey,
  parsePublicKey,
} from "./keys.ts";
import { parseSignedDocument } from "./signed_document.ts";
import { signLockfile } from "./signer.ts";
import type { SigstoreVerifyFn } from "./sigstore_bridge.ts";
import { type VerifyInputs, verifyLockfile } from "./verifier.ts";

const enc = new TextEncoder();
const compat = (name: string) => vectorPath(`backward_compat/${name}`);
const bytesOf = (path: string) => new Uint8Array(readFileSync(path));
const goPublic = () => ({
  key: parsePublicKey(readFileSync(compat("test_public.key"), "utf8")),
  source: "test_public.key",
});
const goPrivate = () => parsePrivateKey(readFileSync(compat("test_private.key"), "utf8"));

function inputs(lock: Uint8Array, sig: Uint8Array | string, extra: Partial<VerifyInputs> = {}): VerifyInputs {
  return {
    lockfile: { path: "mcp-lock.json", bytes: lock },
    signature: { path: "mcp-lock.json.sig", bytes: typeof sig === "string" ? enc.encode(sig) : sig },
    flags: {},
    ...extra,
  };
}

/** Runs `fn` and returns the exit code it fails with (0 if it succeeds). */
async function exitCodeOf(fn: () => Promise<unknown>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (err) {
    if (err instanceof McpTrustError) return err.exitCode;
    throw err;
  }
}

test("all three Go signatures in backward_compat verify with the Go public key", async () => {
  for (
    const [sig, format, canon] of [
      ["legacy_v1_sig.hex", "ed25519-legacy-hex", "v1"],
      ["new_v1_sig.txt", "ed25519", "v1"],
      ["new_v2_sig.txt", "ed25519", "v2"],
    ]
  ) {
    const res = await verifyLockfile({
      lockfile: { path: compat("legacy_v1_lock.json"), bytes: bytesOf(compat("legacy_v1_lock.json")) },
      signature: { path: compat(sig), bytes: bytesOf(compat(sig)) },
      flags: { key: compat("test_public.key") },
    });
    assert.equal(res.signatureFormat, format, sig);
    assert.equal(res.canonVersion, canon, sig);
    assert.equal(res.signer.type === "ed25519" && res.signer.keyOrigin, "flag");
  }
});

test("signing here is the Go algorithm: the Go key over the Go lockfile gives the Go signature exactly", async () => {
  const doc = parseSignedDocument(bytesOf(compat("legacy_v1_lock.json")), "legacy_v1_lock.json");
  for (const [canon, file] of [["v1", "new_v1_sig.txt"], ["v2", "new_v2_sig.txt"]] as const) {
    const res = await signLockfile(doc, canon, {
      type: "ed25519",
      key: goPrivate(),
      keySource: "test_private.key",
    });
    assert.equal(res.envelope, readFileSync(compat(file), "utf8"));
  }
});

test("a signature made here verifies by hand over the canonical bytes the Go tool signs", async () => {
  const key = generateKeyPair();
  const text = lockfileText(goldenV3WithTools());
  const doc = parseSignedDocument(enc.encode(text), "mcp-lock.json");
  for (const canon of ["v1", "v2"] as const) {
    const { envelope } = await signLockfile(doc, canon, { type: "ed25519", key, keySource: "k" });
    const [header, hex] = envelope.split("\n");
    assert.equal(header, `{"canon_version":"${canon}"}`);
    // Independent of our verifier: noble over canonicalize(JSON.parse(file)).
    const message = canonicalBytes(JSON.parse(text), canon);
    assert.ok(ed25519.verify(Uint8Array.from(Buffer.from(hex, "hex")), message, key.publicKey.bytes));
  }
  // For the Go vector the canonical bytes are known: compact, keys sorted.
  const legacy = JSON.parse(readFileSync(compat("legacy_v1_lock.json"), "utf8"));
  assert.match(
    new TextDecoder().decode(canonicalBytes(legacy, "v1")),
    /^\{"server_command":"mock-server","tools":\{"read_file":\{"description_hash":.*"risk_level":"LOW"\}\},"version":"1.0"\}$/,
  );
});

test("keys move both ways between the Go raw format and PKCS#8/SPKI", async () => {
  const lock = enc.encode(lockfileText(goldenV3WithTools()));
  const doc = parseSignedDocument(lock, "mcp-lock.json");
  // Go raw private key signs here; the Go raw public key and its SPKI re-encoding both verify.
  const goSig = await signLockfile(doc, "v1", {
    type: "ed25519",
    key: goPrivate(),
    keySource: "test_private.key",
  });
  const spki = parsePublicKey(encodePublicKey(goPublic().key, "pem"));
  for (const key of [goPublic().key, spki]) {
    await verifyLockfile(inputs(lock, goSig.envelope, { trust: { publicKey: { key, source: "k" } } }));
  }
  // Our key written in raw format signs; a key read back from either format verifies.
  const ours = generateKeyPair("raw");
  const raw = parsePrivateKey(encodePrivateKey(ours, "raw"));
  const sig = await signLockfile(doc, "v2", { type: "ed25519", key: raw, keySource: "k" });
  for (const format of ["raw", "pem"] as const) {
    const key = parsePublicKey(encodePublicKey(ours.publicKey, format));
    await verifyLockfile(inputs(lock, sig.envelope, { trust: { publicKey: { key, source: "k" } } }));
  }
});

test("a tampered lockfile or another key fails with exit 1 and says the lockfile does not match", async () => {
  const key = generateKeyPair();
  const lock = goldenV3WithTools();
  const bytes = enc.encode(lockfileText(lock));
  const { envelope } = await signLockfile(parseSignedDocument(bytes, "mcp-lock.json"), "v1", {
    type: "ed25519",
    key,
    keySource: "k",
  });
  const mine = { publicKey: { key: key.publicKey, source: "mine.pub" } };
  (lock.server as Record<string, unknown>).name = "evil-server";
  const tampered = enc.encode(lockfileText(lock));
  const other = { publicKey: { key: generateKeyPair().publicKey, source: "other.pub" } };
  for (const [lockBytes, trust] of [[tampered, mine], [bytes, other]] as const) {
    await assert.rejects(verifyLockfile(inputs(lockBytes, envelope, { trust })), (err: unknown) => {
      assert.ok(err instanceof CheckFailedError);
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /the lockfile does not match the signature/);
      assert.match(err.message, /mcp-lock\.json/);
      assert.ok(err.hint);
      return true;
    });
  }
});

// About 20,000 verifications: a few seconds, over the default per-test timeout of some runners.
test("every single-bit flip of a signed v3 lockfile fails verification (exit 1, or exit 2 if unparsable)", {
  timeout: 300_000,
}, async () => {
  const key = generateKeyPair();
  const bytes = enc.encode(lockfileText(goldenV3WithTools()));
  const { envelope } = await signLockfile(parseSignedDocument(bytes, "mcp-lock.json"), "v1", {
    type: "ed25519",
    key,
    keySource: "k",
  });
  const sig = enc.encode(envelope);
  const trust = { publicKey: { key: key.publicKey, source: "k.pub" } };
  assert.equal(await exitCodeOf(() => verifyLockfile(inputs(bytes, sig, { trust }))), 0);
  const counts = { 0: 0, 1: 0, 2: 0 } as Record<number, number>;
  const flipped = new Uint8Array(bytes);
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    flipped[bit >> 3] ^= 1 << (bit & 7);
    const code = await exitCodeOf(() => verifyLockfile(inputs(flipped, sig, { trust })));
    flipped[bit >> 3] ^= 1 << (bit & 7);
    counts[code]++;
    if (code === 0) assert.fail(`flipping bit ${bit & 7} of byte ${bit >> 3} still verifies`);
  }
  assert.equal(counts[0], 0);
  assert.equal(counts[1] + counts[2], bytes.length * 8);
  // Both kinds of failure occur: value changes (1) and broken JSON (2).
  assert.ok(counts[1] > 0 && counts[2] > 0, JSON.stringify(counts));
});

test("reformatting or reordering members keeps the signature valid: it covers the JSON value", async () => {
  const key = generateKeyPair();
  const lock = goldenV3WithTools();
  const { envelope } = await signLockfile(parseSignedDocument(enc.encode(lockfileText(lock)), "l"), "v1", {
    type: "ed25519",
    key,
    keySource: "k",
  });
  const reordered = Object.fromEntries(Object.entries(lock).reverse());
  const trust = { publicKey: { key: key.publicKey, source: "k" } };
  await verifyLockfile(inputs(enc.encode(JSON.stringify(reordered)), envelope, { trust }));
});

test("malformed inputs exit 2 and name the file", async () => {
  const key = generateKeyPair();
  const bytes = enc.encode(lockfileText(goldenV3WithTools()));
  const { envelope } = await signLockfile(parseSignedDocument(bytes, "l"), "v1", {
    type: "ed25519",
    key,
    keySource: "k",
  });
  const trust = { publicKey: { key: key.publicKey, source: "k" } };
  const cases: [VerifyInputs, RegExp][] = [
    [
      inputs(enc.encode("{"), envelope, { trust }),
      /lockfile mcp-lock\.json cannot be checked: not valid JSON/,
    ],
    [
      inputs(Uint8Array.of(0x7b, 0xff, 0x7d), envelope, { trust }),
      /lockfile mcp-lock\.json is not valid UTF-8/,
    ],
    [inputs(enc.encode('{"a":1,"a":1}'), envelope, { trust }), /duplicate member name/],
    [
      inputs(bytes, envelope.slice(0, -2), { trust }),
      /signature mcp-lock\.json\.sig is malformed: .*126 hex digits/,
    ],
    [inputs(bytes, "", { trust }), /signature mcp-lock\.json\.sig is malformed: the file is empty/],
    [inputs(bytes, envelope), /no public key was given/],
  ];
  for (const [input, re] of cases) {
    await assert.rejects(verifyLockfile(input), (err: unknown) => {
      assert.ok(err instanceof McpTrustError && !(err instanceof CheckFailedError), String(err));
      assert.equal(err.exitCode, 2);
      assert.match(err.message, re);
      return true;
    });
  }
});

test("a key file given with --key is read, and a broken one exits 2 naming it", () =>
  withTempDir(async (dir) => {
    const key = generateKeyPair();
    const bytes = enc.encode(lockfileText(goldenV3WithTools()));
    const { envelope } = await signLockfile(parseSignedDocument(bytes, "l"), "v1", {
      type: "ed25519",
      key,
      keySource: "k",
    });
    writeFileSync(join(dir, "good.pub"), encodePublicKey(key.publicKey));
    writeFileSync(join(dir, "bad.pub"), encodePublicKey(key.publicKey).slice(0, 10));
    const ok = await verifyLockfile(inputs(bytes, envelope, { flags: { key: join(dir, "good.pub") } }));
    assert.equal(ok.signer.type === "ed25519" && ok.signer.fingerprint, key.publicKey.fingerprint);
    await assert.rejects(
      verifyLockfile(inputs(bytes, envelope, { flags: { key: join(dir, "bad.pub") } })),
      (err: unknown) => err instanceof McpTrustError && err.exitCode === 2 && err.message.includes("bad.pub"),
    );
  }));

test("Sigstore signatures need a named signer; Ed25519 signatures refuse identity flags", async () => {
  const bytes = enc.encode(lockfileText(goldenV3WithTools()));
  const sigstoreSig = encodeSigstoreEnvelope(JSON.stringify({ mediaType: "x" }), "v1");
  const never: SigstoreVerifyFn = () => Promise.reject(new Error("must not be called"));
  const cases: [VerifyInputs, RegExp][] = [
    [
      inputs(bytes, sigstoreSig),
      /say who must have signed it with --certificate-identity .* and --certificate-oidc-issuer/,
    ],
    [inputs(bytes, sigstoreSig, { flags: { identity: "a@b" } }), /--certificate-oidc-issuer/],
    [inputs(bytes, sigstoreSig, { flags: { issuer: "https://i" } }), /--certificate-identity \(or/],
    [inputs(bytes, sigstoreSig, { flags: { key: "k.pub" } }), /not checked with --key/],
    [inputs(bytes, sigstoreSig, { flags: { identity: "a", identityRegexp: "b", issuer: "i" } }), /not both/],
    [
      inputs(bytes, sigstoreSig, { flags: { identityRegexp: "(", issuer: "i" } }),
      /not a valid regular expression/,
    ],
    [
      inputs(bytes, '{"canon_version":"v1"}\n' + "00".repeat(64), { flags: { identity: "a", issuer: "i" } }),
      /is an Ed25519 signature, so --certificate-identity, --certificate-oidc-issuer cannot apply/,
    ],
  ];
  for (const [input, re] of cases) {
    await assert.rejects(verifyLockfile(input, { sigstoreVerify: never }), (err: unknown) => {
      assert.ok(err instanceof McpTrustError, String(err));
      assert.equal(err.exitCode, 2);
      assert.match(err.message, re);
      return true;
    });
  }
});

test("a Sigstore signature is checked over the canonical bytes against the named identity", async () => {
  const lock = goldenV3WithTools();
  const bytes = enc.encode(lockfileText(lock));
  const sig = encodeSigstoreEnvelope(JSON.stringify({ mediaType: "m" }), "v2");
  const seen: unknown[] = [];
  const fake =
    (identity: string, issuer = "https://issuer"): SigstoreVerifyFn => (bundle, artifact, opts) => {
      seen.push({ bundle, artifact: new TextDecoder().decode(artifact), opts });
      return Promise.resolve({ identity, issuer, kind: "certificate", signedAt: "2026-01-01T00:00:00.000Z" });
    };
  const flags = { identity: "ci@example.com", issuer: "https://issuer" };
  const res = await verifyLockfile(inputs(bytes, sig, { flags }), { sigstoreVerify: fake("ci@example.com") });
  assert.deepEqual(res.signer, {
    type: "sigstore",
    identity: "ci@example.com",
    issuer: "https://issuer",
    signedAt: "2026-01-01T00:00:00.000Z",
  });
  assert.equal(res.signatureFormat, "sigstore-bundle");
  assert.deepEqual(seen[0], {
    bundle: { mediaType: "m" },
    artifact: new TextDecoder().decode(canonicalBytes(lock, "v2")),
    opts: { policy: { identity: "ci@example.com", issuer: "https://issuer" }, trustedRoot: undefined },
  });
  // A verifier that reports someone else is not believed.
  await assert.rejects(
    verifyLockfile(inputs(bytes, sig, { flags }), { sigstoreVerify: fake("evil@example.com") }),
    (err: unknown) => err instanceof CheckFailedError && /not identity "ci@example.com"/.test(err.message),
  );
  // A verifier error is a failed check (exit 1) naming the files.
  const failing: SigstoreVerifyFn = () => Promise.reject(new Error("signature mismatch"));
  await assert.rejects(
    verifyLockfile(inputs(bytes, sig, { flags }), { sigstoreVerify: failing }),
    (err: unknown) =>
      err instanceof CheckFailedError &&
      /does not match the signature: .*mcp-lock\.json\.sig.*signature mismatch/.test(err.message),
  );
});

test("sign refuses JSON that is not a lockfile", async () => {
  const doc = parseSignedDocument(enc.encode('{"name":"package.json, not a lockfile"}'), "package.json");
  await assert.rejects(
    signLockfile(doc, "v1", { type: "ed25519", key: generateKeyPair(), keySource: "k" }),
    (err: unknown) =>
      err instanceof McpTrustError && err.exitCode === 2 &&
      /package\.json is not an mcptrust lockfile/.test(err.message),
  );
});
