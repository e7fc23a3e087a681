/**
 * Benchmark: `mcptrust run --lock` against `npx -y` for the same package on this machine, start to
 * initialize response (spawn, send initialize at once, wait for its response), cold and warm:
 * - run --lock cold: an empty --cache-dir (download, verify, extract); warm: the cache from the run before
 *   (tarball hashes skipped, the tree checked against its manifest);
 * - npx -y cold: an empty npm cache (npm_config_cache); warm: the cache from the run before. Both from the
 *   same local HTTPS registry (npx with --registry and the test CA via NODE_EXTRA_CA_CERTS), install
 *   scripts off for npx too (run --lock never runs them).
 * Two packages: the fixture server (5 packages, testdata/run/packages.ts) and
 * @modelcontextprotocol/server-filesystem with its real dependency tree (testdata/run/real_pin.ts).
 * Also: the warm path's tree check (metadata fingerprint; every file hashed, the fallback) against
 * re-extracting the tree from the cached tarballs, in this process (under Deno, whose node:fs gives
 * coarse times, the fingerprint is not used: run it with Bun for that figure).
 *
 * Usage: deno run -A scripts/bench_run.ts [--runs N]   (needs dist/mcptrust: make build; node and npx)
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { testTls } from "../lib/artifact/test_support.ts";
import { parseLockfile } from "../lib/lockfile/load.ts";
import { RunCache, statFingerprint, verifyTree } from "../lib/runner/cache.ts";
import { installTree } from "../lib/runner/install.ts";
import { planRun } from "../lib/runner/run_plan.ts";
import { startLocalRegistry } from "../testdata/registry/local_registry.ts";
import { fixturePackages, fixturePin, pinOnlyLockfile } from "../testdata/run/packages.ts";
import { realPackages, realPin, registryVersions } from "../testdata/run/real_pin.ts";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const BIN = process.env.MCPTRUST_BIN ?? join(ROOT, "dist/mcptrust");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const DIR = mkdtempSync(join(tmpdir(), "mcptrust-bench-run-"));
const CA = join(DIR, "ca.pem");
writeFileSync(CA, testTls().caPem);

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
}) + "\n";

/** Spawns argv, sends initialize, resolves with the ms until its response; then stops the process. */
function startToInitialize(
  argv: string[],
  opts: { env: Record<string, string>; cwd: string },
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let done = false;
    const timer = setTimeout(
      () => finish(new Error(`timed out: ${argv.join(" ")}\n${err.slice(-2000)}`)),
      120_000,
    );
    const finish = (e?: Error, ms?: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdin.end();
      const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
      child.once("exit", () => {
        clearTimeout(kill);
        if (e) reject(e);
        else resolvePromise(ms!);
      });
      if (child.exitCode !== null) child.emit("exit");
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (c: string) => {
      out += c;
      for (const line of out.split("\n")) {
        if (line.includes('"id":1') && line.includes('"result"')) finish(undefined, performance.now() - t0);
      }
    });
    child.stderr.on("data", (c: Uint8Array) => err += new TextDecoder().decode(c));
    child.once("exit", (code) => {
      if (!done) {
        finish(new Error(`exited ${code} before initialize: ${argv.join(" ")}\n${err.slice(-2000)}`));
      }
    });
    child.stdin.write(INIT);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;

async function series(label: string, n: number, once: (i: number) => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await once(i));
  const m = median(xs);
  console.log(
    `  ${label.padEnd(44)} ${fmt(m)}  (median of ${n}; min ${
      xs.reduce((a, b) => Math.min(a, b)).toFixed(0)
    })`,
  );
  return m;
}

interface Case {
  title: string;
  /** Registry versions and pin, given the registry URL. */
  versions: Parameters<typeof startLocalRegistry>[0];
  pin: (registry: string) => Record<string, unknown>;
  /** npx's spec and arguments. */
  npx: string[];
  /** More `run` flags (e.g. --allow-write for the directory a server serves). */
  runArgs?: string[];
}

