/**
 * The `lock --pin` fixture: a small stdio MCP server published as `@fixture/server`, with a dependency
 * tree two levels deep, packed at test time for {@link startFixtureRegistry}.
 *
 * - `@fixture/server` 1.0.0, 1.1.0, 2.0.0 (`latest` is 2.0.0, so `^1.0.0` resolves to 1.1.0): bin
 *   `fixture-server` -> `bin/server.js` (a dependency-free-of-npm MCP server in CommonJS), depends on
 *   `@fixture/greeting@^1.0.0` and `fixture-words@^1.0.0`, optionally on `@fixture/native-linux-x64` and
 *   `@fixture/native-darwin-arm64` (os/cpu, and libc on the Linux one); a `postinstall` script;
 * - `@fixture/greeting@1.2.0` depends on `fixture-words@^2.0.0` (so that one nests at
 *   `node_modules/@fixture/greeting/node_modules/fixture-words`); a `preinstall` script;
 * - `fixture-words` 1.0.0 and 2.1.0; `install` scripts.
 * Every install script writes the marker file given to {@link pinFixtureVersions}: none may ever run.
 *
 * Tests only.
 *
 * @module
 */
import type { FixtureVersion } from "./fixture_registry.ts";
import { packPackage } from "./fixture_registry.ts";

const SERVER_JS = `#!/usr/bin/env node
// A small MCP server over stdio (newline-delimited JSON-RPC), for lock --pin tests.
"use strict";
const { greet } = require("@fixture/greeting");
const words = require("fixture-words");
const readline = require("node:readline");
const VERSION = require("../package.json").version;
const send = (m) => process.stdout.write(JSON.stringify(m) + "\\n");
const tools = [
  {
    name: "greet",
    description: greet("the caller") + " (words " + words.version + ")",
    inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
  },
];
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  if (msg.id === undefined || msg.id === null) return;
  const ok = (result) => send({ jsonrpc: "2.0", id: msg.id, result });
  switch (msg.method) {
    case "initialize":
      return ok({
        protocolVersion: (msg.params && msg.params.protocolVersion) || "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "fixture-server", version: VERSION },
      });
    case "ping":
      return ok({});
    case "tools/list":
      return ok({ tools });
    case "tools/call":
      return ok({ content: [{ type: "text", text: greet(String(msg.params.arguments.name)) }] });
    default:
      return send({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } });
  }
});
`;

function marker(path: string, who: string): string {
  return `node -e "require('fs').appendFileSync('${path}', '${who};')"`;
}

const pj = (o: unknown) => JSON.stringify(o, null, 2) + "\n";

/**
 * Packs the fixture packages.
 *
 * @param markerPath an absolute path every install script would write to
 * @returns the versions to serve (packuments get these manifests)
 */
export function pinFixtureVersions(markerPath: string): FixtureVersion[] {
  const out: FixtureVersion[] = [];
  const add = (
    manifest: Record<string, unknown>,
    files: Record<string, string | { content: string; mode: number }>,
  ) => {
    const tarball = packPackage({ "package.json": pj(manifest), ...files });
    const { name, version, ...rest } = manifest as { name: string; version: string };
    out.push({ name, version, tarball, manifest: rest });
  };
  for (const version of ["1.0.0", "2.1.0"]) {
    add(
      {
        name: "fixture-words",
        version,
        main: "index.js",
        scripts: { install: marker(markerPath, `fixture-words@${version}`) },
      },
      { "index.js": `module.exports = { version: ${JSON.stringify(version)} };\n` },
    );
  }
  add(
    {
      name: "@fixture/greeting",
      version: "1.2.0",
      main: "index.js",
      dependencies: { "fixture-words": "^2.0.0" },
      scripts: { preinstall: marker(markerPath, "@fixture/greeting") },
    },
    {
      "index.js": `const w = require("fixture-words");\n` +
        `exports.greet = (n) => "Hello, " + n + " (greeting words " + w.version + ")";\n`,
    },
  );
  add(
    { name: "@fixture/native-linux-x64", version: "1.0.0", os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
    { "index.js": "module.exports = 'linux';\n" },
  );
  add(
    { name: "@fixture/native-darwin-arm64", version: "1.0.0", os: ["darwin"], cpu: ["arm64"] },
    { "index.js": "module.exports = 'darwin';\n" },
  );
  for (const version of ["1.0.0", "1.1.0", "2.0.0"]) {
    add(
      {
        name: "@fixture/server",
        version,
        description: "lock --pin fixture MCP server",
        bin: { "fixture-server": "./bin/server.js" },
        dependencies: { "@fixture/greeting": "^1.0.0", "fixture-words": "^1.0.0" },
        optionalDependencies: {
          "@fixture/native-linux-x64": "1.0.0",
          "@fixture/native-darwin-arm64": "1.0.0",
        },
        scripts: { postinstall: marker(markerPath, `@fixture/server@${version}`) },
      },
      { "bin/server.js": { content: SERVER_JS, mode: 0o755 }, "README.md": "fixture\n" },
    );
  }
  return out;
}

/** The tree `@fixture/server@1.1.0` resolves to: path -> name@version, and the optional ones. */
export const FIXTURE_TREE: Record<string, { id: string; optional?: true }> = {
  "node_modules/@fixture/greeting": { id: "@fixture/greeting@1.2.0" },
  "node_modules/@fixture/greeting/node_modules/fixture-words": { id: "fixture-words@2.1.0" },
  "node_modules/@fixture/native-darwin-arm64": { id: "@fixture/native-darwin-arm64@1.0.0", optional: true },
  "node_modules/@fixture/native-linux-x64": { id: "@fixture/native-linux-x64@1.0.0", optional: true },
  "node_modules/@fixture/server": { id: "@fixture/server@1.1.0" },
  "node_modules/fixture-words": { id: "fixture-words@1.0.0" },
};
