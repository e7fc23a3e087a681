#!/usr/bin/env node
// A do-nothing byte relay, the baseline for proxy benchmarks: it costs one extra process and one
// extra pipe hop per direction, like a proxy, but never parses anything.
//
// Usage: node relay.mjs -- <command> [args...]
// stdin -> child stdin, child stdout -> stdout, child stderr -> stderr, byte for byte; exits with
// the child's exit code (128 + signal number if the child was killed by a signal).

import { spawn } from "node:child_process";
import { constants } from "node:os";
import process from "node:process";

const separator = process.argv.indexOf("--", 2);
const argv = separator === -1 ? [] : process.argv.slice(separator + 1);
if (argv.length === 0) {
  process.stderr.write("usage: node relay.mjs -- <command> [args...]\n");
  process.exit(2);
}

const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.stderr.pipe(process.stderr);
// The child may exit while we still have input for it; that is its business, not an error here.
child.stdin.on("error", () => {});
process.stdout.on("error", () => {});

child.on("error", (err) => {
  process.stderr.write(`relay: cannot start ${argv[0]}: ${err.message}\n`);
  process.exit(127);
});
// "close" comes after the child's stdout and stderr have ended. Rather than process.exit(), which
// could cut off output still queued for our stdout, stop reading stdin and let the process end.
child.on("close", (code, signal) => {
  process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
  process.stdin.destroy();
});
