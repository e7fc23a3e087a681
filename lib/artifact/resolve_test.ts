// bun.lock reading, on a real bun.lock written at test time by the Bun runtime against the local HTTPS
// registry, and on hand-written lockfiles for the shapes a real one may not show.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpTrustError } from "../errors.ts";
import {
  bunfigFor,
  lockKeyToPath,
  parseBunLock,
  resolveWithBun,
  splitLockKey,
  standardTarballUrl,
} from "./resolve.ts";
import {
  type FixtureRegistry,
  sri512,
  startFixtureRegistry,
} from "../../testdata/registry/fixture_registry.ts";
import { FIXTURE_TREE, pinFixtureVersions } from "../../testdata/registry/pin_fixture.ts";

const TOKEN = "npm_resolveTESTtoken";
let reg: FixtureRegistry;
let dir: string;
let marker: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcptrust-resolve-"));
  marker = join(dir, "marker");
  reg = await startFixtureRegistry(pinFixtureVersions(marker), { requireToken: TOKEN });
});
after(async () => {
  await reg.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a real bun.lock: every package with its node_modules path, version, URL, integrity, platform, optional", async () => {
  const text = await resolveWithBun({
    name: "@fixture/server",
    version: "1.1.0",
    registries: { registry: reg.url, tokens: { [reg.url]: TOKEN } },
    caPem: reg.caPem,
  });
  const deps = parseBunLock(text, { registryFor: () => reg.url });
  assert.deepEqual(
    Object.fromEntries(
      deps.map((d) => [d.path, { id: `${d.name}@${d.version}`, ...(d.optional ? { optional: true } : {}) }]),
    ),
    FIXTURE_TREE,
  );
  assert.deepEqual(deps.map((d) => d.path), [...deps.map((d) => d.path)].sort(), "sorted by path");
  for (const d of deps) {
    const served = reg.versions.find((v) => v.name === d.name && v.version === d.version)!;
    assert.equal(d.tarball_url, reg.tarballUrl(d.name, d.version));
    assert.match(d.integrity, /^sha512-/);
    assert.equal(d.integrity, sri512(served.tarball));
  }
  const linux = deps.find((d) => d.name === "@fixture/native-linux-x64")!;
  assert.deepEqual([linux.os, linux.cpu, linux.libc], [["linux"], ["x64"], ["glibc"]]);
  const darwin = deps.find((d) => d.name === "@fixture/native-darwin-arm64")!;
  assert.deepEqual([darwin.os, darwin.cpu, darwin.libc], [["darwin"], ["arm64"], undefined]);
  // Only packuments were read (no tarball), and every request carried the token.
  assert.ok(reg.server.seen.length > 0);
  assert.ok(reg.server.seen.every((s) => !s.path.endsWith(".tgz")), "no tarball was downloaded");
  assert.ok(reg.server.seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`));
  assert.equal(existsSync(marker), false, "no install script ran");
});

test("resolution failures: a dependency with no matching version, a refused token, a bad CA", async () => {
  await assert.rejects(
    resolveWithBun({
      name: "@fixture/server",
      version: "9.9.9",
      registries: { registry: reg.url, tokens: { [reg.url]: TOKEN } },
      caPem: reg.caPem,
    }),
    (err: unknown) =>
      err instanceof McpTrustError && err.exitCode === 2 && /No version matching "9\.9\.9"/.test(err.message),
  );
  await assert.rejects(
    resolveWithBun({
      name: "@fixture/server",
      version: "1.1.0",
      registries: { registry: reg.url, tokens: { [reg.url]: "wrong-token-value" } },
      caPem: reg.caPem,
    }),
    (err: unknown) =>
      err instanceof McpTrustError && !err.message.includes("wrong-token-value") &&
      /cannot resolve the dependency tree.*401/.test(err.message),
  );
  await assert.rejects(
    resolveWithBun({
      name: "@fixture/server",
      version: "1.1.0",
      registries: { registry: reg.url, tokens: { [reg.url]: TOKEN } },
    }),
    (err: unknown) => err instanceof McpTrustError && /CERT|SIGNATURE|certificate|TLS/i.test(err.message),
  );
});

test("bunfig: tokens only as environment references, scopes, CA file", () => {
  const { text, env } = bunfigFor(
    {
      registry: "https://r.example/",
      scopes: { "@corp": "https://npm.corp.example/api/" },
      tokens: { "https://npm.corp.example/api/": "s3cret" },
    },
    "/tmp/x/ca.pem",
  );
  assert.ok(!text.includes("s3cret"), "the token is not in the file");
  assert.deepEqual(env, { MCPTRUST_REGISTRY_TOKEN_0: "s3cret" });
  assert.match(text, /^registry = \{ url = "https:\/\/r\.example\/" \}$/m);
  assert.match(
    text,
    /^"corp" = \{ url = "https:\/\/npm\.corp\.example\/api\/", token = "\$MCPTRUST_REGISTRY_TOKEN_0" \}$/m,
  );
  assert.match(text, /^cafile = "\/tmp\/x\/ca\.pem"$/m);
  assert.match(text, /^linker = "hoisted"$/m);
});

test("bun.lock keys map to npm's node_modules layout", () => {
  assert.deepEqual(splitLockKey("@a/b/c/@d/e"), ["@a/b", "c", "@d/e"]);
  assert.equal(lockKeyToPath("@a/b/c"), "node_modules/@a/b/node_modules/c");
  assert.equal(lockKeyToPath("c"), "node_modules/c");
  assert.equal(
    standardTarballUrl("https://registry.npmjs.org/", "@s/p", "1.0.0"),
    "https://registry.npmjs.org/@s/p/-/p-1.0.0.tgz",
  );
});

const I = "sha512-" + "A".repeat(86) + "==";

test("hand-written bun.lock: public-registry URLs, aliases, optional and peer edges, nested optional", () => {
  const text = `{
    "lockfileVersion": 1,
    "workspaces": { "": { "name": "r", "dependencies": { "top": "1.0.0" } } },
    "packages": {
      "top": ["top@1.0.0", "", { "dependencies": { "a": "^1", "alias": "npm:real@^2" },
        "optionalDependencies": { "opt": "1" }, "peerDependencies": { "peer": "*", "maybe": "*" },
        "optionalPeers": ["maybe"] }, "${I}"],
      "a": ["a@1.0.0", "", { "dependencies": { "b": "^1" } }, "${I}"],
      "a/b": ["b@1.5.0", "https://cdn.example/b-1.5.0.tgz", {}, "${I}"],
      "alias": ["real@2.0.0", "", {}, "${I}"],
      "opt": ["opt@1.0.0", "", { "dependencies": { "b": "^2" }, "os": ["!win32"], "cpu": "x64" }, "${I}"],
      "b": ["b@2.0.0", "", {}, "${I}"],
      "peer": ["peer@3.0.0", "", {}, "${I}"],
      "maybe": ["maybe@1.0.0", "", {}, "${I}"],
    },
  }`;
  const deps = parseBunLock(text, { registryFor: () => "https://registry.npmjs.org/" });
  const by = Object.fromEntries(deps.map((d) => [d.path, d]));
  assert.equal(by["node_modules/top"].tarball_url, "https://registry.npmjs.org/top/-/top-1.0.0.tgz");
  assert.equal(by["node_modules/a/node_modules/b"].tarball_url, "https://cdn.example/b-1.5.0.tgz");
  assert.equal(by["node_modules/alias"].name, "real", "an alias installs under its alias with the real name");
  assert.deepEqual(by["node_modules/opt"].os, ["!win32"]);
  assert.deepEqual(by["node_modules/opt"].cpu, ["x64"]);
  const optional = deps.filter((d) => d.optional).map((d) => d.path);
  // b@2 is only needed by the optional package; the optional peer is optional; the required peer is not.
  assert.deepEqual(optional, ["node_modules/b", "node_modules/maybe", "node_modules/opt"]);
});

test("bun.lock refusals: git and file dependencies, no integrity, unknown version, broken text", () => {
  const lock = (pkgs: string, v = 1) =>
    `{"lockfileVersion": ${v}, "workspaces": {"": {"dependencies": {"x": "1"}}}, "packages": {${pkgs}}}`;
  const opts = { registryFor: () => "https://r.example/" };
  assert.throws(
    () => parseBunLock(lock(`"x": ["x@github:o/r#abc", {}, "o-r-abc"]`), opts),
    /not a registry package/,
  );
  assert.throws(() => parseBunLock(lock(`"x": ["x@file:../x", {}]`), opts), /not a registry package/);
  assert.throws(() => parseBunLock(lock(`"x": ["x@1.0.0", "", {}, ""]`), opts), /no integrity/);
  assert.throws(() => parseBunLock(lock(`"x": ["x@1.0.0", "", {}, "${I}"]`, 7), opts), /lockfileVersion 7/);
  assert.throws(() => parseBunLock(`{"lockfileVersion": 1, "packages": {`, opts), /unreadable/);
});

test("the real bun.lock text is JSONC with trailing commas (what jsonc-parser is for)", async () => {
  const text = await resolveWithBun({
    name: "fixture-words",
    version: "2.1.0",
    registries: { registry: reg.url, tokens: { [reg.url]: TOKEN } },
    caPem: reg.caPem,
  });
  assert.throws(() => JSON.parse(text));
  assert.deepEqual(parseBunLock(text, { registryFor: () => reg.url }).map((d) => d.path), [
    "node_modules/fixture-words",
  ]);
});
