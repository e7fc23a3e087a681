/**
 * Benchmark: `mcptrust lock` wall time against server-everything, beside a bare client's
 * spawn-to-tools/list time for the same server, measured in the same run. The difference is mcptrust's
 * overhead (process start, the other three lists, hashing, writing). Target: under 20 ms beyond what the
 * lists themselves cost.
 * Run: make bench (or deno run -A scripts/bench_lock.ts [runs]).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const bin = process.env.MCPTRUST_BIN ?? "dist/mcptrust";
const runs = Number(Deno.args[0] ?? 10);
const server = ["node", "node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * A bare client: spawn, initialize, initialized, then each list; returns ms until the last answer, or,
 * with `graceful`, until the server has exited after its stdin was closed (the MCP stdio shutdown that
 * `lock` also performs).
 */
function bare(lists: string[], graceful = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(server[0], server.slice(1), { stdio: ["pipe", "pipe", "ignore"] });
    let buf = "";
    let step = 0;
    const send = (id: number, method: string, params: unknown = {}) =>
      child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    child.stdout.on("data", (c) => {
      buf += c;
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
          // Answer server-to-client requests as mcptrust does (roots/list: no roots).
          if (msg.id !== undefined) {
            const result = msg.method === "roots/list" ? { roots: [] } : {};
            child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result }) + "\n");
          }
          continue;
        }
        if (msg.id !== step) continue;
        if (step === 0) {
          child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
        }
        if (step < lists.length) {
          step++;
          send(step, lists[step - 1]);
        } else if (graceful) {
          // The same shutdown as mcptrust's: close stdin, SIGTERM after 250 ms if still running.
          const term = setTimeout(() => child.kill("SIGTERM"), 250);
          child.on("exit", () => {
            clearTimeout(term);
            resolve(performance.now() - t0);
          });
          child.stdin.end();
        } else {
          const ms = performance.now() - t0;
          child.kill();
          resolve(ms);
        }
      }
    });
    child.on("error", reject);
    send(0, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bench", version: "0" },
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "bench-lock-"));
const lockRuns: number[] = [];
const bareTools: number[] = [];
const bareAll: number[] = [];
const bareStop: number[] = [];
for (let i = 0; i < runs; i++) {
  bareTools.push(await bare(["tools/list"]));
  bareAll.push(await bare(["tools/list", "prompts/list", "resources/list", "resources/templates/list"]));
  bareStop.push(
    await bare(["tools/list", "prompts/list", "resources/list", "resources/templates/list"], true),
  );
  const out = join(dir, `lock-${i}.json`);
  const t0 = performance.now();
  execFileSync(bin, ["lock", "-o", out, "--", ...server], { stdio: "ignore" });
  lockRuns.push(performance.now() - t0);
}
rmSync(dir, { recursive: true });
const l = median(lockRuns), t = median(bareTools), a = median(bareAll), g = median(bareStop);
console.log(`server-everything, median of ${runs} runs:`);
console.log(`  bare client spawn -> tools/list:           ${t.toFixed(1)} ms`);
console.log(`  bare client spawn -> all four lists:       ${a.toFixed(1)} ms`);
console.log(`  mcptrust lock (spawn, lists, hash, write, stop): ${l.toFixed(1)} ms`);
console.log(`  bare client four lists + close stdin + wait for exit: ${g.toFixed(1)} ms`);
console.log(
  `  overhead vs bare tools/list: ${(l - t).toFixed(1)} ms; vs bare four lists: ${(l - a).toFixed(1)} ms`,
);
console.log(
  `  overhead vs the same work done by a bare client (lists + graceful stop): ${(l - g).toFixed(1)} ms`,
);
