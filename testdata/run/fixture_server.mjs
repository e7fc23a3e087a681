#!/usr/bin/env node
// The server of the `run --lock` fixture package (testdata/run/packages.ts packs it as
// mcptrust-fixture-server). A dependency-free MCP server over stdio (newline-delimited JSON-RPC) whose
// tools probe what the runner allows: its pinned dependencies (greet), writing a file (write_file),
// opening a TCP connection (connect), its environment (env) and arguments (argv).
//
// Arguments: `--exit N` exits with code N before reading anything; `--touch FILE` writes FILE at start.

import process from "node:process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import { greet, utilVersion as depUtil } from "@mcptrust-fixture/dep";
import { version as util } from "mcptrust-fixture-util";

const argv = process.argv.slice(2);
const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
if (flag("--touch") !== undefined) writeFileSync(flag("--touch"), "started\n");
if (flag("--exit") !== undefined) process.exit(Number(flag("--exit")));

const obj = (properties, required = []) => ({ type: "object", properties, required });
const TOOLS = [
  {
    name: "greet",
    description: "Greet someone (uses the pinned dependencies).",
    inputSchema: obj({ name: { type: "string" } }, ["name"]),
  },
  {
    name: "write_file",
    description: "Write text to a file.",
    inputSchema: obj({ path: { type: "string" }, text: { type: "string" } }, ["path", "text"]),
  },
  {
    name: "connect",
    description: "Open a TCP connection.",
    inputSchema: obj({ host: { type: "string" }, port: { type: "number" } }, ["host", "port"]),
  },
  {
    name: "env",
    description: "The names of the environment variables the server sees.",
    inputSchema: obj({}),
  },
  { name: "argv", description: "The server's arguments.", inputSchema: obj({}) },
];

const text = (t, isError = false) => ({
  content: [{ type: "text", text: t }],
  ...(isError ? { isError } : {}),
});

function tryConnect(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(text("connect failed: ETIMEDOUT", true));
    }, 5000);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve(text(`connected to ${host}:${port}`));
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      resolve(text(`connect failed: ${e.code ?? e.message}`, true));
    });
  });
}

async function call(name, args = {}) {
  switch (name) {
    case "greet":
      return text(`${greet(args.name)} (util ${util}, dep's util ${depUtil})`);
    case "write_file":
      try {
        writeFileSync(args.path, args.text);
        return text(`wrote ${args.path}`);
      } catch (e) {
        return text(`write failed: ${e.code ?? e.message}`, true);
      }
    case "connect":
      return await tryConnect(args.host, args.port);
    case "env":
      return text(JSON.stringify(Object.keys(process.env).sort()));
    case "argv":
      return text(JSON.stringify(argv));
    default:
      return text(`unknown tool ${name}`, true);
  }
}

async function answer(msg) {
  const { id, method, params } = msg;
  switch (method) {
    case "initialize":
      return {
        protocolVersion: params?.protocolVersion ?? "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "mcptrust-fixture-server", version: "1.0.0" },
      };
    case "ping":
      return {};
    case "tools/list":
      return { tools: TOOLS };
    case "tools/call":
      return await call(params?.name, params?.arguments);
    default:
      throw Object.assign(new Error("Method not found"), { code: -32601, id });
  }
}

let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    if (line === "") continue;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      process.stdout.write(
        JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }) + "\n",
      );
      continue;
    }
    if (msg.id === undefined || msg.method === undefined) continue;
    answer(msg).then(
      (result) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result }) + "\n"),
      (e) =>
        process.stdout.write(
          JSON.stringify({
            jsonrpc: "2.0",
            id: msg.id,
            error: { code: e.code ?? -32603, message: e.message },
          }) + "\n",
        ),
    );
  }
});
process.stdin.on("end", () => process.exit(0));
