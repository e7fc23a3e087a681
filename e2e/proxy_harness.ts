/**
 * A raw, line-level harness for `mcptrust proxy`: spawn the compiled binary, write JSON-RPC lines to its
 * stdin, await lines from its stdout by id. The SDK client would hide exactly what the proxy's
 * protocol invariants are about (ids byte for byte, duplicate and unsolicited responses, errors with
 * id null), so these tests speak JSON-RPC themselves.
 *
 * Also: a small scripted MCP server for what the fixture server cannot do (answer a held request late,
 * exit in the middle of a request, write to stderr mid-session), written to a temp dir at test time.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import assert from "node:assert/strict";
import { BIN, fixture, ROOT, run, tempDir } from "./helpers.ts";

/** One line the proxy wrote to stdout (an array line is split into one Line per element). */
export interface Line {
  /** The text of the message (for a batch element: its slice of the batch line). */
  raw: string;
  /** JSON.parse of `raw`, or undefined if it does not parse. */
  value: unknown;
  /** The `id` member exactly as written, or undefined if the message has no top-level id. */
  rawId?: string;
  /** Position in the order the proxy wrote messages. */
  seq: number;
}

/** A JSON-RPC message as the tests read it. */
// deno-lint-ignore no-explicit-any
export type Json = any;

/**
 * Spans of the top-level members (object) or elements (array) of a JSON text. Written independently of
 * lib/proxy/top_level.ts, which is under test: the harness must not share its bugs.
 */
