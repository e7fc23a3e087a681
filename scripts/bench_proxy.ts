/**
 * Benchmark: what `mcptrust proxy` costs per JSON-RPC message. One hand-written client (raw NDJSON over
 * the child's stdio) talks to the same echo server three ways, side by side in one run:
 *   direct  node echo_server.mjs
 *   relay   node relay.mjs -- node echo_server.mjs         (a do-nothing byte relay: the floor for any proxy)
 *   proxy   mcptrust proxy --lock <lock> -- node echo_server.mjs
 * plus, as a diagnostic, bun-relay (relay.mjs run by Bun, the proxy's runtime: the I/O cost of the runtime
 * without the proxy's own work).
 * Each scenario (sequential / pipelined calls, small / 1 MiB / 9 MiB text) runs in several rounds; every
 * round runs the three ways back to back on fresh processes, in a rotating order, and the ratios are
 * taken within a round (proxy/relay, proxy/direct), then the median over rounds. Also: the proxy's
 * peak RSS (VmHWM) over 100k pipelined calls, the CPU time per call of the process we spawn (server,
 * relay or proxy: where the time goes), and the policy core's costs (scripts/bench_policy_core.ts and
 * scripts/bench/policy_core.ts, under Bun, the binary's runtime, and under Deno).
 * Targets: proxy/relay throughput >= 0.90 (sequential and pipelined), flat memory, a decision < 1 us.
 * Prints figures; asserts nothing.
 *
 * Run: make build && deno run -A scripts/bench_proxy.ts [--quick] [--only=<text>] [--memory-calls=N]
 *      MCPTRUST_BIN=/path/to/mcptrust to use another binary (default dist/mcptrust); --only runs just
 *      the parts whose name contains <text> ("pipelined", "9 MiB", "memory", "policy"), e.g. to profile;
 *      --memory-calls sets the length of the memory run (default 100000; --quick 20000).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const QUICK = Deno.args.includes("--quick");
const ONLY = Deno.args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const selected = (name: string) => ONLY === undefined || name.includes(ONLY);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ECHO = join(ROOT, "testdata/servers/echo_server.mjs");
const RELAY = join(ROOT, "testdata/servers/relay.mjs");
const POLICY_HELPER = join(ROOT, "scripts/bench/policy_core.ts");
const DECISION_BENCH = join(ROOT, "scripts/bench_policy_core.ts");
const SESSION_HELPER = join(ROOT, "scripts/bench/session_cost.ts");
const BUN = join(ROOT, "tools/node_modules/.bin/bun");
const BIN = resolve(process.env.MCPTRUST_BIN ?? "dist/mcptrust");
const NODE = process.env.NODE ?? "node";

const ROUNDS = QUICK ? 2 : 5;
const WINDOW = 100; // pipelined: requests in flight (the proxy's default --max-pending is 1024)
const MIB = 1024 * 1024;
const SMALL_TEXT = "hello, world";

interface Scenario {
  name: string;
  calls: number;
  window: number;
  textBytes: number;
  warmup: number;
}

const SCENARIOS: Scenario[] = [
  {
    name: "small, sequential",
    calls: QUICK ? 1000 : 5000,
    window: 1,
    textBytes: SMALL_TEXT.length,
    warmup: 200,
  },
  {
    name: `small, pipelined (window ${WINDOW})`,
    calls: QUICK ? 1000 : 5000,
    window: WINDOW,
    textBytes: SMALL_TEXT.length,
    warmup: 500,
  },
  { name: "1 MiB, sequential", calls: QUICK ? 10 : 50, window: 1, textBytes: MIB, warmup: 3 },
  {
    name: "1 MiB, pipelined (all at once)",
    calls: QUICK ? 10 : 50,
    window: QUICK ? 10 : 50,
    textBytes: MIB,
    warmup: 3,
  },
  { name: "9 MiB, sequential", calls: QUICK ? 3 : 10, window: 1, textBytes: 9 * MIB, warmup: 1 },
  {
    name: "9 MiB, pipelined (all at once)",
    calls: QUICK ? 3 : 10,
    window: QUICK ? 3 : 10,
    textBytes: 9 * MIB,
    warmup: 1,
  },
];
const MEMORY_CALLS = Number(
  Deno.args.find((a) => a.startsWith("--memory-calls="))?.slice("--memory-calls=".length) ??
    (QUICK ? 20_000 : 100_000),
);
const MEMORY_MARKS = [MEMORY_CALLS / 10, MEMORY_CALLS / 2, MEMORY_CALLS].map(Math.round);
const POLICY_ITERATIONS = QUICK ? 200_000 : 1_000_000;

type Way = "direct" | "relay" | "bun-relay" | "proxy";
/**
 * "bun-relay" is diagnostic: the same byte relay run by Bun, the proxy's runtime, so the gap between
 * relay and proxy splits into what the runtime's stream I/O costs and what the proxy's own work costs.
 */
