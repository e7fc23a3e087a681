/**
 * The server argv after `--`: one quoted string is split as a POSIX shell would (no shell runs); what
 * needs a shell is refused; everything else is kept exactly as given.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpTrustError } from "../lib/errors.ts";
import { serverArgv, splitServerCommand } from "./options.ts";

test("one string with spaces is split by shell quoting rules", () => {
  assert.deepEqual(splitServerCommand(["npx -y @modelcontextprotocol/server-filesystem /tmp"]), [
    "npx",
    "-y",
    "@modelcontextprotocol/server-filesystem",
    "/tmp",
  ]);
  assert.deepEqual(splitServerCommand([`node 'my server.js' --root "/srv/my data" a\\ b $'x\\ty'`]), [
    "node",
    "my server.js",
    "--root",
    "/srv/my data",
    "a b",
    "x\ty",
  ]);
  // Quoted shell characters are just characters.
  assert.deepEqual(splitServerCommand([`node s.js '*.md' "a|b" '$HOME'`]), [
    "node",
    "s.js",
    "*.md",
    "a|b",
    "$HOME",
  ]);
});

test("several arguments, or one without spaces, are kept exactly as given", () => {
  const argv = ["node", "server.js", "--root", "/srv/my data", "$HOME", "a|b"];
  assert.deepEqual(splitServerCommand(argv), argv);
  assert.deepEqual(splitServerCommand(["./server"]), ["./server"]);
  assert.deepEqual(splitServerCommand([]), []);
});

test("one argument that is an existing file is not split, spaces and all", () => {
  const dir = mkdtempSync(join(tmpdir(), "split-"));
  const file = join(dir, "my server.sh");
  writeFileSync(file, "#!/bin/sh\n");
  assert.deepEqual(splitServerCommand([file]), [file]);
});

test("what needs a shell is refused (exit 2), naming it", () => {
  for (
    const [text, what] of [
      ["node s.js | tee log", "`|`"],
      ["node s.js && rm x", "`&&`"],
      ["node s.js > out", "`>`"],
      ["node s.js; id", "`;`"],
      ["node $HOME/s.js", "`$HOME`"],
      ["node ${ROOT}/s.js", "`$ROOT`"],
      ["node $(pwd)/s.js", "substitution"],
      ["node `pwd`/s.js", "backquote"],
      ["node *.js", "glob"],
      ["node s.js # note", "comment"],
      ["node ~/s.js", "`~`"],
      ["DEBUG=1 node s.js", "environment assignment"],
    ]
  ) {
    assert.throws(() => splitServerCommand([text]), (err: unknown) => {
      assert.ok(err instanceof McpTrustError, text);
      assert.equal(err.exitCode, 2);
      assert.ok(err.message.includes(what), `${text}: ${err.message}`);
      assert.match(err.message, /mcptrust runs no shell/);
      assert.match(err.hint ?? "", /separate words after `--`/);
      return true;
    });
  }
});

test("serverArgv: the split applies, and nothing (or only spaces) is a usage error", () => {
  assert.deepEqual(serverArgv(["node s.js"], "lock"), ["node", "s.js"]);
  assert.throws(() => serverArgv([], "lock"), /no server command given/);
  assert.throws(() => serverArgv(["   "], "lock"), /no server command given/);
});
