/**
 * `mcptrust check` (CI gate) and `mcptrust diff` (the same engine, human-first layout).
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import type { Severity } from "../lib/drift/types.ts";
import { EXIT_CHECK_FAILED } from "../lib/errors.ts";
import { noteLockfile, noteRun } from "../lib/observe/run.ts";
import type { CompiledPolicy } from "../lib/policy/cel/policy_check.ts";
import {
  CLIENT_CAPABILITIES_HELP,
  out,
  parseClientCapabilities,
  parseDuration,
  parseFormat,
  parseSeverity,
  receiptOption,
  SERVER_ARGS_HELP,
  warn,
  withProgress,
} from "./options.ts";
import {
  BEARER_HELP,
  collect,
  HEADER_HELP,
  INSECURE_HELP,
  isRemote,
  REMOTE_HELP,
  type RemoteOptionValues,
  serverTarget,
  URL_HELP,
} from "./server_target.ts";
import process from "node:process";

async function runCheck(
  server: string[],
  lockPath: string,
  timeoutMs: number,
  failOn: Severity,
  name: string,
  capabilities?: Record<string, unknown>,
  policy?: CompiledPolicy,
  remote: RemoteOptionValues = {},
) {
  // Loaded when the command runs, not when the CLI starts (CEL only with --policy).
  const [{ judgeDrift }, { compareLockfile }, { readLockfile }, { scanServer }] = await Promise.all([
    import("../lib/drift/check_result.ts"),
    import("../lib/drift/compare.ts"),
    import("../lib/lockfile/load.ts"),
    import("../lib/scan/scan_server.ts"),
  ]);
  const loaded = readLockfile(lockPath);
  await noteLockfile(lockPath);
  const target = await serverTarget(server, remote, name);
  const scanStart = performance.now();
  const iface = await withProgress(
    "scanning server",
    () => scanServer(target, { timeoutMs, onWarning: warn, capabilities }),
  );
  noteRun({
    server: { name: iface.serverInfo.name, version: iface.serverInfo.version },
    durations_ms: { scan: Math.round(performance.now() - scanStart) },
  });
  const report = compareLockfile(loaded, iface);
  const version = loaded.version === "3" ? loaded.lockfile.lockFileVersion : loaded.lockfile.version;
  const result = judgeDrift(report, {
    failOn,
    lockfileVersion: version,
    server: iface.serverInfo.name,
    lockfile: lockPath,
  });
  return policy
    ? (await import("../lib/policy/cel/policy_check.ts")).applyPolicyToCheck(result, policy, {
      argv: isRemote(target) ? [] : target,
      iface,
      loaded,
      drift: report,
    })
    : result;
}

/** Builds the `check` command. */
export function checkCommand() {
  return new Command("check")
    .description("Compare a live server with its lockfile and fail on drift (the CI gate).")
    .argument("[server...]", SERVER_ARGS_HELP)
    .option("--url <url>", URL_HELP)
    .option("--header <header>", HEADER_HELP, collect, [] as string[])
    .option("--bearer-token-env <name>", BEARER_HELP)
    .option("--allow-insecure-http", INSECURE_HELP)
    .option("--lock <file>", "lockfile to check against", "mcp-lock.json")
    .option("-l, --lockfile <file>", "alias of --lock")
    .addOption(
      new Option("--fail-on <severity>", "fail at this severity or above: critical, moderate or info")
        .argParser(parseSeverity).default("critical" as Severity),
    )
    .addOption(
      new Option("--format <format>", "text, json, sarif (SARIF 2.1.0) or markdown")
        .choices(["text", "json", "sarif", "markdown"] as const).default("text" as const),
    )
    .option("--summary <file>", "also append the Markdown report to this file (e.g. $GITHUB_STEP_SUMMARY)")
    .option("--client-capabilities <list>", CLIENT_CAPABILITIES_HELP, parseClientCapabilities)
    .option("-t, --timeout <duration>", "deadline for the scan (e.g. 10s)", parseDuration, 10_000)
    .option("--policy <preset|file>", "also evaluate a policy: preset baseline or strict, or a YAML file")
    .addOption(receiptOption())
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Examples:
  mcptrust check -- npx -y @modelcontextprotocol/server-filesystem /srv/data
  mcptrust check --lock fs.lock.json --fail-on moderate --format json -- node ./server.js

Severities: critical (added/removed tools, prompts, templates or resources; schema and argument changes;
annotations that weaken safety), moderate (descriptions, titles, output schemas, other annotation changes,
a raised risk level), info (risk lowered, server version).
Exit codes: 0 pass, 1 drift at or above --fail-on (or a failed --policy), 2 operational error.`,
    )
    .addHelpText("after", REMOTE_HELP)
    .action(async (server, opts) => {
      const checkPolicy = opts.policy === undefined
        ? undefined
        : await import("../lib/policy/cel/policy_check.ts");
      const policy = checkPolicy?.loadCheckPolicy(opts.policy); // before the scan: a bad policy is exit 2
      const lockPath = opts.lockfile ?? opts.lock;
      const r = await runCheck(
        server,
        lockPath,
        opts.timeout,
        opts.failOn,
        "check",
        opts.clientCapabilities,
        policy,
        opts,
      );
      const { renderCheckText } = await import("../lib/drift/check_result.ts");
      if (opts.summary !== undefined) {
        (await import("../lib/drift/markdown.ts")).appendCheckMarkdown(opts.summary, r);
      }
      await out(
        opts.format === "json"
          ? JSON.stringify(r, null, 2) + "\n"
          : opts.format === "sarif"
          ? (await import("../lib/drift/sarif.ts")).renderCheckSarifFile(r, lockPath)
          : opts.format === "markdown"
          ? (await import("../lib/drift/markdown.ts")).renderCheckMarkdown(r)
          : "policy" in r
          ? checkPolicy!.renderCheckWithPolicyText(r, renderCheckText)
          : renderCheckText(r),
      );
      const pol =
        (r as { policy?: { name: string; passed: boolean; summary: Record<string, number> } }).policy;
      noteRun({
        outcome: r.outcome,
        drift: { ...r.summary, fail_on: r.failOn },
        ...(pol ? { policy: { name: pol.name, passed: pol.passed, summary: pol.summary } } : {}),
      });
      if (r.outcome === "FAIL") process.exitCode = EXIT_CHECK_FAILED;
    });
}

/** Builds the `diff` command. */
export function diffCommand() {
  return new Command("diff")
    .description("Show every difference between a live server and its lockfile, one line each.")
    .argument("[server...]", SERVER_ARGS_HELP)
    .option("--url <url>", URL_HELP)
    .option("--header <header>", HEADER_HELP, collect, [] as string[])
    .option("--bearer-token-env <name>", BEARER_HELP)
    .option("--allow-insecure-http", INSECURE_HELP)
    .option("-l, --lockfile <file>", "lockfile to compare with", "mcp-lock.json")
    .option("--lock <file>", "alias of --lockfile")
    .addOption(
      new Option("--format <format>", "text or json").argParser(parseFormat).default("text" as const),
    )
    .option("--client-capabilities <list>", CLIENT_CAPABILITIES_HELP, parseClientCapabilities)
    .option("-t, --timeout <duration>", "deadline for the scan (e.g. 10s)", parseDuration, 10_000)
    .passThroughOptions()
    .addHelpText("after", "\nExit codes: 0 no changes, 1 changes found, 2 operational error.")
    .addHelpText("after", REMOTE_HELP)
    .action(async (server, opts) => {
      const lockPath = opts.lock ?? opts.lockfile;
      const r = await runCheck(
        server,
        lockPath,
        opts.timeout,
        "info",
        "diff",
        opts.clientCapabilities,
        undefined,
        opts,
      );
      const { renderDiffText } = await import("../lib/drift/check_result.ts");
      await out(opts.format === "json" ? JSON.stringify(r, null, 2) + "\n" : renderDiffText(r));
      if (r.drift.length) process.exitCode = EXIT_CHECK_FAILED;
    });
}
