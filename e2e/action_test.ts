/**
 * End-to-end: the GitHub Action's shell logic, run here as the runner runs it.
 *
 * 1. install.sh (the action's install step, and the standalone installer) against a local HTTPS server
 *    (a CA made at test time with the openssl CLI) serving a release made by lib/release/assets.ts with a
 *    test key: a good release installs; a tampered archive, a tampered SHA256SUMS, a bad, missing or
 *    foreign signature each refuse with a non-zero exit and nothing installed. Run with sh, dash and bash,
 *    and once with wget instead of curl.
 * 2. scripts/action/run.sh (the action's run step) driving dist/mcptrust against fixture servers: check,
 *    lock and policy modes, outputs, job summary, SARIF report, the server_command forms, and inputs that
 *    try to inject shell code.
 * 3. action.yml and the workflows: composite, no unpinned `uses:`, no input expanded inside a script.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { parse as parseYaml } from "yaml";
import { startHttpsServer, type TestServer, testTls } from "../lib/artifact/test_support.ts";
import { encodePrivateKey, encodePublicKey, generateKeyPair } from "../lib/crypto/keys.ts";
import { signSums } from "../lib/release/signature.ts";
import { writeReleaseAssets } from "../lib/release/assets.ts";
import { BIN, fixture, ROOT, tempDir } from "./helpers.ts";

const INSTALL_SH = join(ROOT, "install.sh");
const RUN_SH = join(ROOT, "scripts/action/run.sh");
const VERSION = "9.9.9";
const TARGET = "linux-x64";
const ARCHIVE = `mcptrust-${VERSION}-${TARGET}.tar.gz`;
const FAKE_BINARY = `#!/bin/sh\necho "mcptrust ${VERSION} (fake release binary)"\n`;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], env: Record<string, string>, cwd = ROOT): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err
        ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 255)
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const which = (name: string): string | undefined => {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
};
const SHELLS = ["sh", "dash", "bash"].filter((s) => which(s));

// --- a release server -----------------------------------------------------------------------------------

/** The release files as built, and what the server currently serves (tests tamper with the latter). */
interface Release {
  dir: string;
  pubPath: string;
  otherPubPath: string;
  caPath: string;
  built: Map<string, Uint8Array>;
  served: Map<string, Uint8Array>;
  server: TestServer;
  baseUrl: string;
  key: ReturnType<typeof generateKeyPair>;
}

let rel: Release | undefined;

async function release(): Promise<Release> {
  if (rel) return rel;
  const dir = tempDir("mcptrust-action-rel-");
  const key = generateKeyPair();
  writeFileSync(join(dir, "release.key"), encodePrivateKey(key), { mode: 0o600 });
  writeFileSync(join(dir, "release.pub"), encodePublicKey(key.publicKey));
  writeFileSync(join(dir, "other.pub"), encodePublicKey(generateKeyPair().publicKey));
  writeFileSync(join(dir, "ca.pem"), testTls().caPem);
  const out = join(dir, "out");
  mkdirSync(out);
  writeFileSync(join(out, `mcptrust-${VERSION}-${TARGET}`), FAKE_BINARY, { mode: 0o755 });
  writeFileSync(join(out, `mcptrust-${VERSION}-darwin-arm64`), "other target\n", { mode: 0o755 });
  await writeReleaseAssets({
    dir: out,
    version: VERSION,
    mtime: 1_700_000_000,
    keyPath: join(dir, "release.key"),
  });
  const built = new Map(readdirSync(out).map((f) => [f, new Uint8Array(readFileSync(join(out, f)))]));
  const served = new Map(built);
  const server = await startHttpsServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "").replace(`/dl/v${VERSION}/`, ""));
    const body = served.get(name);
    if (body === undefined) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(
      body,
    );
  });
  rel = {
    dir,
    pubPath: join(dir, "release.pub"),
    otherPubPath: join(dir, "other.pub"),
    caPath: join(dir, "ca.pem"),
    built,
    served,
    server,
    baseUrl: `${server.origin()}/dl/v${VERSION}`,
    key,
  };
  return rel;
}

function resetServed(r: Release): void {
  r.served.clear();
  for (const [k, v] of r.built) r.served.set(k, v);
}

test.after(async () => {
  if (rel) {
    await rel.server.close();
    rmSync(rel.dir, { recursive: true, force: true });
  }
});

