/**
 * Generates docs/CLI.md from the commander definitions (main.ts `buildProgram`, read by lib/cli/model.ts):
 * every command, argument and option, with its default and choices, and what `--help` prints after them
 * (examples, exit codes). e2e/cli_docs_test.ts fails when docs/CLI.md is not what this prints.
 *
 * Run: tools/node_modules/.bin/deno run -A scripts/gen_cli_docs.ts          (writes docs/CLI.md)
 *      tools/node_modules/.bin/deno run -A scripts/gen_cli_docs.ts --check  (exit 1 if it is stale)
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { buildProgram } from "../main.ts";
import { allCommands, type CliCommand, type CliOption, readCli } from "../lib/cli/model.ts";

/** Where the generated page lives. */
export const CLI_DOC = fileURLToPath(new URL("../docs/CLI.md", import.meta.url));

/** The command to regenerate the page, as the page and the stale-check message say it. */
export const REGENERATE = "tools/node_modules/.bin/deno run -A scripts/gen_cli_docs.ts";

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|").trim();
}

/** Inline code that survives backticks in the text. */
function code(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function title(c: CliCommand): string {
  return ["mcptrust", ...c.path].join(" ");
}

/** GitHub's heading anchor. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-");
}

function optionRow(o: CliOption): string {
  const notes: string[] = [];
  if (o.choices) notes.push(`one of ${o.choices.map(code).join(", ")}`);
  if (o.repeatable && !/\brepeatable\b/i.test(o.description)) notes.push("repeatable");
  return `| ${cell(code(o.flags))} | ${cell(o.description)}${
    notes.length ? ` (${cell(notes.join("; "))})` : ""
  } | ${o.default === undefined ? "" : cell(code(o.default))} |`;
}

function section(c: CliCommand): string[] {
  const lines = [`## ${title(c)}`, "", cell(c.description), "", "```", c.usage, "```", ""];
  if (c.aliases.length) lines.push(`Aliases: ${c.aliases.map(code).join(", ")}`, "");
  if (c.subcommands.length) {
    lines.push("| subcommand | what it does |", "| --- | --- |");
    for (const s of c.subcommands) {
      lines.push(`| [${code(title(s))}](#${anchor(title(s))}) | ${cell(s.description)} |`);
    }
    lines.push("");
  }
  if (c.arguments.length) {
    lines.push("| argument | description |", "| --- | --- |");
    for (const a of c.arguments) {
      const term = `${a.required ? "<" : "["}${a.name}${a.variadic ? "..." : ""}${a.required ? ">" : "]"}`;
      lines.push(`| ${cell(code(term))} | ${cell(a.description)} |`);
    }
    lines.push("");
  }
  if (c.options.length) {
    lines.push("| option | description | default |", "| --- | --- | --- |");
    for (const o of c.options) lines.push(optionRow(o));
    lines.push("");
  }
  if (c.helpAfter) lines.push("```text", c.helpAfter, "```", "");
  return lines;
}

/** docs/CLI.md as the current definitions give it. */
export function renderCliDocs(): string {
  const root = readCli(buildProgram([]));
  const commands = allCommands(root).slice(1);
  const lines = [
    "# mcptrust command line",
    "",
    `<!-- Generated from the commander definitions by scripts/gen_cli_docs.ts: do not edit by hand. Regenerate with \`${REGENERATE}\`; e2e/cli_docs_test.ts fails when this page is stale. -->`,
    "",
    cell(root.description),
    "",
    "```",
    root.usage,
    "```",
    "",
    "Every command that runs something also takes the observability flags `--log-format text|jsonl`,",
    "`--log-output FILE`, `--otel` and `--otel-endpoint URL` (see [LOGGING.md](LOGGING.md)); lock, check,",
    "policy check, proxy and run take `--receipt FILE`. Shell completions: `mcptrust completion bash|zsh|fish`.",
    "",
    "| command | what it does |",
    "| --- | --- |",
    ...commands.map((c) => `| [${code(title(c))}](#${anchor(title(c))}) | ${cell(c.description)} |`),
    "",
    "| option | description |",
    "| --- | --- |",
    ...root.options.map((o) => `| ${cell(code(o.flags))} | ${cell(o.helpDescription)} |`),
    "",
  ];
  for (const c of commands) lines.push(...section(c));
  return lines.join("\n").replace(/\n+$/, "\n");
}

if (import.meta.main) {
  const text = renderCliDocs();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(CLI_DOC, "utf8");
    } catch { /* missing: stale */ }
    if (current !== text) {
      console.error(`docs/CLI.md is stale: run ${REGENERATE}`);
      process.exit(1);
    }
    console.log("docs/CLI.md is up to date");
  } else {
    writeFileSync(CLI_DOC, text);
    console.log(`wrote docs/CLI.md (${text.length} bytes)`);
  }
}
