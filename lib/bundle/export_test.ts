import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { encodePublicKey, generateKeyPair } from "../crypto/keys.ts";
import { encodeSigstoreEnvelope } from "../crypto/envelope.ts";
import type { SigstoreVerifyFn } from "../crypto/sigstore_bridge.ts";
import { buildBundle, type ExportInputs } from "./export.ts";
import { parseManifest } from "./manifest.ts";
import {
  goldenV3WithTools,
  lockfileText,
  type SignedFixture,
  withTempDir,
  writeSignedFixture,
} from "./test_support.ts";
import { extractEntry, readZipDirectory } from "./zip_read.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function inputsFor(f: SignedFixture, extra: Partial<ExportInputs> = {}): ExportInputs {
  return {
    lockfile: { path: f.lockPath, bytes: f.lockBytes },
    signature: { path: f.sigPath, bytes: f.sigBytes },
    flags: { key: f.pubPath },
    toolVersion: "1.2.3",
    ...extra,
  };
}

function entries(zip: Uint8Array): Record<string, string> {
  return Object.fromEntries(readZipDirectory(zip).map((e) => [e.name, dec.decode(extractEntry(zip, e))]));
}

test("entries come in the fixed order, and the manifest lists every other entry with hash and size", () =>
  withTempDir(async (dir) => {
    const f = await writeSignedFixture(dir);
    const res = await buildBundle(inputsFor(f, {
      policy: { path: "/somewhere/p.yaml", bytes: enc.encode("rules: []\n") },
      includes: [{ path: "/x/z-report.json", bytes: enc.encode("{}") }, {
        path: "/y/a.log",
        bytes: enc.encode("log"),
      }],
    }));
    const names = readZipDirectory(res.zip).map((e) => e.name);
    assert.deepEqual(names, [
      "manifest.json",
      "mcp-lock.json",
      "mcp-lock.json.sig",
      "public.key",
      "policy.yaml",
      "evidence/a.log",
      "evidence/z-report.json",
      "README.txt",
    ]);
    const all = entries(res.zip);
    const manifest = parseManifest(all["manifest.json"]);
    assert.deepEqual(manifest.files.map((x) => x.name), names.slice(1));
    for (const file of manifest.files) {
      assert.equal(file.sha256, createHash("sha256").update(all[file.name]).digest("hex"), file.name);
      assert.equal(file.size, enc.encode(all[file.name]).length, file.name);
    }
    assert.equal(manifest.tool_version, "1.2.3");
    assert.equal(manifest.canon_version, "v1");
    assert.equal(manifest.signature_type, "ed25519");
    // No times, paths or machine-dependent values anywhere in the manifest.
    assert.doesNotMatch(all["manifest.json"], /19\d\d-|20\d\d-|\/somewhere|\/x\/|\/y\/|tmp/);
    assert.equal(all["mcp-lock.json"], dec.decode(f.lockBytes));
    assert.equal(all["public.key"], encodePublicKey(f.key.publicKey));
  }));

test("the same inputs give the same bytes, whatever order --include files are given in", () =>
  withTempDir(async (dir) => {
    const f = await writeSignedFixture(dir);
    const a = { path: "a.txt", bytes: enc.encode("A") };
    const b = { path: "b.txt", bytes: enc.encode("B") };
    const one = await buildBundle(inputsFor(f, { includes: [a, b] }));
    const two = await buildBundle(inputsFor(f, { includes: [b, a] }));
    assert.deepEqual(two.zip, one.zip);
    assert.equal(two.sha256, one.sha256);
  }));

test("README.txt gives the auditor the summary: server, tools by risk, prompts, templates, pin, signer, hash", () =>
  withTempDir(async (dir) => {
    const f = await writeSignedFixture(dir);
    const res = await buildBundle(inputsFor(f));
    const readme = entries(res.zip)["README.txt"];
    assert.match(readme, /^Server: +test-server$/m);
    assert.match(
      readme,
      /Tools \(3\)\n {2}HIGH +execute_command\n {2}MEDIUM +write_file\n {2}LOW +read_file\n/,
    );
    assert.match(readme, /Prompts \(3\)\n {2}code_review\n {2}summarize\n {2}translate\n/);
    assert.match(readme, / {2}file:\/\/\/\{path\} {2}\(application\/octet-stream\)/);
    assert.match(
      readme,
      /Artifact pin: +npm @modelcontextprotocol\/server-filesystem@2026\.8\.31, integrity sha512-/,
    );
    assert.match(readme, new RegExp(`Signer: +Ed25519 key ${f.key.publicKey.fingerprint}`));
    assert.match(readme, new RegExp(`Lockfile sha256: +${res.verified.lockfile.sha256}`));
    assert.doesNotMatch(readme, new RegExp(dir)); // no local paths
  }));

