/**
 * `mcptrust lock [-o mcp-lock.json] [--force] -- <server argv>`: pin a server's interface in a v3 lockfile.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { Command } from "@commander-js/extra-typings";
import { CheckFailedError } from "../lib/errors.ts";
import type { LoadedLockfile } from "../lib/lockfile/load.ts";
import type { ArtifactPin, LockfileV3 } from "../lib/lockfile/types.ts";
import { checkPinFlags, PIN_HELP, PIN_HELP_TEXT, summarizePin } from "../lib/artifact/pin_cli.ts";
import { GENERATOR } from "../lib/version.ts";
import { noteLockfile, noteRun } from "../lib/observe/run.ts";
import {
  CLIENT_CAPABILITIES_HELP,
  parseClientCapabilities,
  parseDuration,
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
import process from "node:process";

/** A one-paragraph summary of what a lockfile pins. */
export function summarizeLock(lock: LockfileV3): string {
  const tools = Object.values(lock.tools);
  const by = (lvl: string) => tools.filter((t) => t.risk_level === lvl).length;
  const high = Object.entries(lock.tools).filter(([, t]) => t.risk_level === "HIGH").map(([n]) => n);
  return [
    `${lock.server.name}${
      lock.server.version ? " " + lock.server.version : ""
    }: ${tools.length} tool(s) (HIGH ${by("HIGH")}, MEDIUM ${by("MEDIUM")}, LOW ${by("LOW")}), ${
      Object.keys(lock.prompts.definitions).length
    } prompt(s), ${
      lock.resources.static?.length ?? 0
    } resource(s), ${lock.resources.templates.length} resource template(s)`,
    ...(high.length ? [`HIGH risk: ${high.map((h) => JSON.stringify(h)).join(", ")}`] : []),
    ...(lock.server.artifact?.type === "npm" && lock.server.artifact.launch
      ? [summarizePin(lock.server.artifact)]
      : []),
  ].join("\n");
}

