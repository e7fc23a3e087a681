#!/usr/bin/env node
// A scenario-driven MCP server over stdio (newline-delimited JSON-RPC 2.0, MCP 2025-06-18) for
// mcptrust's tests. It serves the drifted, adversarial and broken servers that cannot be real.
// The scenario format is documented in README.md beside this file.
//
// Usage: node fixture_server.mjs [--record <file>] [--print] <scenario.json>
//   --record <file>  append every line received on stdin to <file>, so a test can see exactly what
//                    reached the server (e.g. through the proxy)
//   --print          print the resolved scenario (extends and patches applied) and exit
//
// Dependency-free on purpose: the official SDK would refuse to produce most of these misbehaviours,
// and tests must not depend on its version.

import { appendFileSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";

const SUPPORTED_PROTOCOL_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18"];
const LATEST_PROTOCOL_VERSION = "2025-06-18";

// The four lists a server exposes. `id` is the field that names an item (what patch/remove match on).
const KINDS = [
  {
    key: "tools",
    helper: "Tools",
    id: "name",
    method: "tools/list",
    changed: "notifications/tools/list_changed",
  },
  {
    key: "prompts",
    helper: "Prompts",
    id: "name",
    method: "prompts/list",
    changed: "notifications/prompts/list_changed",
  },
  {
    key: "resources",
    helper: "Resources",
    id: "uri",
    method: "resources/list",
    changed: "notifications/resources/list_changed",
  },
  {
    key: "resourceTemplates",
    helper: "ResourceTemplates",
    id: "uriTemplate",
    method: "resources/templates/list",
    changed: "notifications/resources/list_changed",
  },
];

const LIST_METHODS = KINDS.map((kind) => kind.method);

const PATCH_KEYS = KINDS.flatMap((k) => [`patch${k.helper}`, `add${k.helper}`, `remove${k.helper}`]);

// Unknown keys are rejected: a typo in a scenario would otherwise silently give a well-behaved
// server, and the end-to-end test using it would pass without testing anything.
const SCENARIO_KEYS = new Set([
  "$comment",
  "extends",
  "serverInfo",
  "protocolVersion",
  "capabilities",
  "instructions",
  "toolResults",
  "pageSize",
  "cursorLoop",
  "unsupportedMethods",
  "hangOn",
  "strayStdout",
  "interleave",
  "rootsDuringToolsList",
  "crashOnStart",
  "garbageOnly",
  "exitAfterInitialize",
  "oversizeLine",
  "invalidOutput",
  "rugPull",
  "badResponses",
  ...KINDS.flatMap((k) => [k.key, `${k.key}From`]),
  ...PATCH_KEYS,
]);

class ScenarioError extends Error {}

class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario loading

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readJson(file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ScenarioError(`cannot read ${file}: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`${file} is not valid JSON: ${err.message}`);
  }
}

/** JSON Merge Patch (RFC 7396): objects merge recursively, null deletes a key, anything else replaces. */
function mergePatch(target, patch) {
  if (!isObject(patch)) return structuredClone(patch);
  const out = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * Applies `remove<Kind>`, then `patch<Kind>`, then `add<Kind>` from `patch` to `items`.
 * Removing or patching an item that does not exist is an error (a typo must not go unnoticed);
 * adding an item whose name already exists is allowed, because duplicate names are an attack too.
 */
function applyListPatch(items, patch, kind, where) {
  let out = items;
  for (const id of patch[`remove${kind.helper}`] ?? []) {
    if (!out.some((item) => item[kind.id] === id)) {
      throw new ScenarioError(`${where}: remove${kind.helper}: no ${kind.key} item "${id}"`);
    }
    out = out.filter((item) => item[kind.id] !== id);
  }
  for (const [id, fields] of Object.entries(patch[`patch${kind.helper}`] ?? {})) {
    if (!isObject(fields)) throw new ScenarioError(`${where}: patch${kind.helper}.${id} must be an object`);
    if (!out.some((item) => item[kind.id] === id)) {
      throw new ScenarioError(`${where}: patch${kind.helper}: no ${kind.key} item "${id}"`);
    }
    out = out.map((item) => (item[kind.id] === id ? mergePatch(item, fields) : item));
  }
  const added = patch[`add${kind.helper}`] ?? [];
  if (!Array.isArray(added)) throw new ScenarioError(`${where}: add${kind.helper} must be an array`);
  return [...out, ...structuredClone(added)];
}

/** Reads a list from a JSON-RPC response file, a bare result object, or a bare array. */
function listFromFile(file, kind) {
  const data = readJson(file);
  const list = Array.isArray(data) ? data : (data.result ?? data)[kind.key];
  if (!Array.isArray(list)) throw new ScenarioError(`${file}: no "${kind.key}" array found`);
  return list;
}

function loadScenario(file, chain = []) {
  if (chain.includes(file)) throw new ScenarioError(`extends cycle: ${[...chain, file].join(" -> ")}`);
  const own = readJson(file);
  if (!isObject(own)) throw new ScenarioError(`${file}: a scenario must be a JSON object`);
  for (const key of Object.keys(own)) {
    if (!SCENARIO_KEYS.has(key)) throw new ScenarioError(`${file}: unknown scenario key "${key}"`);
  }
  const here = dirname(file);
  const scenario = own.extends === undefined
    ? {}
    : loadScenario(resolve(here, own.extends), [...chain, file]);
  delete scenario.$comment;
  for (const [key, value] of Object.entries(own)) {
    if (key === "extends" || key.endsWith("From") || PATCH_KEYS.includes(key)) continue;
    scenario[key] = value;
  }
  for (const kind of KINDS) {
    const from = own[`${kind.key}From`];
    if (from !== undefined) {
      if (own[kind.key] !== undefined) {
        throw new ScenarioError(`${file}: give either ${kind.key} or ${kind.key}From, not both`);
      }
      scenario[kind.key] = listFromFile(resolve(here, from), kind);
    }
    const items = scenario[kind.key] ?? [];
    if (
      !Array.isArray(items) || !items.every((item) => isObject(item) && typeof item[kind.id] === "string")
    ) {
      throw new ScenarioError(`${file}: ${kind.key} must be an array of objects with a string "${kind.id}"`);
    }
    scenario[kind.key] = applyListPatch(items, own, kind, file);
  }
  return scenario;
}

/** `on` fields name the methods a misbehaviour applies to: a string, an array, or "*" for all. */
function methodMatcher(on, fallback) {
  const list = on === undefined ? fallback : Array.isArray(on) ? on : [on];
  return (method) => list.includes("*") || list.includes(method);
}

/** An opt-in key is either `true` (all defaults) or an object of options, checked like scenario keys. */
function options(scenario, key, allowed) {
  const value = scenario[key];
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (!isObject(value)) throw new ScenarioError(`${key} must be true or an object`);
  for (const option of Object.keys(value)) {
    if (!allowed.includes(option)) throw new ScenarioError(`unknown ${key} option "${option}"`);
  }
  return value;
}

/** Whether a patch object (scenario or rugPull) changes the list of `kind`. */
function touches(patch, kind) {
  return ["patch", "add", "remove"].some((verb) => patch[`${verb}${kind.helper}`] !== undefined);
}

/** Turns a resolved scenario into the runtime configuration, validating what tests depend on. */
function configure(scenario) {
  const rugPulls = scenario.rugPull === undefined
    ? []
    : Array.isArray(scenario.rugPull)
    ? scenario.rugPull
    : [scenario.rugPull];
  for (const pull of rugPulls) {
    if (!Number.isInteger(pull.afterToolCalls) || pull.afterToolCalls < 1) {
      throw new ScenarioError("rugPull.afterToolCalls must be a positive integer");
    }
    for (const key of Object.keys(pull)) {
      if (!["afterToolCalls", "notify", ...PATCH_KEYS].includes(key)) {
        throw new ScenarioError(`unknown rugPull key "${key}"`);
      }
    }
  }
  // Dry-run the rug pulls now so a broken one fails at start, not in the middle of a test.
  const lists = Object.fromEntries(KINDS.map((k) => [k.key, scenario[k.key]]));
  for (const pull of [...rugPulls].sort((a, b) => a.afterToolCalls - b.afterToolCalls)) {
    for (const kind of KINDS) lists[kind.key] = applyListPatch(lists[kind.key], pull, kind, "rugPull");
  }

  const pageSize = scenario.pageSize ?? (scenario.cursorLoop ? 10 : undefined);
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) {
    throw new ScenarioError("pageSize must be a positive integer");
  }

  const stray = options(scenario, "strayStdout", ["on", "lines"]);
  const interleave = options(scenario, "interleave", ["on"]);
  const oversize = options(scenario, "oversizeLine", ["on", "bytes", "validJson"]);
  const invalid = options(scenario, "invalidOutput", ["on", "invalidJsonLine", "batch"]);
  const bad = options(scenario, "badResponses", [
    "on",
    "wrongId",
    "unsolicited",
    "resultAndError",
    "noId",
    "duplicate",
  ]);
  const crash = options(scenario, "crashOnStart", ["stderr", "exitCode"]);
  const garbage = options(scenario, "garbageOnly", ["lines"]);
  const exitAfterInit = options(scenario, "exitAfterInitialize", ["exitCode"]);

  return {
    scenario,
    pageSize,
    cursorLoop: scenario.cursorLoop === true,
    rugPulls,
    unsupported: methodMatcher(scenario.unsupportedMethods, []),
    hang: methodMatcher(scenario.hangOn, []),
    rootsDuringToolsList: scenario.rootsDuringToolsList === true,
    stray: stray && {
      on: methodMatcher(stray.on, ["initialize", ...LIST_METHODS]),
      lines: stray.lines ?? [
        "fixture-server: starting up (a log line on stdout, not JSON-RPC)",
        "INFO  loaded scenario, waiting for the client",
      ],
    },
    interleave: interleave && { on: methodMatcher(interleave.on, ["*"]) },
    oversize: oversize && {
      on: methodMatcher(oversize.on, ["tools/list"]),
      bytes: oversize.bytes ?? 11 * 1024 * 1024,
      validJson: oversize.validJson === true,
    },
    invalid: invalid && {
      on: methodMatcher(invalid.on, ["tools/call"]),
      invalidJsonLine: invalid.invalidJsonLine ?? true,
      batch: invalid.batch ?? true,
    },
    bad: bad && { ...bad, on: methodMatcher(bad.on, ["tools/call"]) },
    crash: crash && {
      stderr: crash.stderr ?? "fatal: fixture server crashed on start",
      exitCode: crash.exitCode ?? 1,
    },
    garbage: garbage && {
      lines: garbage.lines ?? [
        "Usage: not-an-mcp-server [options] <file>",
        "error: unexpected input on stdin",
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
      ],
    },
    exitAfterInit: exitAfterInit && { exitCode: exitAfterInit.exitCode ?? 0 },
  };
}

// ---------------------------------------------------------------------------------------------
// Output

let recordFile;

function writeLine(text, onWritten) {
  process.stdout.write(text + "\n", onWritten);
}

function send(message, onWritten) {
  writeLine(JSON.stringify(message), onWritten);
}

// ---------------------------------------------------------------------------------------------
// The server

function runServer(config) {
  const { scenario } = config;
  const lists = Object.fromEntries(KINDS.map((k) => [k.key, structuredClone(scenario[k.key])]));
  const pending = new Map(); // our server-to-client request id -> resolve(response message)
  let nextServerId = 1;
  let nextUnsolicitedId = 7_000_000;
  let toolCallsServed = 0;

  const notifyKinds = new Set(
    config.rugPulls.filter((p) => p.notify).flatMap((p) =>
      KINDS.filter((k) => touches(p, k)).map((k) => k.key)
    ),
  );

  function capabilities() {
    if (scenario.capabilities !== undefined) return scenario.capabilities;
    const listChanged = (...keys) => (keys.some((k) => notifyKinds.has(k)) ? { listChanged: true } : {});
    const caps = {};
    if (lists.tools.length > 0) caps.tools = listChanged("tools");
    if (lists.prompts.length > 0) caps.prompts = listChanged("prompts");
    if (lists.resources.length > 0 || lists.resourceTemplates.length > 0) {
      caps.resources = { subscribe: true, ...listChanged("resources", "resourceTemplates") };
    }
    // Servers that send notifications/message are expected to declare logging.
    if (config.interleave) caps.logging = {};
    return caps;
  }

  /** Sends a request to the client and resolves with its response message (result or error). */
  function requestClient(method, params) {
    const id = nextServerId++;
    return new Promise((resolveResponse) => {
      pending.set(id, resolveResponse);
      send({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
    });
  }

  // Cursors are opaque to clients; inside they name the list and the offset of the next page.
  function encodeCursor(kind, offset) {
    return Buffer.from(JSON.stringify({ list: kind.key, offset })).toString("base64url");
  }

  function decodeCursor(kind, cursor, length) {
    try {
      const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
      if (
        parsed.list === kind.key && Number.isInteger(parsed.offset) && parsed.offset > 0 &&
        parsed.offset <= length
      ) {
        return parsed.offset;
      }
    } catch {
      // fall through: any undecodable cursor is invalid
    }
    throw new RpcError(-32602, `Invalid cursor: ${JSON.stringify(cursor)}`);
  }

  function listPage(kind, params) {
    const items = lists[kind.key];
    const cursor = params.cursor;
    if (config.pageSize === undefined) {
      if (cursor !== undefined) throw new RpcError(-32602, `Invalid cursor: ${JSON.stringify(cursor)}`);
      return { [kind.key]: items };
    }
    const offset = cursor === undefined ? 0 : decodeCursor(kind, cursor, items.length);
    const page = items.slice(offset, offset + config.pageSize);
    if (config.cursorLoop) {
      // Always the same cursor, which always serves the second page: a client that trusts
      // nextCursor to advance never stops.
      return { [kind.key]: page, nextCursor: encodeCursor(kind, Math.min(config.pageSize, items.length)) };
    }
    const next = offset + config.pageSize;
    return next < items.length
      ? { [kind.key]: page, nextCursor: encodeCursor(kind, next) }
      : { [kind.key]: page };
  }

  function text(value) {
    return { content: [{ type: "text", text: value }] };
  }

  async function askClient(method, params) {
    const response = await requestClient(method, params);
    if (response.error !== undefined) {
      return { ...text(JSON.stringify({ error: response.error })), isError: true };
    }
    return text(JSON.stringify(response.result));
  }

  function callTool(params) {
    const name = params.name;
    const args = params.arguments ?? {};
    if (typeof name !== "string") throw new RpcError(-32602, "tools/call needs a string name");
    if (!lists.tools.some((tool) => tool.name === name)) {
      return { ...text(`Unknown tool: ${name}`), isError: true };
    }
    const fixed = scenario.toolResults?.[name];
    if (fixed !== undefined) return structuredClone(fixed);
    switch (name) {
      case "echo":
        return text(JSON.stringify(args));
      case "large": {
        const size = args.size;
        if (!Number.isInteger(size) || size < 0 || size > 512 * 1024 * 1024) {
          throw new RpcError(-32602, "large: arguments.size must be an integer number of bytes");
        }
        return text("x".repeat(size));
      }
      case "ask_roots":
        return askClient("roots/list");
      case "ask_sampling":
        return askClient("sampling/createMessage", {
          messages: [{ role: "user", content: { type: "text", text: "Say hello." } }],
          maxTokens: 16,
        });
      case "ask_elicitation":
        return askClient("elicitation/create", {
          message: "What is your name?",
          requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
        });
      default:
        return text(`tool ${name} called with ${JSON.stringify(args)}`);
    }
  }

  const handlers = {
    initialize(params) {
      const requested = params.protocolVersion;
      const protocolVersion = scenario.protocolVersion ??
        (SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION);
      return {
        protocolVersion,
        capabilities: capabilities(),
        serverInfo: scenario.serverInfo ?? { name: "fixture-server", version: "1.0.0" },
        ...(scenario.instructions === undefined ? {} : { instructions: scenario.instructions }),
      };
    },
    ping: () => ({}),
    "tools/list"(params) {
      if (config.rootsDuringToolsList) {
        return requestClient("roots/list").then(() => listPage(KINDS[0], params));
      }
      return listPage(KINDS[0], params);
    },
    "prompts/list": (params) => listPage(KINDS[1], params),
    "resources/list": (params) => listPage(KINDS[2], params),
    "resources/templates/list": (params) => listPage(KINDS[3], params),
    "tools/call": callTool,
    "prompts/get"(params) {
      const prompt = lists.prompts.find((p) => p.name === params.name);
      if (prompt === undefined) throw new RpcError(-32602, `Unknown prompt: ${params.name}`);
      return {
        ...(prompt.description === undefined ? {} : { description: prompt.description }),
        messages: [{
          role: "user",
          content: {
            type: "text",
            text: `prompt ${prompt.name} with arguments ${JSON.stringify(params.arguments ?? {})}`,
          },
        }],
      };
    },
    "resources/read"(params) {
      if (typeof params.uri !== "string") throw new RpcError(-32602, "resources/read needs a string uri");
      return { contents: [{ uri: params.uri, mimeType: "text/plain", text: params.uri }] };
    },
    "resources/subscribe": () => ({}),
    "resources/unsubscribe": () => ({}),
    "completion/complete": () => ({ completion: { values: [], total: 0, hasMore: false } }),
    "logging/setLevel": () => ({}),
  };

  function bogusResult(what) {
    return text(`bogus response (${what})`);
  }

  /** Misbehaviours that go out just before the response to `method`. */
  function emitBefore(method, id) {
    if (config.stray?.on(method)) { for (const line of config.stray.lines) writeLine(line); }
    if (config.interleave?.on(method)) {
      send({
        jsonrpc: "2.0",
        method: "notifications/message",
        params: { level: "info", logger: "fixture-server", data: `about to answer ${method}` },
      });
      // Fire and forget: the client's answer is consumed by the pending table, never answered.
      void requestClient("ping");
    }
    if (config.oversize?.on(method)) writeLine(oversizeLine(config.oversize));
    if (config.invalid?.on(method)) {
      if (config.invalid.invalidJsonLine) {
        writeLine(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text",`);
      }
      if (config.invalid.batch) {
        // MCP 2025-06-18 removed JSON-RPC batches; this one smuggles a response to the pending request.
        send([
          {
            jsonrpc: "2.0",
            method: "notifications/message",
            params: { level: "info", logger: "fixture-server", data: "sent inside a JSON-RPC batch" },
          },
          { jsonrpc: "2.0", id, result: bogusResult("inside a batch") },
        ]);
      }
    }
    if (config.bad?.on(method)) {
      if (config.bad.wrongId) send({ jsonrpc: "2.0", id: wrongId(id), result: bogusResult("wrong id") });
      if (config.bad.unsolicited) {
        send({ jsonrpc: "2.0", id: nextUnsolicitedId++, result: bogusResult("unsolicited") });
      }
      if (config.bad.resultAndError) {
        send({
          jsonrpc: "2.0",
          id,
          result: bogusResult("result and error"),
          error: { code: -32603, message: "bogus response (result and error)" },
        });
      }
      if (config.bad.noId) send({ jsonrpc: "2.0", result: bogusResult("no id") });
    }
  }

  /** Misbehaviours and state changes that follow the response to `method`. */
  function emitAfter(method, reply) {
    if (config.bad?.duplicate && config.bad.on(method)) send(reply);
    if (method !== "tools/call") return;
    toolCallsServed++;
    for (const pull of config.rugPulls) {
      if (pull.afterToolCalls !== toolCallsServed) continue;
      const notifications = new Set();
      for (const kind of KINDS) {
        lists[kind.key] = applyListPatch(lists[kind.key], pull, kind, "rugPull");
        if (pull.notify && touches(pull, kind)) notifications.add(kind.changed);
      }
      for (const notification of notifications) send({ jsonrpc: "2.0", method: notification });
    }
  }

  // Handlers answer synchronously unless they must wait for the client, so responses go out in
  // the order the requests came in; tests rely on that to prove that something was NOT sent.
  function handleRequest(message) {
    const { id, method } = message;
    if (config.hang(method)) return; // never answered, on purpose
    const finish = (reply) => {
      emitBefore(method, id);
      if (method === "initialize" && config.exitAfterInit) {
        send(reply, () => process.exit(config.exitAfterInit.exitCode));
        return;
      }
      send(reply);
      emitAfter(method, reply);
    };
    const succeed = (result) => finish({ jsonrpc: "2.0", id, result });
    const fail = (err) => {
      const error = err instanceof RpcError
        ? { code: err.code, message: err.message }
        : { code: -32603, message: `fixture bug: ${err?.stack ?? err}` };
      finish({ jsonrpc: "2.0", id, error });
    };
    let result;
    try {
      const handler = config.unsupported(method) ? undefined : handlers[method];
      if (handler === undefined) throw new RpcError(-32601, `Method not found: ${method}`);
      result = handler(isObject(message.params) ? message.params : {});
    } catch (err) {
      fail(err);
      return;
    }
    if (result instanceof Promise) result.then(succeed, fail);
    else succeed(result);
  }

  function onLine(line) {
    if (line.trim() === "") return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
      return;
    }
    if (!isObject(message)) {
      send({
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: "Invalid Request (batches are not supported)" },
      });
      return;
    }
    if (typeof message.method === "string") {
      if (!("id" in message)) return; // a notification is never answered
      handleRequest(message);
      return;
    }
    if ("id" in message && ("result" in message || "error" in message)) {
      // A response from the client: to one of our requests, or else ignored, as JSON-RPC requires.
      const resolveResponse = pending.get(message.id);
      if (resolveResponse !== undefined) {
        pending.delete(message.id);
        resolveResponse(message);
      }
      return;
    }
    send({ jsonrpc: "2.0", id: message.id ?? null, error: { code: -32600, message: "Invalid Request" } });
  }

  readLines(onLine);
}

