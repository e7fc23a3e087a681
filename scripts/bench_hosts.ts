/**
 * Benchmark of host integration (prints figures; never part of `make test`):
 * 1. from a HOME with three hosts configured (Claude Desktop, Cursor, Codex: 5 stdio servers, 2 remote)
 *    to "all wrapped and locked": `mcptrust hosts` + `mcptrust wrap --yes`, wall time;
 * 2. start-to-initialize of a server as the host starts it, unwrapped vs wrapped (the SDK client's
 *    connect(): spawn + initialize handshake), for the fixture server and server-memory.
 *
 * Run: make build && tools/node_modules/.bin/deno run -A scripts/bench_hosts.ts [runs]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { installHostFixtures, ROOT } from "../testdata/hosts/fixtures.ts";
import { parseConfig } from "../lib/hosts/config_file.ts";

const BIN = process.env.MCPTRUST_BIN ?? join(ROOT, "dist/mcptrust");
const RUNS = Number(process.argv[2] ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// 1. Three hosts to all wrapped and locked.
const total: number[] = [];
const hostsOnly: number[] = [];
let fixtures = installHostFixtures(["claude-desktop", "cursor", "codex"]);
for (let i = 0; i < RUNS; i++) {
  fixtures = installHostFixtures(["claude-desktop", "cursor", "codex"]);
  const opts = {
    cwd: fixtures.project,
    env: { ...fixtures.env, MCPTRUST_SELF: BIN },
    stdio: "pipe" as const,
  };
  const t0 = performance.now();
  execFileSync(BIN, ["hosts"], opts);
  const t1 = performance.now();
  const out = execFileSync(BIN, ["wrap", "--yes"], opts).toString();
  const t2 = performance.now();
  if (!/Wrapped 5 server\(s\)/.test(out)) throw new Error(`unexpected wrap output:\n${out}`);
  hostsOnly.push(t1 - t0);
  total.push(t2 - t0);
}
console.log(
  `three hosts (5 stdio servers) -> all wrapped and locked: median ${median(total).toFixed(0)} ms ` +
    `(hosts ${median(hostsOnly).toFixed(0)} ms), ${RUNS} runs, min ${Math.min(...total).toFixed(0)} max ${
      Math.max(...total).toFixed(0)
    }`,
);

// 2. Start-to-initialize, unwrapped vs wrapped (the last run's wrapped Claude Desktop entries).
const cfg = fixtures.configs.find((c) => c.host === "claude-desktop")!;
const doc = parseConfig("claude-desktop", "user", cfg.path, readFileSync(cfg.path, "utf8"));
async function connectMs(command: string, args: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const client = new Client({ name: "bench-host", version: "1.0.0" }, { capabilities: {} });
  await client.connect(new StdioClientTransport({ command, args, env, stderr: "pipe" }));
  const ms = performance.now() - t0;
  await client.close();
  return ms;
}
for (const e of doc.servers) {
  const wrapped = { command: e.command!, args: e.args! };
  const sep = wrapped.args.indexOf("--");
  const direct = { command: wrapped.args[sep + 1], args: wrapped.args.slice(sep + 2) };
  const env = { ...fixtures.env, ...((e.value as { env?: Record<string, string> }).env ?? {}) };
  const d: number[] = [];
  const w: number[] = [];
  await connectMs(direct.command, direct.args, env); // warm the file cache
  for (let i = 0; i < RUNS * 2; i++) {
    d.push(await connectMs(direct.command, direct.args, env));
    w.push(await connectMs(wrapped.command, wrapped.args, env));
  }
  console.log(
    `${e.name}: start-to-initialize median unwrapped ${median(d).toFixed(0)} ms, wrapped ${
      median(w).toFixed(0)
    } ms (x${(median(w) / median(d)).toFixed(2)}, +${(median(w) - median(d)).toFixed(0)} ms), ${
      RUNS * 2
    } runs each`,
  );
}
