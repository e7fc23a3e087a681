/**
 * The mcptrust CLI: builds the commander program from commands/ and maps errors to exit codes
 * (0 success, 1 check failed, 2 usage or operational error).
 *
 * @module
 */
import process from "node:process";
import { Command, CommanderError, type OutputConfiguration } from "@commander-js/extra-typings";
import { McpTrustError } from "./lib/errors.ts";
import { mayBeTerminal, writeStderr, writeStdout } from "./lib/stdio_write.ts";
import { COMMIT, VERSION } from "./lib/version.ts";
import { COMMANDS } from "./commands/registry.ts";
import { addSharedOptions, startCommandRun } from "./commands/options.ts";
import { endRun } from "./lib/observe/run.ts";

/**
 * Commander's help, version and usage errors, written straight to the file descriptor: in the compiled
 * binary, building `process.stdout` costs as much as the runtime's whole start (lib/stdio_write.ts).
 * Terminal width and colours come from commander's defaults only where stdout/stderr may be a terminal.
 * Commands' own output is not affected: they run after parsing, with the streams.
 */
function cliOutput(defaults: OutputConfiguration): OutputConfiguration {
  return {
    writeOut: writeStdout,
    writeErr: writeStderr,
    // 80 is commander's width when the output is not a terminal.
    getOutHelpWidth: () => mayBeTerminal(1) ? defaults.getOutHelpWidth!() : 80,
    getErrHelpWidth: () => mayBeTerminal(2) ? defaults.getErrHelpWidth!() : 80,
    getOutHasColors: () => mayBeTerminal(1) ? defaults.getOutHasColors!() : false,
    getErrHasColors: () => mayBeTerminal(2) ? defaults.getErrHasColors!() : false,
  };
}

/** addCommand() does not copy inherited settings, so apply ours to every subcommand. */
function applyToAll(cmd: Command, output: OutputConfiguration): void {
  for (const sub of cmd.commands as Command[]) {
    sub.exitOverride().showHelpAfterError("(run with --help for usage)").configureOutput(output);
    addSharedOptions(sub); // --log-format, --log-output, --otel, --otel-endpoint (docs/LOGGING.md)
    applyToAll(sub, output);
  }
}

/**
 * The names of the commands a run with these arguments can reach: the one it names first, none for a
 * bare version request, else all (root help, `help <command>`, an unknown command and its suggestion).
 * Building a definition costs as much as loading it, so `mcptrust check ...` builds only `check`.
 */
function reachable(args: readonly string[]): string[] {
  const first = args[0];
  if (first === "-v" || first === "--version") return [];
  if (first === "completion") return Object.keys(COMMANDS); // completes every command
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [first];
  return Object.keys(COMMANDS);
}

/** The CLI program for these arguments (all commands for `[]`): also what docs/CLI.md and completions read. */
export function buildProgram(args: readonly string[]): Command {
  const program = new Command("mcptrust")
    .description(
      "Pin what an MCP server exposes, catch drift in CI, and enforce the approved interface at runtime.",
    )
    .version(`mcptrust ${VERSION} (commit ${COMMIT})`, "-v, --version", "print version and commit")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions()
    .exitOverride()
    .hook("preAction", startCommandRun); // the run: log, receipt, telemetry (lib/observe/run.ts)
  for (const name of reachable(args)) program.addCommand(COMMANDS[name]());
  const output = cliOutput(program.configureOutput());
  program.configureOutput(output);
  applyToAll(program, output);
  return program;
}

/** Runs the CLI with `argv` (node-style: argv[0] runtime, argv[1] script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv.slice(2));
  try {
    await program.parseAsync(argv);
    return await endRun(typeof process.exitCode === "number" ? process.exitCode : 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; flag errors were already printed by commander.
      return await endRun(err.exitCode === 0 ? 0 : 2, err);
    }
    if (err instanceof McpTrustError) {
      process.stderr.write(`mcptrust: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  next: ${err.hint}\n`);
      return await endRun(err.exitCode, err);
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `mcptrust: internal error: ${msg}\n  next: please report this with the command you ran\n`,
    );
    return await endRun(2, err);
  }
}

if (import.meta.main) {
  const code = await main(process.argv);
  process.exit(code);
}