function wrongId(id) {
  // Same digits, other JSON type: a pending table that compares loosely would match it.
  if (typeof id === "number") return String(id);
  if (typeof id === "string" && /^\d+$/.test(id)) return Number(id);
  return `${id}-wrong`;
}

function oversizeLine({ bytes, validJson }) {
  const head = '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"';
  const tail = validJson ? '"}}' : "";
  return head + "x".repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

/** Calls `onLine` for each newline-terminated line on stdin (a trailing "\r" is dropped). */
function readLines(onLine) {
  let parts = [];
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => {
    let start = 0;
    let newline;
    while ((newline = chunk.indexOf("\n", start)) !== -1) {
      parts.push(chunk.slice(start, newline));
      const line = parts.join("").replace(/\r$/, "");
      parts = [];
      start = newline + 1;
      if (recordFile !== undefined) appendFileSync(recordFile, line + "\n");
      onLine(line);
    }
    if (start < chunk.length) parts.push(chunk.slice(start));
  });
}

function runGarbage({ lines }) {
  for (const line of lines) writeLine(line);
  readLines(() => writeLine(lines[1 % lines.length]));
}

// ---------------------------------------------------------------------------------------------
// Entry point

function main(argv) {
  let scenarioPath;
  let print = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--record") recordFile = argv[++i];
    else if (argv[i] === "--print") print = true;
    else if (scenarioPath === undefined) scenarioPath = argv[i];
    else throw new ScenarioError(`unexpected argument: ${argv[i]}`);
  }
  if (scenarioPath === undefined) {
    throw new ScenarioError("usage: node fixture_server.mjs [--record <file>] [--print] <scenario.json>");
  }
  const scenario = loadScenario(resolve(scenarioPath));
  const config = configure(scenario);
  if (print) {
    writeLine(JSON.stringify(scenario, null, 2));
    return;
  }
  // The client closing its end of stdout is how sessions usually end; it is not our error.
  process.stdout.on("error", (err) => process.exit(err.code === "EPIPE" ? 0 : 1));
  if (config.crash) {
    // Before reading anything, like a server whose startup fails.
    process.stderr.write(config.crash.stderr + "\n");
    process.exitCode = config.crash.exitCode;
    return;
  }
  if (config.garbage) runGarbage(config.garbage);
  else runServer(config);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof ScenarioError)) throw err;
  process.stderr.write(`fixture_server: ${err.message}\n`);
  process.exitCode = 2;
}
