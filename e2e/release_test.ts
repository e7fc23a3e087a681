/**
 * End-to-end: a release as the maintainer makes it and a user checks it, through the compiled binary.
 *
 * - `mcptrust keygen` makes the release key; scripts/release_assets.ts (make release's second half)
 *   archives, checksums and signs; `mcptrust verify-release` then accepts the release and refuses every
 *   tampering (file, SHA256SUMS, signature, key), with exit codes 0 / 1 / 2.
 * - scripts/release.sh itself for this machine's target: a real `bun build --compile`, whose binary runs,
 *   whose archive holds that same binary, and whose signed SHA256SUMS the new binary verifies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { ROOT, run, type RunResult, tempDir } from "./helpers.ts";

const DENO = join(ROOT, "tools/node_modules/.bin/deno");
const VERSION = "9.9.9";

function exec(file: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: 600_000,
      maxBuffer: 64 << 20,
    }, (err, stdout, stderr) => {
      const code = err
        ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 255)
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A signed release of three fake binaries, made by the release script with a key from `mcptrust keygen`. */
async function signedRelease() {
  const dir = tempDir("mcptrust-release-");
  const keys = tempDir("mcptrust-release-keys-");
  const kg = await run([
    "keygen",
    "--private",
    join(keys, "release.key"),
    "--public",
    join(keys, "release.pub"),
  ]);
  assert.equal(kg.code, 0, kg.stderr);
  for (const t of ["linux-x64", "darwin-arm64", "windows-x64"]) {
    writeFileSync(
      join(dir, `mcptrust-${VERSION}-${t}${t.startsWith("windows") ? ".exe" : ""}`),
      `bin ${t}\n`,
    );
  }
  const made = await exec(DENO, ["run", "-A", "scripts/release_assets.ts", dir, VERSION], {
    MCPTRUST_RELEASE_KEY: join(keys, "release.key"),
    MCPTRUST_RELEASE_SIGSTORE: "0",
    SOURCE_DATE_EPOCH: "1700000000",
  });
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /release: signed SHA256SUMS -> SHA256SUMS\.sig with sha256:[0-9a-f]{64}/);
  const files = readdirSync(dir).filter((f) => f.startsWith("mcptrust-")).sort();
  assert.equal(files.length, 6, files.join(" "));
  return {
    dir,
    pub: join(keys, "release.pub"),
    priv: join(keys, "release.key"),
    files,
    p: (f: string) => join(dir, f),
  };
}

