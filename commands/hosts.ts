/**
 * `mcptrust hosts [--format text|json] [--host H]... [--config FILE --host KIND]`: every MCP server the
 * hosts on this machine and in the current project are configured to start, and whether each is wrapped
 * and locked.
 *
 * @module
 */
import { homedir } from "node:os";
import process from "node:process";
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { McpTrustError } from "../lib/errors.ts";
import { HOST_KINDS, type HostContext, type HostKind, parseHostKind } from "../lib/hosts/kinds.ts";
import type { InventoryOptions } from "../lib/hosts/inventory.ts";
import { out, parseFormat } from "./options.ts";
import { redactArgv } from "../lib/observe/redact.ts";

/** Commander collector for repeatable `--host`. */
export function collectHost(value: string, previous: HostKind[] = []): HostKind[] {
  const kind = parseHostKind(value);
  if (!kind) {
    throw new InvalidArgumentError(`expected one of ${HOST_KINDS.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return [...previous, kind];
}

/** Help of `--host`. */
export const HOST_HELP = `only this host (repeatable): ${HOST_KINDS.join(", ")}`;
/** Help of `--config`. */
export const CONFIG_HELP =
  "read this config file instead of the known locations (needs exactly one --host: its format)";

/** Where a run looks: HOME (USERPROFILE on Windows) and the current directory. */
export function hostContext(): HostContext {
  const env = process.env;
  const home = (process.platform === "win32" ? env.USERPROFILE : env.HOME) || env.HOME || homedir();
  return { home, project: process.cwd(), platform: process.platform, env };
}

/**
 * The inventory options of `--host` and `--config`.
 *
 * @throws {McpTrustError} (exit 2) if --config comes without exactly one --host
 */
export function inventoryOptions(opts: { host?: HostKind[]; config?: string }): InventoryOptions {
  if (opts.config !== undefined) {
    if (opts.host?.length !== 1) {
      throw new McpTrustError("--config needs exactly one --host, to say which host's format the file has", {
        hint: `e.g. --config ./my-mcp.json --host cursor (hosts: ${HOST_KINDS.join(", ")})`,
      });
    }
    return { config: { path: opts.config, host: opts.host[0] } };
  }
  return { hosts: opts.host };
}

/** An argv for display: secrets redacted (lib/observe/redact.ts), arguments with spaces or quotes JSON-quoted. */
export function showArgv(argv: readonly string[]): string {
  return redactArgv(argv).map((a) => /^[A-Za-z0-9_@%+=:,./~-]+$/.test(a) ? a : JSON.stringify(a)).join(" ");
}

/** Builds the `hosts` command. */
export function hostsCommand() {
  return new Command("hosts")
    .description(
      "List the MCP servers your hosts (Claude, Cursor, VS Code, ...) start, and whether each is wrapped and locked.",
    )
    .option("--format <format>", "text or json", parseFormat, "text" as "text" | "json")
    .option("--host <kind>", HOST_HELP, collectHost)
    .option("--config <file>", CONFIG_HELP)
    .addHelpText(
      "after",
      `
Looks in (HOME from the environment, the project is the current directory):
  claude-desktop  claude_desktop_config.json (macOS ~/Library/Application Support/Claude,
                  Windows %APPDATA%\\Claude, Linux ~/.config/Claude)
  claude-code     ./.mcp.json, ~/.claude.json (mcpServers, and projects["<dir>"].mcpServers)
  cursor          ~/.cursor/mcp.json, ./.cursor/mcp.json
  vscode          ./.vscode/mcp.json, the user profile's mcp.json (key "servers", JSONC)
  windsurf        ~/.codeium/windsurf/mcp_config.json
  gemini          ~/.gemini/settings.json, ./.gemini/settings.json
  codex           ~/.codex/config.toml (or $CODEX_HOME), ./.codex/config.toml ([mcp_servers.<name>])

Exit codes: 0 listed, 2 a config file could not be read or parsed (named with its line; the others are
still listed). See docs/HOSTS.md.`,
    )
    .action(async (opts) => {
      const { takeInventory, serverStatus } = await import("../lib/hosts/inventory.ts");
      const { HOSTS } = await import("../lib/hosts/kinds.ts");
      const ctx = hostContext();
      const inv = takeInventory(ctx, inventoryOptions(opts));
      const statuses = inv.docs.flatMap((d) => d.servers.map((e) => serverStatus(e, ctx.project)));
      if (opts.format === "json") {
        await out(
          JSON.stringify(
            {
              configs: inv.docs.map((d) => ({
                host: d.host,
                title: HOSTS[d.host].title,
                scope: d.scope,
                path: d.path,
                servers: d.servers.length,
              })),
              servers: statuses.map((s) => ({
                host: s.entry.host,
                scope: s.entry.scope,
                ...(s.entry.project !== undefined ? { project: s.entry.project } : {}),
                file: s.entry.file,
                name: s.entry.name,
                transport: s.entry.transport,
                ...(s.entry.command !== undefined ? { command: s.entry.command } : {}),
                ...(s.entry.args !== undefined ? { args: s.entry.args } : {}),
                ...(s.entry.url !== undefined ? { url: s.entry.url } : {}),
                wrapped: s.wrapped,
                locked: s.locked,
                ...(s.lock !== undefined ? { lockfile: s.lock } : {}),
                ...(s.original !== undefined ? { original: s.original } : {}),
                state: s.state,
              })),
              errors: inv.errors.map((e) => ({
                host: e.location.host,
                path: e.location.path,
                error: e.error.message,
              })),
              searched: inv.searched.map((l) => ({
                host: l.host,
                scope: l.scope,
                path: l.path,
                found: inv.docs.some((d) => d.path === l.path && d.host === l.host) ||
                  inv.errors.some((e) => e.location === l),
              })),
            },
            null,
            2,
          ) + "\n",
        );
      } else {
        const lines: string[] = [];
        for (const doc of inv.docs) {
          const groups = new Map<string, typeof statuses>();
          for (const s of statuses.filter((s) => s.entry.file === doc.path && s.entry.host === doc.host)) {
            const key = s.entry.scope === "local" ? `local to ${s.entry.project}` : s.entry.scope;
            groups.set(key, [...(groups.get(key) ?? []), s]);
          }
          if (groups.size === 0) groups.set(doc.scope, []);
          for (const [scope, list] of groups) {
            lines.push(`${HOSTS[doc.host].title} (${scope}): ${doc.path}`);
            if (list.length === 0) lines.push("  (no servers)");
            const width = Math.max(4, ...list.map((s) => s.entry.name.length));
            for (const s of list) {
              const what = s.entry.url ??
                (s.original
                  ? showArgv(s.original)
                  : s.entry.command !== undefined
                  ? showArgv([s.entry.command, ...(s.entry.args ?? [])])
                  : "");
              lines.push(
                `  ${s.entry.name.padEnd(width)}  ${s.entry.transport.padEnd(5)}  ${s.state}${
                  s.lock && s.locked ? ` (${s.lock})` : ""
                }`,
              );
              if (what) lines.push(`  ${"".padEnd(width)}  ${"".padEnd(5)}  ${what}`);
            }
          }
        }
        const n = (f: (s: (typeof statuses)[number]) => boolean) => statuses.filter(f).length;
        const toWrap = n((s) => !s.wrapped && s.entry.transport === "stdio" && !s.entry.problem);
        lines.push(
          "",
          `${inv.docs.length} config file(s), ${statuses.length} server(s): ${
            n((s) => s.wrapped && s.locked)
          } wrapped and locked, ${toWrap} not wrapped, ${
            n((s) => s.entry.transport === "http" || s.entry.transport === "sse")
          } remote.`,
        );
        if (inv.docs.length === 0 && inv.errors.length === 0) {
          lines.push(
            `No MCP config found (looked at ${inv.searched.length} locations; --format json lists them).`,
          );
        }
        if (toWrap > 0) lines.push("Next: `mcptrust wrap --dry-run` shows what wrapping would change.");
        await out(lines.join("\n") + "\n");
      }
      if (inv.errors.length > 0) {
        for (const e of inv.errors.slice(1)) process.stderr.write(`mcptrust: ${e.error.message}\n`);
        throw inv.errors[0].error;
      }
    });
}