function installEnv(r: Release, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir("mcptrust-home-"),
    CURL_CA_BUNDLE: r.caPath, // curl's CA file: trust the test CA only
    SSL_CERT_FILE: r.caPath,
    ...extra,
  };
}

/** Runs install.sh with `shell` into a fresh bin dir; returns the result and the bin dir. */
async function install(shell: string, r: Release, extra: string[] = [], env: Record<string, string> = {}) {
  const binDir = join(tempDir("mcptrust-install-"), "bin");
  const res = await exec(shell, [
    INSTALL_SH,
    "--version",
    VERSION,
    "--target",
    TARGET,
    "--bin-dir",
    binDir,
    "--base-url",
    r.baseUrl,
    "--key",
    r.pubPath,
    ...extra,
  ], installEnv(r, env));
  return { ...res, binDir };
}

/** Nothing was installed: the bin dir holds no file (not even a staged one). */
function assertNothingInstalled(binDir: string, res: Ran): void {
  const left = existsSync(binDir) ? readdirSync(binDir) : [];
  assert.deepEqual(left, [], `installed despite failure: ${left}\n${res.stderr}`);
}

for (const shell of SHELLS) {
  test(`install.sh (${shell}): a good release installs the verified binary`, async () => {
    const r = await release();
    resetServed(r);
    const res = await install(shell, r);
    assert.equal(res.code, 0, res.stderr);
    const installed = join(res.binDir, "mcptrust");
    assert.equal(res.stdout.trim(), installed);
    assert.equal(readFileSync(installed, "utf8"), FAKE_BINARY);
    assert.equal(statSync(installed).mode & 0o777, 0o755);
    assert.match(res.stderr, /SHA256SUMS signature and checksums verified/);
    assert.match(execFileSync(installed, { encoding: "utf8" }), /fake release binary/);
    assert.deepEqual(readdirSync(res.binDir), ["mcptrust"], "no temp file left beside it");
  });
}

/** Each way a release can be tampered with: what the server serves instead, and the refusal expected. */
const TAMPERED: [string, (r: Release) => void, number, RegExp][] = [
  [
    "a tampered archive",
    (r) => {
      const a = Uint8Array.from(r.built.get(ARCHIVE)!);
      a[a.length - 20] ^= 0xff;
      r.served.set(ARCHIVE, a);
    },
    1,
    /does not match SHA256SUMS/,
  ],
  [
    "an archive swapped for another target's",
    (r) => {
      r.served.set(ARCHIVE, r.built.get(`mcptrust-${VERSION}-darwin-arm64.tar.gz`)!);
    },
    1,
    /does not match SHA256SUMS/,
  ],
  [
    "a tampered SHA256SUMS (the archive's hash replaced by the swapped archive's)",
    (r) => {
      const sums = new TextDecoder().decode(r.built.get("SHA256SUMS")!);
      const theirs = /^([0-9a-f]{64}) {2}mcptrust-9\.9\.9-darwin-arm64\.tar\.gz$/m.exec(sums)![1];
      const forged = sums.replace(/^[0-9a-f]{64}(?= {2}mcptrust-9\.9\.9-linux-x64\.tar\.gz$)/m, theirs);
      assert.notEqual(forged, sums);
      r.served.set("SHA256SUMS", new TextEncoder().encode(forged));
      r.served.set(ARCHIVE, r.built.get(`mcptrust-${VERSION}-darwin-arm64.tar.gz`)!);
    },
    1,
    /not signed by the release key/,
  ],
  [
    "a bad signature (one bit flipped)",
    (r) => {
      const s = Uint8Array.from(r.built.get("SHA256SUMS.sig")!);
      s[5] ^= 1;
      r.served.set("SHA256SUMS.sig", s);
    },
    1,
    /not signed by the release key/,
  ],
  [
    "a missing signature (404)",
    (r) => {
      r.served.delete("SHA256SUMS.sig");
    },
    1,
    /release is unsigned or the download failed; refusing to install/,
  ],
  [
    "a signature that is not 64 bytes",
    (r) => {
      r.served.set("SHA256SUMS.sig", new TextEncoder().encode("0".repeat(128)));
    },
    1,
    /not a 64-byte Ed25519 signature/,
  ],
  [
    "a SHA256SUMS signed by another key",
    (r) => {
      const other = generateKeyPair();
      r.served.set("SHA256SUMS.sig", signSums(r.built.get("SHA256SUMS")!, other));
    },
    1,
    /not signed by the release key/,
  ],
  [
    "a signed SHA256SUMS whose binary entry does not match the binary in the archive",
    (r) => {
      const sums = new TextDecoder().decode(r.built.get("SHA256SUMS")!)
        .replace(/^[0-9a-f]{64}(?= {2}mcptrust-9\.9\.9-linux-x64$)/m, "0".repeat(64));
      const bytes = new TextEncoder().encode(sums);
      r.served.set("SHA256SUMS", bytes);
      r.served.set("SHA256SUMS.sig", signSums(bytes, r.key));
    },
    1,
    /does not match mcptrust-9\.9\.9-linux-x64 in SHA256SUMS/,
  ],
  [
    "a release without the archive (404)",
    (r) => {
      r.served.delete(ARCHIVE);
    },
    2,
    /cannot download/,
  ],
];