/** Builds the `lock` command. */
export function lockCommand() {
  return new Command("lock")
    .description("Pin a server's tools, prompts, resources and resource templates in a lockfile (v3).")
    .argument("[server...]", SERVER_ARGS_HELP)
    .option("--url <url>", URL_HELP)
    .option("--header <header>", HEADER_HELP, collect, [] as string[])
    .option("--bearer-token-env <name>", BEARER_HELP)
    .option("--allow-insecure-http", INSECURE_HELP)
    .option("-o, --output <file>", "lockfile to write", "mcp-lock.json")
    .option("-f, --force", "overwrite a lockfile the server has drifted from (after you reviewed the drift)")
    .option("--client-capabilities <list>", CLIENT_CAPABILITIES_HELP, parseClientCapabilities)
    .option("-t, --timeout <duration>", "deadline for the scan (e.g. 10s)", parseDuration, 10_000)
    .option("--v3", "accepted for Go compatibility; v3 is always written")
    .addOption(receiptOption())
    .option("--pin", PIN_HELP.pin)
    .option("--registry <url>", PIN_HELP.registry)
    .option("--allow-host <host>", PIN_HELP.allowHost, collect, [] as string[])
    .option("--registry-keys <file>", PIN_HELP.registryKeys)
    .option("--ca <file>", PIN_HELP.ca)
    .option("--verify-provenance", PIN_HELP.verifyProvenance)
    .option("--expected-source <repo>", PIN_HELP.expectedSource)
    .option("--require-provenance", PIN_HELP.requireProvenance)
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Examples:
  mcptrust lock -- npx -y @modelcontextprotocol/server-filesystem /srv/data
  mcptrust lock -o servers/fs.lock.json -- node ./server.js
  mcptrust lock --pin -- npx -y @modelcontextprotocol/server-filesystem@2026.8.31 /srv/data

If the lockfile exists and the server still matches it, the file is left untouched ("up to date").
If the server has drifted, lock refuses, prints the drift and exits 1; review it, then use --force.
The file is written atomically: a crash never leaves half a lockfile.
Exit codes: 0 written or up to date, 1 drift (not written), 2 operational error.`,
    )
    .addHelpText("after", REMOTE_HELP)
    .addHelpText("after", PIN_HELP_TEXT)
    .action(async (server, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { judgeDrift, renderCheckText },
        { buildLockfile, nowRfc3339 },
        { readLockfile, writeLockfile },
        { planLock },
        { scanServer },
      ] = await Promise.all([
        import("../lib/drift/check_result.ts"),
        import("../lib/lockfile/build.ts"),
        import("../lib/lockfile/load.ts"),
        import("../lib/lockfile/plan_lock.ts"),
        import("../lib/scan/scan_server.ts"),
      ]);
      const argv = await serverTarget(server, opts, "lock");
      let existing: LoadedLockfile | undefined;
      if (existsSync(opts.output)) existing = readLockfile(opts.output);
      // --pin: the artifact is pinned (and every tarball verified) before the server is started.
      checkPinFlags(opts, isRemote(argv));
      let artifact: ArtifactPin | undefined;
      if (opts.pin && !isRemote(argv)) {
        const { pinForLock } = await import("../lib/artifact/pin_cli.ts");
        const previous = existing?.version === "3" ? existing.lockfile.server.artifact : undefined;
        artifact = await withProgress("pinning the package", () => pinForLock(argv, opts, previous));
      }
      // A pinned server is scanned as `run --lock` starts it: the verified tree on our own runtime, no
      // launcher and no install scripts, so the interface locked is that of exactly the pinned bytes.
      let pinned: import("../lib/runner/pinned_launch.ts").PinnedServer | undefined;
      if (artifact) {
        const [{ pinnedServer }, { loadNpmConfig }] = await Promise.all([
          import("../lib/runner/pinned_launch.ts"),
          import("../lib/artifact/npmrc.ts"),
        ]);
        const { readFileSync } = await import("node:fs");
        const npmrc = loadNpmConfig({ cwd: process.cwd() });
        const pin = artifact;
        pinned = await withProgress("installing the pinned tree", () =>
          pinnedServer(pin, {
            fetch: {
              allowHosts: opts.allowHost,
              ca: opts.ca !== undefined ? readFileSync(opts.ca, "utf8") : undefined,
            },
            tokenFor: (url) => npmrc.tokenFor(url)?.reveal(),
            warn,
          }));
      }
      const scanStart = performance.now();
      const iface = await withProgress(
        "scanning server",
        () =>
          scanServer(pinned ? pinned.argv : argv, {
            timeoutMs: opts.timeout,
            onWarning: warn,
            capabilities: opts.clientCapabilities,
            ...(pinned ? { env: pinned.env, cwd: pinned.cwd } : {}),
          }),
      );
      const fresh = buildLockfile(iface, {
        generator: GENERATOR,
        updatedAt: nowRfc3339(),
        url: isRemote(argv) ? argv.display : undefined,
        artifact,
      });
      const plan = planLock(existing, fresh, iface, opts.force === true);
      const { driftCounts } = await import("../lib/observe/receipt.ts");
      noteRun({
        server: { name: iface.serverInfo.name, version: iface.serverInfo.version },
        durations_ms: { scan: Math.round(performance.now() - scanStart) },
        outcome: plan.action === "refuse"
          ? "refused"
          : plan.action === "create"
          ? "created"
          : plan.action === "update"
          ? "updated"
          : "unchanged",
        ...(plan.action === "refuse" || plan.action === "update"
          ? { drift: driftCounts(plan.drift.items) }
          : {}),
      });
      if (plan.action !== "create" && plan.action !== "update") await noteLockfile(opts.output);
      switch (plan.action) {
        case "unchanged":
          process.stdout.write(`${opts.output} is up to date (no drift); file left untouched.\n`);
          return;
        case "refuse": {
          const r = judgeDrift(plan.drift, {
            failOn: "info",
            lockfileVersion: existing!.version === "3" ? "3.0" : `${existing!.version}.0`,
            server: iface.serverInfo.name,
            lockfile: opts.output,
          });
          process.stderr.write(
            renderCheckText(r).split("\n").filter((l) => !l.startsWith("Next:")).join("\n"),
          );
          throw new CheckFailedError(
            existing!.version === "3"
              ? `the server has drifted from ${opts.output}; lockfile not written`
              : `${opts.output} is a v${existing!.version} lockfile; upgrading it to v3 needs --force`,
            { hint: "review the changes above; if they are intended, run lock again with --force" },
          );
        }
        case "create":
        case "update":
          writeLockfile(opts.output, fresh);
          await noteLockfile(opts.output);
          process.stdout.write(
            `${plan.action === "create" ? "Locked" : "Updated"} ${opts.output}\n${summarizeLock(fresh)}\n`,
          );
          if (plan.action === "update" && plan.drift.items.length) {
            process.stdout.write(`Re-approved ${plan.drift.items.length} change(s) (--force).\n`);
          }
      }
    });
}
