import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { encodeSigstoreEnvelope } from "../crypto/envelope.ts";
import { encodePublicKey, generateKeyPair } from "../crypto/keys.ts";
import { parseSignedDocument } from "../crypto/signed_document.ts";
import { signLockfile } from "../crypto/signer.ts";
import type { SigstoreVerifyFn } from "../crypto/sigstore_bridge.ts";
import type { TrustFlags } from "../crypto/trust.ts";
import { parseLockfile } from "../lockfile/load.ts";
import { buildBundle } from "./export.ts";
import { parseManifest, serializeManifest } from "./manifest.ts";
import { renderReadme } from "./readme.ts";
import { bundleReportJson, bundleReportText } from "./report.ts";
import { summarizeLockfile } from "./summary.ts";
import { goldenV3WithTools, lockfileText, withTempDir, writeSignedFixture } from "./test_support.ts";
import { verifyBundle } from "./verify.ts";
import { extractEntry, readZipDirectory } from "./zip_read.ts";
import { writeDeterministicZip } from "./zip_write.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function exportedBundle(dir: string) {
  const f = await writeSignedFixture(dir);
  const res = await buildBundle({
    lockfile: { path: f.lockPath, bytes: f.lockBytes },
    signature: { path: f.sigPath, bytes: f.sigBytes },
    flags: { key: f.pubPath },
    policy: { path: "policy.yaml", bytes: enc.encode("rules: []\n") },
    includes: [{ path: "evidence.json", bytes: enc.encode('{"scan":"ok"}') }],
    toolVersion: "1.2.3",
  });
  return { f, zip: res.zip };
}

/** Unpacks, lets `edit` change entries, repacks (deterministically, same order). */
function repack(zip: Uint8Array, edit: (entries: Map<string, Uint8Array>) => void): Uint8Array {
  const entries = new Map(readZipDirectory(zip).map((e) => [e.name, extractEntry(zip, e)]));
  edit(entries);
  return writeDeterministicZip([...entries].map(([name, data]) => ({ name, data })));
}

/** Rewrites manifest.json so its hashes and sizes match the (altered) entries: what an attacker would do. */
function fixManifest(entries: Map<string, Uint8Array>): void {
  const m = parseManifest(dec.decode(entries.get("manifest.json")!));
  m.files = [...entries].filter(([n]) => n !== "manifest.json").map(([name, data]) => ({
    name,
    role: m.files.find((x) => x.name === name)?.role ?? "evidence",
    sha256: bytesToHex(sha256(data)),
    size: data.length,
  }));
  entries.set("manifest.json", enc.encode(serializeManifest(m)));
}

const verify = (zip: Uint8Array, flags: TrustFlags = {}, deps = {}) =>
  verifyBundle({ bundle: { path: "approval.zip", bytes: zip }, flags }, deps);

async function rejectsWith(p: Promise<unknown>, code: number, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof McpTrustError, String(err));
    assert.equal(err.exitCode, code, err.message);
    assert.equal(
      err instanceof CheckFailedError,
      code === 1,
      "exit 1 comes from a failed check, exit 2 does not",
    );
    assert.match(err.message, re);
    return true;
  });
}

test("a fresh bundle verifies with the signer's key and reports what was approved", () =>
  withTempDir(async (dir) => {
    const { f, zip } = await exportedBundle(dir);
    const r = await verify(zip, { key: f.pubPath });
    assert.equal(r.trustSource, "key-flag");
    assert.deepEqual(r.warnings, []);
    assert.equal(r.summary.server.name, "test-server");
    assert.deepEqual(r.summary.tools.map((t) => `${t.risk} ${t.name}`), [
      "HIGH execute_command",
      "MEDIUM write_file",
      "LOW read_file",
    ]);
    assert.deepEqual(r.otherFiles.map((x) => x.name), [
      "public.key",
      "policy.yaml",
      "evidence/evidence.json",
    ]);
    const json = bundleReportJson(r);
    assert.equal((json.trust as { independent: boolean }).independent, true);
    assert.equal((json.signer as { fingerprint: string }).fingerprint, f.key.publicKey.fingerprint);
    const text = bundleReportText(r);
    assert.match(text, /bundle valid: approval\.zip/);
    assert.match(text, /HIGH +execute_command/);
    assert.match(text, /artifact pin: +npm @modelcontextprotocol\/server-filesystem@2026\.8\.31/);
    assert.doesNotMatch(text, /WARNING/);
  }));

