/**
 * Benchmark: `mcptrust lock` and `mcptrust check` wall time against server-everything, beside a bare
 * client doing the same MCP work in the same run, so the difference is mcptrust's own cost (its process
 * start, validating, hashing and writing or comparing).
 *
 * The bare client does what lib/scan/scan_server.ts does, over the same stdio: spawn the same server
 * argv, initialize with mcptrust's protocol version and client capabilities (lib/mcp/client.ts; they
 * change what server-everything lists and whether it exits on EOF), notifications/initialized, then
 * tools/list, prompts/list, resources/list and resources/templates/list one after another, each only if
 * the server advertises it and following nextCursor, answering the server's roots/list (no roots) and
 * ping as mcptrust does. Then the same MCP stdio shutdown (lib/mcp/server_process.ts stop() with
 * stdio_session.ts's 250 ms grace): close stdin, wait up to 250 ms for the exit, SIGTERM, wait up to
 * 250 ms, SIGKILL; the time ends at the server's exit. The bare client's item counts are checked against
 * the lockfile, so both listed the same interface.
 *
 * Runs are taken round-robin (bare, lock, check) so load changes hit every row alike.
 * Run: make bench (or deno run -A scripts/bench_lock.ts [runs]; MCPTRUST_BIN=... for another binary).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { HOST_LIKE_CAPABILITIES, SUPPORTED_PROTOCOL_VERSIONS } from "../lib/mcp/client.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = resolve(process.env.MCPTRUST_BIN ?? join(ROOT, "dist/mcptrust"));
const RUNS = Number(Deno.args[0] ?? 10);
const SERVER = [
  "node",
  join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
  "stdio",
];
/** lib/mcp/stdio_session.ts: the grace a scanned server gets after EOF, and again after SIGTERM. */
const GRACE_MS = 250;

/** The list methods in mcptrust's order, with the capability that advertises each (lib/mcp/interface.ts). */
const LISTS: [method: string, capability: string, key: string][] = [
  ["tools/list", "tools", "tools"],
  ["prompts/list", "prompts", "prompts"],
  ["resources/list", "resources", "resources"],
  ["resources/templates/list", "resources", "resourceTemplates"],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface BareRun {
  /** Spawn until the last list answer. */
  listedMs: number;
  /** Spawn until the server exited after the shutdown sequence. */
  stoppedMs: number;
  /** How the server ended: "EOF", "SIGTERM" or "SIGKILL". */
  stoppedBy: string;
  counts: Record<string, number>;
}

/** One bare-client session (see the module comment). */
function bare(): Promise<BareRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(SERVER[0], SERVER.slice(1), { stdio: ["pipe", "pipe", "ignore"] });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const pending = new Map<number, (result: Record<string, unknown>) => void>();
    let nextId = 0;
    const write = (msg: unknown) => child.stdin.write(JSON.stringify(msg) + "\n");
    const request = (method: string, params: unknown) =>
      new Promise<Record<string, unknown>>((r) => {
        const id = nextId++;
        pending.set(id, r);
        write({ jsonrpc: "2.0", id, method, params });
      });
    let buf = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof msg.method === "string") {
          // Server-to-client requests, answered as lib/mcp/client.ts does; notifications ignored.
          if (msg.id === undefined) continue;
          if (msg.method === "ping") write({ jsonrpc: "2.0", id: msg.id, result: {} });
          else if (msg.method === "roots/list") write({ jsonrpc: "2.0", id: msg.id, result: { roots: [] } });
          else write({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "not supported" } });
          continue;
        }
        const done = pending.get(msg.id);
        if (!done) continue;
        pending.delete(msg.id);
        if (msg.error) reject(new Error(`server error: ${JSON.stringify(msg.error)}`));
        else done(msg.result);
      }
    });
    child.on("error", reject);
    (async () => {
      const init = await request("initialize", {
        protocolVersion: SUPPORTED_PROTOCOL_VERSIONS[0],
        capabilities: HOST_LIKE_CAPABILITIES,
        clientInfo: { name: "bench", version: "0" },
      });
      write({ jsonrpc: "2.0", method: "notifications/initialized" });
      const caps = (init.capabilities ?? {}) as Record<string, unknown>;
      const counts: Record<string, number> = {};
      for (const [method, capability, key] of LISTS) {
        counts[key] = 0;
        if (caps[capability] === undefined || caps[capability] === null) continue;
        let cursor: string | undefined;
        do {
          const page = await request(method, cursor === undefined ? {} : { cursor });
          counts[key] += (page[key] as unknown[]).length;
          cursor = page.nextCursor as string | undefined;
        } while (cursor !== undefined);
      }
      const listedMs = performance.now() - t0;
      const within = (ms: number) =>
        Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms))]);
      let stoppedBy = "EOF";
      child.stdin.end();
      if (!await within(GRACE_MS)) {
        stoppedBy = "SIGTERM";
        child.kill("SIGTERM");
        if (!await within(GRACE_MS)) {
          stoppedBy = "SIGKILL";
          child.kill("SIGKILL");
          await exited;
        }
      }
      resolvePromise({ listedMs, stoppedMs: performance.now() - t0, stoppedBy, counts });
    })().catch(reject);
  });
}

