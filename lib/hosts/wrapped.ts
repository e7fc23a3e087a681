/**
 * What a wrapped entry looks like: `<mcptrust> proxy --lock <file> -- <original command> <args...>`,
 * how to recognise one (ours or written by hand), and where its lockfile goes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import process from "node:process";
import { McpTrustError } from "../errors.ts";
import type { ServerEntry } from "./config_file.ts";

/**
 * The absolute path of the mcptrust binary that wrapped entries will start: `MCPTRUST_SELF` if set,
 * else the running executable (the compiled binary).
 *
 * @throws {McpTrustError} (exit 2) when running from sources under a runtime (deno, bun, node) without
 *   MCPTRUST_SELF: the runtime alone cannot run `proxy`
 */
export function selfPath(env: Record<string, string | undefined> = process.env): string {
  const override = env.MCPTRUST_SELF;
  if (override !== undefined && override !== "") return override;
  const exe = process.execPath;
  if (/^(deno|bun|node)(\.exe)?$/i.test(basename(exe))) {
    throw new McpTrustError(`mcptrust is running from sources under ${basename(exe)}, not as its binary`, {
      hint: "set MCPTRUST_SELF to the absolute path of the mcptrust binary the hosts should start",
    });
  }
  return exe;
}

/** What a wrapped entry holds. */
export interface WrappedArgv {
  /** The lockfile given to --lock. */
  lock?: string;
  /** The original command and args (after `--`). */
  argv: string[];
}

/**
 * Recognises a wrapped entry: the command is an mcptrust binary (named `mcptrust`, or `self`) and the
 * args start with `proxy` and contain `--` followed by a command.
 *
 * @returns what it holds, or undefined if the entry is not wrapped
 */
export function parseWrapped(
  command: string | undefined,
  args: readonly string[] | undefined,
  self?: string,
): WrappedArgv | undefined {
  if (command === undefined || !args || args[0] !== "proxy") return undefined;
  const name = basename(command.replaceAll("\\", "/")).replace(/\.exe$/i, "");
  if (name !== "mcptrust" && command !== self) return undefined;
  const sep = args.indexOf("--");
  if (sep === -1 || sep === args.length - 1) return undefined;
  let lock: string | undefined;
  for (let i = 1; i < sep; i++) {
    if (args[i] === "--lock" && i + 1 < sep) lock = args[i + 1];
    else if (args[i].startsWith("--lock=")) lock = args[i].slice("--lock=".length);
  }
  return { lock, argv: args.slice(sep + 1) };
}

/** The entry's args once wrapped. */
export function wrappedArgs(lock: string, argv: readonly string[]): string[] {
  return ["proxy", "--lock", lock, "--", ...argv];
}

function short(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

function safe(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  // A name that had to change gets a hash, so "a/b" and "a_b" never share a lockfile.
  return s === text && s.length <= 64 ? s : `${s.slice(0, 48)}-${short(text)}`;
}

/**
 * The lockfile for an entry: `<dir>/<host>-<name>.json` for the machine's own files; entries of a
 * project file or a project section add the project's folder name and a hash of its path, so servers of
 * the same name in two projects never share a lockfile; a file given with --config (`customFile`) adds
 * its own name and a hash of its path.
 */
export function lockPathFor(dir: string, entry: ServerEntry, projectDir: string, customFile = false): string {
  if (customFile) {
    // A file given with --config: named after the file, so it never takes the host's own lockfiles.
    return join(
      dir,
      `${entry.host}-${safe(basename(entry.file))}-${short(entry.file)}-${safe(entry.name)}.json`,
    );
  }
  if (entry.scope === "user") return join(dir, `${entry.host}-${safe(entry.name)}.json`);
  const project = entry.project ?? projectDir;
  const tag = `${safe(basename(project) || "root")}-${short(project)}`;
  return join(dir, `${entry.host}-${tag}-${safe(entry.name)}.json`);
}

/** The wrap record kept beside a lockfile: `x.json` -> `x.wrap.json`. */
export function recordPathFor(lockPath: string): string {
  return lockPath.replace(/(\.json)?$/, ".wrap.json");
}