test("without --key the bundled public key is used, and the report says so loudly (text and JSON)", () =>
  withTempDir(async (dir) => {
    const { zip } = await exportedBundle(dir);
    const r = await verify(zip);
    assert.equal(r.trustSource, "bundled-key");
    assert.match(r.warnings[0], /public key shipped INSIDE the bundle/);
    assert.match(
      bundleReportText(r),
      /^!{78}\nWARNING: the signature was checked against the public key shipped INSIDE the bundle/,
    );
    const json = bundleReportJson(r);
    assert.deepEqual(json.trust, {
      source: "bundled-key",
      description: "the public key shipped INSIDE the bundle (a claim, not proof of who signed)",
      independent: false,
    });
    assert.match((json.warnings as string[])[0], /INSIDE the bundle/);
  }));

test("an attacker who re-signs an altered lockfile and ships their own key is caught by --key", () =>
  withTempDir(async (dir) => {
    const { f, zip } = await exportedBundle(dir);
    const evil = goldenV3WithTools();
    (evil.tools as Record<string, unknown>).exfiltrate = {
      description_hash: "sha256:" + "0".repeat(64),
      input_schema_hash: "",
      risk_level: "LOW",
    };
    const evilKey = generateKeyPair();
    const evilLock = enc.encode(lockfileText(evil));
    const { envelope } = await signLockfile(parseSignedDocument(evilLock, "x"), "v1", {
      type: "ed25519",
      key: evilKey,
      keySource: "e",
    });
    const forged = repack(zip, (e) => {
      e.set("mcp-lock.json", evilLock);
      e.set("mcp-lock.json.sig", enc.encode(envelope));
      e.set("public.key", enc.encode(encodePublicKey(evilKey.publicKey)));
      fixManifest(e);
    });
    // README still describes the original lockfile, so even the self-consistency check fails ...
    await rejectsWith(verify(forged), 1, /README\.txt does not say what the signed lockfile says/);
    // ... and with the README rewritten too, only an independent key tells the difference.
    const bundled = await buildBundle({
      lockfile: { path: "l", bytes: evilLock },
      signature: { path: "s", bytes: enc.encode(envelope) },
      flags: {
        key: (() => {
          const p = join(dir, "evil.pub");
          writeFileSync(p, encodePublicKey(evilKey.publicKey));
          return p;
        })(),
      },
      toolVersion: "1.2.3",
    });
    const self = await verify(bundled.zip);
    assert.equal(self.trustSource, "bundled-key");
    await rejectsWith(
      verify(bundled.zip, { key: f.pubPath }),
      1,
      /the lockfile does not match the signature/,
    );
  }));

