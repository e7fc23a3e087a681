/**
 * `mcptrust wrap` / `mcptrust unwrap`: put every stdio server a host starts behind `mcptrust proxy`
 * with its own lockfile, and take it out again.
 *
 * @module
 */
import { join, resolve } from "node:path";
import process from "node:process";
import { Command } from "@commander-js/extra-typings";
import { CheckFailedError, errorMessage, McpTrustError } from "../lib/errors.ts";
import type { HostKind } from "../lib/hosts/kinds.ts";
import type { LockOutcome, WrapCandidate } from "../lib/hosts/wrap.ts";
import { GENERATOR } from "../lib/version.ts";
import { collectHost, CONFIG_HELP, HOST_HELP, hostContext, inventoryOptions, showArgv } from "./hosts.ts";
import { collect } from "./server_target.ts";
import { out, parseDuration, warn, withProgress } from "./options.ts";

/** The scan summary shown before approval: counts, HIGH-risk tools, suspicious text. */
function approvalText(
  c: WrapCandidate,
  lock: LockOutcome,
  report: import("../lib/scan/report.ts").ScanReport,
  instructionsFindings: string[],
): string {
  const safe = (s: string) => JSON.stringify(s).slice(1, -1);
  const e = c.entry;
  const s = report.summary;
  const lines = [
    `${e.host}/${e.name} (${e.scope === "local" ? `local to ${e.project}` : e.scope}, ${e.file})`,
    `  runs:     ${showArgv(c.launch!.argv)}${c.launch!.cwd ? ` (in ${c.launch!.cwd})` : ""}`,
    `  server:   ${safe(report.server.name)}${
      report.server.version ? " " + safe(report.server.version) : ""
    }`,
    `  exposes:  ${s.tools} tool(s) (HIGH ${s.risk.HIGH}, MEDIUM ${s.risk.MEDIUM}, LOW ${s.risk.LOW}), ${s.prompts} prompt(s), ${s.resources} resource(s), ${s.resourceTemplates} resource template(s)`,
  ];
  for (const t of report.tools.filter((t) => t.risk_level === "HIGH")) {
    lines.push(
      `  HIGH:     ${safe(t.name)}${t.risk_reasons.length ? ` (${t.risk_reasons.join("; ")})` : ""}`,
    );
  }
  const suspicious: string[] = [...instructionsFindings];
  for (const t of report.tools) {
    for (const f of t.suspicious ?? []) {
      suspicious.push(`tool ${JSON.stringify(t.name)} ${f.field}: ${f.detail}`);
    }
  }
  for (
    const [kind, items, key] of [
      ["prompt", report.prompts, "name"],
      ["resource", report.resources, "uri"],
      ["resource template", report.resourceTemplates, "uriTemplate"],
    ] as const
  ) {
    for (const i of items) {
      for (const f of i.suspicious ?? []) {
        suspicious.push(`${kind} ${JSON.stringify(String(i[key]))} ${f.field}: ${f.detail}`);
      }
    }
  }
  for (const x of suspicious) lines.push(`  ! suspicious ${x}`);
  const what = lock.action === "unchanged"
    ? "exists, still matches"
    : lock.action === "update"
    ? "will be updated (no drift)"
    : "new";
  lines.push(`  lockfile: ${c.lock} (${what})`);
  return lines.join("\n") + "\n";
}

