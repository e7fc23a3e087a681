/**
 * `mcptrust completion bash|zsh|fish`: print a shell completion script, generated from the same command
 * definitions the CLI parses with (lib/cli/completion.ts).
 *
 * @module
 */
import { Argument, Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { out } from "./options.ts";

/** Builds the `completion` command. */
export function completionCommand() {
  return new Command("completion")
    .description("Print a shell completion script for bash, zsh or fish.")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(["bash", "zsh", "fish"] as const))
    .addHelpText(
      "after",
      `
Install:
  bash  source <(mcptrust completion bash)             (or save to ~/.local/share/bash-completion/completions/mcptrust)
  zsh   source <(mcptrust completion zsh)              (after compinit; or save as _mcptrust on $fpath)
  fish  mcptrust completion fish | source              (or save to ~/.config/fish/completions/mcptrust.fish)

Completes commands, subcommands, flags and the values of flags with fixed choices; file names for
file-like values and after \`--\`.`,
    )
    .action(async (shell, _opts, cmd) => {
      // Loaded when the command runs, not when the CLI starts. main.ts builds every command for
      // `completion`, so the root holds them all.
      const [{ readCli }, { completionScript }] = await Promise.all([
        import("../lib/cli/model.ts"),
        import("../lib/cli/completion.ts"),
      ]);
      let root: CommandUnknownOpts = cmd;
      while (root.parent) root = root.parent;
      await out(completionScript(shell, readCli(root, [], { helpText: false })));
    });
}
