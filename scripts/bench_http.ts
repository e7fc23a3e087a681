/**
 * Benchmark: tools/call over HTTP, direct against through the proxy, side by side in one run. The host
 * is the official SDK client in every case; the server is server-everything (streamableHttp mode, echo).
 *   direct         SDK (Streamable HTTP) -> server
 *   proxy --url    SDK (stdio) -> mcptrust proxy --url -> server
 *   listen->url    SDK (Streamable HTTP) -> mcptrust proxy --listen --url -> server
 *   listen->stdio  SDK (Streamable HTTP) -> mcptrust proxy --listen -- <server over stdio>   (diagnostic)
 * Per way: sequential calls (latency p50/p99 and calls/s) and a window of concurrent calls (calls/s).
 * After one uncounted warm-up round, rounds run the ways back to back in a rotating order; figures are
 * medians over rounds, ratios are taken within a round. Prints figures; asserts nothing.
 *
 * Run: make build && deno run -A scripts/bench_http.ts [--quick]   (MCPTRUST_BIN to use another binary)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="../node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.d.ts"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const QUICK = Deno.args.includes("--quick");
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = resolve(process.env.MCPTRUST_BIN ?? join(ROOT, "dist/mcptrust"));
const EVERYTHING = join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const ROUNDS = QUICK ? 2 : 3;
const SEQUENTIAL = QUICK ? 200 : 1000;
const CONCURRENT = QUICK ? 400 : 2000;
const WINDOW = 16;
const WARMUP = 50;

type Way = "direct" | "proxy --url" | "listen->url" | "listen->stdio";
const WAYS: Way[] = ["direct", "proxy --url", "listen->url", "listen->stdio"];

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = new Socket();
      s.once("connect", () => (s.destroy(), r(true)));
      s.once("error", () => r(false));
      s.connect(port, "127.0.0.1");
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

function stop(child: ChildProcess, sig: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(sig);
  return exited;
}

/** Starts `mcptrust proxy --listen 127.0.0.1:0 <args>`, audit log in a file, and reads its URL from the listen event. */
async function startListenLogged(args: string[], dir: string): Promise<{ url: string; child: ChildProcess }> {
  const log = join(dir, `listen-${Math.random().toString(36).slice(2)}.log`);
  const child = spawn(BIN, ["proxy", "--listen", "127.0.0.1:0", "--log-output", log, ...args], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  for (let i = 0; i < 400; i++) {
    try {
      const m = /"event":"listen".*"url":"([^"]+)"/.exec(Deno.readTextFileSync(log));
      if (m) return { url: m[1], child };
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  await stop(child);
  throw new Error("the listening proxy did not start");
}

interface Figures {
  p50: number;
  p99: number;
  seqRate: number;
  concRate: number;
}

async function measure(client: Client): Promise<Figures> {
  const call = () => client.callTool({ name: "echo", arguments: { message: "hello, world" } });
  for (let i = 0; i < WARMUP; i++) await call();
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const s = performance.now();
    await call();
    lat.push(performance.now() - s);
  }
  const seqRate = SEQUENTIAL / ((performance.now() - t0) / 1000);
  lat.sort((a, b) => a - b);
  let next = 0;
  const t1 = performance.now();
  await Promise.all(Array.from({ length: WINDOW }, async () => {
    while (next < CONCURRENT) {
      next++;
      await call();
    }
  }));
  const concRate = CONCURRENT / ((performance.now() - t1) / 1000);
  return {
    p50: lat[Math.floor(lat.length * 0.5)],
    p99: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))],
    seqRate,
    concRate,
  };
}

async function runWay(way: Way, serverUrl: string, lock: string, dir: string): Promise<Figures> {
  const client = new Client({ name: "bench", version: "1.0.0" }, { capabilities: {} });
  let child: ChildProcess | undefined;
  if (way === "direct") {
    await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl)));
  } else if (way === "proxy --url") {
    await client.connect(
      new StdioClientTransport({
        command: BIN,
        args: ["proxy", "--lock", lock, "--log-output", "/dev/null", "--url", serverUrl],
        stderr: "ignore",
      }),
    );
  } else {
    const upstream = way === "listen->url" ? ["--url", serverUrl] : ["--", "node", EVERYTHING, "stdio"];
    const l = await startListenLogged(["--lock", lock, ...upstream], dir);
    child = l.child;
    await client.connect(new StreamableHTTPClientTransport(new URL(l.url)));
  }
  try {
    return await measure(client);
  } finally {
    await client.close();
    if (child) await stop(child);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-bench-http-"));
  const port = await freePort();
  const server = spawn("node", [EVERYTHING, "streamableHttp"], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "ignore", "ignore"],
  });
  try {
    await waitPort(port);
    const url = `http://127.0.0.1:${port}/mcp`;
    // Locked as the bench host sees the server (no client capabilities), so the preflight passes.
    const lock = join(dir, "everything.lock.json");
    const locked = spawn(BIN, ["lock", "-o", lock, "--client-capabilities", "none", "--url", url], {
      stdio: "inherit",
    });
    await new Promise((r) => locked.once("exit", r));
    const results = new Map<Way, Figures[]>(WAYS.map((w) => [w, []]));
    // A warm-up round, not counted: the server's JIT and the first connections.
    for (const way of WAYS) await runWay(way, url, lock, dir);
    for (let round = 0; round < ROUNDS; round++) {
      const order = WAYS.map((_, i) => WAYS[(i + round) % WAYS.length]);
      for (const way of order) results.get(way)!.push(await runWay(way, url, lock, dir));
    }
    console.log(
      `tools/call echo, SDK client as host, server-everything streamableHttp; ${ROUNDS} rounds, medians; ` +
        `sequential ${SEQUENTIAL} calls, concurrent ${CONCURRENT} calls with ${WINDOW} in flight`,
    );
    console.log(
      "way             p50 ms   p99 ms   seq calls/s   conc calls/s   seq vs direct   conc vs direct",
    );
    const direct = results.get("direct")!;
    for (const way of WAYS) {
      const f = results.get(way)!;
      const seqRatio = median(f.map((x, i) => x.seqRate / direct[i].seqRate));
      const concRatio = median(f.map((x, i) => x.concRate / direct[i].concRate));
      console.log(
        `${way.padEnd(14)} ${median(f.map((x) => x.p50)).toFixed(2).padStart(7)}  ${
          median(f.map((x) => x.p99)).toFixed(2).padStart(7)
        }  ${median(f.map((x) => x.seqRate)).toFixed(0).padStart(12)}  ${
          median(f.map((x) => x.concRate)).toFixed(0).padStart(13)
        }  ${seqRatio.toFixed(2).padStart(14)}  ${concRatio.toFixed(2).padStart(15)}`,
      );
    }
  } finally {
    await stop(server, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