test("verify-release accepts a signed release: every binary and archive, and a binary renamed after unpacking", async () => {
  const r = await signedRelease();
  const all = await run(["verify-release", "--key", r.pub, "--sums", r.p("SHA256SUMS"), ...r.files.map(r.p)]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^SHA256SUMS signature: verified \(Ed25519 key sha256:[0-9a-f]{64}, /);
  assert.match(all.stdout, /verify-release: OK \(6 file\(s\) match the signed SHA256SUMS\)\n$/);
  execFileSync("tar", ["-xzf", r.p(`mcptrust-${VERSION}-linux-x64.tar.gz`), "mcptrust"], { cwd: r.dir });
  const unpacked = await run([
    "verify-release",
    "--key",
    r.pub,
    "--sums",
    r.p("SHA256SUMS"),
    r.p("mcptrust"),
  ]);
  assert.equal(unpacked.code, 0, unpacked.stderr);
  assert.match(unpacked.stdout, /ok {4}.*\/mcptrust \(as mcptrust-9\.9\.9-linux-x64\) {2}sha256:/);
});

test("verify-release refuses tampering: a changed file, SHA256SUMS, signature, or another key (exit 1)", async () => {
  const r = await signedRelease();
  const sums = r.p("SHA256SUMS");
  const archive = r.p(`mcptrust-${VERSION}-darwin-arm64.tar.gz`);
  // A changed file: reported by name, the others still checked.
  const copy = join(tempDir(), `mcptrust-${VERSION}-windows-x64.exe`);
  writeFileSync(copy, "bin windows-x64, patched\n");
  const file = await run(["verify-release", "--key", r.pub, "--sums", sums, copy, archive]);
  assert.equal(file.code, 1);
  assert.match(file.stdout, /FAIL {2}.*windows-x64\.exe: its SHA-256 [0-9a-f]{64} is not the released/);
  assert.match(file.stdout, /ok {4}.*darwin-arm64\.tar\.gz/);
  assert.match(
    file.stdout,
    /verify-release: FAIL \(1 of 2 file\(s\) do not match the signed SHA256SUMS; do not run them\)/,
  );
  // SHA256SUMS changed to match a tampered file: the signature catches it, no file is trusted.
  const forgedDir = tempDir();
  const forged = join(forgedDir, "SHA256SUMS");
  const text = readFileSync(sums, "utf8");
  writeFileSync(
    forged,
    text.replace(/^[0-9a-f]{64}(?= {2}mcptrust-9\.9\.9-darwin-arm64\.tar\.gz$)/m, "0".repeat(64)),
  );
  copyFileSync(r.p("SHA256SUMS.sig"), join(forgedDir, "SHA256SUMS.sig"));
  const list = await run(["verify-release", "--key", r.pub, "--sums", forged, archive]);
  assert.equal(list.code, 1);
  assert.match(
    list.stderr,
    /mcptrust: SHA256SUMS is not signed by the release key: the signature does not verify/,
  );
  assert.equal(list.stdout, "");
  // A flipped signature bit, a truncated signature, another key.
  const sig = new Uint8Array(readFileSync(r.p("SHA256SUMS.sig")));
  const badSig = join(tempDir(), "bad.sig");
  writeFileSync(badSig, sig.map((b, i) => (i === 0 ? b ^ 1 : b)));
  const flipped = await run(["verify-release", "--key", r.pub, "--sums", sums, "--sig", badSig, archive]);
  assert.equal(flipped.code, 1);
  assert.match(flipped.stderr, /does not verify/);
  writeFileSync(badSig, sig.subarray(0, 32));
  const short = await run(["verify-release", "--key", r.pub, "--sums", sums, "--sig", badSig, archive]);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /holds 32 bytes; an Ed25519 signature is 64 raw bytes/);
  const other = tempDir();
  await run(["keygen", "--private", join(other, "k"), "--public", join(other, "k.pub")]);
  const wrongKey = await run(["verify-release", "--key", join(other, "k.pub"), "--sums", sums, archive]);
  assert.equal(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /does not verify with key sha256:/);
  // No signature beside SHA256SUMS: unsigned checksums are not trusted.
  const unsigned = tempDir();
  copyFileSync(sums, join(unsigned, "SHA256SUMS"));
  const noSig = await run([
    "verify-release",
    "--key",
    r.pub,
    "--sums",
    join(unsigned, "SHA256SUMS"),
    archive,
  ]);
  assert.equal(noSig.code, 1);
  assert.match(noSig.stderr, /SHA256SUMS is not signed: there is no .*SHA256SUMS\.sig; refusing to trust it/);
  // A file that is simply not part of the release.
  const stray = join(tempDir(), "stray");
  writeFileSync(stray, "x");
  const unlisted = await run(["verify-release", "--key", r.pub, "--sums", sums, stray]);
  assert.equal(unlisted.code, 1);
  assert.match(unlisted.stdout, /neither its name nor its SHA-256 .* is in SHA256SUMS/);
});

test("verify-release: unusable input is exit 2 with a next step", async () => {
  const r = await signedRelease();
  const sums = r.p("SHA256SUMS");
  const archive = r.p(`mcptrust-${VERSION}-linux-x64.tar.gz`);
  const cases: [string[], RegExp][] = [
    [["--key", r.pub, "--sums", sums, r.p("nope.tar.gz")], /cannot read .*nope\.tar\.gz: no such file/],
    [
      ["--key", r.pub, "--sums", sums, "--sig", r.p("nope.sig"), archive],
      /cannot read signature .*nope\.sig: no such file/,
    ],
    [["--key", r.pub, "--sums", r.p("NOPE"), archive], /cannot read SHA256SUMS .*NOPE: no such file/],
    [["--key", r.priv, "--sums", sums, archive], /this is a private key/],
    [["--key", r.pub, archive], /required option '--sums <file>' not specified/],
  ];
  for (const [args, re] of cases) {
    const res = await run(["verify-release", ...args]);
    assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
    assert.match(res.stderr, re);
  }
  // No --key: the release key built into this binary, or (none published yet) a clear refusal.
  const builtIn = await run(["verify-release", "--sums", sums, archive]);
  if (/no release key: this build of mcptrust embeds none/.test(builtIn.stderr)) {
    assert.equal(builtIn.code, 2);
    assert.match(builtIn.stderr, /next: pass the release public key with --key FILE/);
  } else {
    assert.equal(builtIn.code, 1, "a test key is never the release key");
  }
});