export function topLevel(text: string): { keys: Map<string, string>; elements: string[] } | undefined {
  const t = text.trim();
  const open = t[0];
  if (open !== "{" && open !== "[") return undefined;
  const keys = new Map<string, string>();
  const elements: string[] = [];
  let i = 1;
  let depth = 0;
  let start = 1;
  let key: string | undefined;
  let inString = false;
  for (; i < t.length; i++) {
    const c = t[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && depth > 0) depth--;
    else if (depth === 0 && open === "{" && c === ":" && key === undefined) {
      key = JSON.parse(t.slice(start, i).trim());
      start = i + 1;
    } else if (depth === 0 && (c === "," || c === "}" || c === "]")) {
      const piece = t.slice(start, i).trim();
      if (open === "{" && key !== undefined) keys.set(key, piece);
      else if (open === "[" && piece !== "") elements.push(piece);
      key = undefined;
      start = i + 1;
    }
  }
  return { keys, elements };
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How long a single await may take before the test fails instead of hanging (a guard, not a check). */
const GUARD_MS = 20_000;

/** The MCP initialize request the raw tests send. */
export const INITIALIZE_PARAMS = {
  protocolVersion: "2025-06-18",
  capabilities: { roots: {}, sampling: {} },
  clientInfo: { name: "raw-harness", version: "1.0.0" },
};

/** A running `mcptrust proxy` driven line by line. */
export class RawProxy {
  readonly child: ChildProcess;
  /** Every message the proxy wrote to stdout, in order. */
  readonly lines: Line[] = [];
  /** stdout text that was not a complete JSON message (must stay empty). */
  readonly junk: string[] = [];
  stderr = "";
  /** Resolves when the proxy has exited. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #buf = "";
  #seq = 0;
  #waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  #exitedFlag = false;

  constructor(args: string[], opts: { env?: Record<string, string> } = {}) {
    this.child = spawn(BIN, ["proxy", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdin!.on("error", () => {}); // writing to a proxy that exited is part of some tests
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => this.#onStdout(chunk));
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (chunk: string) => this.stderr += chunk);
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        this.#exitedFlag = true;
        resolve({ code, signal });
      });
    });
  }

  #onStdout(chunk: string): void {
    this.#buf += chunk;
    let nl: number;
    while ((nl = this.#buf.indexOf("\n")) !== -1) {
      const text = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      this.#addLine(text);
    }
  }

  #addLine(text: string): void {
    const value = parseOrUndefined(text);
    if (value === undefined) {
      this.junk.push(text.slice(0, 200));
      return;
    }
    const pieces = Array.isArray(value) ? topLevel(text)!.elements : [text];
    for (const raw of pieces) {
      const line: Line = {
        raw,
        value: parseOrUndefined(raw),
        rawId: topLevel(raw)?.keys.get("id"),
        seq: this.#seq++,
      };
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(line)) return true;
        w.resolve(line);
        return false;
      });
    }
  }

  /** Writes one line (a value is JSON-encoded; a string is sent as it is) plus a newline. */
  send(msg: unknown): void {
    this.child.stdin!.write((typeof msg === "string" ? msg : JSON.stringify(msg)) + "\n");
  }

  /** Writes raw text (no newline added). */
  write(data: string | Uint8Array): void {
    this.child.stdin!.write(data);
  }

  /** Awaits the first message (already received or future) for which `pred` holds. */
  waitFor(pred: (l: Line) => boolean, what: string): Promise<Line> {
    const found = this.lines.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const guard = setTimeout(
        () =>
          reject(
            new Error(`no message ${what} within ${GUARD_MS / 1000}s; stderr:\n${this.stderr.slice(-3000)}`),
          ),
        GUARD_MS,
      );
      const done = (l: Line) => {
        clearTimeout(guard);
        resolve(l);
      };
      this.#waiters.push({ pred, resolve: done });
      void this.exited.then(() => {
        // Give the last stdout chunk a chance: 'close' comes after stdout ended.
        const late = this.lines.find(pred);
        clearTimeout(guard);
        if (late) resolve(late);
        else {reject(
            new Error(
              `the proxy exited before sending a message ${what}; stderr:\n${this.stderr.slice(-3000)}`,
            ),
          );}
      });
    });
  }

  /** Awaits the response whose id is exactly `rawId` (the JSON text of the id). */
  response(rawId: string): Promise<Line> {
    return this.waitFor((l) => l.rawId === rawId && isResponse(l.value), `with id ${rawId}`);
  }

  /** All responses with this exact raw id received so far. */
  responsesTo(rawId: string): Line[] {
    return this.lines.filter((l) => l.rawId === rawId && isResponse(l.value));
  }

  /** Sends a request with id `rawId` (JSON text, spliced in verbatim) and awaits its response. */
  async request(rawId: string, method: string, params?: unknown): Promise<Json> {
    const body = JSON.stringify({ jsonrpc: "2.0", method, ...(params === undefined ? {} : { params }) });
    this.send(`{"jsonrpc":"2.0","id":${rawId},` + body.slice('{"jsonrpc":"2.0",'.length));
    return (await this.response(rawId)).value;
  }

  /** initialize + notifications/initialized; returns the initialize result. */
  async initialize(): Promise<Json> {
    const r = await this.request('"init"', "initialize", INITIALIZE_PARAMS);
    assert.ok(r.result, `initialize failed: ${JSON.stringify(r)}`);
    this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    return r.result;
  }

  /**
   * A ping round trip. The fixture answers in request order, so once the ping's answer is here every
   * earlier answer the server wrote has been through the proxy.
   */
  async sync(tag = "sync"): Promise<void> {
    const id = JSON.stringify(`${tag}-${this.#seq}-${Math.random()}`);
    const r = await this.request(id, "ping");
    assert.deepEqual(r.result, {}, `ping failed: ${JSON.stringify(r)}`);
  }

  /** Closes the proxy's stdin (host EOF) and awaits its exit. */
  async end(): Promise<{ code: number | null; signal: string | null }> {
    this.child.stdin!.end();
    return await this.exited;
  }

  /**
   * Stops the proxy if it is still running (test cleanup): host EOF; if it lingers (it waits for pending
   * requests after EOF), SIGTERM, which it forwards to its server; SIGKILL as a last resort.
   */
  async kill(): Promise<void> {
    if (this.#exitedFlag) return;
    this.child.stdin!.end();
    const term = setTimeout(() => this.child.kill("SIGTERM"), 2000);
    const kill = setTimeout(() => this.child.kill("SIGKILL"), 6000);
    await this.exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}

/** True for a JSON-RPC response (result or error, no method). */
export function isResponse(v: unknown): boolean {
  return typeof v === "object" && v !== null && !("method" in v) && ("result" in v || "error" in v);
}

/** Runs `fn` with a started proxy and always stops it. */
export async function withProxy<T>(
  args: string[],
  fn: (p: RawProxy) => Promise<T>,
  opts: { env?: Record<string, string> } = {},
): Promise<T> {
  const p = new RawProxy(args, opts);
  try {
    return await fn(p);
  } finally {
    await p.kill();
  }
}

/** argv of a fixture scenario with `--record <file>`. */
export function recordedFixture(name: string, record: string): string[] {
  const [node, script, scenario] = fixture(name);
  return [node, script, "--record", record, scenario];
}

/** Lines the fixture recorded (parsed). */
export function recorded(file: string): Json[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => parseOrUndefined(l) ?? { unparsed: l });
}

