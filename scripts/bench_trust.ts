/**
 * Benchmark: the trust chain's costs, printed as figures (asserts nothing).
 *
 * - verify: a signed 100-tool v3 lockfile, in-process (`verifyLockfile`: parse, canonicalize, Ed25519)
 *   and through the binary (`mcptrust verify`, process start included);
 * - bundle export / bundle verify with a 1 MiB evidence file (--include), in-process and through the
 *   binary.
 * Medians over several runs, with the minimum; the machines are shared and noisy, so compare within a run.
 *
 * Run: make build && deno run -A scripts/bench_trust.ts
 *      (MCPTRUST_BIN=/path/to/mcptrust to use another binary; default dist/mcptrust)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Buffer } from "node:buffer";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { buildBundle } from "../lib/bundle/export.ts";
import { goldenV3WithTools, writeSignedFixture } from "../lib/bundle/test_support.ts";
import { verifyBundle } from "../lib/bundle/verify.ts";
import { verifyLockfile } from "../lib/crypto/verifier.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = resolve(process.env.MCPTRUST_BIN ?? join(ROOT, "dist/mcptrust"));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function time(runs: number, fn: () => unknown): Promise<{ median: number; min: number }> {
  await fn(); // warm-up (JIT, file cache)
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return { median: median(xs), min: Math.min(...xs) };
}

const fmt = (label: string, t: { median: number; min: number }) =>
  console.log(
    `${label.padEnd(58)} median ${t.median.toFixed(2).padStart(8)} ms   min ${
      t.min.toFixed(2).padStart(8)
    } ms`,
  );

/** 1 MiB of deterministic, moderately compressible text (base64 of an LCG stream), like a log. */
function evidence(bytes: number): Uint8Array {
  const raw = new Uint8Array((bytes * 3) / 4);
  let x = 12345;
  for (let i = 0; i < raw.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    raw[i] = x >>> 24;
  }
  return new TextEncoder().encode(Buffer.from(raw).toString("base64"));
}

const dir = mkdtempSync(join(tmpdir(), "mcptrust-bench-trust-"));
try {
  const f = await writeSignedFixture(dir, goldenV3WithTools(100));
  const ev = evidence(1024 * 1024);
  writeFileSync(join(dir, "evidence.log"), ev);
  console.log(`lockfile: 100 tools, ${f.lockBytes.length} bytes; evidence: ${ev.length} bytes`);
  console.log(
    `runtime: Deno ${Deno.version.deno}; binary: ${existsSync(BIN) ? BIN : "(not built; run make build)"}`,
  );
  console.log("");

  fmt(
    "verify 100-tool lockfile (library)",
    await time(200, () =>
      verifyLockfile({
        lockfile: { path: f.lockPath, bytes: f.lockBytes },
        signature: { path: f.sigPath, bytes: f.sigBytes },
        flags: { key: f.pubPath },
      })),
  );

  const exportInputs = () => ({
    lockfile: { path: f.lockPath, bytes: new Uint8Array(readFileSync(f.lockPath)) },
    signature: { path: f.sigPath, bytes: new Uint8Array(readFileSync(f.sigPath)) },
    flags: { key: f.pubPath },
    includes: [{
      path: join(dir, "evidence.log"),
      bytes: new Uint8Array(readFileSync(join(dir, "evidence.log"))),
    }],
  });
  let zip: Uint8Array = new Uint8Array();
  fmt(
    "bundle export, 1 MiB evidence (library)",
    await time(20, async () => {
      zip = (await buildBundle(exportInputs())).zip;
    }),
  );
  fmt(
    "bundle verify, 1 MiB evidence (library)",
    await time(
      20,
      () => verifyBundle({ bundle: { path: "approval.zip", bytes: zip }, flags: { key: f.pubPath } }),
    ),
  );
  console.log(`bundle size: ${zip.length} bytes`);

  if (existsSync(BIN)) {
    const cli = (args: string[]) => () => execFileSync(BIN, args, { cwd: dir, stdio: "pipe" });
    console.log("");
    fmt("mcptrust --version (process start floor)", await time(20, cli(["--version"])));
    fmt("mcptrust verify, 100-tool lockfile", await time(20, cli(["verify", "--key", "mcptrust.pub"])));
    fmt(
      "mcptrust bundle export --include 1 MiB",
      await time(
        10,
        cli(["bundle", "export", "-o", "a.zip", "--key", "mcptrust.pub", "--include", "evidence.log"]),
      ),
    );
    fmt(
      "mcptrust bundle verify (1 MiB evidence)",
      await time(10, cli(["bundle", "verify", "a.zip", "--key", "mcptrust.pub"])),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
