/**
 * End-to-end: `mcptrust run --lock` through the compiled binary, with no node, npm or npx on PATH, on the
 * fixture package tree (testdata/run/packages.ts) served by the local HTTPS registry: the lockfile is
 * locked from the pinned server itself, signed with keygen/sign, and run with --key; the official SDK
 * client lists and calls the tools through the proxy; the sandbox stops writes outside the allowed paths
 * and network connections; every refusal says what and why with its exit code; no install script ever
 * runs.
 *
 * Sandbox tests need bubblewrap (`bwrap`; .ci/run installs it). Without it they fail, naming what to
 * install, unless MCPTRUST_NO_SANDBOX_TESTS=1 (then they are skipped with that reason).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { testTls } from "../lib/artifact/test_support.ts";
import { findBwrap } from "../lib/runner/sandbox.ts";
import {
  type FixtureRegistry,
  packTarball,
  pinOnlyLockfile,
  startFixtureRegistry,
} from "../testdata/run/packages.ts";
import { startFixtureRegistry as startPinRegistry } from "../testdata/registry/fixture_registry.ts";
import { pinFixtureVersions } from "../testdata/registry/pin_fixture.ts";
import { BIN, run, type RunResult, tempDir } from "./helpers.ts";

const DIR = tempDir("mcptrust-run-");
const MARKER = join(DIR, "INSTALL-SCRIPT-RAN");
const CA = join(DIR, "ca.pem");
const LOCK = join(DIR, "mcp-lock.json");
const PUB = join(DIR, "mcptrust.pub");
const BWRAP = findBwrap(process.env.PATH);
/** A PATH without node, npm or npx: only bwrap (when installed), linked into a directory of its own. */
const NO_NODE_PATH = join(DIR, "bin");
const SECRET = "SECRET_TOKEN_e2e";
const DEP_UTIL = "node_modules/@mcptrust-fixture/dep/node_modules/mcptrust-fixture-util";

const sandboxSkip = process.env.MCPTRUST_NO_SANDBOX_TESTS === "1"
  ? "MCPTRUST_NO_SANDBOX_TESTS=1: sandbox tests skipped"
  : false;
if (sandboxSkip) console.log(`run_test: ${sandboxSkip}`);

let fx: FixtureRegistry;
let cacheN = 0;

/** Registry flags, and a cache of its own per call unless given. */
function net(cache = join(DIR, `cache-${++cacheN}`)): string[] {
  return ["--cache-dir", cache, "--allow-host", "localhost", "--ca", CA];
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: NO_NODE_PATH, [SECRET]: "s3cret", ...extra };
}

/** Runs the binary with node, npm and npx off PATH. */
function mcptrust(args: string[], extra: Record<string, string> = {}): Promise<RunResult> {
  return run(args, { cwd: DIR, env: env(extra) });
}

/** Writes a lockfile variant (unsigned): the approved one with its artifact pin changed by `edit`. */
function variant(name: string, edit: (pin: Record<string, unknown>) => void): string {
  const doc = JSON.parse(readFileSync(LOCK, "utf8"));
  edit(doc.server.artifact);
  const path = join(DIR, `${name}.json`);
  writeFileSync(path, JSON.stringify(doc, null, 2) + "\n");
  return path;
}

function noInstallScriptRan() {
  assert.ok(
    !existsSync(MARKER),
    `an install script ran: ${existsSync(MARKER) ? readFileSync(MARKER, "utf8") : ""}`,
  );
}

