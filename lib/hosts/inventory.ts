/**
 * Finding the MCP configs on this machine and in the project, and what state each server is in.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { errorMessage, McpTrustError } from "../errors.ts";
import { parseLockfile } from "../lockfile/load.ts";
import { readFileSync } from "node:fs";
import { type ConfigDoc, readConfig, type ServerEntry } from "./config_file.ts";
import { type ConfigLocation, configLocations, type HostContext, type HostKind } from "./kinds.ts";
import { parseWrapped } from "./wrapped.ts";

/** Where to look. */
export interface InventoryOptions {
  /** Only these hosts (default: all). */
  hosts?: readonly HostKind[];
  /** Instead of the known locations: this file, read as `host`'s format. */
  config?: { path: string; host: HostKind };
}

/** What was found. */
export interface Inventory {
  /** Every location looked at. */
  searched: ConfigLocation[];
  /** The config files that exist and parse. */
  docs: ConfigDoc[];
  /** The ones that exist but could not be read or parsed. */
  errors: { location: ConfigLocation; error: McpTrustError }[];
}

/** Reads every config file of the selected hosts. Never throws for a bad file: see `errors`. */
export function takeInventory(ctx: HostContext, opts: InventoryOptions = {}): Inventory {
  const searched = opts.config
    ? [{ host: opts.config.host, scope: "user" as const, path: resolve(ctx.project, opts.config.path) }]
    : configLocations(ctx, opts.hosts);
  const docs: ConfigDoc[] = [];
  const errors: Inventory["errors"] = [];
  for (const loc of searched) {
    try {
      const doc = readConfig(loc.host, loc.scope, loc.path);
      if (doc) docs.push(doc);
      else if (opts.config) {
        throw new McpTrustError(`config file ${loc.path} does not exist`, {
          hint: "give the path of an existing config file to --config",
        });
      }
    } catch (err) {
      errors.push({
        location: loc,
        error: err instanceof McpTrustError ? err : new McpTrustError(errorMessage(err)),
      });
    }
  }
  return { searched, docs, errors };
}

/** A server and its state. */
export interface ServerStatus {
  entry: ServerEntry;
  wrapped: boolean;
  /** When wrapped: the lockfile it enforces. */
  lock?: string;
  /** When wrapped: the lockfile exists and is a valid lockfile. */
  locked: boolean;
  /** When wrapped: the original command and args. */
  original?: string[];
  /** One line for people: "wrapped, locked", "not wrapped", "remote: skipped", ... */
  state: string;
}

/** The state of one server. */
export function serverStatus(entry: ServerEntry, projectDir: string): ServerStatus {
  const s: ServerStatus = { entry, wrapped: false, locked: false, state: "" };
  if (entry.transport === "http" || entry.transport === "sse") {
    s.state = `remote (${entry.transport}): not wrapped`;
    return s;
  }
  if (entry.problem) {
    s.state = `cannot be wrapped: ${entry.problem}`;
    return s;
  }
  const w = parseWrapped(entry.command, entry.args);
  if (!w) {
    s.state = "not wrapped";
    return s;
  }
  s.wrapped = true;
  s.original = w.argv;
  if (w.lock === undefined) {
    // The proxy's default.
    s.lock = "mcp-lock.json";
    s.state = "wrapped, lockfile not named (the proxy reads mcp-lock.json in its working directory)";
    return s;
  }
  s.lock = w.lock;
  const path = resolve(entry.project ?? projectDir, w.lock);
  if (!existsSync(path)) {
    s.state = `wrapped, but its lockfile ${w.lock} is missing (the proxy will refuse to start)`;
    return s;
  }
  try {
    const loaded = parseLockfile(readFileSync(path), path);
    s.locked = loaded.version === "3";
    s.state = s.locked ? "wrapped, locked" : `wrapped, but ${w.lock} is a v${loaded.version} lockfile`;
  } catch (err) {
    s.state = `wrapped, but its lockfile is unusable: ${errorMessage(err)}`;
  }
  return s;
}