const WAYS: Way[] = ["direct", "relay", "bun-relay", "proxy"];

const enc = new TextEncoder();
const dec = new TextDecoder();

// ------------------------------------------------------------------------------------------ client

/** Bytes of a response line kept for reading its id; the rest is only counted. */
const HEAD = 160;

/** One line from the peer: its first bytes, its full length, and when its last chunk arrived. */
type OnLine = (head: string, length: number, at: number) => void;

/** A child process spoken to in NDJSON, with a reader that never copies a line's body. */
class Peer {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  nextId = 1;
  stderrTail = "";
  #w: WritableStreamDefaultWriter<Uint8Array>;
  #r: ReadableStreamDefaultReader<Uint8Array>;
  #head = new Uint8Array(HEAD);
  #headLen = 0;
  #lineLen = 0;
  #writeError: unknown;

  constructor(argv: string[]) {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.pid = child.pid;
    this.#w = this.child.stdin.getWriter();
    this.#r = this.child.stdout.getReader();
    void (async () => {
      for await (const c of child.stderr) this.stderrTail = (this.stderrTail + dec.decode(c)).slice(-2000);
    })().catch(() => {});
  }

  /** Queues bytes for the child's stdin without waiting (a blocked write must not stop reading). */
  write(bytes: Uint8Array): void {
    this.#w.write(bytes).catch((e) => this.#writeError ??= e);
  }