test("an unsigned release says so, and verify-release refuses it", async () => {
  const dir = tempDir("mcptrust-release-unsigned-");
  writeFileSync(join(dir, `mcptrust-${VERSION}-linux-x64`), "bin\n");
  const made = await exec(DENO, ["run", "-A", "scripts/release_assets.ts", dir, VERSION], {
    MCPTRUST_RELEASE_KEY: "",
    MCPTRUST_RELEASE_SIGSTORE: "0",
  });
  assert.equal(made.code, 0, made.stderr);
  assert.match(
    made.stdout,
    /not signed: no release key given \(MCPTRUST_RELEASE_KEY\); SHA256SUMS\.sig was not written/,
  );
  assert.equal(existsSync(join(dir, "SHA256SUMS.sig")), false);
  const keys = tempDir();
  await run(["keygen", "--private", join(keys, "k"), "--public", join(keys, "k.pub")]);
  const res = await run([
    "verify-release",
    "--key",
    join(keys, "k.pub"),
    "--sums",
    join(dir, "SHA256SUMS"),
    join(dir, `mcptrust-${VERSION}-linux-x64`),
  ]);
  assert.equal(res.code, 1);
  // A key file that is not a key stops the release before anything is written.
  writeFileSync(join(keys, "bad"), "nope");
  const bad = await exec(DENO, ["run", "-A", "scripts/release_assets.ts", dir, VERSION], {
    MCPTRUST_RELEASE_KEY: join(keys, "bad"),
    MCPTRUST_RELEASE_SIGSTORE: "0",
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /release: cannot use private key/);
});

test("scripts/release.sh for this machine's target: the binary runs, its archive holds it, the signed sums verify", async (t) => {
  const arch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : undefined;
  if (process.platform !== "linux" || !arch) {
    t.skip(`no release target for ${process.platform}-${process.arch} in this test`);
    return;
  }
  const target = `linux-${arch}`;
  const out = tempDir("mcptrust-release-sh-");
  const keys = tempDir();
  await run(["keygen", "--private", join(keys, "k"), "--public", join(keys, "k.pub")]);
  const res = await exec("bash", ["scripts/release.sh", VERSION, "abc1234"], {
    MCPTRUST_RELEASE_OUT: out,
    MCPTRUST_RELEASE_TARGETS: target,
    MCPTRUST_RELEASE_KEY: join(keys, "k"),
    MCPTRUST_RELEASE_SIGSTORE: "0",
  });
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(readdirSync(out).sort(), [
    "SHA256SUMS",
    "SHA256SUMS.sig",
    `mcptrust-${VERSION}-${target}`,
    `mcptrust-${VERSION}-${target}.tar.gz`,
  ]);
  const bin = join(out, `mcptrust-${VERSION}-${target}`);
  assert.equal(
    execFileSync(bin, ["--version"], { encoding: "utf8" }).trim(),
    `mcptrust ${VERSION} (commit abc1234)`,
  );
  const unpacked = tempDir();
  execFileSync("tar", ["-xzf", `${bin}.tar.gz`, "-C", unpacked], { cwd: out });
  assert.deepEqual(readFileSync(join(unpacked, "mcptrust")), readFileSync(bin));
  // The release's own binary verifies its release.
  const v = await exec(bin, [
    "verify-release",
    "--key",
    join(keys, "k.pub"),
    "--sums",
    join(out, "SHA256SUMS"),
    bin,
    `${bin}.tar.gz`,
    join(unpacked, "mcptrust"),
  ]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /verify-release: OK \(3 file\(s\)/);
});