for (const [what, tamper, code, message] of TAMPERED) {
  test(`install.sh refuses ${what}: exit ${code}, nothing installed`, async () => {
    const r = await release();
    resetServed(r);
    tamper(r);
    try {
      for (const shell of SHELLS) {
        const res = await install(shell, r);
        assert.equal(res.code, code, `${shell}: ${res.stderr}`);
        assert.match(res.stderr, message, shell);
        assert.equal(res.stdout, "");
        assertNothingInstalled(res.binDir, res);
      }
    } finally {
      resetServed(r);
    }
  });
}

test("install.sh refuses the wrong key, plain HTTP, an unknown target and a version with a path in it", async () => {
  const r = await release();
  resetServed(r);
  const wrongKey = await install("sh", r, ["--key", r.otherPubPath]);
  assert.equal(wrongKey.code, 1, wrongKey.stderr);
  assert.match(wrongKey.stderr, /not signed by the release key/);
  assertNothingInstalled(wrongKey.binDir, wrongKey);
  const http = await install("sh", r, ["--base-url", r.baseUrl.replace("https:", "http:")]);
  assert.equal(http.code, 2);
  assert.match(http.stderr, /refusing to download over anything but HTTPS/);
  const target = await install("sh", r, ["--target", "plan9-mips"]);
  assert.equal(target.code, 2);
  assert.match(target.stderr, /no mcptrust release for target 'plan9-mips'/);
  const version = await install("sh", r, ["--version", "1.0/../../x"]);
  assert.equal(version.code, 2);
  assert.match(version.stderr, /not a version/);
  // Without --key, this source embeds no release key yet: it refuses rather than install unverified.
  const binDir = join(tempDir(), "bin");
  const noKey = await exec("sh", [
    INSTALL_SH,
    "--version",
    VERSION,
    "--target",
    TARGET,
    "--bin-dir",
    binDir,
    "--base-url",
    r.baseUrl,
  ], installEnv(r));
  const embedsKey = /MCPTRUST_RELEASE_PUBKEY='-----BEGIN/.test(readFileSync(INSTALL_SH, "utf8"));
  if (!embedsKey) {
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /embeds no release key/);
  } else {
    assert.equal(noKey.code, 1, "the test release is not signed by the real release key");
  }
  assertNothingInstalled(binDir, noKey);
});

test("install.sh: an OpenSSL without Ed25519 verification is refused up front", async () => {
  const r = await release();
  resetServed(r);
  const fakeDir = tempDir("mcptrust-fake-openssl-");
  writeFileSync(join(fakeDir, "openssl"), "#!/bin/sh\necho 'LibreSSL 2.8.3'\n", { mode: 0o755 });
  const res = await install("sh", r, [], { OPENSSL: join(fakeDir, "openssl") });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /needs OpenSSL >= 1\.1\.1 \(pkeyutl -rawin\)/);
  assertNothingInstalled(res.binDir, res);
});

