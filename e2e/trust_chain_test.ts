/**
 * End-to-end: the trust chain through the compiled binary (MCPTRUST_BIN, default dist/mcptrust), as a new
 * user runs it: keygen -> lock a real server -> sign -> verify -> bundle export (twice, same bytes) ->
 * bundle verify -> tampering and wrong keys fail -> broken inputs exit 2 naming the file. Plus the
 * determinism of bundle export across time zones, umasks, and the Deno library vs the Bun binary.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { unzipSync, zipSync } from "fflate";
import { buildBundle } from "../lib/bundle/export.ts";
import { fakeIdToken, startMockSigstore } from "../lib/crypto/sigstore_mock_support.ts";
import { BIN, ROOT, run, type RunResult, serverFilesystem, tempDir } from "./helpers.ts";

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");
const compat = (name: string) => join(ROOT, "testdata/vectors/mcptrust/backward_compat", name);

/** Runs the binary through `sh` with a given umask and TZ. */
function runWith(args: string[], opts: { cwd: string; umask: string; tz: string }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      ["-c", `umask ${opts.umask} && exec "$0" "$@"`, BIN, ...args],
      { cwd: opts.cwd, env: { ...process.env, TZ: opts.tz }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err
          ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 255)
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** A workspace with a key pair, a lockfile of the real filesystem server, its signature and evidence. */
async function signedWorkspace(): Promise<string> {
  const dir = tempDir();
  mkdirSync(join(dir, "served"));
  writeFileSync(join(dir, "served", "notes.txt"), "hello\n");
  const steps: [string, string[]][] = [
    ["keygen", ["keygen"]],
    ["lock", ["lock", "-o", "mcp-lock.json", "--", ...serverFilesystem(join(dir, "served"))]],
    ["sign", ["sign", "mcp-lock.json"]],
  ];
  for (const [what, args] of steps) {
    const r = await run(args, { cwd: dir });
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  }
  writeFileSync(join(dir, "policy.yaml"), "name: approval\nrules: []\n");
  writeFileSync(join(dir, "scan-report.json"), JSON.stringify({ reviewedBy: "auditor", ok: true }) + "\n");
  return dir;
}

test("trust chain lifecycle through the binary", async () => {
  const dir = await signedWorkspace();
  try {
    // keygen: private key 0600, public key 0644, standard PEM; a second keygen refuses to overwrite.
    assert.equal(statSync(join(dir, "mcptrust.key")).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "mcptrust.pub")).mode & 0o777, 0o644);
    assert.match(readFileSync(join(dir, "mcptrust.key"), "utf8"), /^-----BEGIN PRIVATE KEY-----\n/);
    const keyBefore = readFileSync(join(dir, "mcptrust.key"));
    const again = await run(["keygen"], { cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /refusing to overwrite the existing private key file mcptrust\.key/);
    assert.deepEqual(readFileSync(join(dir, "mcptrust.key")), keyBefore);

    // sign wrote the Go envelope; verify says who signed what.
    const lockBytes = readFileSync(join(dir, "mcp-lock.json"));
    assert.match(
      readFileSync(join(dir, "mcp-lock.json.sig"), "utf8"),
      /^\{"canon_version":"v1"\}\n[0-9a-f]{128}$/,
    );
    const v = await run(["verify", "mcp-lock.json", "--key", "mcptrust.pub"], { cwd: dir });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /verified: mcp-lock\.json matches its signature/);
    assert.match(v.stdout, new RegExp(`lockfile sha256: +${sha256(lockBytes)}`));
    assert.match(v.stdout, /Ed25519 key sha256:[0-9a-f]{64} \(mcptrust\.pub\)/);
    assert.match(v.stdout, /canonicalization v1/);
    const vj = await run(["verify", "-l", "mcp-lock.json", "--format", "json"], { cwd: dir });
    assert.equal(vj.code, 0, vj.stderr);
    const json = JSON.parse(vj.stdout);
    assert.equal(json.verified, true);
    assert.equal(json.lockfile.sha256, sha256(lockBytes));
    assert.equal(json.signer.type, "ed25519");

    // bundle export twice: identical bytes.
    const exportArgs = (out: string) => [
      "bundle",
      "export",
      "-o",
      out,
      "--key",
      "mcptrust.pub",
      "--policy",
      "policy.yaml",
      "--include",
      "scan-report.json",
    ];
    const e1 = await run(exportArgs("approval.zip"), { cwd: dir });
    assert.equal(e1.code, 0, e1.stderr);
    const e2 = await run(exportArgs("again.zip"), { cwd: dir });
    assert.equal(e2.code, 0, e2.stderr);
    const zip = readFileSync(join(dir, "approval.zip"));
    assert.equal(sha256(readFileSync(join(dir, "again.zip"))), sha256(zip));
    assert.match(e1.stdout, new RegExp(`sha256 ${sha256(zip)}`));
    assert.equal(statSync(join(dir, "approval.zip")).mode & 0o777, 0o644);

    // bundle verify: what was approved, checked against the key the auditor holds.
    const bv = await run(["bundle", "verify", "approval.zip", "--key", "mcptrust.pub"], { cwd: dir });
    assert.equal(bv.code, 0, bv.stderr);
    assert.match(bv.stdout, /bundle valid: approval\.zip/);
    assert.match(bv.stdout, /server: +secure-filesystem-server/);
    assert.match(bv.stdout, /HIGH +write_file/);
    assert.match(bv.stdout, /LOW +read_text_file/);
    assert.match(bv.stdout, /evidence\/scan-report\.json/);
    assert.doesNotMatch(bv.stdout, /WARNING/);
    // Without --key the bundled key is used, loudly.
    const self = await run(["bundle", "verify", "approval.zip", "--format", "json"], { cwd: dir });
    assert.equal(self.code, 0, self.stderr);
    assert.equal(JSON.parse(self.stdout).trust.source, "bundled-key");
    assert.match(self.stderr, /warning: .*INSIDE the bundle/);

    // Tamper with the lockfile inside the zip (unpacked and repacked with another ZIP writer).
    const files = unzipSync(new Uint8Array(zip));
    const lock = JSON.parse(new TextDecoder().decode(files["mcp-lock.json"]));
    lock.tools.write_file.risk_level = "LOW";
    files["mcp-lock.json"] = new TextEncoder().encode(JSON.stringify(lock, null, 2) + "\n");
    writeFileSync(join(dir, "tampered.zip"), zipSync(files));
    const bt = await run(["bundle", "verify", "tampered.zip", "--key", "mcptrust.pub"], { cwd: dir });
    assert.equal(bt.code, 1, bt.stdout + bt.stderr);
    assert.match(bt.stderr, /bundle tampered\.zip is invalid: "mcp-lock\.json" does not match its SHA-256/);

    // verify with another key fails (exit 1).
    assert.equal(
      (await run(["keygen", "--private", "other.key", "--public", "other.pub"], { cwd: dir })).code,
      0,
    );
    const wrong = await run(["verify", "--key", "other.pub"], { cwd: dir });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the lockfile does not match the signature/);
    assert.match(wrong.stderr, /next: /);
    const wrongBundle = await run(["bundle", "verify", "approval.zip", "--key", "other.pub"], { cwd: dir });
    assert.equal(wrongBundle.code, 1);

    // A truncated public key and a corrupted .sig are unusable input (exit 2), naming the file.
    writeFileSync(join(dir, "truncated.pub"), readFileSync(join(dir, "mcptrust.pub")).subarray(0, 10));
    const tk = await run(["verify", "--key", "truncated.pub"], { cwd: dir });
    assert.equal(tk.code, 2);
    assert.match(tk.stderr, /public key truncated\.pub/);
    const sig = readFileSync(join(dir, "mcp-lock.json.sig"), "utf8");
    writeFileSync(join(dir, "corrupt.sig"), sig.slice(0, -5) + "zzzzz");
    const cs = await run(["verify", "-s", "corrupt.sig"], { cwd: dir });
    assert.equal(cs.code, 2);
    assert.match(cs.stderr, /signature corrupt\.sig is malformed/);

    // Editing the lockfile after signing: verify fails (exit 1), bundle export refuses (exit 1).
    writeFileSync(join(dir, "mcp-lock.json"), JSON.stringify(lock, null, 2) + "\n");
    const edited = await run(["verify"], { cwd: dir });
    assert.equal(edited.code, 1);
    const refused = await run(["bundle", "export", "-o", "never.zip"], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to bundle a lockfile whose signature does not verify/);
    assert.throws(() => statSync(join(dir, "never.zip")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the binary verifies the Go tool's signatures and keys, and keys move both ways", async () => {
  const dir = tempDir();
  try {
    for (const sig of ["legacy_v1_sig.hex", "new_v1_sig.txt", "new_v2_sig.txt"]) {
      const r = await run([
        "verify",
        compat("legacy_v1_lock.json"),
        "-s",
        compat(sig),
        "--key",
        compat("test_public.key"),
      ]);
      assert.equal(r.code, 0, `${sig}: ${r.stderr}`);
    }
    // Signing with the Go private key here reproduces the Go signature byte for byte.
    copyFileSync(compat("legacy_v1_lock.json"), join(dir, "l.json"));
    const s = await run(["sign", "l.json", "--key", compat("test_private.key"), "--canonicalization", "v2"], {
      cwd: dir,
    });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(
      readFileSync(join(dir, "l.json.sig"), "utf8"),
      readFileSync(compat("new_v2_sig.txt"), "utf8"),
    );
    // A raw-format key made here signs; verification works with it.
    assert.equal((await run(["keygen", "--format", "raw"], { cwd: dir })).code, 0);
    assert.match(readFileSync(join(dir, "mcptrust.pub"), "utf8"), /^-----BEGIN ED25519 PUBLIC KEY-----\n/);
    assert.equal((await run(["sign", "-l", "l.json"], { cwd: dir })).code, 0);
    assert.equal((await run(["verify", "l.json"], { cwd: dir })).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bundle export is byte-identical across time zones, umasks, and the Deno library vs the binary", async () => {
  const dir = await signedWorkspace();
  try {
    const args = (out: string) => [
      "bundle",
      "export",
      "-o",
      out,
      "--key",
      "mcptrust.pub",
      "--policy",
      "policy.yaml",
      "--include",
      "scan-report.json",
    ];
    const runs = [
      { out: "utc-022.zip", tz: "UTC", umask: "022" },
      { out: "kiritimati-077.zip", tz: "Pacific/Kiritimati", umask: "077" },
      { out: "la-002.zip", tz: "America/Los_Angeles", umask: "002" },
    ];
    for (const r of runs) {
      const res = await runWith(args(r.out), { cwd: dir, tz: r.tz, umask: r.umask });
      assert.equal(res.code, 0, `${r.tz}: ${res.stderr}`);
    }
    const hashes = runs.map((r) => sha256(readFileSync(join(dir, r.out))));
    assert.equal(new Set(hashes).size, 1, JSON.stringify(hashes));

    // The library under Deno, with the binary's version in the manifest, gives the same bytes.
    const version = /^mcptrust (\S+) /.exec((await run(["--version"])).stdout)?.[1];
    assert.ok(version);
    const read = (name: string) => ({
      path: join(dir, name),
      bytes: new Uint8Array(readFileSync(join(dir, name))),
    });
    const lib = await buildBundle({
      lockfile: read("mcp-lock.json"),
      signature: read("mcp-lock.json.sig"),
      flags: { key: join(dir, "mcptrust.pub") },
      policy: read("policy.yaml"),
      includes: [read("scan-report.json")],
      toolVersion: version,
    });
    assert.equal(lib.sha256, hashes[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sign --sigstore and verify by certificate identity through the binary (local mock Sigstore)", async () => {
  const mock = await startMockSigstore();
  const dir = tempDir();
  try {
    const identity = "https://github.com/acme/tools/.github/workflows/lock.yml@refs/heads/main";
    const issuer = "https://token.actions.githubusercontent.com";
    copyFileSync(join(ROOT, "testdata/vectors/mcptrust/golden/mcp-lock.v3.json"), join(dir, "mcp-lock.json"));
    writeFileSync(join(dir, "root.json"), JSON.stringify(mock.trustedRoot));
    const signed = await run(
      // No --tsa-url: @sigstore/mock's TSA writes GeneralizedTime without trailing zeros in the fraction
      // (".5Z"), which @sigstore/core's parser rejects about one run in ten; Rekor's time is enough.
      ["sign", "--sigstore", "--fulcio-url", mock.url, "--rekor-url", mock.url],
      { cwd: dir, env: { SIGSTORE_ID_TOKEN: fakeIdToken({ sub: identity, iss: issuer }) } },
    );
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(
      readFileSync(join(dir, "mcp-lock.json.sig"), "utf8"),
      /^\{"canon_version":"v1","sig_type":"sigstore_bundle","bundle_encoding":"base64\+json"\}\n[A-Za-z0-9+\/=]+$/,
    );
    const who = [
      "--certificate-identity",
      identity,
      "--certificate-oidc-issuer",
      issuer,
      "--trusted-root",
      "root.json",
    ];
    const ok = await run(["verify", ...who], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Sigstore certificate for "https:\/\/github\.com\/acme\/tools/);
    // The Go tool's flag names work too.
    const go = await run([
      "verify",
      "--identity",
      identity,
      "--issuer",
      issuer,
      "--trusted-root",
      "root.json",
    ], { cwd: dir });
    assert.equal(go.code, 0, go.stderr);
    const other = await run([
      "verify",
      "--certificate-identity",
      "https://github.com/evil/x",
      "--certificate-oidc-issuer",
      issuer,
      "--trusted-root",
      "root.json",
    ], { cwd: dir });
    assert.equal(other.code, 1);
    const nobody = await run(["verify", "--trusted-root", "root.json"], { cwd: dir });
    assert.equal(nobody.code, 2);
    assert.match(nobody.stderr, /say who must have signed it/);
    const withKey = await run(["sign", "--sigstore", "--key", "x.key"], { cwd: dir });
    assert.equal(withKey.code, 2);
    assert.match(withKey.stderr, /--sigstore and --key cannot be used together/);

    // The bundle carries the Sigstore signature and verifies offline for the same identity.
    const ex = await run(["bundle", "export", "-o", "approval.zip", ...who], { cwd: dir });
    assert.equal(ex.code, 0, ex.stderr);
    const bv = await run(["bundle", "verify", "approval.zip", "--format", "json", ...who], { cwd: dir });
    assert.equal(bv.code, 0, bv.stderr);
    const report = JSON.parse(bv.stdout);
    assert.equal(report.trust.source, "sigstore-identity");
    assert.equal(report.signer.identity, identity);
  } finally {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
