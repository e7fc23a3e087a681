#!/usr/bin/env node
// A minimal MCP server for benchmarks: initialize, ping, tools/list with one tool `echo`, and
// tools/call echoing arguments.text. Kept lean so that a benchmark measures the proxy, not this:
// per message it parses, builds the result and writes once (one write per stdin chunk, in fact).
//
// Usage: node echo_server.mjs

import process from "node:process";

const TOOLS = {
  tools: [{
    name: "echo",
    description: "Echo the text back.",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  }],
};
const SUPPORTED_PROTOCOL_VERSIONS = new Set(["2024-11-05", "2025-03-26", "2025-06-18"]);

function result(id, value) {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(value)}}\n`;
}

function error(id, code, message) {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":{"code":${code},"message":"${message}"}}\n`;
}

/** Returns the output for one input line: a response, or "" for notifications and responses. */
function answer(line) {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return error(null, -32700, "Parse error");
  }
  const { id, method, params } = message;
  if (id === undefined || method === undefined) return "";
  switch (method) {
    case "tools/call":
      return result(id, { content: [{ type: "text", text: String(params?.arguments?.text ?? "") }] });
    case "tools/list":
      return result(id, TOOLS);
    case "ping":
      return result(id, {});
    case "initialize": {
      const requested = params?.protocolVersion;
      return result(id, {
        protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.has(requested) ? requested : "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "echo-server", version: "1.0.0" },
      });
    }
    default:
      return error(id, -32601, "Method not found");
  }
}

// Chunks of a partial line are kept in an array and joined once its newline arrives, so a 9 MiB line
// costs one join, not a rescan of everything so far on every 64 KiB chunk.
let parts = [];
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  let newline = chunk.indexOf("\n");
  if (newline === -1) {
    parts.push(chunk);
    return;
  }
  let out = "";
  let start = 0;
  while (newline !== -1) {
    let line = chunk.slice(start, newline);
    if (parts.length) {
      parts.push(line);
      line = parts.join("");
      parts = [];
    }
    if (line !== "") out += answer(line);
    start = newline + 1;
    newline = chunk.indexOf("\n", start);
  }
  if (start < chunk.length) parts.push(chunk.slice(start));
  if (out !== "") process.stdout.write(out);
});
process.stdout.on("error", () => process.exit(0));
