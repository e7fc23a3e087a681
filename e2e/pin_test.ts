/**
 * `mcptrust lock --pin` through dist/mcptrust against the local HTTPS registry: the fixture MCP server
 * package (@fixture/server, a tree two levels deep, a scoped package, platform-specific optional packages,
 * install scripts that would write a marker) resolved, downloaded, verified and recorded; refusals; and,
 * unless MCPTRUST_NO_REAL_REGISTRY=1, the real @modelcontextprotocol/server-filesystem from the public
 * registry (`--allow-host registry.npmjs.org`, since this network answers its name with a documentation
 * address).
 *
 * `lock --pin` lists the interface from the verified, pinned tree on the runtime inside the binary; the
 * launcher (npx) is never run. A control test shows that plain npx does write the install-script marker,
 * so its absence after `lock --pin` means mcptrust ran no script (one test pins with scripts allowed and
 * no node, npm or npx on PATH).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { run, tempDir } from "./helpers.ts";
import {
  type FixtureRegistry,
  type FixtureVersion,
  makeSigningKey,
  packPackage,
  sri512,
  startFixtureRegistry,
} from "../testdata/registry/fixture_registry.ts";
import { FIXTURE_TREE, pinFixtureVersions } from "../testdata/registry/pin_fixture.ts";

const TOKEN = "npm_e2ePinTOKEN_abcdef0123";
const DIR = tempDir("mcptrust-e2e-pin-");
const MARKER = join(DIR, "install-script-ran");
const KEY = makeSigningKey("SHA256:e2e-registry-key");
let reg: FixtureRegistry;
let env: Record<string, string>;

before(async () => {
  reg = await startFixtureRegistry(pinFixtureVersions(MARKER), { requireToken: TOKEN, signingKey: KEY });
  mkdirSync(join(DIR, "home"));
  writeFileSync(
    join(DIR, "home", ".npmrc"),
    `registry=${reg.url}\n//localhost:${reg.server.port}/:_authToken=\${E2E_NPM_TOKEN}\n`,
  );
  writeFileSync(join(DIR, "ca.pem"), reg.caPem);
  writeFileSync(join(DIR, "keys.json"), JSON.stringify({ keys: [KEY.entry] }));
  env = {
    HOME: join(DIR, "home"),
    E2E_NPM_TOKEN: TOKEN,
    npm_config_cafile: join(DIR, "ca.pem"), // for npx, which starts the server (npm ignores NODE_EXTRA_CA_CERTS)
    npm_config_cache: join(DIR, "npm-cache"),
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_registry: "",
  };
});
after(async () => {
  await reg.close();
  rmSync(DIR, { recursive: true, force: true });
});

function pinArgs(): string[] {
  return [
    "--pin",
    "--allow-host",
    "localhost",
    "--ca",
    join(DIR, "ca.pem"),
    "--registry-keys",
    join(DIR, "keys.json"),
  ];
}

function served(name: string, version: string): FixtureVersion {
  return reg.versions.find((v) => v.name === name && v.version === version)!;
}

function lockEnv(): Record<string, string> {
  const e = { ...env, npm_config_ignore_scripts: "true" };
  delete (e as Record<string, string | undefined>).npm_config_registry;
  return e;
}

test("control: plain npx runs the fixture's install scripts (they write the marker)", async () => {
  const e = { ...process.env, ...env, npm_config_cache: join(DIR, "control-cache") } as Record<
    string,
    string
  >;
  delete e.npm_config_registry;
  const marker = join(DIR, "control-marker");
  // Same packages, marker elsewhere: a second registry so the main one's tarballs are not touched.
  const control = await startFixtureRegistry(pinFixtureVersions(marker));
  try {
    writeFileSync(join(DIR, "control.npmrc"), `registry=${control.url}\n`);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn("npx", ["-y", "@fixture/server@1.1.0"], {
        env: { ...e, npm_config_userconfig: join(DIR, "control.npmrc") },
        stdio: ["pipe", "ignore", "ignore"],
      });
      child.stdin.end();
      child.on("close", resolve);
    });
    assert.equal(code, 0);
    assert.match(readFileSync(marker, "utf8"), /@fixture\/server@1\.1\.0/);
  } finally {
    await control.close();
  }
});

test("lock --pin -- npx -y @fixture/server@^1.0.0: the exact artifact, its tree and the interface", async () => {
  const out = join(DIR, "pinned.json");
  const r = await run(
    [
      "lock",
      ...pinArgs(),
      "-o",
      out,
      "-t",
      "60s",
      "--",
      "npx",
      "-y",
      "@fixture/server@^1.0.0",
      "--root",
      "/srv",
    ],
    { env: lockEnv(), cwd: DIR },
  );
  assert.equal(r.code, 0, r.stderr);
  const lock = JSON.parse(readFileSync(out, "utf8"));
  const a = lock.server.artifact;
  const top = served("@fixture/server", "1.1.0");
  const sha256 = (await import("node:crypto")).createHash("sha256").update(top.tarball).digest("hex");
  assert.deepEqual(Object.keys(a).sort(), [
    "dependencies",
    "integrity",
    "launch",
    "name",
    "registry",
    "registry_signature",
    "tarball_sha256",
    "tarball_size",
    "tarball_url",
    "type",
    "version",
  ]);
  assert.equal(a.type, "npm");
  assert.equal(a.name, "@fixture/server");
  assert.equal(a.version, "1.1.0", "^1.0.0 resolved to one exact version (latest is 2.0.0)");
  assert.equal(a.registry, reg.url);
  assert.equal(a.integrity, sri512(top.tarball));
  assert.equal(a.tarball_url, reg.tarballUrl("@fixture/server", "1.1.0"));
  assert.equal(a.tarball_sha256, sha256);
  assert.equal(a.tarball_size, top.tarball.length);
  assert.deepEqual(a.launch, { bin: "fixture-server", entry: "bin/server.js", args: ["--root", "/srv"] });
  assert.equal(a.registry_signature.status, "verified");
  assert.equal(a.registry_signature.keyid, "SHA256:e2e-registry-key");
  assert.match(a.registry_signature.checked_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const tree = Object.fromEntries(
    a.dependencies.map((d: { path: string; name: string; version: string; optional?: boolean }) => [
      d.path,
      { id: `${d.name}@${d.version}`, ...(d.optional ? { optional: true } : {}) },
    ]),
  );
  assert.deepEqual(tree, FIXTURE_TREE);
  for (const d of a.dependencies) {
    assert.equal(d.integrity, sri512(served(d.name, d.version).tarball), d.path);
    assert.equal(d.tarball_url, reg.tarballUrl(d.name, d.version), d.path);
  }
  const linux = a.dependencies.find((d: { name: string }) => d.name === "@fixture/native-linux-x64");
  assert.deepEqual([linux.os, linux.cpu, linux.libc], [["linux"], ["x64"], ["glibc"]]);
  // The interface comes from the server the command started.
  assert.deepEqual(Object.keys(lock.tools), ["greet"]);
  assert.equal(lock.server.name, "fixture-server");
  assert.equal(lock.server.version, "1.1.0");
  assert.match(
    r.stdout,
    /Pinned @fixture\/server@1\.1\.0 .*6 package\(s\) \(2 optional\), bin fixture-server -> bin\/server\.js, registry signature verified/,
  );
  assert.match(r.stderr, /resolved @fixture\/server@\^1\.0\.0 to 1\.1\.0/);
  // No install script ran; the token was sent and is nowhere in the output or the file.
  assert.equal(existsSync(MARKER), false, "an install script ran");
  assert.ok(reg.server.seen.some((s) => s.headers.authorization === `Bearer ${TOKEN}`));
  for (const text of [r.stdout, r.stderr, readFileSync(out, "utf8")]) assert.ok(!text.includes(TOKEN));

  // The same inputs again: nothing changed, the file is left alone (the signature check time is kept).
  const before = readFileSync(out, "utf8");
  const again = await run(
    [
      "lock",
      ...pinArgs(),
      "-o",
      out,
      "-t",
      "60s",
      "--",
      "npx",
      "-y",
      "@fixture/server@^1.0.0",
      "--root",
      "/srv",
    ],
    { env: lockEnv(), cwd: DIR },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /up to date/);
  assert.equal(readFileSync(out, "utf8"), before);
});

test("lock --pin never runs the launcher: with no node, npm or npx on PATH and scripts allowed, it pins and scans the verified tree", async () => {
  const noNode = join(DIR, "empty-bin");
  mkdirSync(noNode, { recursive: true });
  const out = join(DIR, "pinned-no-node.json");
  const e = { ...env, PATH: noNode };
  delete (e as Record<string, string | undefined>).npm_config_registry;
  const r = await run(
    [
      "lock",
      ...pinArgs(),
      "-o",
      out,
      "-t",
      "60s",
      "--",
      "npx",
      "-y",
      "@fixture/server@^1.0.0",
      "--root",
      "/srv",
    ],
    { env: e, cwd: DIR },
  );
  assert.equal(r.code, 0, r.stderr);
  const lock = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(lock.server.artifact.version, "1.1.0");
  assert.ok(Object.keys(lock.tools).length > 0, "the pinned server's tools were listed");
  // Same interface as the lock that started the server through npx.
  const viaNpx = JSON.parse(readFileSync(join(DIR, "pinned.json"), "utf8"));
  assert.deepEqual(lock.tools, viaNpx.tools);
  assert.equal(existsSync(MARKER), false, "an install script ran");
});

test("lock without --pin writes no artifact", async () => {
  const out = join(DIR, "plain.json");
  const r = await run(["lock", "-o", out, "-t", "60s", "--", "npx", "-y", "@fixture/server@1.1.0"], {
    env: lockEnv(),
    cwd: DIR,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(out, "utf8")).server.artifact, undefined);
});

test("a swapped tarball is refused (exit 1): nothing written, the server never started", async () => {
  const words = served("fixture-words", "2.1.0");
  words.serveTarball = packPackage({ "package.json": '{"name":"fixture-words","version":"2.1.0"}' });
  const out = join(DIR, "swapped.json");
  const seen = reg.server.seen.length;
  try {
    const r = await run(["lock", ...pinArgs(), "-o", out, "--", "npx", "-y", "@fixture/server@1.1.0"], {
      env: lockEnv(),
      cwd: DIR,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /integrity mismatch for fixture-words@2\.1\.0/);
    assert.equal(existsSync(out), false);
    const agents = reg.server.seen.slice(seen).map((s) => String(s.headers["user-agent"]));
    assert.ok(agents.every((a) => !/^npm\//.test(a)), "npx never ran");
  } finally {
    delete words.serveTarball;
  }
});

test("refusals: unresolvable and non-registry specs, network refusals, pin flags without --pin (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [
      [...pinArgs(), "--", "npx", "-y", "@fixture/server@^7"],
      /cannot resolve @fixture\/server@\^7: no version satisfies/,
    ],
    [[...pinArgs(), "--", "npx", "-y", "github:acme/server"], /not a registry package/],
    [[...pinArgs(), "--", "node", "server.js"], /not a package launcher/],
    [["--pin", "--ca", join(DIR, "ca.pem"), "--", "npx", "-y", "@fixture/server@1.1.0"], /loopback address/],
    [["--registry", reg.url, "--", "npx", "-y", "@fixture/server@1.1.0"], /--registry only apply with --pin/],
    [["--pin", "--url", "https://mcp.example.com/mcp"], /a remote server \(--url\) has none/],
  ];
  for (const [args, why] of cases) {
    const out = join(DIR, "refused.json");
    const r = await run(["lock", "-o", out, ...args], { env: lockEnv(), cwd: DIR });
    assert.equal(r.code, 2, `${args.join(" ")}\n${r.stderr}`);
    assert.match(r.stderr, why);
    assert.equal(existsSync(out), false);
  }
});

test(
  "real registry: lock --pin pins and runs the real @modelcontextprotocol/server-filesystem (--allow-host)",
  {
    // The registry is reachable wherever `make setup` ran; MCPTRUST_NO_REAL_REGISTRY=1 opts out offline.
    skip: process.env.MCPTRUST_NO_REAL_REGISTRY === "1" ? "MCPTRUST_NO_REAL_REGISTRY=1" : false,
    timeout: 300_000,
  },
  async () => {
    const home = join(DIR, "real-home");
    mkdirSync(home, { recursive: true });
    const out = join(DIR, "real.json");
    const data = join(DIR, "real-data");
    mkdirSync(data, { recursive: true });
    const e: Record<string, string> = {
      HOME: home,
      npm_config_cache: join(DIR, "real-cache"),
      npm_config_ignore_scripts: "true",
    };
    const args = [
      "lock",
      "--pin",
      "--allow-host",
      "registry.npmjs.org",
      "-o",
      out,
      "-t",
      "120s",
      "--",
      "npx",
      "-y",
      "@modelcontextprotocol/server-filesystem@2026.8.31",
      data,
    ];
    let r = await run(args, { env: e, cwd: DIR });
    // One retry for a transient network failure (name lookups here can stall): exit 2, named as network.
    if (r.code === 2 && /network|EAI_AGAIN|timed out|ECONNRESET/i.test(r.stderr)) {
      r = await run(args, {
        env: e,
        cwd: DIR,
      });
    }
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(readFileSync(out, "utf8")).server.artifact;
    assert.equal(a.name, "@modelcontextprotocol/server-filesystem");
    assert.equal(a.version, "2026.8.31");
    assert.equal(a.registry, "https://registry.npmjs.org/");
    assert.deepEqual(a.launch, { bin: "mcp-server-filesystem", entry: "dist/index.js", args: [data] });
    assert.ok(a.dependencies.length > 50, `${a.dependencies.length} packages`);
    assert.ok(a.dependencies.every((d: { integrity: string }) => d.integrity.startsWith("sha512-")));
    assert.ok(["verified", "absent"].includes(a.registry_signature.status), a.registry_signature.status);
    // The interface was listed from the pinned tree, run on the runtime inside the binary.
    const tools = Object.keys(JSON.parse(readFileSync(out, "utf8")).tools);
    assert.ok(tools.includes("read_text_file") && tools.includes("write_file"), tools.join(","));
  },
);
