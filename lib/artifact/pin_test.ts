// lock --pin's engine against the local HTTPS registry: the fixture MCP server package and its tree,
// registry signatures with a key made at test time, tokens from .npmrc, and every refusal.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { BlockedAddressError, HttpStatusError } from "./fetcher.ts";
import { hashBytes } from "./integrity.ts";
import { chooseBin, pinNpmArtifact, type PinOptions } from "./pin.ts";
import { parseRegistryKeys } from "./registry_keys.ts";
import {
  type FixtureRegistry,
  type FixtureVersion,
  makeSigningKey,
  packPackage,
  type SigningKey,
  startFixtureRegistry,
} from "../../testdata/registry/fixture_registry.ts";
import { FIXTURE_TREE, pinFixtureVersions } from "../../testdata/registry/pin_fixture.ts";

const TOKEN = "npm_pinTESTtoken_0123456789";
let dir: string;
let marker: string;
let key: SigningKey;
let reg: FixtureRegistry;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcptrust-pin-"));
  marker = join(dir, "install-script-ran");
  key = makeSigningKey("SHA256:pin-test-key");
  reg = await startFixtureRegistry(pinFixtureVersions(marker), { requireToken: TOKEN, signingKey: key });
  writeFileSync(
    join(dir, ".npmrc"),
    `registry=${reg.url}\n//localhost:${reg.server.port}/:_authToken=\${PIN_TOKEN}\n`,
  );
});
after(async () => {
  await reg.close();
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<PinOptions> = {}): PinOptions & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    allowHosts: ["localhost"],
    caPem: reg.caPem,
    registryKeys: parseRegistryKeys({ keys: [key.entry] }, "test keys"),
    npmConfig: { cwd: dir, home: dir, env: { PIN_TOKEN: TOKEN } },
    onWarning: (l) => warnings.push(l),
    now: new Date("2026-01-02T03:04:05Z"),
    warnings,
    ...extra,
  };
}

function served(name: string, version: string): FixtureVersion {
  return reg.versions.find((v) => v.name === name && v.version === version)!;
}

