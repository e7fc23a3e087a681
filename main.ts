/**
 * The mcptrust CLI: builds the commander program from commands/ and maps errors to exit codes
 * (0 success, 1 check failed, 2 usage or operational error).
 *
 * @module
 */
import process from "node:process";
import { Command, CommanderError } from "@commander-js/extra-typings";
import { McpTrustError } from "./lib/errors.ts";
import { COMMIT, VERSION } from "./lib/version.ts";
// -- command imports (one line per command file; keep sorted) --
import { bundleCommand } from "./commands/bundle.ts";
import { checkCommand, diffCommand } from "./commands/check.ts";
import { keygenCommand } from "./commands/keygen.ts";
import { lockCommand } from "./commands/lock.ts";
import { policyCommand } from "./commands/policy.ts";
import { proxyCommand } from "./commands/proxy.ts";
import { scanCommand } from "./commands/scan.ts";
import { signCommand } from "./commands/sign.ts";
import { verifyCommand } from "./commands/verify.ts";
import { verifyBundleCommand } from "./commands/verify_bundle.ts";
// -- end command imports --

/** addCommand() does not copy inherited settings, so apply ours to every subcommand. */
function applyToAll(cmd: Command): void {
  for (const sub of cmd.commands as Command[]) {
    sub.exitOverride().showHelpAfterError("(run with --help for usage)");
    applyToAll(sub);
  }
}

function buildProgram(): Command {
  const program = new Command("mcptrust")
    .description(
      "Pin what an MCP server exposes, catch drift in CI, and enforce the approved interface at runtime.",
    )
    .version(`mcptrust ${VERSION} (commit ${COMMIT})`, "-v, --version", "print version and commit")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions()
    .exitOverride();
  // -- command registrations (one line per command; keep sorted) --
  program.addCommand(bundleCommand());
  program.addCommand(checkCommand());
  program.addCommand(diffCommand());
  program.addCommand(keygenCommand());
  program.addCommand(lockCommand());
  program.addCommand(policyCommand());
  program.addCommand(proxyCommand());
  program.addCommand(scanCommand());
  program.addCommand(signCommand());
  program.addCommand(verifyCommand());
  program.addCommand(verifyBundleCommand());
  // -- end command registrations --
  applyToAll(program);
  return program;
}

/** Runs the CLI with `argv` (node-style: argv[0] runtime, argv[1] script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; flag errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof McpTrustError) {
      process.stderr.write(`mcptrust: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  next: ${err.hint}\n`);
      return err.exitCode;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `mcptrust: internal error: ${msg}\n  next: please report this with the command you ran\n`,
    );
    return 2;
  }
}

if (import.meta.main) {
  const code = await main(process.argv);
  process.exit(code);
}