  /** Reads one chunk and reports each line it completes; false at EOF. */
  async pump(onLine: OnLine): Promise<boolean> {
    const { value, done } = await this.#r.read();
    if (done) return false;
    const at = performance.now();
    let start = 0;
    while (start < value.length) {
      const nl = value.indexOf(10, start);
      const end = nl < 0 ? value.length : nl;
      if (this.#headLen < HEAD) {
        const take = Math.min(HEAD - this.#headLen, end - start);
        this.#head.set(value.subarray(start, start + take), this.#headLen);
        this.#headLen += take;
      }
      this.#lineLen += end - start;
      if (nl < 0) break;
      onLine(dec.decode(this.#head.subarray(0, this.#headLen)), this.#lineLen, at);
      this.#headLen = 0;
      this.#lineLen = 0;
      start = nl + 1;
    }
    return true;
  }

  failure(what: string): Error {
    const why = this.#writeError ? ` (write: ${(this.#writeError as Error).message})` : "";
    return new Error(`${what}${why}; stderr: ${this.stderrTail.trim().slice(-600) || "(empty)"}`);
  }

  /** Closes stdin (the MCP stdio shutdown) and waits for the exit; kills after 5 s. */
  async close(): Promise<void> {
    try {
      await this.#w.close();
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 5000);
    try {
      // Drain stdout so a child blocked on writing can exit.
      while (!(await this.#r.read()).done) { /* discard */ }
    } catch { /* cancelled */ }
    await this.child.status;
    clearTimeout(timer);
  }
}

function argvFor(way: Way, lock: string): string[] {
  switch (way) {
    case "direct":
      return [NODE, ECHO];
    case "relay":
      return [NODE, RELAY, "--", NODE, ECHO];
    case "bun-relay":
      return [BUN, RELAY, "--", "--", NODE, ECHO]; // Bun takes the first "--" as its own
    case "proxy":
      return [BIN, "proxy", "--lock", lock, "--", NODE, ECHO];
  }
}

const ID_RE = /"id":(\d+)/;

/** Spawns, runs initialize + notifications/initialized, and returns the connected peer. */
async function connect(way: Way, lock: string): Promise<Peer> {
  const peer = new Peer(argvFor(way, lock));
  peer.write(enc.encode(
    `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},` +
      `"clientInfo":{"name":"bench_proxy","version":"1.0.0"}}}\n`,
  ));
  let ok = false;
  while (!ok) {
    if (!await peer.pump((head) => ok ||= ID_RE.exec(head)?.[1] === "0" && head.includes('"result"'))) {
      throw peer.failure(`${way}: no initialize response`);
    }
  }
  peer.write(enc.encode(`{"jsonrpc":"2.0","method":"notifications/initialized"}\n`));
  return peer;
}

/** A tools/call echo request as [constant prefix, id tail], so a 9 MiB request is never copied. */
function requestParts(text: string): (id: number) => Uint8Array[] {
  const prefix = enc.encode(
    `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{"text":${
      JSON.stringify(text)
    }}},"id":`,
  );
  return (id) => [prefix, enc.encode(`${id}}\n`)];
}

interface RunResult {
  ms: number;
  latencies: Float64Array;
  errors: number;
  firstError: string;
}

/**
 * `n` tools/call requests with at most `window` in flight; latency is from handing a request to the
 * pipe to reading the last byte of its response.
 */
async function runCalls(
  peer: Peer,
  n: number,
  window: number,
  text: string,
  timeoutMs = 300_000,
): Promise<RunResult> {
  const make = requestParts(text);
  const minLen = text.length; // a response shorter than the text did not echo it
  const base = peer.nextId;
  peer.nextId += n;
  const sentAt = new Float64Array(n);
  const latencies = new Float64Array(n);
  let sent = 0, got = 0, errors = 0, firstError = "";
  const topUp = () => {
    const target = Math.min(n, got + window);
    if (sent >= target) return;
    const parts: Uint8Array[] = [];
    let bytes = 0;
    const now = performance.now();
    while (sent < target) {
      for (const p of make(base + sent)) {
        parts.push(p);
        bytes += p.length;
      }
      sentAt[sent++] = now;
    }
    if (bytes > MIB) {
      for (const p of parts) peer.write(p); // large: no copy, the writer queues them in order
    } else {
      const buf = new Uint8Array(bytes);
      let off = 0;
      for (const p of parts) {
        buf.set(p, off);
        off += p.length;
      }
      peer.write(buf);
    }
  };
  const onLine: OnLine = (head, length, at) => {
    const m = ID_RE.exec(head);
    const i = m ? Number(m[1]) - base : -1;
    if (i < 0 || i >= n || latencies[i] !== 0) return; // not one of ours (or a duplicate)
    latencies[i] = at - sentAt[i];
    got++;
    if (!head.includes('"result"') || length < minLen) {
      errors++;
      firstError ||= head.slice(0, 300);
    }
  };
  const deadline = setTimeout(() => {
    try {
      peer.child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  const t0 = performance.now();
  let tEnd = t0;
  try {
    topUp();
    while (got < n) {
      if (
        !await peer.pump((h, l, at) => {
          onLine(h, l, at);
          tEnd = at;
        })
      ) throw peer.failure(`EOF after ${got} of ${n} responses`);
      topUp();
    }
  } finally {
    clearTimeout(deadline);
  }
  return { ms: tEnd - t0, latencies, errors, firstError };
}

// ------------------------------------------------------------------------------------------ stats

/**
 * CPU time of a live process in ms: the sum over its threads of /proc/<pid>/task/<tid>/schedstat
 * (ns resolution; a thread that has exited in between is not counted).
 */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch { /* the thread exited */ }
  }
  return ns / 1e6;
}

function percentile(xs: Float64Array | number[], p: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const median = (xs: number[]) => percentile(xs, 50);
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

interface WayFigures {
  rps: number[];
  cpuUs: number[];
  p50: number[];
  p99: number[];
  errors: number;
  firstError: string;
}

// ------------------------------------------------------------------------------------------ main

async function main() {
  if (!existsSync(BIN)) {
    console.error(`no binary at ${BIN}: run \`make build\` or set MCPTRUST_BIN`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-bench-proxy-"));
  const lock = join(dir, "echo-lock.json");
  try {
    execFileSync(BIN, ["lock", "-o", lock, "--", NODE, ECHO], { stdio: ["ignore", "ignore", "inherit"] });
    const nodeVersion = execFileSync(NODE, ["--version"]).toString().trim();
    console.log(
      `mcptrust proxy benchmark: ${BIN}; node ${nodeVersion}; client deno ${Deno.version.deno}; ` +
        `${cpus().length} CPUs; ${ROUNDS} rounds per scenario${QUICK ? " (--quick)" : ""}`,
    );
    console.log(
      "Each round runs every way back to back on fresh processes (order rotates); bun-relay is relay.mjs " +
        "run by Bun, the proxy's runtime (diagnostic: runtime I/O cost without the proxy's work); " +
        "figures are medians over rounds; ratios are per round, then the median (min..max).\n",
    );

    const ratioRows: { scenario: Scenario; ratios: Record<string, number[]> }[] = [];
    const range = (xs: number[]) =>
      `${fmt(median(xs), 2)} (${fmt(Math.min(...xs), 2)}..${fmt(Math.max(...xs), 2)})`;
    for (const sc of SCENARIOS.filter((s) => selected(s.name))) {
      const text = sc.textBytes === SMALL_TEXT.length ? SMALL_TEXT : "x".repeat(sc.textBytes);
      const figs = Object.fromEntries(
        WAYS.map((
          w,
        ) => [w, { rps: [], cpuUs: [], p50: [], p99: [], errors: 0, firstError: "" } as WayFigures]),
      ) as Record<Way, WayFigures>;
      const ratios: Record<string, number[]> = {
        "proxy/relay": [],
        "proxy/direct": [],
        "proxy/bun-relay": [],
      };
      for (let r = 0; r < ROUNDS; r++) {
        const order = WAYS.map((_, i) => WAYS[(i + r) % WAYS.length]);
        const rps: Partial<Record<Way, number>> = {};
        for (const way of order) {
          const peer = await connect(way, lock);
          try {
            await runCalls(peer, sc.warmup, Math.min(sc.window, sc.warmup), text);
            const cpu0 = cpuMs(peer.pid);
            const res = await runCalls(peer, sc.calls, sc.window, text);
            const f = figs[way];
            f.cpuUs.push(((cpuMs(peer.pid) - cpu0) * 1000) / sc.calls);
            rps[way] = (sc.calls * 1000) / res.ms;
            f.rps.push(rps[way]!);
            f.p50.push(percentile(res.latencies, 50));
            f.p99.push(percentile(res.latencies, 99));
            f.errors += res.errors;
            f.firstError ||= res.firstError;
          } finally {
            await peer.close();
          }
        }
        ratios["proxy/relay"].push(rps.proxy! / rps.relay!);
        ratios["proxy/direct"].push(rps.proxy! / rps.direct!);
        ratios["proxy/bun-relay"].push(rps.proxy! / rps["bun-relay"]!);
      }
      const large = sc.textBytes >= MIB;
      console.log(
        `${sc.name}: ${sc.calls} calls${large ? ` (${sc.textBytes / MIB} MiB each way per call)` : ""}`,
      );
      console.log(
        `  ${pad("way", 10)}${lpad("req/s", 10)}${lpad("p50 ms", 10)}${lpad("p99 ms", 10)}` +
          `${lpad(large ? "cpu ms/call" : "cpu us/call", 13)}  errors   (cpu: the spawned process alone)`,
      );
      for (const way of WAYS) {
        const f = figs[way];
        const digits = large ? 1 : 3;
        console.log(
          `  ${pad(way, 10)}${lpad(fmt(median(f.rps), large ? 1 : 0), 10)}` +
            `${lpad(fmt(median(f.p50), digits), 10)}${lpad(fmt(median(f.p99), digits), 10)}` +
            `${lpad(large ? fmt(median(f.cpuUs) / 1000, 1) : fmt(median(f.cpuUs), 1), 13)}  ${f.errors}` +
            (f.firstError ? `  first: ${f.firstError}` : ""),
        );
      }
      console.log(`  ${Object.entries(ratios).map(([k, xs]) => `${k} ${range(xs)}`).join("   ")}\n`);
      ratioRows.push({ scenario: sc, ratios });
    }

    // Memory: the proxy's VmHWM / VmRSS over MEMORY_CALLS pipelined small calls.
    const hwm: number[] = [];
    if (selected("memory")) {
      console.log(
        `proxy memory over ${MEMORY_CALLS} pipelined small calls (window ${WINDOW}), from /proc/<pid>/status:`,
      );
      const peer = await connect("proxy", lock);
      const status = () => {
        const s = readFileSync(`/proc/${peer.pid}/status`, "utf8");
        const mib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? NaN) / 1024;
        hwm.push(mib("VmHWM"));
        return `VmHWM ${fmt(mib("VmHWM"))} MiB, VmRSS ${fmt(mib("VmRSS"))} MiB`;
      };
      try {
        await runCalls(peer, 10, 10, SMALL_TEXT); // past the preflight
        console.log(`  ${lpad("start", 8)}: ${status()}`);
        let done = 0, errors = 0;
        const t0 = performance.now();
        for (const mark of MEMORY_MARKS) {
          const res = await runCalls(peer, mark - done, WINDOW, SMALL_TEXT);
          errors += res.errors;
          done = mark;
          console.log(`  ${lpad(String(mark), 8)}: ${status()}`);
        }
        console.log(`  (${fmt((done * 1000) / (performance.now() - t0), 0)} req/s, ${errors} errors)\n`);
      } finally {
        await peer.close();
      }
    }

    // The session's own CPU per call with no I/O (where the proxy's time goes), on Bun.
    if (selected("session")) {
      console.log(
        "proxy session CPU per tools/call round trip, no I/O (scripts/bench/session_cost.ts, bun):",
      );
      for (const [calls, bytes] of [[QUICK ? 50_000 : 200_000, SMALL_TEXT.length], [QUICK ? 50 : 200, MIB]]) {
        try {
          const out = execFileSync(BUN, [SESSION_HELPER, lock, String(calls), String(bytes)], { cwd: ROOT });
          const r = JSON.parse(out.toString());
          const us = (x: number) => (bytes >= MIB ? `${fmt(x / 1000, 2)} ms` : `${fmt(x, 2)} us`);
          console.log(
            `  ${bytes >= MIB ? "1 MiB text" : "small text"}: host->server ${us(r.hostToServerUs)}, ` +
              `server->host ${us(r.serverToHostUs)} (${r.calls} calls, ${r.runtime})`,
          );
          if (bytes < MIB) { // single-step timings of a repeated large input are not representative
            console.log(
              "    steps: " +
                Object.entries(r.stepsNs as Record<string, number>).map(([k, v]) => `${k} ${fmt(v, 0)} ns`)
                  .join("; "),
            );
          }
        } catch (err) {
          console.log(`  failed: ${(err as Error).message.split("\n")[0]}`);
        }
      }
      console.log();
    }

    // Policy core, on Bun (the compiled binary's runtime) and Deno (V8): the cost of one decision from
    // scripts/bench_policy_core.ts (reused as is), then load / setAllowlist / template scaling from
    // scripts/bench/policy_core.ts.
    let worstDecisionNs = NaN;
    if (selected("policy")) {
      console.log(
        `policy core (lib/policy/core.ts), ${POLICY_ITERATIONS} iterations per figure after warm-up:`,
      );
      const runtimes: [string, string[]][] = [["bun", [BUN]], ["deno", [Deno.execPath(), "run", "-A"]]];
      for (const [label, prefix] of runtimes) {
        const run = (script: string) => {
          const argv = [...prefix, script, String(POLICY_ITERATIONS)];
          return execFileSync(argv[0], argv.slice(1), { cwd: ROOT, maxBuffer: 1 << 20 }).toString();
        };
        try {
          if (existsSync(DECISION_BENCH)) {
            const text = run(DECISION_BENCH);
            for (const line of text.trimEnd().split("\n")) {
              console.log(`  ${line.trim() === line ? "" : "  "}${line.trim()}`);
            }
            if (label === "bun") {
              worstDecisionNs = Math.max(
                ...[...text.matchAll(/(\d+) ns\/decision/g)].map((m) => Number(m[1])),
              );
            }
          } else {
            console.log(`  (${DECISION_BENCH} is missing: no per-decision figures)`);
          }
          const r = JSON.parse(run(POLICY_HELPER));
          console.log(
            `  ${r.runtime}: PolicyCore.load() ${fmt(r.loadMs, 2)} ms (first ${fmt(r.loadColdMs, 2)} ms)`,
          );
          for (const [k, v] of Object.entries(r.setAllowlistUs as Record<string, number>)) {
            console.log(`    setAllowlist, ${k}: ${fmt(v, 1)} us`);
          }
          console.log(
            "    decideResourceUri (template match) by number of templates: " +
              Object.entries(r.uriNsByTemplates as Record<string, number>).map(([n, v]) =>
                `${n}: ${fmt(v, 0)} ns`
              )
                .join(", "),
          );
        } catch (err) {
          console.log(`  ${label}: failed: ${(err as Error).message.split("\n")[0]}`);
        }
      }
    }

    // Summary against the targets.
    console.log("\nsummary (targets: proxy/relay >= 0.90; flat memory; a decision < 1 us):");
    for (const { scenario, ratios } of ratioRows) {
      const m = median(ratios["proxy/relay"]);
      console.log(
        `  ${pad(scenario.name, 34)} proxy/relay ${fmt(m, 2)} ${m >= 0.9 ? "meets" : "BELOW"} 0.90` +
          `   proxy/direct ${fmt(median(ratios["proxy/direct"]), 2)}` +
          `   proxy/bun-relay ${fmt(median(ratios["proxy/bun-relay"]), 2)}`,
      );
    }
    if (hwm.length > 2) {
      console.log(
        `  proxy VmHWM: ${hwm.map((m) => fmt(m)).join(" -> ")} MiB (start, ${
          MEMORY_MARKS.join(", ")
        } calls); ` +
          `${fmt(hwm[hwm.length - 1] - hwm[1])} MiB growth after the first ${MEMORY_MARKS[0]}`,
      );
    }
    if (!Number.isNaN(worstDecisionNs)) {
      console.log(`  slowest decision in scripts/bench_policy_core.ts on bun: ${fmt(worstDecisionNs, 0)} ns`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
