/**
 * End-to-end: help, version and usage errors through the compiled binary. main.ts builds only the command
 * a run names (commands/registry.ts), so every command's help is checked as users reach it: by name, and
 * through `help <command>`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMANDS } from "../commands/registry.ts";
import { run } from "./helpers.ts";

test("--help lists every command with its description", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: mcptrust \[options\] \[command\]/);
  for (const [name, build] of Object.entries(COMMANDS)) {
    const description = build().description().slice(0, 30);
    const line = r.stdout.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
    assert.ok(line?.includes(description), `--help lists ${name}: ${description}`);
  }
});

test("every command's --help works by name and through `help <command>`", async () => {
  for (const name of Object.keys(COMMANDS)) {
    const direct = await run([name, "--help"]);
    assert.equal(direct.code, 0, `${name} --help: ${direct.stderr}`);
    assert.match(direct.stdout, new RegExp(`^Usage: mcptrust ${name} `));
    const viaHelp = await run(["help", name]);
    assert.equal(viaHelp.code, 0, `help ${name}: ${viaHelp.stderr}`);
    assert.equal(viaHelp.stdout, direct.stdout);
  }
});

test("nested commands' help: policy check, bundle export", async () => {
  const policy = await run(["policy", "check", "--help"]);
  assert.equal(policy.code, 0, policy.stderr);
  assert.match(policy.stdout, /^Usage: mcptrust policy check /);
  assert.match(policy.stdout, /--preset <name>/);
  const bundle = await run(["bundle", "export", "--help"]);
  assert.equal(bundle.code, 0, bundle.stderr);
  assert.match(bundle.stdout, /^Usage: mcptrust bundle export /);
});

test("-v prints the same line as --version", async () => {
  const [short, long] = await Promise.all([run(["-v"]), run(["--version"])]);
  assert.equal(short.code, 0);
  assert.equal(short.stdout, long.stdout);
  assert.match(long.stdout, /^mcptrust \S+ \(commit /);
});

test("an unknown command is a usage error (exit 2) that suggests the nearest command", async () => {
  const r = await run(["chek", "--lock", "x.json"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'chek'/);
  assert.match(r.stderr, /Did you mean check\?/);
  assert.equal(r.stdout, "");
});

test("a bad flag's error and the pointer to --help go to stderr, in that order", async () => {
  const r = await run(["scan", "--timeout", "soon", "--", "node", "x.js"]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^error: option '-t, --timeout <duration>' argument 'soon' is invalid\. .*\n\(run with --help for usage\)\n$/,
  );
});