test("altered bundles are invalid (exit 1)", () =>
  withTempDir(async (dir) => {
    const { f, zip } = await exportedBundle(dir);
    const flip = (b: Uint8Array) => enc.encode(dec.decode(b).replace("execute_command", "execute_commanD"));
    const cases: [string, Uint8Array, RegExp][] = [
      [
        "lockfile changed, manifest not updated",
        repack(zip, (e) => e.set("mcp-lock.json", flip(e.get("mcp-lock.json")!))),
        /"mcp-lock\.json" does not match its SHA-256/,
      ],
      [
        "lockfile changed, manifest updated",
        repack(zip, (e) => {
          e.set("mcp-lock.json", flip(e.get("mcp-lock.json")!));
          fixManifest(e);
        }),
        /the lockfile does not match the signature/,
      ],
      [
        "README changed, manifest updated",
        repack(zip, (e) => {
          e.set("README.txt", enc.encode(dec.decode(e.get("README.txt")!).replace("HIGH", "LOW ")));
          fixManifest(e);
        }),
        /README\.txt does not say what the signed lockfile says/,
      ],
      [
        "unlisted entry",
        repack(zip, (e) => e.set("evidence/extra.txt", enc.encode("x"))),
        /holds "evidence\/extra\.txt", which manifest\.json does not list/,
      ],
      [
        "listed entry missing",
        repack(zip, (e) => e.delete("policy.yaml")),
        /lists "policy\.yaml", which is missing/,
      ],
      ["no manifest", repack(zip, (e) => e.delete("manifest.json")), /it has no manifest\.json/],
      [
        "unknown manifest format",
        repack(zip, (e) =>
          e.set(
            "manifest.json",
            enc.encode(dec.decode(e.get("manifest.json")!).replace("mcptrust-bundle/1", "mcptrust-bundle/9")),
          )),
        /unknown bundle format "mcptrust-bundle\/9"/,
      ],
      [
        "malformed signature",
        repack(zip, (e) => {
          e.set("mcp-lock.json.sig", enc.encode('{"canon_version":"v1"}\nzz'));
          fixManifest(e);
        }),
        /approval\.zip:mcp-lock\.json\.sig is malformed/,
      ],
      [
        "signature says v2, manifest says v1",
        await (async () => {
          const { envelope } = await signLockfile(parseSignedDocument(f.lockBytes, "l"), "v2", {
            type: "ed25519",
            key: f.key,
            keySource: "k",
          });
          return repack(zip, (e) => {
            e.set("mcp-lock.json.sig", enc.encode(envelope));
            fixManifest(e);
          });
        })(),
        /manifest\.json describes the signature differently/,
      ],
      [
        "corrupted archive byte",
        (() => {
          const z = zip.slice();
          z[200] ^= 0xff;
          return z;
        })(),
        /invalid/,
      ],
    ];
    for (const [what, bytes, re] of cases) {
      await rejectsWith(verify(bytes, { key: f.pubPath }), 1, new RegExp(re.source)).catch((e) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
    // A local header naming another file than the central directory is an invalid bundle too.
    const unsafe = repack(zip, (e) => e.set("evidence/x", enc.encode("x")));
    const bad = unsafe.slice();
    const at = dec.decode(bad).indexOf("evidence/x");
    bad.set(enc.encode("../../..x"), at); // same length; local header name now differs from the directory
    await rejectsWith(verify(bad, { key: f.pubPath }), 1, /invalid/);
  }));

test("unusable input exits 2: not a ZIP, wrong kind of trust flags", () =>
  withTempDir(async (dir) => {
    const { zip } = await exportedBundle(dir);
    await rejectsWith(
      verify(enc.encode("not a zip")),
      2,
      /cannot read bundle approval\.zip: not a ZIP archive/,
    );
    await rejectsWith(verify(zip, { identity: "a", issuer: "b" }), 2, /is an Ed25519 signature/);
    await rejectsWith(
      verify(zip, { key: join(dir, "missing.pub") }),
      2,
      /cannot read public key .*missing\.pub/,
    );
  }));

test("a --key that differs from the bundled key is used, and the mismatch is reported", () =>
  withTempDir(async (dir) => {
    const { f, zip } = await exportedBundle(dir);
    const other = generateKeyPair();
    const swapped = repack(zip, (e) => {
      e.set("public.key", enc.encode(encodePublicKey(other.publicKey)));
      fixManifest(e);
    });
    // README.txt lists public.key's hash, so a swapped key alone is caught as an altered bundle.
    await rejectsWith(verify(swapped, { key: f.pubPath }), 1, /README\.txt does not say/);
    // With README.txt rewritten to match, --key decides, and the ignored bundled key is reported.
    const consistent = repack(swapped, (e) => {
      const m = parseManifest(dec.decode(e.get("manifest.json")!));
      const summary = summarizeLockfile(parseLockfile(e.get("mcp-lock.json")!, "l"));
      e.set(
        "README.txt",
        enc.encode(renderReadme({
          summary,
          signer: {
            type: "ed25519",
            fingerprint: f.key.publicKey.fingerprint,
            keySource: "k",
            keyOrigin: "flag",
          },
          lockfileSha256: bytesToHex(sha256(e.get("mcp-lock.json")!)),
          canonVersion: "v1",
          otherFiles: m.files.filter((x) =>
            !["mcp-lock.json", "mcp-lock.json.sig", "README.txt"].includes(x.name)
          ),
        })),
      );
      fixManifest(e);
    });
    const r = await verify(consistent, { key: f.pubPath });
    assert.equal(r.trustSource, "key-flag");
    assert.match(
      r.warnings[0],
      new RegExp(
        `public\\.key \\(${other.publicKey.fingerprint}\\) is not the key you passed; it was ignored`,
      ),
    );
    assert.match(bundleReportText(r), /warning: the bundle's public\.key/);
    // Without --key, the swapped-in key does not verify the signature.
    await rejectsWith(verify(consistent), 1, /the lockfile does not match the signature/);
  }));

test("a Sigstore-signed bundle needs the signer named, and verifies offline against it", async () => {
  const lockBytes = enc.encode(lockfileText(goldenV3WithTools()));
  const sig = enc.encode(encodeSigstoreEnvelope(JSON.stringify({ mediaType: "m" }), "v1"));
  const fake: SigstoreVerifyFn = (_b, _a, opts) =>
    Promise.resolve({
      identity: opts.policy!.identity!,
      issuer: opts.policy!.issuer,
      kind: "certificate" as const,
    });
  const flags = { identity: "release@example.com", issuer: "https://issuer.example" };
  const { zip } = await buildBundle({
    lockfile: { path: "mcp-lock.json", bytes: lockBytes },
    signature: { path: "mcp-lock.json.sig", bytes: sig },
    flags,
  }, { sigstoreVerify: fake });
  const r = await verify(zip, flags, { sigstoreVerify: fake });
  assert.equal(r.trustSource, "sigstore-identity");
  assert.deepEqual(r.verified.signer, {
    type: "sigstore",
    identity: "release@example.com",
    issuer: "https://issuer.example",
    signedAt: undefined,
  });
  await rejectsWith(verify(zip, {}, { sigstoreVerify: fake }), 2, /say who must have signed it/);
});