test("install.sh with wget instead of curl: installs a good release, refuses a tampered one", async (t) => {
  const wget = which("wget");
  if (!wget) {
    t.skip("wget is not installed");
    return;
  }
  const r = await release();
  resetServed(r);
  // A PATH with the tools install.sh uses, but no curl.
  const tools = tempDir("mcptrust-nocurl-");
  for (
    const tool of [
      "sh",
      "wget",
      "openssl",
      "tar",
      "gzip",
      "awk",
      "sed",
      "grep",
      "tr",
      "wc",
      "head",
      "mktemp",
      "rm",
      "mkdir",
      "cp",
      "chmod",
      "mv",
      "cat",
      "uname",
    ]
  ) {
    const p = which(tool);
    if (p) symlinkSync(p, join(tools, tool));
  }
  assert.equal(existsSync(join(tools, "curl")), false);
  // GnuTLS wget reads its CA file from a wgetrc.
  writeFileSync(join(tools, "wgetrc"), `ca_certificate = ${r.caPath}\n`);
  const env = { PATH: tools, WGETRC: join(tools, "wgetrc") };
  const good = await install(join(tools, "sh"), r, [], env);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(readFileSync(join(good.binDir, "mcptrust"), "utf8"), FAKE_BINARY);
  const s = Uint8Array.from(r.built.get("SHA256SUMS.sig")!);
  s[0] ^= 1;
  r.served.set("SHA256SUMS.sig", s);
  try {
    const bad = await install(join(tools, "sh"), r, [], env);
    assert.equal(bad.code, 1, bad.stderr);
    assertNothingInstalled(bad.binDir, bad);
  } finally {
    resetServed(r);
  }
});

// --- scripts/action/run.sh ------------------------------------------------------------------------------

interface ActionRun extends Ran {
  outputs: Record<string, string>;
  summary: string;
}