async function bench(c: Case): Promise<void> {
  const reg = await startLocalRegistry(c.versions);
  const dir = mkdtempSync(join(DIR, "case-"));
  const lock = join(dir, "mcp-lock.json");
  const pin = c.pin(reg.url);
  writeFileSync(lock, JSON.stringify(pinOnlyLockfile(pin)));
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? dir };
  const net = ["--allow-host", "localhost", "--ca", CA];
  const run = (cache: string, extra: string[] = []) =>
    startToInitialize([
      BIN,
      "run",
      "--lock",
      lock,
      "--no-proxy",
      "--cache-dir",
      cache,
      ...net,
      ...c.runArgs ?? [],
      ...extra,
    ], {
      env,
      cwd: dir,
    });
  const deps = (pin.dependencies as unknown[]).length;
  console.log(`\n${c.title}: ${deps + 1} packages`);
  let n = 0;
  const coldRun = await series(
    "run --lock cold (download, verify, extract)",
    Math.max(3, RUNS - 2),
    () => run(join(dir, `cache-${n++}`)),
  );
  const warmCache = join(dir, "cache-warm");
  await run(warmCache);
  const warmRun = await series("run --lock warm (cache; sandbox auto)", RUNS, () => run(warmCache));
  await series("run --lock warm, --sandbox off", RUNS, () => run(warmCache, ["--sandbox", "off"]));

  const npxEnv = (cache: string) => ({
    ...env,
    NODE_EXTRA_CA_CERTS: CA,
    // npm makes its own TLS agents: it reads the CA from its own setting, not from NODE_EXTRA_CA_CERTS.
    npm_config_cafile: CA,
    npm_config_cache: cache,
    npm_config_registry: reg.url,
    npm_config_ignore_scripts: "true",
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
  });
  const npxCwd = join(dir, "npx-cwd");
  mkdirSync(npxCwd);
  const npx = (cache: string) =>
    startToInitialize(["npx", "-y", "--registry", reg.url, ...c.npx], { env: npxEnv(cache), cwd: npxCwd });
  const coldNpx = await series(
    "npx -y cold (empty npm cache)",
    Math.max(3, RUNS - 2),
    () => npx(join(dir, `npm-${n++}`)),
  );
  const npmWarm = join(dir, "npm-warm");
  await npx(npmWarm);
  const warmNpx = await series("npx -y warm (npm cache)", RUNS, () => npx(npmWarm));
  console.log(
    `  ratios: warm npx / warm run --lock = ${(warmNpx / warmRun).toFixed(1)}x (target >= 3x); ` +
      `cold npx / cold run --lock = ${(coldNpx / coldRun).toFixed(1)}x`,
  );

  // The warm path's tree check, against re-extracting from the cached tarballs (this process, Deno).
  const plan = planRun(parseLockfile(new TextEncoder().encode(JSON.stringify(pinOnlyLockfile(pin))), lock));
  const cache = RunCache.open(warmCache);
  const tree = cache.treePath(plan.treeKey);
  const check = verifyTree(tree, plan.treeKey);
  if (!check.ok) throw new Error(check.reason);
  const files = check.manifest.files.length;
  const bytes = check.manifest.files.reduce((a, f) => a + f[2], 0);
  const times = (k: number, f: () => unknown) =>
    Promise.all([]).then(async () => {
      const xs: number[] = [];
      for (let i = 0; i < k; i++) {
        const t0 = performance.now();
        await f();
        xs.push(performance.now() - t0);
      }
      return median(xs);
    });
  const tCheck = await times(RUNS, () => verifyTree(tree, plan.treeKey));
  const tHash = await times(RUNS, () => {
    // The full check: what runs when the metadata fingerprint differs (or the runtime's times are coarse).
    const m = JSON.parse(readFileSync(join(tree, "manifest.json"), "utf8"));
    delete m.stat;
    writeFileSync(join(tree, "manifest.json"), JSON.stringify(m));
    return verifyTree(tree, plan.treeKey);
  });
  const tExtract = await times(Math.max(3, RUNS - 2), async () => {
    cache.discardTree(plan.treeKey);
    await installTree(plan, { cache, fetch: { allowHosts: ["localhost"], ca: testTls().caPem } });
  });
  console.log(
    `  tree (${files} files, ${(bytes / 1048576).toFixed(1)} MiB), in this process: metadata fingerprint ` +
      `${tCheck.toFixed(1)} ms${
        statFingerprint(join(tree, "root")) === undefined ? " (coarse times here: hashes)" : ""
      }, ` +
      `every file hashed ${tHash.toFixed(1)} ms, re-extract from cached tarballs ${tExtract.toFixed(1)} ms`,
  );
  await reg.close();
}

try {
  const fixture = fixturePackages(join(DIR, "marker"));
  await bench({
    title: "fixture server (testdata/run)",
    versions: fixture.map((p) => ({
      name: p.name,
      version: p.version,
      tarball: p.tarball,
      manifest: p.manifest,
    })),
    pin: (r) => fixturePin(r, fixture),
    npx: ["mcptrust-fixture-server@1.0.0"],
  });
  const fsName = "@modelcontextprotocol/server-filesystem";
  const real = realPackages(fsName);
  if (!real) console.log(`\n${fsName}: skipped (its tarballs are not in npm's cache; run make setup)`);
  else {
    const served = join(DIR, "served");
    mkdirSync(served);
    await bench({
      title: `${fsName}@${real[0].version} (real tree)`,
      versions: registryVersions(real),
      pin: (r) => realPin(r, real, [served]),
      npx: [`${fsName}@${real[0].version}`, served],
      runArgs: ["--allow-write", served],
    });
  }
} finally {
  rmSync(DIR, { recursive: true, force: true });
}
