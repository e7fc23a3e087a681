/**
 * The Linux sandbox for a pinned server: bubblewrap (`bwrap`, Debian package `bubblewrap`). This module
 * only finds bwrap and builds its argv (pure functions); launching is the runner's job.
 *
 * The sandbox runs `<self> <entry.js> args...` (our own binary as the JavaScript runtime, with
 * `BUN_BE_BUN=1`) with:
 * - new user, IPC, PID, UTS and cgroup namespaces; a new network namespace (`--unshare-net`: no network
 *   at all, not even loopback to the host) unless `allowNet`;
 * - `--die-with-parent` (the server never outlives mcptrust), `--new-session` (no TIOCSTI injection
 *   into the caller's terminal, CVE-2017-5226), `--cap-drop ALL` (matters when run as root);
 * - the filesystem: system directories read-only (/usr, /lib*, /bin, /sbin and the few /etc files a
 *   runtime needs: name resolution, TLS roots, time zone, users), a private /proc and /dev, a private
 *   tmpfs /tmp holding HOME (/tmp/home); the package tree and our binary read-only; the sandbox's root
 *   itself remounted read-only (`--remount-ro /`); nothing else writable except `allowWrite` paths, and nothing else readable except `allowRead` paths. The package
 *   tree and binary are bound last, so a writable parent cannot make them writable;
 * - `--clearenv`, then only PATH, LANG, TZ (from the caller's environment, when set), HOME=/tmp/home,
 *   TMPDIR=/tmp, BUN_BE_BUN=1, plus explicit extras (`passEnv` names, `setEnv` values). Tokens and
 *   cloud credentials in the caller's environment never reach the server unless named.
 *
 * Flags are from bwrap(1) (bubblewrap 0.8, Debian bookworm; `--clearenv` needs 0.5+).
 *
 * @module
 */
import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute, join, normalize, sep } from "node:path";
import { McpTrustError } from "../errors.ts";

/** Environment variables passed into the sandbox by default (values from the caller's environment). */
export const DEFAULT_PASS_ENV: readonly string[] = ["PATH", "LANG", "TZ"];
/** HOME inside the sandbox: private, on the sandbox's own tmpfs. */
export const SANDBOX_HOME = "/tmp/home";
/** TMPDIR inside the sandbox. */
export const SANDBOX_TMP = "/tmp";

/** System paths bound read-only when they exist. */
const SYSTEM_RO = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"];
/** The /etc files a runtime needs (resolver, TLS roots, time zone, user names), bound read-only if present. */
const ETC_RO = [
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/gai.conf",
  "/etc/host.conf",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/pki",
  "/etc/localtime",
  "/etc/passwd",
  "/etc/group",
];

/** What to run in the sandbox and what it may touch. All paths absolute. */
export interface SandboxSpec {
  /** The bwrap executable (from {@link findBwrap}). */
  bwrap: string;
  /** Our own binary, used as the JavaScript runtime. */
  self: string;
  /** The server's entry script, inside `packageRoot`. */
  entry: string;
  /** Runtime options placed between `self` and `entry` (e.g. `--no-install`). */
  runtimeArgs?: readonly string[];
  /** Arguments for the server, verbatim. */
  args: readonly string[];
  /** The verified package tree (bound read-only). */
  packageRoot: string;
  /** Working directory inside the sandbox. Default: {@link SANDBOX_HOME}. Must be reachable inside. */
  cwd?: string;
  /** Keep the host network (no `--unshare-net`). Default false. */
  allowNet?: boolean;
  /** Paths bound read-write (e.g. the directory a filesystem server serves). */
  allowWrite?: readonly string[];
  /** Extra paths bound read-only. */
  allowRead?: readonly string[];
  /** The caller's environment, to read PATH/LANG/TZ and `passEnv` values from. */
  env: Readonly<Record<string, string | undefined>>;
  /** More variable names to copy from `env` (e.g. the server's API key variable). */
  passEnv?: readonly string[];
  /** Variables set to explicit values (win over everything else except HOME/TMPDIR/BUN_BE_BUN). */
  setEnv?: Readonly<Record<string, string>>;
  /**
   * Leave the environment out of the argv (no `--clearenv`/`--setenv`): the caller spawns bwrap with
   * exactly {@link sandboxEnv} as its environment, which bwrap hands to the server. Values on a command
   * line can be read by every user on the machine (`/proc/<pid>/cmdline`, `ps`) for as long as bwrap
   * runs, which is as long as the server: use this whenever a value may be a secret. Default false.
   */
  envFromProcess?: boolean;
}

function refuse(message: string, hint?: string): McpTrustError {
  return new McpTrustError(message, { hint });
}

function checkPath(what: string, p: string): string {
  if (typeof p !== "string" || p === "" || p.includes("\0") || !isAbsolute(p)) {
    throw refuse(`sandbox: ${what} must be an absolute path (got ${JSON.stringify(p)})`);
  }
  const n = normalize(p);
  return n.length > 1 && n.endsWith(sep) ? n.slice(0, -1) : n;
}

/** True if `inner` is `outer` or lies under it. */
function within(inner: string, outer: string): boolean {
  return outer === "/" || inner === outer || inner.startsWith(outer + "/");
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The environment the server sees: PATH, LANG, TZ from `env` (when set), `passEnv` names from `env`,
 * `setEnv` values, then HOME, TMPDIR and BUN_BE_BUN fixed.
 *
 * @throws McpTrustError for an invalid variable name
 */
export function sandboxEnv(spec: Pick<SandboxSpec, "env" | "passEnv" | "setEnv">): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...DEFAULT_PASS_ENV, ...(spec.passEnv ?? [])]) {
    if (!ENV_NAME.test(name)) {
      throw refuse(`sandbox: ${JSON.stringify(name)} is not an environment variable name`);
    }
    const v = spec.env[name];
    if (v !== undefined) out[name] = v;
  }
  for (const [name, v] of Object.entries(spec.setEnv ?? {})) {
    if (!ENV_NAME.test(name)) {
      throw refuse(`sandbox: ${JSON.stringify(name)} is not an environment variable name`);
    }
    out[name] = v;
  }
  out.HOME = SANDBOX_HOME;
  out.TMPDIR = SANDBOX_TMP;
  out.BUN_BE_BUN = "1";
  return out;
}