before(async () => {
  mkdirSync(NO_NODE_PATH);
  if (BWRAP) symlinkSync(BWRAP, join(NO_NODE_PATH, "bwrap"));
  for (const tool of ["node", "npm", "npx"]) {
    assert.ok(!existsSync(join(NO_NODE_PATH, tool)), `${tool} must not be on the test PATH`);
  }
  writeFileSync(CA, testTls().caPem);
  fx = await startFixtureRegistry(MARKER);
  // The approved lockfile, as a user makes one: lock the pinned server (run by mcptrust from a pin-only
  // lockfile, no proxy), add the pin, sign it.
  writeFileSync(join(DIR, "pin.json"), JSON.stringify(pinOnlyLockfile(fx.pin), null, 2) + "\n");
  const serverArgv = [
    BIN,
    "run",
    "--lock",
    join(DIR, "pin.json"),
    "--no-proxy",
    "--sandbox",
    "off",
    ...net(),
  ];
  const locked = await mcptrust(["lock", "-o", LOCK, "--", ...serverArgv]);
  assert.equal(locked.code, 0, locked.stderr);
  const doc = JSON.parse(readFileSync(LOCK, "utf8"));
  assert.deepEqual(Object.keys(doc.tools).sort(), ["argv", "connect", "env", "greet", "write_file"]);
  doc.server.artifact = fx.pin;
  writeFileSync(LOCK, JSON.stringify(doc, null, 2) + "\n");
  for (const args of [["keygen"], ["sign", LOCK]]) {
    const r = await mcptrust(args);
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
  }
});

after(async () => {
  await fx?.close();
  noInstallScriptRan();
  rmSync(DIR, { recursive: true, force: true });
});

interface Host {
  client: Client;
  stderr: () => string;
}

