/**
 * The CLI as data: every command, argument and option of the commander program, read from the same
 * definitions the binary parses with, so docs/CLI.md (scripts/gen_cli_docs.ts) and the shell completions
 * (`mcptrust completion`) cannot drift from it.
 *
 * Read through commander's own `Help` (visible commands, options and arguments, their terms and
 * descriptions), so hidden options stay hidden and new commands or flags need no change here.
 *
 * @module
 */
import type { CommandUnknownOpts, Help, Option } from "@commander-js/extra-typings";

/** An option as the docs and completions need it. */
export interface CliOption {
  /** As declared, e.g. "-o, --output <file>". */
  flags: string;
  long?: string;
  short?: string;
  /** The value's name, e.g. "file" for `<file>`; undefined for a flag. */
  valueName?: string;
  /** True if the value may be left out (`[value]`). */
  optionalValue: boolean;
  /** Allowed values (`.choices()`), if any. */
  choices?: string[];
  /** Repeatable: `--header` given several times, or a variadic value. */
  repeatable: boolean;
  description: string;
  /** Commander's rendering of the default, e.g. "\"mcp-lock.json\"", if there is one. */
  default?: string;
  /** The description with default and choices, as `--help` shows it. */
  helpDescription: string;
}

/** A positional argument. */
export interface CliArgument {
  name: string;
  /** As `--help` shows it, e.g. "[server...]". */
  term: string;
  required: boolean;
  variadic: boolean;
  /** Allowed values (`.choices()`), if any. */
  choices?: string[];
  description: string;
}

/** A command and its subcommands. */
export interface CliCommand {
  /** Its path from the root, e.g. ["policy", "check"]; [] for the root. */
  path: string[];
  name: string;
  aliases: string[];
  description: string;
  /** The usage line as `--help` shows it, without "Usage: ". */
  usage: string;
  arguments: CliArgument[];
  options: CliOption[];
  subcommands: CliCommand[];
  /** What `--help` prints after the generated part (examples, exit codes), trimmed; "" if none. */
  helpAfter: string;
}

/** Repeatable: variadic, collected into an array (a `[]` default), or said so in its description. */
function isRepeatable(o: Option): boolean {
  return o.variadic || Array.isArray(o.defaultValue) || /\brepeatable\b/i.test(o.description);
}

function option(o: Option, help: Help): CliOption {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags);
  const dflt = o.defaultValueDescription ??
    (o.defaultValue === undefined || o.negate ||
        (Array.isArray(o.defaultValue) && o.defaultValue.length === 0)
      ? undefined
      : JSON.stringify(o.defaultValue));
  return {
    flags: o.flags,
    long: o.long,
    short: o.short,
    valueName: value ? value[1].replace(/\.\.\.$/, "") : undefined,
    optionalValue: o.optional,
    choices: o.argChoices ? [...o.argChoices] : undefined,
    repeatable: isRepeatable(o),
    description: o.description,
    default: dflt,
    helpDescription: help.optionDescription(o),
  };
}

/** What `--help` prints after commander's part: captured from the command's help output. */
function helpAfter(cmd: CommandUnknownOpts): string {
  const info = cmd.helpInformation();
  let full = "";
  const saved = (cmd as unknown as { _outputConfiguration: Record<string, unknown> })._outputConfiguration;
  cmd.configureOutput({ ...saved, writeOut: (s: string) => full += s, writeErr: (s: string) => full += s });
  try {
    cmd.outputHelp();
  } finally {
    cmd.configureOutput(saved);
  }
  const at = full.indexOf(info);
  return (at === -1 ? "" : full.slice(at + info.length)).replace(/^\n+|\s+$/g, "");
}

/**
 * Reads a commander program (main.ts `buildProgram([])`, every command built) into a {@link CliCommand}
 * tree. Help output goes through the command's own output configuration only while it is captured;
 * `helpText: false` skips it (completions do not need it).
 */
export function readCli(
  cmd: CommandUnknownOpts,
  parents: string[] = [],
  opts: { helpText?: boolean } = {},
): CliCommand {
  const help = cmd.createHelp();
  // A fixed width: the model must not depend on the terminal it is generated in.
  help.helpWidth = 100;
  const path = cmd.parent ? [...parents, cmd.name()] : [];
  // Commander's implicit `help [command]` is listed by Help but is not one of the command's own.
  const subs = help.visibleCommands(cmd).filter((c) => cmd.commands.includes(c));
  return {
    path,
    name: cmd.name(),
    aliases: [...cmd.aliases()],
    description: cmd.description(),
    usage: help.commandUsage(cmd),
    arguments: help.visibleArguments(cmd).map((a) => ({
      name: a.name(),
      term: help.argumentTerm(a),
      required: a.required,
      variadic: a.variadic,
      ...(a.argChoices ? { choices: [...a.argChoices] } : {}),
      description: a.description,
    })),
    options: help.visibleOptions(cmd).map((o) => option(o, help)),
    subcommands: subs.map((c) => readCli(c, path, opts)),
    helpAfter: opts.helpText === false ? "" : helpAfter(cmd),
  };
}

/** Every command of the tree, depth first, the root first. */
export function allCommands(root: CliCommand): CliCommand[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}