test("control characters in lockfile names cannot rewrite the README an auditor reads", () =>
  withTempDir(async (dir) => {
    const lock = goldenV3WithTools();
    (lock.server as Record<string, unknown>).name = "ok\u001b[2J\rFAKE\u202e";
    const f = await writeSignedFixture(dir, lock);
    const readme = entries((await buildBundle(inputsFor(f))).zip)["README.txt"];
    assert.match(readme, /Server: +ok\\u\{1b\}\[2J\\u\{d\}FAKE\\u\{202e\}/);
    assert.ok(!["\u001b", "\r", "\u202e"].some((c) => readme.includes(c)));
  }));

test("refuses to bundle a lockfile whose signature does not verify (tampered, or another key)", () =>
  withTempDir(async (dir) => {
    const f = await writeSignedFixture(dir);
    const tampered = enc.encode(dec.decode(f.lockBytes).replace("read_file", "read_fil3"));
    const otherPub = join(dir, "other.pub");
    writeFileSync(otherPub, encodePublicKey(generateKeyPair().publicKey));
    for (
      const input of [
        inputsFor(f, { lockfile: { path: f.lockPath, bytes: tampered } }),
        inputsFor(f, { flags: { key: otherPub } }),
      ]
    ) {
      await assert.rejects(buildBundle(input), (err: unknown) => {
        assert.ok(err instanceof CheckFailedError);
        assert.match(
          err.message,
          /^refusing to bundle a lockfile whose signature does not verify: the lockfile does not match/,
        );
        return true;
      });
    }
  }));

test("unusable export inputs exit 2: no key, duplicate include names, bomb-like evidence, not a lockfile", () =>
  withTempDir(async (dir) => {
    const f = await writeSignedFixture(dir);
    const cases: [ExportInputs, RegExp][] = [
      [inputsFor(f, { flags: {} }), /no public key was given/],
      [
        inputsFor(f, {
          includes: [{ path: "a/x.log", bytes: enc.encode("1") }, {
            path: "b/x.log",
            bytes: enc.encode("2"),
          }],
        }),
        /two included files are both named x\.log/,
      ],
      [
        inputsFor(f, { includes: [{ path: "zeros.bin", bytes: new Uint8Array(5 * 1024 * 1024) }] }),
        /would be refused by bundle verify: .*compression ratio/,
      ],
    ];
    for (const [input, re] of cases) {
      await assert.rejects(buildBundle(input), (err: unknown) => {
        assert.ok(err instanceof McpTrustError && err.exitCode === 2, String(err));
        assert.match(err.message, re);
        return true;
      });
    }
    // A signed JSON file that is not a lockfile is not bundled.
    const g = await writeSignedFixture(dir, { lockFileVersion: "9.9" });
    await assert.rejects(buildBundle(inputsFor(g)), /unknown version "9.9"/);
  }));

test("a Sigstore-signed lockfile is bundled with the identity checked, and without a public key entry", async () => {
  const lock = goldenV3WithTools();
  const lockBytes = enc.encode(lockfileText(lock));
  const sig = encodeSigstoreEnvelope(JSON.stringify({ mediaType: "m" }), "v1");
  const fake: SigstoreVerifyFn = (_b, _a, opts) =>
    Promise.resolve({
      identity: opts.policy!.identity!,
      issuer: opts.policy!.issuer,
      kind: "certificate" as const,
    });
  const res = await buildBundle({
    lockfile: { path: "mcp-lock.json", bytes: lockBytes },
    signature: { path: "mcp-lock.json.sig", bytes: enc.encode(sig) },
    flags: { identity: "release@example.com", issuer: "https://issuer.example" },
    toolVersion: "1.2.3",
  }, { sigstoreVerify: fake });
  const names = readZipDirectory(res.zip).map((e) => e.name);
  assert.deepEqual(names, ["manifest.json", "mcp-lock.json", "mcp-lock.json.sig", "README.txt"]);
  const all = entries(res.zip);
  assert.equal(parseManifest(all["manifest.json"]).signature_type, "sigstore_bundle");
  assert.match(
    all["README.txt"],
    /Signer: +Sigstore certificate identity "release@example\.com", issuer "https:\/\/issuer\.example"/,
  );
  // Without an identity it is refused as a usage error.
  await assert.rejects(
    buildBundle({
      lockfile: { path: "mcp-lock.json", bytes: lockBytes },
      signature: { path: "mcp-lock.json.sig", bytes: enc.encode(sig) },
      flags: {},
    }, { sigstoreVerify: fake }),
    (err: unknown) =>
      err instanceof McpTrustError && err.exitCode === 2 && /say who must have signed/.test(err.message),
  );
});
