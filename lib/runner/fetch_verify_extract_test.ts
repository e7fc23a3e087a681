// The foundations of `run --lock` together, on a real published tarball: registry config from an
// .npmrc (scoped registry + token), the packument and tarball through the hardened fetcher from a local
// HTTPS registry, integrity checked against package-lock.json's pin while streaming, safe extraction.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { CheckFailedError } from "../errors.ts";
import { fetchBytes, fetchHardened, HttpStatusError } from "../artifact/fetcher.ts";
import { IntegrityHasher, verifySri } from "../artifact/integrity.ts";
import { loadNpmConfig } from "../artifact/npmrc.ts";
import { parseLauncher } from "../artifact/launcher.ts";
import { extractTarball } from "./extract.ts";
import {
  cachedTarball,
  installedManifest,
  lockedPackage,
  startLocalRegistry,
} from "../../testdata/registry/local_registry.ts";

const NAME = "@modelcontextprotocol/server-memory";
const pin = lockedPackage(NAME);
const real = pin ? cachedTarball(pin.integrity) : undefined;
const skip = real ? false : `npm's cache has no tarball for ${NAME} (run \`make setup\` first)`;
const TOKEN = "npm_localTESTTOKEN";

async function download(url: string, opts: Parameters<typeof fetchHardened>[1]) {
  const res = await fetchHardened(url, opts);
  const h = new IntegrityHasher();
  const chunks: Uint8Array[] = [];
  for await (const c of res.body) {
    h.update(c);
    chunks.push(c);
  }
  return { digests: h.digest(), bytes: new Uint8Array(Buffer.concat(chunks)) };
}

test("a real published tarball: npmrc -> packument -> tarball (hashed while streaming) -> extracted", {
  skip,
}, async () => {
  const { version, integrity } = pin!;
  const manifest = installedManifest(NAME);
  const reg = await startLocalRegistry([{
    name: NAME,
    version,
    tarball: real!,
    manifest: { bin: manifest.bin },
  }], {
    requireToken: TOKEN,
  });
  const home = mkdtempSync(join(tmpdir(), "mcptrust-fve-"));
  try {
    // What the host config says, and what the user's .npmrc says.
    const cmd = parseLauncher(["npx", "-y", `${NAME}@${version}`]);
    assert.equal(cmd.name, NAME);
    const port = reg.server.port;
    writeFileSync(
      join(home, ".npmrc"),
      `@modelcontextprotocol:registry=${reg.url}\n//localhost:${port}/:_authToken=\${LOCAL_TOKEN}\n`,
    );
    const cfg = loadNpmConfig({ home, cwd: home, env: { LOCAL_TOKEN: TOKEN } });
    const registry = cfg.registryFor(cmd.name);
    assert.equal(registry.url, reg.url);
    const fetchOpts = { ca: reg.caPem, allowHosts: ["localhost"], onWarning: () => {} };

    // Without the token the registry refuses; with it, the packument names the tarball and integrity.
    await assert.rejects(fetchBytes(reg.packumentUrl(NAME), fetchOpts), HttpStatusError);
    const packUrl = reg.packumentUrl(NAME);
    const packument = JSON.parse(
      new TextDecoder().decode(
        (await fetchBytes(packUrl, { ...fetchOpts, authToken: cfg.tokenFor(packUrl)?.reveal() })).bytes,
      ),
    );
    const dist = packument.versions[version].dist;
    assert.equal(dist.integrity, integrity, "the served integrity is package-lock's");

    // The tarball, hashed as it streams, checked against the pin (not against what the registry says).
    const { digests, bytes } = await download(dist.tarball, {
      ...fetchOpts,
      authToken: cfg.tokenFor(dist.tarball)?.reveal(),
    });
    verifySri(integrity, digests, `${NAME}@${version}`);

    const dest = join(home, "pkg");
    const out = await extractTarball(bytes, dest, `${NAME}@${version}`);
    const pkg = JSON.parse(readFileSync(join(dest, "package.json"), "utf8"));
    assert.equal(pkg.name, NAME);
    assert.equal(pkg.version, version);
    const bin = (manifest.bin as Record<string, string>)["mcp-server-memory"];
    assert.ok(out.entries.some((e) => e.path === bin.replace(/^\.\//, "")), "the bin is in the tarball");
    assert.deepEqual(
      readFileSync(join(dest, bin)),
      readFileSync(join("node_modules", NAME, bin)),
      "the extracted bin is byte-for-byte what npm installed",
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
    await reg.close();
  }
});

test("a tarball changed by one byte after pinning fails the integrity check (exit 1)", { skip }, async () => {
  const { version, integrity } = pin!;
  const tampered = new Uint8Array(real!);
  tampered[tampered.length - 10] ^= 0x01;
  // The registry is honest about the new bytes' hash: only the pin catches the change.
  const reg = await startLocalRegistry([{ name: NAME, version, tarball: tampered }]);
  try {
    const packument = JSON.parse(
      new TextDecoder().decode(
        (await fetchBytes(reg.packumentUrl(NAME), { ca: reg.caPem, allowHosts: ["localhost"] })).bytes,
      ),
    );
    const { digests } = await download(packument.versions[version].dist.tarball, {
      ca: reg.caPem,
      allowHosts: ["localhost"],
    });
    verifySri(packument.versions[version].dist.integrity, digests, "served"); // the registry's own claim holds
    assert.throws(() => verifySri(integrity, digests, `${NAME}@${version}`), CheckFailedError);
  } finally {
    await reg.close();
  }
});