async function ask(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Builds the `wrap` command. */
export function wrapCommand() {
  return new Command("wrap")
    .description(
      "Lock every stdio server in your hosts' configs and rewrite each to start behind `mcptrust proxy`.",
    )
    .option("--host <kind>", HOST_HELP, collectHost)
    .option("--config <file>", CONFIG_HELP)
    .option("--server <name>", "only the server with this name (repeatable)", collect, [] as string[])
    .option("--lock-dir <dir>", "where the lockfiles go (default ~/.mcptrust/locks)")
    .option("--dry-run", "print a diff of each config that would change; start nothing, write nothing")
    .option("-y, --yes", "approve every server without asking (needed when stdin is not a terminal)")
    .option("-t, --timeout <duration>", "deadline for each server's scan", parseDuration, 30_000)
    .addHelpText(
      "after",
      `
For each stdio server (all of them, or --host/--server): start it as its host would (command, args, env,
cwd; \`\${VAR}\`-style references expanded as that host does), list what it exposes, show the summary
(tool counts, HIGH-risk tools, suspicious text) and ask for approval; then write its lockfile
(<lock-dir>/<host>-<name>.json) and rewrite the entry to
  <this binary> proxy --lock <lockfile> -- <original command> <original args...>
keeping env, cwd and every other field. Each config is backed up next to itself
(<file>.mcptrust-backup-<time>) and rewritten atomically; comments and formatting are kept.
Remote (http/sse) servers are listed and skipped. Already wrapped servers are left alone.
If any chosen server cannot be locked, nothing is written.

Examples:
  mcptrust wrap --dry-run
  mcptrust wrap --host claude-desktop --server filesystem
  mcptrust wrap --yes --lock-dir ~/mcp-locks

Exit codes: 0 done (or nothing to do), 1 a server drifted from its existing lockfile, 2 operational error
(a config does not parse, a server would not start, no approval possible). Undo with \`mcptrust unwrap\`.`,
    )
    .action(async (opts) => {
      const [{ takeInventory }, w, { selfPath }, { buildScanReport }, { inspectText }] = await Promise.all([
        import("../lib/hosts/inventory.ts"),
        import("../lib/hosts/wrap.ts"),
        import("../lib/hosts/wrapped.ts"),
        import("../lib/scan/report.ts"),
        import("../lib/scan/suspicious_text.ts"),
      ]);
      const ctx = hostContext();
      const inv = takeInventory(ctx, inventoryOptions(opts));
      failOnBadConfigs(inv.errors.map((e) => e.error));
      const lockDir = resolve(opts.lockDir ?? join(ctx.home, ".mcptrust", "locks"));
      const cands = w.planWrap(inv, ctx, {
        servers: opts.server,
        lockDir,
        customFile: opts.config !== undefined,
      });
      for (const c of cands) {
        if (c.action === "already-wrapped") {
          process.stdout.write(`already wrapped: ${w.describeEntry(c.entry)}\n`);
        }
        if (c.action === "skip") process.stdout.write(`skipped: ${w.describeEntry(c.entry)}: ${c.reason}\n`);
      }
      let todo = cands.filter((c) => c.action === "wrap");
      if (todo.length === 0) {
        await out(cands.length === 0 ? "No MCP servers found; nothing to wrap.\n" : "Nothing to wrap.\n");
        return;
      }
      const self = resolve(selfPath());
      if (opts.dryRun) {
        for (const ch of w.wrapChanges(todo, self)) {
          process.stdout.write(w.renderDiff(ch.doc.path, ch.doc.text, ch.text));
        }
        await out(
          `\nDry run: ${todo.length} server(s) would be locked (in ${lockDir}) and wrapped; nothing was written.\n`,
        );
        return;
      }
      if (!opts.yes && process.stdin.isTTY !== true) {
        throw new McpTrustError(
          `wrap asks you to approve each server, and stdin is not a terminal (${todo.length} server(s) to wrap)`,
          {
            hint:
              "run it in a terminal, or review with `mcptrust wrap --dry-run` and `mcptrust scan -- <command>`, then pass --yes",
          },
        );
      }
      const locks = new Map<string, LockOutcome>();
      const failures: McpTrustError[] = [];
      const approved: WrapCandidate[] = [];
      for (const c of todo) {
        let lock: LockOutcome;
        try {
          lock = await withProgress(
            `scanning ${c.entry.host}/${c.entry.name}`,
            () => w.lockCandidate(c, { timeoutMs: opts.timeout, generator: GENERATOR, onWarning: warn }),
          );
        } catch (err) {
          const e = err instanceof McpTrustError ? err : new McpTrustError(errorMessage(err));
          failures.push(
            new McpTrustError(`${w.describeEntry(c.entry)}: ${e.message}`, {
              exitCode: e.exitCode,
              hint: e.hint,
            }),
          );
          continue;
        }
        const findings = inspectText("instructions", lock.iface.instructions).map((f) =>
          `server instructions: ${f.detail}`
        );
        process.stdout.write(approvalText(c, lock, buildScanReport(lock.iface), findings));
        if (!opts.yes && !(await ask(`Approve ${c.entry.host}/${c.entry.name} and wrap it? [y/N] `))) {
          process.stdout.write(`  not approved: left as it is\n`);
          continue;
        }
        locks.set(c.lock!, lock);
        approved.push(c);
      }
      if (failures.length > 0) {
        for (const f of failures.slice(1)) {
          process.stderr.write(`mcptrust: ${f.message}\n${f.hint ? `  next: ${f.hint}\n` : ""}`);
        }
        const first = failures[0];
        const msg =
          `${first.message}\n(${failures.length} server(s) could not be locked; nothing was written)`;
        const hint = first.hint ??
          "fix the server, or leave it out with --server NAME for each of the others";
        throw failures.every((f) => f.exitCode === 1)
          ? new CheckFailedError(msg, { hint })
          : new McpTrustError(msg, { hint });
      }
      todo = approved;
      if (todo.length === 0) {
        await out("Nothing approved; nothing was written.\n");
        return;
      }
      const changes = w.wrapChanges(todo, self);
      const backups = await w.commitWrap(changes, locks, lockDir);
      for (const c of todo) process.stdout.write(`wrapped: ${w.describeEntry(c.entry)} -> ${c.lock}\n`);
      for (const [file, backup] of backups) process.stdout.write(`backup: ${file} -> ${backup}\n`);
      await out(
        `Wrapped ${todo.length} server(s). Restart your host(s) to use them; undo with \`mcptrust unwrap\`.\n`,
      );
    });
}

function failOnBadConfigs(errors: McpTrustError[]): void {
  if (errors.length === 0) return;
  for (const e of errors.slice(1)) process.stderr.write(`mcptrust: ${e.message}\n`);
  throw errors[0];
}

/** Builds the `unwrap` command. */
export function unwrapCommand() {
  return new Command("unwrap")
    .description("Restore the entries `mcptrust wrap` rewrote to their original command and args.")
    .option("--host <kind>", HOST_HELP, collectHost)
    .option("--config <file>", CONFIG_HELP)
    .option("--server <name>", "only the server with this name (repeatable)", collect, [] as string[])
    .option("--dry-run", "print a diff of each config that would change; write nothing")
    .addHelpText(
      "after",
      `
An entry mcptrust wrapped and nobody edited since comes back byte for byte (the text is kept in
<lockfile>.wrap.json beside its lockfile); an entry wrapped by hand, or edited since, gets the command
and args after \`--\` back. Lockfiles are kept. Each config is backed up and rewritten atomically.
Exit codes: 0 done (or nothing to do), 2 a config does not parse or cannot be written.`,
    )
    .action(async (opts) => {
      const [{ takeInventory }, w] = await Promise.all([
        import("../lib/hosts/inventory.ts"),
        import("../lib/hosts/wrap.ts"),
      ]);
      const ctx = hostContext();
      const inv = takeInventory(ctx, inventoryOptions(opts as { host?: HostKind[]; config?: string }));
      failOnBadConfigs(inv.errors.map((e) => e.error));
      const cands = w.planUnwrap(inv, ctx.project, opts.server);
      if (cands.length === 0) {
        await out("No wrapped servers found; nothing to unwrap.\n");
        return;
      }
      const { changes, exact } = w.unwrapChanges(cands);
      if (opts.dryRun) {
        for (const ch of changes) process.stdout.write(w.renderDiff(ch.doc.path, ch.doc.text, ch.text));
        await out(`\nDry run: ${cands.length} server(s) would be unwrapped; nothing was written.\n`);
        return;
      }
      const backups = w.commitUnwrap(changes);
      for (const c of cands) {
        process.stdout.write(
          `unwrapped: ${w.describeEntry(c.entry)} (${
            exact.get(c) ? "original text restored" : "command and args restored from the wrapped entry"
          })\n`,
        );
      }
      for (const [file, backup] of backups) process.stdout.write(`backup: ${file} -> ${backup}\n`);
      await out(`Unwrapped ${cands.length} server(s); their lockfiles are kept.\n`);
    });
}