async function connect(args: string[]): Promise<Host> {
  const transport = new StdioClientTransport({ command: BIN, args, cwd: DIR, env: env(), stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (c: Uint8Array) => stderr += new TextDecoder().decode(c));
  const client = new Client({ name: "e2e-host", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

async function withHost<T>(args: string[], fn: (h: Host) => Promise<T>): Promise<T> {
  const h = await connect(args);
  try {
    return await fn(h);
  } finally {
    await h.client.close();
  }
}

// deno-lint-ignore no-explicit-any
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  return await client.callTool({ name, arguments: args });
}

// deno-lint-ignore no-explicit-any
const textOf = (r: any): string => r.content[0].text;

test("signed lockfile, --key: the SDK client lists and calls the tools through the proxy; no node on PATH", async () => {
  const args = ["run", "--lock", LOCK, "--key", PUB, ...net()];
  await withHost(args, async ({ client, stderr }) => {
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(tools, ["argv", "connect", "env", "greet", "write_file"]);
    // The pinned tree, laid out as pinned: the server's util 1.0.0 and the dependency's nested util 2.0.0.
    assert.equal(
      textOf(await call(client, "greet", { name: "Ada" })),
      "Hello, Ada! (util 1.0.0, dep's util 2.0.0)",
    );
    assert.deepEqual(JSON.parse(textOf(await call(client, "argv"))), ["--pinned", "a b"]);
    // Only the allowlist reaches the server; our secret does not.
    const names: string[] = JSON.parse(textOf(await call(client, "env")));
    assert.ok(names.includes("PATH") && names.includes("HOME") && names.includes("BUN_BE_BUN"), names.join());
    assert.ok(!names.includes(SECRET), names.join());
    // The proxy enforces the lockfile: arguments are checked against the approved schema.
    await assert.rejects(call(client, "greet", { name: 42 }), /MCPTRUST_INVALID_ARGUMENTS/);
    const err = stderr();
    assert.match(
      err,
      /mcptrust: verified mcptrust-fixture-server@1\.0\.0 and 3 dependencies \(4 downloaded\), 1 optional skipped; lockfile signature verified \(ed25519 key /,
    );
    assert.match(err, /"event":"proxy\.start"/);
  });
  noInstallScriptRan();
});

test("--env passes a named variable; --no-proxy runs bare and the server's exit code is ours", async () => {
  const cache = join(DIR, "cache-shared");
  const r = await mcptrust([
    "run",
    "--lock",
    LOCK,
    "--key",
    PUB,
    "--no-proxy",
    ...net(cache),
    "--",
    "--exit",
    "7",
  ]);
  assert.equal(r.code, 7, r.stderr);
  await withHost(
    ["run", "--lock", LOCK, "--key", PUB, "--no-proxy", "--env", SECRET, "--env", "MODE=ro", ...net(cache)],
    async ({ client, stderr }) => {
      const names: string[] = JSON.parse(textOf(await call(client, "env")));
      assert.ok(names.includes(SECRET) && names.includes("MODE"), names.join());
      assert.doesNotMatch(stderr(), /proxy\.start/);
      assert.match(stderr(), /\(cached tree, checked\)/);
    },
  );
});

test("sandbox: writes outside --allow-write fail, inside succeed; the network is cut unless --allow-net", {
  skip: sandboxSkip,
}, async () => {
  assert.ok(
    BWRAP,
    "bubblewrap (bwrap) is not on PATH: install it (apt-get install -y bubblewrap; .ci/run does), " +
      "or set MCPTRUST_NO_SANDBOX_TESTS=1 to skip the sandbox tests",
  );
  const allowed = join(DIR, "allowed");
  mkdirSync(allowed, { recursive: true });
  const cache = join(DIR, "cache-sandbox");
  const base = ["run", "--lock", LOCK, "--key", PUB, "--sandbox", "on", ...net(cache)];
  const port = fx.registry.server.port;
  await withHost([...base, "--allow-write", allowed], async ({ client, stderr }) => {
    assert.match(
      stderr(),
      /mcptrust: sandbox: bubblewrap \(.*\): package tree and runtime read-only, network cut, writable: /,
    );
    const inside = await call(client, "write_file", { path: join(allowed, "ok.txt"), text: "ok" });
    assert.equal(inside.isError ?? false, false, textOf(inside));
    assert.equal(readFileSync(join(allowed, "ok.txt"), "utf8"), "ok");
    const treeFile = join(
      readdirSync(join(cache, "trees")).map((k) => join(cache, "trees", k))[0],
      "root/x.js",
    );
    // Read-only or absent in the sandbox: the package tree, system directories, our HOME.
    for (
      const path of [
        treeFile,
        "/etc/mcptrust-e2e",
        "/usr/mcptrust-e2e",
        join(process.env.HOME ?? "/root", "x"),
      ]
    ) {
      const r = await call(client, "write_file", { path, text: "escaped" });
      assert.equal(r.isError, true, `${path}: ${textOf(r)}`);
      assert.match(textOf(r), /^write failed: (EROFS|ENOENT|EACCES)/, path);
      assert.ok(!existsSync(path), path);
    }
    // Under /tmp, a write lands in the sandbox's private /tmp, never on the host's.
    const tmp = join(DIR, "outside.txt");
    await call(client, "write_file", { path: tmp, text: "escaped" });
    assert.ok(!existsSync(tmp), tmp);
    const conn = await call(client, "connect", { host: "127.0.0.1", port });
    assert.equal(conn.isError, true, textOf(conn));
    assert.match(textOf(conn), /^connect failed: (ECONNREFUSED|ENETUNREACH)/);
  });
  await withHost([...base, "--allow-net", "--env", SECRET, "--env", "MODE=sk-value"], async ({ client }) => {
    assert.equal(
      textOf(await call(client, "connect", { host: "127.0.0.1", port })),
      `connected to 127.0.0.1:${port}`,
    );
    const names: string[] = JSON.parse(textOf(await call(client, "env")));
    assert.ok(names.includes(SECRET) && names.includes("MODE"), names.join());
  });
  // --env values reach the server through bwrap's environment, never its command line (readable by all).
  const plan = await mcptrust([...base, "--dry-run", "--env", SECRET, "--env", "MODE=sk-value"]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /\nwould run {3}\S*bwrap /);
  assert.doesNotMatch(plan.stdout, /s3cret|sk-value|--setenv/);
  noInstallScriptRan();
});

test("--sandbox on without bwrap fails closed (exit 2) before anything is downloaded", async () => {
  const empty = join(DIR, "empty-bin");
  mkdirSync(empty, { recursive: true });
  const before = fx.tarballRequests().length;
  const r = await mcptrust(["run", "--lock", LOCK, "--key", PUB, "--sandbox", "on", ...net()], {
    PATH: empty,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /mcptrust: the sandbox was required, but bubblewrap \(bwrap\) is not on PATH\n/);
  assert.match(r.stderr, /next: install it \(Debian\/Ubuntu: apt-get install bubblewrap/);
  assert.equal(fx.tarballRequests().length, before);
  // auto: runs, and says in one line that there is no sandbox.
  const auto = await mcptrust([
    "run",
    "--lock",
    LOCK,
    "--key",
    PUB,
    "--no-proxy",
    ...net(),
    "--",
    "--exit",
    "0",
  ], {
    PATH: empty,
  });
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(
    auto.stderr,
    /mcptrust: sandbox: none\. bubblewrap \(bwrap\) not found; the server runs unsandboxed/,
  );
});

test("--dry-run verifies, prints the plan and starts nothing; --receipt records what was verified", async () => {
  const started = join(DIR, "started");
  const receipt = join(DIR, "receipt.json");
  const r = await mcptrust([
    "run",
    "--lock",
    LOCK,
    "--key",
    PUB,
    "--dry-run",
    "--receipt",
    receipt,
    "--sandbox",
    "off",
    ...net(),
    "--",
    "--touch",
    started,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(started), "the server ran");
  assert.match(r.stdout, /^mcptrust run --dry-run: everything verified; nothing started\n/);
  assert.match(
    r.stdout,
    /\nwould run {3}\S*mcptrust --no-install --no-env-file --config=\/dev\/null \S*\/bin\/server\.mjs --pinned 'a b' --touch /,
  );
  assert.match(
    r.stdout,
    /\n {2}skipped node_modules\/mcptrust-fixture-win32 .*os \["win32"\] does not include linux/,
  );
  assert.match(r.stdout, /\nenvironment BUN_BE_BUN=1\n/);
  assert.doesNotMatch(r.stdout, new RegExp(SECRET));
  assert.match(r.stdout, /\nproxy {7}enforcing .*mcp-lock\.json \(enforce, fail-on critical\)/);
  const rec = JSON.parse(readFileSync(receipt, "utf8"));
  assert.equal(rec.schema, "mcptrust.receipt/1");
  assert.equal(rec.command, "run");
  assert.equal(rec.result, "pass");
  assert.equal(rec.outcome, "verified (dry run)");
  const lockSha256 = createHash("sha256").update(readFileSync(LOCK)).digest("hex");
  assert.equal(rec.lockfile.sha256, lockSha256);
  const v = rec.details.run;
  assert.equal(v.schema, "mcptrust.run-verification/1");
  assert.ok(Date.parse(v.verified_at) > 0);
  assert.equal(v.dry_run, true);
  assert.equal(v.lockfile.sha256, lockSha256);
  assert.equal(v.signature.status, "verified");
  assert.equal(v.signature.signer.type, "ed25519");
  assert.equal(v.package.integrity, fx.pin.integrity);
  assert.equal(v.package.sha256, fx.pin.tarball_sha256);
  assert.deepEqual(
    v.dependencies.map((d: { path: string }) => d.path).sort(),
    ["node_modules/@mcptrust-fixture/dep", DEP_UTIL, "node_modules/mcptrust-fixture-util"].sort(),
  );
  assert.equal(v.skipped[0].name, "mcptrust-fixture-win32");
  assert.deepEqual(v.sandbox, {
    applied: false,
    network: "unrestricted",
    writable: [],
    readable: [],
    reason: "--sandbox off",
  });
  assert.ok(!JSON.stringify(rec).includes("s3cret"));
});

test("refused (exit 1), printing expected and actual: sha512 mismatch", async () => {
  const wrong = `sha512-${createHash("sha512").update("not the tarball").digest("base64")}`;
  const lock = variant("sha512", (pin) => pin.integrity = wrong);
  const receipt = join(DIR, "refused-receipt.json");
  const r = await mcptrust(["run", "--lock", lock, "--dry-run", "--receipt", receipt, ...net()]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `mcptrust: integrity mismatch for mcptrust-fixture-server@1\\.0\\.0: pinned ${escape(wrong)}, ` +
        `downloaded bytes are ${
          escape(`sha512-${createHash("sha512").update(fx.packages[0].tarball).digest("base64")}`)
        }`,
    ),
  );
  assert.match(r.stderr, /next: the bytes served are not the bytes pinned: do not run them/);
  assert.equal(r.stdout, "");
  // The refusal is on record too.
  const rec = JSON.parse(readFileSync(receipt, "utf8"));
  assert.equal(rec.result, "fail");
  assert.equal(rec.exit_code, 1);
  assert.match(rec.error.message, /^integrity mismatch for mcptrust-fixture-server@1\.0\.0/);
  assert.equal(rec.details, undefined, "nothing was verified");
});

test("refused (exit 1): sha256 mismatch while the sha512 matches", async () => {
  const lock = variant("sha256", (pin) => pin.tarball_sha256 = "0".repeat(64));
  const r = await mcptrust(["run", "--lock", lock, "--dry-run", ...net()]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `mcptrust: sha256 mismatch for mcptrust-fixture-server@1\\.0\\.0: pinned ${
        "0".repeat(64)
      }, downloaded bytes are ${fx.pin.tarball_sha256}`,
    ),
  );
});

test("refused (exit 1): a dependency's tarball swapped on the registry after lock", async () => {
  const evil = packTarball({
    "package.json": JSON.stringify({ name: "mcptrust-fixture-util", version: "2.0.0", type: "module" }),
    "index.js": 'export const version = "2.0.0"; globalThis.pwned = true;\n',
  });
  const swapped = await startFixtureRegistry(MARKER, { serve: { "mcptrust-fixture-util@2.0.0": evil } });
  try {
    writeFileSync(join(DIR, "swapped.json"), JSON.stringify(pinOnlyLockfile(swapped.pin)));
    const r = await mcptrust(["run", "--lock", join(DIR, "swapped.json"), "--no-proxy", ...net()]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /mcptrust: integrity mismatch for mcptrust-fixture-util@2\.0\.0 \(node_modules\/@mcptrust-fixture\/dep\/node_modules\/mcptrust-fixture-util\): pinned sha512-\S+, downloaded bytes are sha512-/,
    );
  } finally {
    await swapped.close();
  }
});

test("a corrupted cache entry is discarded and downloaded again", async () => {
  const cache = join(DIR, "cache-corrupt");
  const first = await mcptrust(["run", "--lock", LOCK, "--key", PUB, "--dry-run", ...net(cache)]);
  assert.equal(first.code, 0, first.stderr);
  rmSync(join(cache, "trees"), { recursive: true });
  const hex = Buffer.from(String(fx.pin.integrity).slice(7), "base64").toString("hex");
  writeFileSync(join(cache, "tarballs", hex), "corrupted");
  const before = fx.tarballRequests().length;
  const r = await mcptrust(["run", "--lock", LOCK, "--key", PUB, "--dry-run", ...net(cache)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: the cached tarball of mcptrust-fixture-server@1\.0\.0 no longer matches its pin; discarded, downloading it again\n/,
  );
  assert.deepEqual(fx.tarballRequests().slice(before), ["mcptrust-fixture-server@1.0.0"]);
  assert.equal(createHash("sha512").update(readFileSync(join(cache, "tarballs", hex))).digest("hex"), hex);
});

test("signatures: a changed pin fails --key (exit 1); --require-signature without a signer is exit 2", async () => {
  const changed = variant("changed", (pin) => (pin.launch as { args: string[] }).args = ["--evil"]);
  writeFileSync(`${changed}.sig`, readFileSync(`${LOCK}.sig`));
  const r = await mcptrust(["run", "--lock", changed, "--key", PUB, "--dry-run", ...net()]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /mcptrust: the lockfile does not match the signature: .*changed\.json was changed after it was signed/,
  );
  const req = await mcptrust(["run", "--lock", LOCK, "--require-signature", "--dry-run", ...net()]);
  assert.equal(req.code, 2, req.stderr);
  assert.match(req.stderr, /mcptrust: --require-signature: no signer was named/);
  assert.match(
    req.stderr,
    /next: pass --key PUB \(Ed25519\), or --certificate-identity ID --certificate-oidc-issuer ISS/,
  );
  const ok = await mcptrust([
    "run",
    "--lock",
    LOCK,
    "--require-signature",
    "--key",
    PUB,
    "--dry-run",
    ...net(),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

test("a cached tree changed behind mcptrust's back (same size, times put back) is caught and extracted again", async () => {
  const cache = join(DIR, "cache-tamper");
  const first = await mcptrust(["run", "--lock", LOCK, "--key", PUB, "--dry-run", ...net(cache)]);
  assert.equal(first.code, 0, first.stderr);
  const [key] = readdirSync(join(cache, "trees"));
  const file = join(cache, "trees", key, "root/node_modules/mcptrust-fixture-util/index.js");
  const original = readFileSync(file, "utf8");
  const st = statSync(file);
  await new Promise((r) => setTimeout(r, 20));
  const fd = openSync(file, "r+");
  writeSync(fd, "/", 0);
  closeSync(fd);
  utimesSync(file, st.atime, st.mtime);
  const r = await mcptrust(["run", "--lock", LOCK, "--key", PUB, "--dry-run", ...net(cache)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: the cached tree of mcptrust-fixture-server@1\.0\.0 changed since it was verified \(file node_modules\/mcptrust-fixture-util\/index\.js changed content\); extracting it again\n/,
  );
  assert.equal(readFileSync(file, "utf8"), original);
});

test("lock --pin, then run --lock: the pin lock --pin writes runs as is, verified, with no node on PATH", async () => {
  // lock --pin (issue 7 §2) starts the server with the command given, so it needs npx; run --lock does not.
  const marker = join(DIR, "pin-marker");
  const reg = await startPinRegistry(pinFixtureVersions(marker));
  try {
    const home = join(DIR, "pin-home");
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, ".npmrc"), `registry=${reg.url}\n`);
    const pinned = join(DIR, "pinned.json");
    const lockEnv = {
      ...process.env,
      HOME: home,
      npm_config_cafile: CA,
      npm_config_cache: join(DIR, "pin-npm-cache"),
      npm_config_ignore_scripts: "true",
      npm_config_update_notifier: "false",
    } as Record<string, string>;
    const locked = await run(
      [
        "lock",
        "--pin",
        "--allow-host",
        "localhost",
        "--ca",
        CA,
        "-o",
        pinned,
        "--",
        "npx",
        "-y",
        "@fixture/server@^1.0.0",
      ],
      { cwd: DIR, env: lockEnv },
    );
    assert.equal(locked.code, 0, locked.stderr);
    assert.equal(JSON.parse(readFileSync(pinned, "utf8")).server.artifact.version, "1.1.0");
    await withHost(["run", "--lock", pinned, ...net()], async ({ client, stderr }) => {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ["greet"]);
      // @fixture/greeting's nested fixture-words 2.1.0, as pinned.
      assert.match(
        textOf(await call(client, "greet", { name: "Ada" })),
        /^Hello, Ada \(greeting words 2\.1\.0\)$/,
      );
      assert.match(
        stderr(),
        /verified @fixture\/server@1\.1\.0 and 4 dependencies \(5 downloaded\), 1 optional skipped/,
      );
    });
    const plan = await mcptrust(["run", "--lock", pinned, "--dry-run", ...net()]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(
      plan.stdout,
      /\npackage {5}@fixture\/server@1\.1\.0 .*; registry signature at pin time: absent\n/,
    );
    assert.match(plan.stdout, /\n {2}skipped node_modules\/@fixture\/native-darwin-arm64 /);
    assert.ok(!existsSync(marker), "an install script ran");
  } finally {
    await reg.close();
  }
});