/** Runs the action's run step as the runner would: inputs in the environment, output files in a temp dir. */
async function runAction(inputs: Record<string, string>, shell = "sh", cwd?: string): Promise<ActionRun> {
  const dir = tempDir("mcptrust-action-");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? dir,
    MCPTRUST_BIN: BIN,
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
    RUNNER_TEMP: dir,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const res = await exec(shell, [RUN_SH], env, cwd ?? dir);
  const outputs: Record<string, string> = {};
  if (existsSync(env.GITHUB_OUTPUT)) {
    for (const line of readFileSync(env.GITHUB_OUTPUT, "utf8").split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) outputs[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  const summary = existsSync(env.GITHUB_STEP_SUMMARY) ? readFileSync(env.GITHUB_STEP_SUMMARY, "utf8") : "";
  return { ...res, outputs, summary };
}

/** A lockfile of the fixture server `base`, written by dist/mcptrust. */
async function baseLock(): Promise<string> {
  const lock = join(tempDir("mcptrust-action-lock-"), "mcp-lock.json");
  const r = await runAction({ mode: "lock", lockfile: lock, server_command: fixture("base").join("\n") });
  assert.equal(r.code, 0, r.stderr);
  return lock;
}

test("run.sh check: a clean server passes; outputs, SARIF report and job summary", async () => {
  const lock = await baseLock();
  for (const shell of SHELLS) {
    const r = await runAction(
      { mode: "check", lockfile: lock, server_command: fixture("base").join("\n") },
      shell,
    );
    assert.equal(r.code, 0, `${shell}: ${r.stderr}`);
    assert.equal(r.outputs.result, "pass");
    assert.equal(r.outputs.drift_count, "0");
    assert.match(r.outputs.report_path, /mcptrust-report\/check\.sarif$/);
    const sarif = JSON.parse(readFileSync(r.outputs.report_path, "utf8"));
    assert.equal(sarif.version, "2.1.0");
    assert.deepEqual(sarif.runs[0].results, []);
    assert.ok(r.summary.startsWith("### mcptrust check: ✅ PASS\n"), r.summary);
  }
});

test("run.sh check: drift fails the step (exit 1) with the count, a SARIF result and a summary table", async () => {
  const lock = await baseLock();
  const yamlList = fixture("drift_tool_added").map((a) => `- ${a}`).join("\n");
  const r = await runAction({ mode: "check", lockfile: lock, server_command: yamlList });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.outputs.result, "fail");
  assert.equal(r.outputs.drift_count, "1");
  const sarif = JSON.parse(readFileSync(r.outputs.report_path, "utf8"));
  assert.deepEqual(sarif.runs[0].results.map((x: { ruleId: string; level: string }) => [x.ruleId, x.level]), [
    ["MCPTRUST/TOOL_ADDED", "error"],
  ]);
  assert.ok(r.summary.startsWith("### mcptrust check: ❌ FAIL\n"), r.summary);
  assert.match(r.summary, /\| 🔴 critical \| TOOL_ADDED \|/);
  assert.match(r.stderr, /::error title=mcptrust::the server drifted/);
  // fail_on: a moderate drift passes at the default threshold (still counted) and fails at moderate.
  const reworded = fixture("drift_description_reworded").join("\n");
  const below = await runAction({ mode: "check", lockfile: lock, server_command: reworded });
  assert.deepEqual(
    [below.code, below.outputs.result, below.outputs.drift_count],
    [0, "pass", "1"],
    below.stderr,
  );
  assert.match(below.summary, /\| 🟠 moderate \| TOOL_CHANGED \| read\\_file \|/);
  const at = await runAction({
    mode: "check",
    lockfile: lock,
    fail_on: "moderate",
    server_command: reworded,
  });
  assert.deepEqual([at.code, at.outputs.result, at.outputs.drift_count], [1, "fail", "1"], at.stderr);
});

test("run.sh: every server_command form gives the same argv (lines, YAML list, flow list, one line)", async () => {
  const lock = await baseLock();
  const argv = fixture("base");
  const forms = [
    argv.join("\n"),
    `\n  ${argv.join("\n  ")}\n\n`,
    argv.map((a) => `- ${a}`).join("\n"),
    argv.map((a) => `- '${a}'`).join("\n"),
    argv.map((a) => `  - "${a}"`).join("\n"),
    `[${argv.join(", ")}]`,
    `[${argv.map((a) => `'${a}'`).join(",")}]`,
    argv.join(" "),
    `  ${argv.join("   ")}  `,
  ];
  for (const form of forms) {
    for (const shell of SHELLS) {
      const r = await runAction({ mode: "check", lockfile: lock, server_command: form }, shell);
      assert.equal(r.code, 0, `${shell} ${JSON.stringify(form)}: ${r.stderr}`);
      assert.equal(r.outputs.result, "pass");
    }
  }
});

test("run.sh: inputs are data, never shell code", async () => {
  const lock = await baseLock();
  const dir = tempDir("mcptrust-inject-");
  const canary = (n: string) => join(dir, n);
  const argv = fixture("base");
  const attempts: Record<string, string>[] = [
    // An argument that looks like a command substitution is passed as that text.
    { mode: "check", lockfile: lock, server_command: [...argv, `$(touch ${canary("a")})`].join("\n") },
    { mode: "check", lockfile: lock, server_command: `${argv.join(" ")} ;touch ${canary("b")}` },
    { mode: "check", lockfile: `$(touch ${canary("c")})`, server_command: argv.join("\n") },
    {
      mode: "check",
      lockfile: lock,
      fail_on: `critical; touch ${canary("d")}`,
      server_command: argv.join("\n"),
    },
    { mode: "policy", policy: `$(touch ${canary("e")})`, server_command: argv.join("\n") },
    { mode: "check", lockfile: lock, server_command: [...argv, "`touch " + canary("f") + "`"].join("\n") },
  ];
  for (const inputs of attempts) {
    for (const shell of SHELLS) {
      const r = await runAction(inputs, shell);
      assert.notEqual(r.code, 0, `${shell} ${JSON.stringify(inputs)} ran: ${r.stderr}`);
      assert.equal(r.outputs.result, "error");
    }
  }
  assert.deepEqual(readdirSync(dir), [], "no injected command ran");
  // The literal reached the server as an argument (the fixture names it when it refuses it).
  const shown = await runAction(attempts[0]);
  assert.match(shown.stderr, /unexpected argument: \$\(touch /);
});

test("run.sh: quotes in the one-line form are refused (ambiguous), not guessed", async () => {
  const r = await runAction({ mode: "check", server_command: `node "my server.js"` });
  assert.equal(r.code, 2);
  assert.equal(r.outputs.result, "error");
  assert.match(
    r.stderr,
    /::error title=mcptrust::server_command: quotes and backslashes are not interpreted/,
  );
  const empty = await runAction({ mode: "check", server_command: "  \n  " });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /server_command: empty/);
});

test("run.sh lock: writes the lockfile (report_path), refuses drift with a count", async () => {
  const dir = tempDir("mcptrust-action-lockmode-");
  const lock = join(dir, "servers", "fs.lock.json");
  mkdirSync(join(dir, "servers"));
  const first = await runAction({ mode: "lock", lockfile: lock, server_command: fixture("base").join("\n") });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual([first.outputs.result, first.outputs.drift_count, first.outputs.report_path], [
    "pass",
    "0",
    lock,
  ]);
  assert.equal(JSON.parse(readFileSync(lock, "utf8")).lockFileVersion, "3.0");
  assert.ok(first.summary.startsWith("### mcptrust lock: ✅ PASS\n"));
  const before = readFileSync(lock, "utf8");
  const drift = await runAction({
    mode: "lock",
    lockfile: lock,
    server_command: fixture("drift_tool_added").join("\n"),
  });
  assert.equal(drift.code, 1, drift.stderr);
  assert.deepEqual([drift.outputs.result, drift.outputs.drift_count], ["fail", "1"]);
  assert.equal(readFileSync(lock, "utf8"), before, "a drifted server does not rewrite the lockfile");
  assert.ok(drift.summary.startsWith("### mcptrust lock: ❌ FAIL\n"));
  assert.match(drift.summary, /TOOL_ADDED: Tool \[exec_shell\] has been added/);
});

test("run.sh policy: a preset over the server; a bad policy file is an error", async () => {
  const ok = await runAction({ mode: "policy", server_command: fixture("base").join("\n") });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.outputs.result, "pass");
  assert.match(ok.summary, /^### mcptrust policy: ✅ PASS\n\n```+\n/);
  assert.match(readFileSync(ok.outputs.report_path, "utf8"), /baseline/i);
  const missing = await runAction({
    mode: "policy",
    policy: "no-such-policy.yaml",
    server_command: fixture("base").join("\n"),
  });
  assert.equal(missing.code, 2);
  assert.equal(missing.outputs.result, "error");
  assert.match(missing.summary, /^### mcptrust policy: ⚠️ ERROR \(exit 2\)/);
});

test("run.sh: a server that does not start is an error (exit 2), with its message in the summary", async () => {
  const lock = await baseLock();
  const r = await runAction({
    mode: "check",
    lockfile: lock,
    server_command: fixture("crash_on_start").join("\n"),
  });
  assert.equal(r.code, 2);
  assert.equal(r.outputs.result, "error");
  assert.equal(r.outputs.drift_count, "");
  assert.match(r.summary, /### mcptrust check: ⚠️ ERROR \(exit 2\)\n\n```+\nmcptrust: /);
  const badMode = await runAction({ mode: "deploy", server_command: "x" });
  assert.equal(badMode.code, 2);
  assert.match(badMode.stderr, /mode must be lock, check or policy/);
});

// --- action.yml and workflows ---------------------------------------------------------------------------

/** Every `uses:` value in a YAML document, anywhere. */
function usesOf(doc: unknown): string[] {
  if (Array.isArray(doc)) return doc.flatMap(usesOf);
  if (doc && typeof doc === "object") {
    return Object.entries(doc).flatMap(([k, v]) => (k === "uses" && typeof v === "string" ? [v] : usesOf(v)));
  }
  return [];
}

test("action.yml: composite, the promised inputs and outputs, no unpinned action, no input inside a script", () => {
  const text = readFileSync(join(ROOT, "action.yml"), "utf8");
  const action = parseYaml(text);
  assert.equal(action.runs.using, "composite");
  for (const input of ["mode", "lockfile", "fail_on", "policy", "server_command", "version"]) {
    assert.ok(action.inputs[input], input);
  }
  assert.deepEqual(Object.keys(action.outputs).sort(), ["drift_count", "report_path", "result"]);
  for (const u of usesOf(action)) assert.match(u, /@[0-9a-f]{40}$/, `unpinned: ${u}`);
  for (const step of action.runs.steps) {
    // Expressions are expanded into the script text before the shell runs: only env may carry inputs.
    if (step.run) assert.doesNotMatch(step.run, /\$\{\{/, `expression inside run: ${step.run}`);
  }
  const steps = action.runs.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
  assert.match(steps, /sh "\$GITHUB_ACTION_PATH\/install\.sh"/, "installs with the verifying script");
  assert.match(steps, /sh "\$GITHUB_ACTION_PATH\/scripts\/action\/run\.sh"/);
});

test("workflows: every uses: is pinned to a full commit SHA, and jobs get least privilege", () => {
  const dir = join(ROOT, ".github/workflows");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
  assert.deepEqual(files.sort(), ["ci.yml", "release.yml"]);
  for (const f of files) {
    const wf = parseYaml(readFileSync(join(dir, f), "utf8"));
    const uses = usesOf(wf);
    assert.ok(uses.length > 0, f);
    for (const u of uses) assert.match(u, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/, `${f}: ${u}`);
    assert.deepEqual(wf.permissions, { contents: "read" }, `${f}: default token is read-only`);
  }
});
