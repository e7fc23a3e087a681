/**
 * docs/CLI.md and the shell completions come from the command definitions: the page must be what
 * scripts/gen_cli_docs.ts prints now (else it is stale), and `mcptrust completion bash|zsh|fish` must
 * complete commands and flags in the real shells (bash always; zsh and fish where installed, else the
 * scripts are checked structurally).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProgram } from "../main.ts";
import { allCommands, readCli } from "../lib/cli/model.ts";
import { CLI_DOC, REGENERATE, renderCliDocs } from "../scripts/gen_cli_docs.ts";
import { run, tempDir } from "./helpers.ts";

const DIR = tempDir("mcptrust-cli-docs-");

function has(shell: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;
}

async function script(shell: string): Promise<string> {
  const r = await run(["completion", shell]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(DIR, `mcptrust.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

test("docs/CLI.md is what scripts/gen_cli_docs.ts generates from the current definitions", () => {
  const expected = renderCliDocs();
  let actual = "";
  try {
    actual = readFileSync(CLI_DOC, "utf8");
  } catch { /* missing */ }
  assert.ok(actual === expected, `docs/CLI.md is stale: run ${REGENERATE}`);
});

test("docs/CLI.md has a section for every command and a row for every flag", () => {
  const doc = renderCliDocs();
  const root = readCli(buildProgram([]));
  for (const c of allCommands(root).slice(1)) {
    const title = ["mcptrust", ...c.path].join(" ");
    const at = doc.indexOf(`\n## ${title}\n`);
    assert.ok(at !== -1, `section for ${title}`);
    const end = doc.indexOf("\n## ", at + 4);
    const section = doc.slice(at, end === -1 ? undefined : end);
    for (const o of c.options) {
      assert.ok(section.includes(`| \`${o.flags.replace(/\|/g, "\\|")}\` |`), `${title}: ${o.flags}`);
    }
  }
  // The observability flags are on every command that runs something.
  for (const c of allCommands(root).filter((c) => c.path.length && !c.subcommands.length)) {
    for (const flag of ["--log-format", "--log-output", "--otel", "--otel-endpoint"]) {
      assert.ok(c.options.some((o) => o.long === flag), `${c.path.join(" ")} takes ${flag}`);
    }
  }
});

test("the binary's help lists what the page documents (same definitions)", async () => {
  const root = readCli(buildProgram([]));
  for (const c of allCommands(root).slice(1).filter((c) => ["check", "lock", "proxy"].includes(c.path[0]))) {
    const r = await run([...c.path, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const o of c.options) {
      assert.ok(r.stdout.includes(o.long ?? o.short!), `${c.path.join(" ")} ${o.flags}`);
    }
  }
});

test("bash: the script loads, and compgen completes a command, a subcommand, a flag and a flag's choices", async () => {
  const file = await script("bash");
  const probe = (words: string[]) =>
    execFileSync("bash", [
      "-c",
      `source "$0" && COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}) && COMP_CWORD=${
        words.length - 1
      } && _mcptrust && printf '%s\\n' "\${COMPREPLY[@]}" && complete -p mcptrust >&2`,
      file,
    ], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n").filter(Boolean);
  assert.deepEqual(probe(["mcptrust", "ch"]), ["check"]);
  assert.deepEqual(probe(["mcptrust", "ver"]), [
    "verify",
    "verify-bundle",
    ...(probe(["mcptrust", "verify-r"])),
  ]);
  assert.deepEqual(probe(["mcptrust", "policy", "ch"]), ["check"]);
  assert.deepEqual(probe(["mcptrust", "check", "--fail"]), ["--fail-on"]);
  assert.deepEqual(probe(["mcptrust", "proxy", "--log-f"]), ["--log-format"]);
  assert.deepEqual(probe(["mcptrust", "policy", "check", "--pre"]), ["--preset"]);
  assert.deepEqual(probe(["mcptrust", "completion", ""]), ["bash", "zsh", "fish"]);
  // A flag's value is not taken for a subcommand: `--lock check` stays in `check`.
  assert.deepEqual(probe(["mcptrust", "check", "--lock", "x.json", "--timeo"]), ["--timeout"]);
  // Completion comes straight from compgen too (the registered function, as the shell calls it).
  const compgen = execFileSync("bash", [
    "-c",
    `source "$0" && compgen -W "$(_mcptrust_subs '' | _mcptrust_words)" -- lo`,
    file,
  ], {
    encoding: "utf8",
  });
  assert.equal(compgen.trim(), "lock");
});

test("zsh: the script parses and its completer offers commands and flags (stubbed compsys)", async (t) => {
  const file = await script("zsh");
  const text = readFileSync(file, "utf8");
  assert.match(text, /^#compdef mcptrust$/m);
  assert.match(text, /compdef _mcptrust mcptrust/);
  if (!has("zsh")) return t.skip("zsh is not installed: checked structurally only");
  execFileSync("zsh", ["-n", file]);
  // compsys' functions replaced by stubs that print what they are given.
  const out = execFileSync("zsh", [
    "-c",
    `_describe() { print -rl -- "\${(@P)4}"; }
     compadd() { shift; print -r -- "$@"; }
     _files() { print files; }
     compdef() { :; }
     source "$0"
     words=(mcptrust ch); CURRENT=2; _mcptrust
     words=(mcptrust check --fo); CURRENT=3; _mcptrust
     words=(mcptrust check --format ''); CURRENT=4; _mcptrust`,
    file,
  ], { encoding: "utf8" });
  assert.match(out, /^check:Compare a live server/m);
  assert.match(out, /--format:text, json, sarif/);
  assert.match(out, /^text json sarif markdown$/m);
});

test("fish: the script parses and `complete -C` completes a command and a flag", async (t) => {
  const file = await script("fish");
  const text = readFileSync(file, "utf8");
  assert.match(text, /complete -c mcptrust -f -a '\(__mcptrust_complete\)'/);
  assert.match(text, /case 'check\|--fail-on'/);
  if (!has("fish")) return t.skip("fish is not installed: checked structurally only");
  execFileSync("fish", ["-n", file]);
  const complete = (line: string) =>
    execFileSync("fish", ["-c", `source $argv[1]; complete -C '${line}'`, file], { encoding: "utf8" })
      .split("\n").filter(Boolean).map((l) => l.split("\t")[0]);
  assert.deepEqual(complete("mcptrust ch"), ["check"]);
  assert.deepEqual(complete("mcptrust check --fail"), ["--fail-on"]);
  assert.deepEqual(complete("mcptrust check --format ").sort(), ["json", "markdown", "sarif", "text"]);
  assert.deepEqual(complete("mcptrust policy ").sort(), ["check", "explain"]);
});

test("completion: an unknown shell is a usage error", async () => {
  const r = await run(["completion", "tcsh"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/);
});