function timeBin(args: string[]): number {
  const t0 = performance.now();
  execFileSync(BIN, args, { cwd: ROOT, stdio: "ignore" });
  return performance.now() - t0;
}

const dir = mkdtempSync(join(tmpdir(), "bench-lock-"));
const lockfile = join(dir, "mcp-lock.json");
timeBin(["lock", "-o", lockfile, "--", ...SERVER]); // warm-up; the lockfile `check` compares with
const locked = JSON.parse(readFileSync(lockfile, "utf8"));
const pinned: Record<string, number> = {
  tools: Object.keys(locked.tools).length,
  prompts: Object.keys(locked.prompts.definitions).length,
  resources: locked.resources.static?.length ?? 0,
  resourceTemplates: locked.resources.templates.length,
};
const warm = await bare();
if (JSON.stringify(warm.counts) !== JSON.stringify(pinned)) {
  throw new Error(
    `the bare client listed ${JSON.stringify(warm.counts)}, the lockfile pins ${JSON.stringify(pinned)}`,
  );
}

const listed: number[] = [];
const stopped: number[] = [];
const stoppedBy = new Set<string>();
const lock: number[] = [];
const check: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const b = await bare();
  listed.push(b.listedMs);
  stopped.push(b.stoppedMs);
  stoppedBy.add(b.stoppedBy);
  lock.push(timeBin(["lock", "-o", join(dir, `lock-${i}.json`), "--", ...SERVER]));
  check.push(timeBin(["check", "--lock", lockfile, "--", ...SERVER]));
}
rmSync(dir, { recursive: true });

const [l, s, lk, ck] = [median(listed), median(stopped), median(lock), median(check)];
const counts = Object.entries(pinned).map(([k, n]) => `${n} ${k}`).join(", ");
const row = (label: string, ms: number, extra = "") =>
  console.log(`  ${label.padEnd(64)} ${ms.toFixed(1).padStart(6)} ms${extra}`);
const beyond = (ms: number) => `  +${(ms - s).toFixed(1)} ms`;
console.log(`server-everything (${counts}), median of ${RUNS} runs each, round-robin:`);
row("bare client: spawn -> initialize -> the four lists answered", l);
row(`bare client: the same, then stdin closed -> exited (${[...stoppedBy].join("/")})`, s);
row("mcptrust lock (a new lockfile each run)", lk, beyond(lk));
row("mcptrust check (against the lockfile)", ck, beyond(ck));
console.log(`  (+: beyond the bare client's same work and shutdown; ${BIN})`);