test("npx -y @fixture/server@^1.0.0: exact version, whole tree, tarball digests, launch, signature", async () => {
  const lookups: string[] = [];
  const opts = options({
    resolve: (host) => {
      lookups.push(host);
      return Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
    },
  });
  const r = await pinNpmArtifact(["npx", "-y", "@fixture/server@^1.0.0", "--root", "/srv data"], opts);
  const top = served("@fixture/server", "1.1.0");
  const d = hashBytes(top.tarball);
  const { dependencies, ...pin } = r.pin;
  assert.deepEqual(pin, {
    type: "npm",
    name: "@fixture/server",
    version: "1.1.0",
    registry: reg.url,
    integrity: d.sri,
    tarball_url: reg.tarballUrl("@fixture/server", "1.1.0"),
    tarball_sha256: d.sha256Hex,
    tarball_size: top.tarball.length,
    launch: { bin: "fixture-server", entry: "bin/server.js", args: ["--root", "/srv data"] },
    registry_signature: {
      status: "verified",
      keyid: "SHA256:pin-test-key",
      checked_at: "2026-01-02T03:04:05Z",
    },
  });
  assert.equal(r.how, "range ^1.0.0", "latest (2.0.0) does not satisfy ^1, so the highest 1.x");
  assert.deepEqual(
    Object.fromEntries(
      dependencies!.map((
        p,
      ) => [p.path, { id: `${p.name}@${p.version}`, ...(p.optional ? { optional: true } : {}) }]),
    ),
    FIXTURE_TREE,
  );
  for (const p of dependencies!) {
    assert.equal(p.integrity, hashBytes(served(p.name, p.version).tarball).sri);
    assert.equal(p.tarball_url, reg.tarballUrl(p.name, p.version));
  }
  const linux = dependencies!.find((p) => p.name === "@fixture/native-linux-x64")!;
  assert.deepEqual([linux.os, linux.cpu, linux.libc, linux.optional], [["linux"], ["x64"], ["glibc"], true]);
  // Every tarball was downloaded (through the fetcher), once each, and every request carried the token.
  const tgz = reg.server.seen.filter((s) => s.path.endsWith(".tgz")).map((s) => decodeURIComponent(s.path))
    .sort();
  assert.deepEqual(tgz, dependencies!.map((p) => new URL(p.tarball_url).pathname).sort());
  assert.ok(reg.server.seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`));
  assert.equal(existsSync(marker), false, "no install script ran");
  assert.deepEqual(
    lookups,
    ["localhost"],
    "one name lookup for the packument, the registry check and 6 tarballs",
  );
  // The token is nowhere in what is returned or printed.
  assert.ok(!JSON.stringify(r).includes(TOKEN) && !inspect(r, { depth: 9 }).includes(TOKEN));
  assert.ok(!opts.warnings.join("\n").includes(TOKEN));
});

test("launchers: npx --package, npm exec, bunx, pnpm dlx; tags and exact versions", async () => {
  const cases: [string[], string, string[]][] = [
    [["npx", "--package=@fixture/server@1.0.0", "--", "fixture-server", "-v"], "1.0.0", ["-v"]],
    [["npx", "-y", "-p", "@fixture/server@latest", "fixture-server"], "2.0.0", []],
    [["npm", "exec", "--yes", "@fixture/server@1.0.0", "--", "a"], "1.0.0", ["a"]],
    [["bunx", "@fixture/server", "b"], "2.0.0", ["b"]],
    [["pnpm", "dlx", "@fixture/server@~1.0.0"], "1.0.0", []],
  ];
  for (const [argv, version, args] of cases) {
    const r = await pinNpmArtifact(argv, options());
    assert.equal(r.pin.version, version, argv.join(" "));
    assert.deepEqual(r.pin.launch, { bin: "fixture-server", entry: "bin/server.js", args }, argv.join(" "));
  }
});

test("a swapped tarball is refused (exit 1) before anything is returned", async () => {
  const words = served("fixture-words", "2.1.0");
  words.serveTarball = packPackage({ "package.json": '{"name":"fixture-words","version":"2.1.0"}' });
  try {
    await assert.rejects(
      pinNpmArtifact(["npx", "-y", "@fixture/server@^1.0.0"], options()),
      (err: unknown) =>
        err instanceof CheckFailedError && err.exitCode === 1 &&
        /integrity mismatch for fixture-words@2\.1\.0/.test(err.message),
    );
  } finally {
    delete words.serveTarball;
  }
});

test("registry signatures: tampered is refused (exit 1); unknown keyid and expired key are recorded as failed", async () => {
  const top = served("@fixture/server", "1.0.0");
  const other = makeSigningKey("SHA256:pin-test-key");
  top.signatures = [{
    keyid: "SHA256:pin-test-key",
    sig: (await import("../../testdata/registry/fixture_registry.ts")).signVersion(
      other.privateKey,
      top.name,
      top.version,
      hashBytes(top.tarball).sri,
    ),
  }];
  try {
    await assert.rejects(
      pinNpmArtifact(["npx", "-y", "@fixture/server@1.0.0"], options()),
      (err: unknown) => err instanceof CheckFailedError && /does not verify/.test(err.message),
    );
  } finally {
    delete top.signatures;
  }
  const unknown = options({ registryKeys: [] });
  const r1 = await pinNpmArtifact(["npx", "-y", "@fixture/server@1.0.0"], unknown);
  assert.deepEqual(r1.pin.registry_signature, {
    status: "failed",
    keyid: "SHA256:pin-test-key",
    checked_at: "2026-01-02T03:04:05Z",
  });
  assert.match(unknown.warnings.join("\n"), /no known registry key.*--registry-keys/);
  const expired = options({
    registryKeys: parseRegistryKeys({ keys: [{ ...key.entry, expires: "2024-05-01T00:00:00Z" }] }, "expired"),
  });
  const r2 = await pinNpmArtifact(["npx", "-y", "@fixture/server@1.0.0"], expired);
  assert.equal(r2.pin.registry_signature?.status, "failed");
  assert.match(expired.warnings.join("\n"), /expired 2024-05-01/);
  // The previous check time is kept when nothing changed, so re-locking leaves the file alone.
  const again = await pinNpmArtifact(
    ["npx", "-y", "@fixture/server@1.0.0"],
    options({
      now: new Date("2027-01-01T00:00:00Z"),
      previous: {
        ...r1.pin,
        registry_signature: {
          status: "verified",
          keyid: "SHA256:pin-test-key",
          checked_at: "2025-05-05T05:05:05Z",
        },
      },
    }),
  );
  assert.equal(again.pin.registry_signature?.checked_at, "2025-05-05T05:05:05Z");
});

test("no signatures served: recorded as absent, with a note", async () => {
  const top = served("@fixture/server", "2.0.0");
  top.unsigned = true;
  try {
    const r = await pinNpmArtifact(["npx", "-y", "@fixture/server@2"], options());
    assert.deepEqual(r.pin.registry_signature, { status: "absent" });
    assert.match(r.notes.join("\n"), /serves no registry signature for @fixture\/server@2\.0\.0/);
  } finally {
    delete top.unsigned;
  }
});

test("refusals: unresolvable spec, non-registry spec, no bin (exit 2); network refusals (exit 2)", async () => {
  const code2 = (re: RegExp) => (err: unknown) =>
    err instanceof McpTrustError && err.exitCode === 2 && re.test(err.message);
  await assert.rejects(
    pinNpmArtifact(["npx", "-y", "@fixture/server@^7"], options()),
    code2(/no version satisfies \^7/),
  );
  await assert.rejects(pinNpmArtifact(["npx", "-y", "@fixture/nope"], options()), code2(/HTTP 404/));
  await assert.rejects(
    pinNpmArtifact(["npx", "-y", "github:o/r"], options()),
    code2(/not a registry package/),
  );
  await assert.rejects(pinNpmArtifact(["npx", "-y", "./local-dir"], options()), code2(/local directory/));
  await assert.rejects(pinNpmArtifact(["node", "server.js"], options()), code2(/not a package launcher/));
  await assert.rejects(pinNpmArtifact(["npx", "-y", "fixture-words@1"], options()), code2(/has no bin/));
  // localhost is a loopback address: refused unless allowed by name.
  await assert.rejects(
    pinNpmArtifact(["npx", "-y", "@fixture/server@1.0.0"], options({ allowHosts: [] })),
    (err: unknown) =>
      err instanceof BlockedAddressError && err.exitCode === 2 &&
      /--allow-host localhost/.test(err.hint ?? ""),
  );
  // http registries are refused; a missing token is the registry's 401 (the token is not shown).
  await assert.rejects(
    pinNpmArtifact(
      ["npx", "-y", "@fixture/server@1.0.0"],
      options({ registry: reg.url.replace("https:", "http:") }),
    ),
    code2(/only https is allowed/),
  );
  await assert.rejects(
    pinNpmArtifact(
      ["npx", "-y", "@fixture/server@1.0.0"],
      options({ npmConfig: { cwd: dir, home: dir, env: {} } }),
    ),
    (err: unknown) => err instanceof HttpStatusError && err.status === 401,
  );
});

test("--registry and a scope registry from .npmrc: the scope's registry wins for its packages", async () => {
  const home = mkdtempSync(join(tmpdir(), "mcptrust-pin-scope-"));
  const other = await startFixtureRegistry(pinFixtureVersions(marker), { requireToken: "other-token" });
  try {
    writeFileSync(
      join(home, ".npmrc"),
      `@fixture:registry=${reg.url}\n//localhost:${reg.server.port}/:_authToken=${TOKEN}\n` +
        `//localhost:${other.server.port}/:_authToken=other-token\n`,
    );
    const r = await pinNpmArtifact(
      ["npx", "-y", "@fixture/server@1.1.0"],
      options({ registry: other.url, npmConfig: { cwd: home, home, env: {} } }),
    );
    assert.equal(r.pin.registry, reg.url);
    const from = Object.fromEntries(r.pin.dependencies!.map((p) => [p.path, new URL(p.tarball_url).port]));
    assert.deepEqual(from, {
      "node_modules/@fixture/greeting": String(reg.server.port),
      "node_modules/@fixture/greeting/node_modules/fixture-words": String(other.server.port),
      "node_modules/@fixture/native-darwin-arm64": String(reg.server.port),
      "node_modules/@fixture/native-linux-x64": String(reg.server.port),
      "node_modules/@fixture/server": String(reg.server.port),
      "node_modules/fixture-words": String(other.server.port),
    });
    assert.ok(
      other.server.seen.every((s) => !s.path.includes("@fixture")),
      "no scoped request to --registry",
    );
  } finally {
    await other.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("chooseBin follows npx: --package bin, the only bin, the bin named like the package", () => {
  const pkg = (bin: unknown) => ({ name: "@s/tool", version: "1.0.0", bin });
  assert.deepEqual(chooseBin(pkg("./cli.js"), "@s/tool", undefined), { bin: "tool", entry: "cli.js" });
  assert.deepEqual(chooseBin(pkg({ a: "./x/a.js" }), "@s/tool", undefined), { bin: "a", entry: "x/a.js" });
  assert.deepEqual(chooseBin(pkg({ a: "a.js", tool: "t.js" }), "@s/tool", undefined), {
    bin: "tool",
    entry: "t.js",
  });
  assert.deepEqual(chooseBin(pkg({ a: "a.js", b: "./a.js" }), "@s/tool", undefined).entry, "a.js");
  assert.deepEqual(chooseBin(pkg({ a: "a.js", b: "b.js" }), "@s/tool", "b"), { bin: "b", entry: "b.js" });
  assert.throws(
    () => chooseBin(pkg({ a: "a.js", b: "b.js" }), "@s/tool", undefined),
    /several bins \(a, b\)/,
  );
  assert.throws(() => chooseBin(pkg({ a: "a.js" }), "@s/tool", "c"), /no bin named "c"/);
  assert.throws(() => chooseBin(pkg({ a: "../../etc/x" }), "@s/tool", undefined), CheckFailedError);
  assert.throws(() => chooseBin(pkg({ a: "/etc/x" }), "@s/tool", undefined), CheckFailedError);
});
