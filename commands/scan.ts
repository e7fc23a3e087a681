/**
 * `mcptrust scan -- <server argv>`: print what a server exposes, with risk levels.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import {
  CLIENT_CAPABILITIES_HELP,
  out,
  parseClientCapabilities,
  parseDuration,
  parseFormat,
  SERVER_ARGS_HELP,
  withProgress,
} from "./options.ts";
import {
  BEARER_HELP,
  collect,
  HEADER_HELP,
  INSECURE_HELP,
  REMOTE_HELP,
  serverTarget,
  URL_HELP,
} from "./server_target.ts";

/** Builds the `scan` command. */
export function scanCommand() {
  return new Command("scan")
    .description(
      "Start an MCP server, list its tools, prompts, resources and templates, and report their risk.",
    )
    .argument("[server...]", SERVER_ARGS_HELP)
    .option("--url <url>", URL_HELP)
    .option("--header <header>", HEADER_HELP, collect, [] as string[])
    .option("--bearer-token-env <name>", BEARER_HELP)
    .option("--allow-insecure-http", INSECURE_HELP)
    .option("--client-capabilities <list>", CLIENT_CAPABILITIES_HELP, parseClientCapabilities)
    .option(
      "-t, --timeout <duration>",
      "deadline for the whole scan (e.g. 10s, 500ms)",
      parseDuration,
      10_000,
    )
    .addOption(
      new Option("--format <format>", "json (default) or text").argParser(parseFormat).default(
        "json" as const,
      ),
    )
    .option("-p, --pretty", "indent JSON output (always on; kept for Go compatibility)")
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Examples:
  mcptrust scan -- npx -y @modelcontextprotocol/server-everything
  mcptrust scan --format text -- node ./server.js --root "/srv/my data"

Risk: HIGH and MEDIUM tools list their reasons (name words such as exec or delete, MCP annotations such as
destructiveHint, arguments named like code or commands, hidden or look-alike characters in the text).
Exit codes: 0 scanned, 2 the server could not be scanned (the message says why).`,
    )
    .addHelpText("after", REMOTE_HELP)
    .action(async (server, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [{ buildScanReport, renderScanText }, { scanServer }] = await Promise.all([
        import("../lib/scan/report.ts"),
        import("../lib/scan/scan_server.ts"),
      ]);
      const argv = await serverTarget(server, opts, "scan");
      const warnings: string[] = [];
      const iface = await withProgress(
        "scanning server",
        () =>
          scanServer(argv, {
            timeoutMs: opts.timeout,
            onWarning: (w) => warnings.push(w),
            capabilities: opts.clientCapabilities,
          }),
      );
      const report = buildScanReport(iface, warnings);
      await out(opts.format === "text" ? renderScanText(report) : JSON.stringify(report, null, 2) + "\n");
    });
}
