/**
 * `mcptrust policy check` (evaluate CEL rules against a live server, fail closed) and `mcptrust policy
 * explain` (render a policy for reviewers).
 *
 * @module
 */
import process from "node:process";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { EXIT_CHECK_FAILED, McpTrustError } from "../lib/errors.ts";
import { noteLockfile, noteRun } from "../lib/observe/run.ts";
import { PRESET_NAMES } from "../lib/policy/presets/presets.ts";
import {
  CLIENT_CAPABILITIES_HELP,
  out,
  outJsonFailure,
  parseClientCapabilities,
  parseDuration,
  parseFormat,
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
  serverTarget,
  URL_HELP,
} from "./server_target.ts";
import { identityOptions, trustFlagsFrom, type TrustOptionValues } from "./verify.ts";

const PRESET_HELP = `a built-in policy: ${PRESET_NAMES.join(" or ")} (default baseline)`;

function parseExplainFormat(text: string): "markdown" | "json" {
  if (text === "markdown" || text === "md") return "markdown";
  if (text === "json") return "json";
  throw new InvalidArgumentError(`expected markdown or json, got ${JSON.stringify(text)}`);
}

function checkSubcommand() {
  const cmd = new Command("check")
    .description("Scan a server and evaluate a policy's CEL rules against it; fails closed.")
    .argument("[server...]", SERVER_ARGS_HELP)
    .option("--url <url>", URL_HELP)
    .option("--header <header>", HEADER_HELP, collect, [] as string[])
    .option("--bearer-token-env <name>", BEARER_HELP)
    .option("--allow-insecure-http", INSECURE_HELP)
    .option("--preset <name>", PRESET_HELP)
    .option("-P, --policy <file>", "a policy YAML file (see docs/POLICY.md)")
    .option("--lock <file>", "lockfile: rules then see drift, the lockfile and its signature status")
    .addOption(new Option("-l, --lockfile <file>", "alias of --lock").hideHelp())
    .option("-s, --signature <file>", "the lockfile's signature (default <lockfile>.sig)")
    .option("-k, --key <file>", "verify the lockfile's signature with this Ed25519 public key");
  for (const o of identityOptions()) cmd.addOption(o);
  return cmd
    .addOption(
      new Option("--format <format>", "text or json").argParser(parseFormat).default("text" as const),
    )
    .option("--client-capabilities <list>", CLIENT_CAPABILITIES_HELP, parseClientCapabilities)
    .option("-t, --timeout <duration>", "deadline for the scan (e.g. 10s)", parseDuration, 10_000)
    .addOption(receiptOption())
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Examples:
  mcptrust policy check --preset strict --lock mcp-lock.json --key mcptrust.pub -- node ./server.js
  mcptrust policy check --policy policy.yaml --format json -- npx -y @modelcontextprotocol/server-memory

Rules see the server's tools, prompts, resources and templates, and with --lock the drift, the lockfile
and its signature status ("verified" only with --key or a Sigstore identity); see docs/POLICY.md.
Fail closed: a policy that does not load, or a server that cannot be scanned, is exit 2; a rule that
cannot be evaluated fails.
Exit codes: 0 pass, 1 an error rule failed (or any rule, in strict mode), 2 bad policy, flags or server.`,
    )
    .addHelpText("after", REMOTE_HELP)
    .action(async (server, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { choosePolicy },
        { loadCompiledPolicy, readSignedLockfile, runPolicyCheck },
        { policyCheckJson, renderPolicyText },
      ] = await Promise.all([
        import("../lib/policy/cel/policy.ts"),
        import("../lib/policy/cel/policy_check.ts"),
        import("../lib/policy/cel/render.ts"),
      ]);
      const o = opts as typeof opts & TrustOptionValues;
      const fields: Record<string, unknown> = { outcome: "FAIL" };
      try {
        const ref = choosePolicy(o);
        fields.policy = "preset" in ref ? { preset: ref.preset } : { file: ref.file };
        noteRun({ policy: fields.policy as Record<string, unknown> });
        // Load and compile before anything runs: a bad policy never starts a server.
        const policy = loadCompiledPolicy(ref, { needsRules: true });
        const target = await serverTarget(server, o, "policy check");
        const argv = isRemote(target) ? [] : target;
        const trust = trustFlagsFrom(o);
        const lockPath = o.lock ?? o.lockfile;
        const checksSignature = o.signature !== undefined ||
          Object.values(trust).some((v) => v !== undefined);
        if (lockPath === undefined && checksSignature) {
          throw new McpTrustError(
            "--key, --signature and the identity flags check a lockfile, and no --lock was given",
            {
              hint: "add --lock mcp-lock.json",
            },
          );
        }
        const lockfile = lockPath === undefined
          ? undefined
          : await readSignedLockfile(lockPath, { signature: o.signature, trust });
        if (lockPath !== undefined) await noteLockfile(lockPath);
        const scanStart = performance.now();
        const { result, context } = await withProgress("scanning server", () =>
          runPolicyCheck({
            policy,
            argv,
            target: isRemote(target) ? target : undefined,
            lockfile,
            timeoutMs: o.timeout,
            capabilities: o.clientCapabilities,
            onWarning: warn,
          }));
        noteRun({
          server: context.server,
          durations_ms: { scan: Math.round(performance.now() - scanStart) },
          outcome: result.passed ? "PASS" : "FAIL",
          policy: {
            ...fields.policy as Record<string, unknown>,
            name: result.name,
            mode: result.mode,
            passed: result.passed,
            summary: result.summary,
            ...(context.lockfile ? { signature: context.lockfile.signature } : {}),
          },
          ...(context.drift ? { details: { drift: context.drift } } : {}),
        });
        await out(
          o.format === "json"
            ? JSON.stringify(policyCheckJson(result, context), null, 2) + "\n"
            : renderPolicyText(result, context),
        );
        if (!result.passed) process.exitCode = EXIT_CHECK_FAILED;
      } catch (err) {
        if (o.format === "json" && err instanceof McpTrustError) await outJsonFailure(err, fields);
        throw err;
      }
    });
}

function explainSubcommand() {
  return new Command("explain")
    .description(
      "Render a policy for reviewers: each rule, its severity, controls, evidence and what it reads.",
    )
    .option("--preset <name>", PRESET_HELP)
    .option("-P, --policy <file>", "a policy YAML file")
    .addOption(
      new Option("--format <format>", "markdown or json").argParser(parseExplainFormat).default(
        "markdown" as const,
      ),
    )
    .addOption(new Option("--json", "same as --format json (Go compatibility)").hideHelp())
    .option("-o, --output <file>", "write to this file instead of stdout")
    .addHelpText(
      "after",
      `
The policy is compiled first, so explain also validates it (exit 2 naming the file, line and rule).

Examples:
  mcptrust policy explain --preset strict
  mcptrust policy explain --policy policy.yaml --format json -o policy.json`,
    )
    .action(async (opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { atomicWriteFile },
        { choosePolicy },
        { loadCompiledPolicy },
        { explainJson, explainMarkdown },
      ] = await Promise.all([
        import("../lib/atomic_write.ts"),
        import("../lib/policy/cel/policy.ts"),
        import("../lib/policy/cel/policy_check.ts"),
        import("../lib/policy/cel/render.ts"),
      ]);
      const policy = loadCompiledPolicy(choosePolicy(opts));
      const text = opts.json || opts.format === "json"
        ? JSON.stringify(explainJson(policy), null, 2) + "\n"
        : explainMarkdown(policy);
      if (opts.output === undefined) return await out(text);
      try {
        atomicWriteFile(opts.output, text);
      } catch (err) {
        throw new McpTrustError(`cannot write ${opts.output}: ${(err as Error).message}`);
      }
      process.stderr.write(`wrote ${opts.output}\n`);
    });
}

/** Builds the `policy` command group. */
export function policyCommand() {
  return new Command("policy")
    .description("Evaluate CEL policy rules against a server (check), or render a policy (explain).")
    .enablePositionalOptions()
    .addCommand(checkSubcommand())
    .addCommand(explainSubcommand());
}
