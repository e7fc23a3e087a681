/**
 * `mcptrust proxy --lock mcp-lock.json -- <server argv>`: the deny-by-default stdio firewall.
 *
 * @module
 */
import process from "node:process";
import { Command, Option } from "@commander-js/extra-typings";
import type { Severity } from "../lib/drift/types.ts";
import { McpTrustError } from "../lib/errors.ts";
import type { LockfileV3 } from "../lib/lockfile/types.ts";
import type { ProxyMode } from "../lib/proxy/session.ts";
import { noteLockfile, noteRun, receiptWanted, runLog, runTelemetry } from "../lib/observe/run.ts";
import {
  out,
  parseDuration,
  parseProxyFailOn,
  receiptOption,
  SERVER_ARGS_HELP,
  withLogFields,
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

/** What a lockfile allows, as `--print-effective-allowlist` prints it (Go field names plus resources). */
export function effectiveAllowlist(path: string, lock: LockfileV3) {
  return {
    lockfile: path,
    prompts: Object.keys(lock.prompts.definitions).sort(),
    resources: (lock.resources.static ?? []).map((r) => r.uri),
    templates: lock.resources.templates.map((t) => t.uriTemplate),
    tools: Object.keys(lock.tools).sort(),
  };
}

function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    throw new McpTrustError(`expected a positive whole number, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** The enforcement mode the flags ask for. */
function modeOf(opts: { auditOnly?: boolean; filterOnly?: boolean }): ProxyMode {
  return opts.auditOnly ? "audit-only" : opts.filterOnly ? "filter-only" : "enforce";
}

/** Builds the `proxy` command. */
export function proxyCommand() {
  // Every line of the proxy's log (its audit log) carries the mode, from command.start on.
  return withLogFields(proxyCommand_(), (o) => ({ mode: modeOf(o) }));
}

function proxyCommand_() {
  return new Command("proxy")
    .description(
      "Run an MCP server behind a deny-by-default firewall that enforces its lockfile on every message.",
    )
    .argument("[server...]", SERVER_ARGS_HELP)
    .option("--url <url>", URL_HELP)
    .option("--header <header>", HEADER_HELP, collect, [] as string[])
    .option("--bearer-token-env <name>", BEARER_HELP)
    .option("--allow-insecure-http", INSECURE_HELP)
    .option(
      "--listen <[host:]port>",
      "serve Streamable HTTP to hosts at http://HOST:PORT/mcp instead of stdio (host default 127.0.0.1; port 0: any free)",
    )
    .option("--lock <file>", "the approved lockfile (v3)", "mcp-lock.json")
    .option("--audit-only", "block nothing, filter nothing; log every would-be block")
    .option("--filter-only", "filter list results, let calls through (logged)")
    .addOption(
      new Option(
        "--fail-on <severity>",
        "preflight drift at or above this severity denies every request (critical, moderate, info, or none)",
      ).argParser(parseProxyFailOn).default("critical" as Severity | "none"),
    )
    .option("--timeout <duration>", "deadline for the preflight listing", parseDuration, 10_000)
    .option(
      "--request-timeout <duration>",
      "a request the server has not answered by then gets an error",
      parseDuration,
      300_000,
    )
    .option("--max-pending <n>", "most requests waiting for the server at once", parsePositiveInt, 1024)
    .addOption(receiptOption())
    .option("--no-validate-args", "do not validate tools/call arguments against the approved input schema")
    .option(
      "--no-validate-results",
      "do not validate structured tool results against the approved output schema",
    )
    .option(
      "-P, --policy <preset|file>",
      "a CEL policy: its rules must pass at preflight, its call_rules decide each tools/call (docs/POLICY.md)",
    )
    .option(
      "-k, --key <file>",
      "verify the lockfile's signature (<lockfile>.sig) with this Ed25519 public key",
    )
    .option("--print-effective-allowlist", "print what the lockfile allows and exit")
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Examples:
  mcptrust proxy --lock mcp-lock.json -- npx -y @modelcontextprotocol/server-filesystem /srv/data
  Claude Desktop: "command": "mcptrust", "args": ["proxy", "--lock", "/abs/mcp-lock.json", "--", "npx", "-y", "..."]

Modes: enforce (default) filters lists and blocks calls, reads and unknown methods with -32001
MCPTRUST_DENIED; --filter-only filters lists only; --audit-only changes nothing and logs what it would do.
Before serving the host, the proxy lists the live server itself (same process) and compares it with the
lockfile; drift at or above --fail-on denies every request in enforce mode. Whatever --fail-on says,
every list result is verified item by item: an item that is not locked, or whose description, schema
or annotations changed, is removed, and calls to it are denied. To allow only some of a server's tools,
delete the others from the lockfile and run with --fail-on none.
Every tools/call's arguments are validated against the tool's approved input schema (-32602
MCPTRUST_INVALID_ARGUMENTS, before the server sees them), and a tool with an output schema must return
structuredContent that validates against it (else the host gets -32001 instead of the result).
--policy baseline|strict|FILE: the policy's rules are evaluated once over the live, verified server (as
\`mcptrust policy check\` would; the lockfile's signature is "verified" only with --key); a failing error
rule, or any failing rule in strict mode, denies every request like preflight drift. Its call_rules (CEL
over tool, args and session) are evaluated for every tools/call before it is forwarded; one that is
false or cannot be evaluated denies the call (-32001, naming the rule). The policy is compiled before the
server starts: a bad policy is exit 2.
Exit code: the server's own (128+N if killed by signal N); 2 if the proxy could not start.`,
    )
    .addHelpText(
      "after",
      `${REMOTE_HELP}
With --url the host still speaks stdio to mcptrust; a request the remote server loses (connection
dropped, HTTP error) gets a JSON-RPC error; the proxy exits 0 on host EOF, 1 if the server ends the session.
With --listen hosts connect over Streamable HTTP (endpoint /mcp, logged as the "listen" event); every MCP
session gets its own proxy session, policy state and server (its own process, or its own remote session).
Requests with an Origin that is not loopback are refused with 403 (DNS rebinding). Stop it with SIGINT.`,
    )
    .action(async (server, opts) => {
      // Loaded when the command runs, not when the CLI starts: nothing else needs the policy core.
      const [
        { readLockfile },
        { auditLogOn },
        { createCorePolicy },
        { runProxy },
        { schemaGuardFor },
      ] = await Promise.all([
        import("../lib/lockfile/load.ts"),
        import("../lib/observe/audit_log.ts"),
        import("../lib/proxy/core_policy.ts"),
        import("../lib/proxy/run_proxy.ts"),
        import("../lib/proxy/schema_guard.ts"),
      ]);
      const loaded = readLockfile(opts.lock);
      await noteLockfile(opts.lock);
      if (loaded.version !== "3") {
        throw new McpTrustError(`the proxy needs a v3 lockfile; ${opts.lock} is v${loaded.version}`, {
          hint: "re-create it with `mcptrust lock --force -- <server command>` after review",
        });
      }
      if (opts.printEffectiveAllowlist) {
        await out(JSON.stringify(effectiveAllowlist(opts.lock, loaded.lockfile), null, 2) + "\n");
        return;
      }
      const target = await serverTarget(server, opts, "proxy");
      const argv = isRemote(target) ? [] : target;
      // The policy compiles before the server starts (a bad rule is exit 2), and only with --policy is
      // any CEL loaded; --key verifies the lockfile's signature (exit 1 if it does not verify).
      const policyCheck = opts.policy !== undefined || opts.key !== undefined
        ? await import("../lib/policy/cel/policy_check.ts")
        : undefined;
      const compiled = opts.policy !== undefined
        ? policyCheck!.loadCheckPolicy(opts.policy, { needsRules: false })
        : undefined;
      const signed = policyCheck
        ? await policyCheck.settleSignature(loaded, { trust: { key: opts.key } })
        : undefined;
      const mode = modeOf(opts);
      // Refuse to start if the policy core cannot load: fail closed before the server ever runs.
      const policy = await createCorePolicy(loaded.lockfile);
      const celPolicy = compiled
        ? (await import("../lib/proxy/cel_policy.ts")).proxyCelPolicy(compiled, {
          argv,
          lockfile: signed!,
        })
        : undefined;
      noteRun({
        server: { name: loaded.lockfile.server.name, version: loaded.lockfile.server.version },
        ...(compiled ? { policy: { name: compiled.doc.name, source: compiled.doc.source.name } } : {}),
      });
      // The audit log is the run's log (--log-format, --log-output; JSON lines by default) with `mode`.
      // Only a receipt or --otel adds an observer: without, the session makes no call for observation.
      const telemetry = runTelemetry();
      const observer = receiptWanted() || telemetry
        ? (await import("../lib/observe/proxy_observer.ts")).createProxyObserver(telemetry)
        : undefined;
      const audit = auditLogOn(runLog(), mode);
      const log = observer ? observer.tap(audit) : audit;
      log.write({
        level: "info",
        event: "proxy.start",
        reason: `enforcing ${opts.lock}`,
        lockfile: opts.lock,
        fail_on: opts.failOn,
        ...(compiled ? { policy: compiled.doc.name, policy_source: compiled.doc.source.name } : {}),
        ...(signed ? { signature: signed.signature } : {}),
      });
      try {
        const run = opts.listen !== undefined
          ? async (o: Parameters<typeof runProxy>[1]) => {
            const { runListenProxy } = await import("../lib/proxy/listen_proxy.ts");
            const cel = compiled ? await import("../lib/proxy/cel_policy.ts") : undefined;
            // Policy core, schema guard and CEL state are per MCP session: hosts never share them.
            return await runListenProxy({
              ...o,
              listen: opts.listen!,
              upstream: target,
              perSession: () => ({
                policy: createCorePolicy(loaded.lockfile),
                guard: schemaGuardFor(opts),
                celPolicy: cel?.proxyCelPolicy(compiled!, { argv, lockfile: signed! }),
              }),
            });
          }
          : isRemote(target)
          ? (await import("../lib/proxy/run_remote_proxy.ts")).runRemoteProxy.bind(undefined, target)
          : runProxy.bind(undefined, argv);
        const code = await run({
          mode,
          failOn: opts.failOn,
          lockfile: loaded,
          policy,
          log,
          maxPending: opts.maxPending,
          requestTtlMs: opts.requestTimeout,
          preflightTimeoutMs: opts.timeout,
          guard: schemaGuardFor(opts),
          celPolicy,
          observer,
        });
        log.write({ level: "info", event: "proxy.exit", reason: `server exit code ${code}` });
        noteRun({ outcome: `server exit code ${code}` });
        process.exitCode = code;
      } finally {
        if (observer) {
          observer.close();
          noteRun({ decisions: observer.summary() });
        }
        log.close();
      }
    });
}