/**
 * Builds the full argv (`[bwrap, ...flags, "--", self, entry, ...args]`) for running a pinned server
 * under bubblewrap.
 *
 * @param spec what to run and what it may touch
 * @param exists whether a host path exists (system paths that are absent are skipped; default: stat)
 * @returns argv for spawn (no shell)
 * @throws McpTrustError (exit 2) for a relative path, an entry outside the package tree, or a writable
 *   path that contains the package tree or the binary (they must stay read-only)
 */
export function buildBwrapArgv(spec: SandboxSpec, exists: (path: string) => boolean = pathExists): string[] {
  const self = checkPath("the runtime binary", spec.self);
  const root = checkPath("the package tree", spec.packageRoot);
  const entry = checkPath("the entry script", spec.entry);
  if (!within(entry, root) || entry === root) {
    throw refuse(`sandbox: the entry script ${entry} is not inside the package tree ${root}`);
  }
  const writable = (spec.allowWrite ?? []).map((p) => checkPath("a writable path", p));
  const readable = (spec.allowRead ?? []).map((p) => checkPath("a readable path", p));
  for (const w of writable) {
    if (within(root, w) || within(w, root) || within(self, w)) {
      throw refuse(
        `sandbox: ${w} cannot be writable: the package tree ${root} and the runtime must stay read-only`,
        "allow writing to a directory outside the package cache",
      );
    }
  }
  const cwd = spec.cwd === undefined ? SANDBOX_HOME : checkPath("the working directory", spec.cwd);

  const argv: string[] = [
    spec.bwrap,
    "--die-with-parent",
    "--new-session",
    "--unshare-user-try",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-uts",
    "--unshare-cgroup-try",
  ];
  if (!spec.allowNet) argv.push("--unshare-net");
  argv.push("--cap-drop", "ALL");
  for (const p of SYSTEM_RO) if (exists(p)) argv.push("--ro-bind", p, p);
  for (const p of ETC_RO) if (exists(p)) argv.push("--ro-bind", p, p);
  argv.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", SANDBOX_TMP, "--dir", SANDBOX_HOME);
  for (const p of readable) argv.push("--ro-bind", p, p);
  for (const p of writable) argv.push("--bind", p, p);
  // Last, so no writable or readable bind above can shadow them.
  argv.push("--ro-bind", root, root, "--ro-bind", self, self);
  // The sandbox's own root (a tmpfs holding the mount points) read-only too: otherwise a write to any
  // path outside the binds (/work/x, /x) lands there and succeeds.
  argv.push("--remount-ro", "/");
  argv.push("--chdir", cwd);
  if (!spec.envFromProcess) {
    argv.push("--clearenv");
    const env = sandboxEnv(spec);
    for (const name of Object.keys(env).sort()) argv.push("--setenv", name, env[name]);
  }
  argv.push("--", self, ...(spec.runtimeArgs ?? []), entry, ...spec.args);
  return argv;
}

function pathExists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds `bwrap` on a PATH string, as a shell would (first executable regular file named bwrap).
 *
 * @param pathEnv the PATH value (`:`-separated); empty entries are skipped, not read as `.`
 * @param isExecutable injectable check (default: regular file with the execute permission)
 * @returns the absolute path, or undefined
 */
export function findBwrap(
  pathEnv: string | undefined,
  isExecutable: (path: string) => boolean = isExecutableFile,
): string | undefined {
  for (const dir of (pathEnv ?? "").split(":")) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, "bwrap");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** How the user asked for sandboxing: `required` fails closed, `auto` uses it when present, `off` never. */
export type SandboxMode = "required" | "auto" | "off";

/** The outcome of {@link decideSandbox}. */
export interface SandboxDecision {
  /** The bwrap path to use, or undefined to run without a sandbox. */
  bwrap?: string;
  /** A line for the user when running without a sandbox in `auto` mode; undefined otherwise. */
  warning?: string;
}

/**
 * Decides whether to sandbox: fails closed when the sandbox was required and cannot be had.
 *
 * @param mode the user's choice
 * @param platform `process.platform`
 * @param bwrap the result of {@link findBwrap}
 * @throws McpTrustError (exit 2) if mode is `required` and bwrap is absent or the platform is not Linux
 */
export function decideSandbox(
  mode: SandboxMode,
  platform: string,
  bwrap: string | undefined,
): SandboxDecision {
  if (mode === "off") return {};
  if (platform !== "linux") {
    if (mode === "required") {
      throw refuse(
        `the sandbox was required, but it is only available on Linux (this is ${platform})`,
        "run without --sandbox, or run on Linux with bubblewrap installed",
      );
    }
    return { warning: `warning: no sandbox on ${platform}; the server runs with your user's rights` };
  }
  if (bwrap === undefined) {
    if (mode === "required") {
      throw refuse(
        "the sandbox was required, but bubblewrap (bwrap) is not on PATH",
        "install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)",
      );
    }
    return {
      warning: "warning: bubblewrap (bwrap) not found; the server runs unsandboxed with your user's rights",
    };
  }
  return { bwrap };
}