/** Writes a scenario that extends a shipped one into a temp dir (keeps testdata/ untouched). */
export function tempScenario(dir: string, name: string, scenario: Record<string, unknown>): string[] {
  const file = join(dir, `${name}.json`);
  const base = scenario.extends as string | undefined;
  const ext = base ? { extends: join(ROOT, "testdata/servers/scenarios", base) } : {};
  writeFileSync(file, JSON.stringify({ ...scenario, ...ext }));
  return ["node", join(ROOT, "testdata/servers/fixture_server.mjs"), file];
}

/** Locks `argv` into `<dir>/<name>.lock.json` with the binary under test. */
export async function lockServer(
  dir: string,
  name: string,
  argv: string[],
  env?: Record<string, string>,
): Promise<string> {
  const lock = join(dir, `${name}.lock.json`);
  const r = await run(["lock", "-o", lock, "--", ...argv], { env });
  assert.equal(r.code, 0, `lock ${name}: ${r.stderr}`);
  return lock;
}

/** Reads a lockfile, lets `edit` change it, writes it to a new file and returns that path. */
export function editLock(lock: string, suffix: string, edit: (doc: Json) => void): string {
  const doc = JSON.parse(readFileSync(lock, "utf8"));
  edit(doc);
  const out = lock.replace(/\.json$/, `.${suffix}.json`);
  writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
  return out;
}

/** Audit records from a `--log-output` file. */
export function auditLog(file: string): Json[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/**
 * A scripted MCP server (Node, no dependencies) for behaviour the fixture server has no option for:
 * - tools `echo` (text: JSON of arguments), `hold` (answered only when the next `ping` arrives, before
 *   the ping's own answer: a late answer on demand), `die` (stderr line, then exit 7 without answering),
 *   `shout` (writes `SCRIPTED-STDERR <arguments.text>` to stderr, then answers), `badjson` (answers
 *   with a line shaped like a response to the pending id that is not valid JSON);
 * - tools/list carries `_meta` and an extra field `extraField` besides `tools`;
 * - on stdin EOF it exits with code 4 (so the proxy's exit code is visibly the server's).
 */
const SCRIPTED_SERVER = `
import process from "node:process";
const send = (m) => process.stdout.write(JSON.stringify(m) + "\\n");
const held = [];
const tools = ["echo", "hold", "die", "shout", "badjson"].map((name) => ({
  name, description: "scripted " + name, inputSchema: { type: "object" },
}));
process.stderr.write("SCRIPTED-STDERR started\\n");
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf("\\n")) !== -1) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (line.trim() !== "") onMessage(JSON.parse(line));
  }
});
process.stdin.on("end", () => process.exit(4));
function onMessage(m) {
  if (typeof m.method !== "string" || !("id" in m)) return;
  const ok = (result) => send({ jsonrpc: "2.0", id: m.id, result });
  switch (m.method) {
    case "initialize":
      return ok({ protocolVersion: m.params.protocolVersion, capabilities: { tools: {} },
        serverInfo: { name: "scripted-server", version: "1.0.0" } });
    case "tools/list": return ok({ tools, _meta: { "example.com/page": 1 }, extraField: "kept" });
    case "prompts/list": return ok({ prompts: [] });
    case "resources/list": return ok({ resources: [] });
    case "resources/templates/list": return ok({ resourceTemplates: [] });
    case "ping":
      while (held.length) send({ jsonrpc: "2.0", id: held.shift(), result: { content: [{ type: "text", text: "late answer" }] } });
      return ok({});
    case "tools/call": {
      const name = m.params.name;
      if (name === "hold") return void held.push(m.id);
      if (name === "die") {
        process.stderr.write("SCRIPTED-STDERR dying\\n");
        return process.exit(7);
      }
      if (name === "badjson") {
        // Structurally an object with the right id, but not JSON: a bare word where a value belongs.
        return void process.stdout.write('{"jsonrpc":"2.0","id":' + JSON.stringify(m.id) + ',"result":{"content":[],"x":tru}}\\n');
      }
      if (name === "shout") process.stderr.write("SCRIPTED-STDERR " + m.params.arguments.text + "\\n");
      return ok({ content: [{ type: "text", text: JSON.stringify(m.params.arguments ?? {}) }] });
    }
    default:
      return send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "Method not found" } });
  }
}
`;

/** Writes the scripted server into `dir` and returns its argv. */
export function scriptedServer(dir: string): string[] {
  const file = join(dir, "scripted_server.mjs");
  writeFileSync(file, SCRIPTED_SERVER);
  return ["node", file];
}

/** A fresh temp dir (re-exported for the tests). */
export { tempDir };
