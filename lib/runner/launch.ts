/**
 * Launching a verified server: the entry script (from the pin, cross-checked with the package's own
 * `bin`), run by the JavaScript runtime inside our own binary (`BUN_BE_BUN=1 <self> <entry> args`), with
 * an allowlisted environment, inside the bubblewrap sandbox when there is one (lib/runner/sandbox.ts).
 *
 * The runtime is told not to act on anything outside the verified tree: `--no-install` (Bun would
 * otherwise install a missing import from the registry when no node_modules is found above the working
 * directory), `--no-env-file` (no `.env` from the working directory into the server's environment), and
 * `--config=/dev/null` (a `bunfig.toml` in the working directory could `preload` any code). Measured on
 * Bun 1.4: without these, a `.env` and a bunfig `preload` in the working directory both reach the server.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, lstatSync, readFileSync, realpathSync } from "node:fs";
import { devNull } from "node:os";
import { isAbsolute, join, posix, resolve } from "node:path";
import process from "node:process";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { buildBwrapArgv, SANDBOX_HOME, sandboxEnv } from "./sandbox.ts";
import type { RunPlan } from "./run_plan.ts";

/** Options for the embedded runtime, before the entry script (see the module note). */
export const RUNTIME_FLAGS: readonly string[] = ["--no-install", "--no-env-file", `--config=${devNull}`];

/** Variables the server gets from our environment without a sandbox (values as we have them). */
export const BARE_PASS_ENV: readonly string[] = ["PATH", "HOME", "LANG", "TZ", "TMPDIR"];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--env` flags, split: names to copy from our environment, and explicit values. */
export interface EnvFlags {
  passEnv: string[];
  setEnv: Record<string, string>;
}

/**
 * Parses `--env NAME` (copy NAME from our environment) and `--env NAME=VALUE` (set it).
 *
 * @throws McpTrustError (exit 2) for a name that is not a variable name, or BUN_BE_BUN
 */
export function parseEnvFlags(flags: readonly string[]): EnvFlags {
  const passEnv: string[] = [];
  const setEnv: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf("=");
    const name = eq < 0 ? f : f.slice(0, eq);
    if (!ENV_NAME.test(name)) {
      throw new McpTrustError(`--env ${JSON.stringify(f)}: ${JSON.stringify(name)} is not a variable name`, {
        hint: "use --env NAME (copy it from your environment) or --env NAME=VALUE",
      });
    }
    if (name === "BUN_BE_BUN") {
      throw new McpTrustError(
        "--env BUN_BE_BUN: mcptrust sets it itself (it makes the runtime run the server)",
      );
    }
    if (eq < 0) passEnv.push(name);
    else setEnv[name] = f.slice(eq + 1);
  }
  return { passEnv, setEnv };
}

/**
 * The server's environment without a sandbox: {@link BARE_PASS_ENV} and `passEnv` names from `env` (when
 * set), `setEnv` values, and `BUN_BE_BUN=1`. Nothing else of ours: registry tokens and cloud
 * credentials stay out unless named.
 */
export function bareEnv(
  env: Readonly<Record<string, string | undefined>>,
  flags: EnvFlags,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...BARE_PASS_ENV, ...flags.passEnv]) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  Object.assign(out, flags.setEnv);
  out.BUN_BE_BUN = "1";
  return out;
}

function binMap(pkg: Record<string, unknown>, name: string): Map<string, string> {
  const bins = new Map<string, string>();
  const bin = pkg.bin;
  if (typeof bin === "string") bins.set(name.split("/").pop()!, bin);
  else if (bin && typeof bin === "object") {
    for (const [k, val] of Object.entries(bin)) if (typeof val === "string") bins.set(k, val);
  }
  return bins;
}

function normalizeBinPath(p: string): string {
  return posix.normalize(p.replace(/\\/g, "/")).replace(/^\.\//, "");
}

/**
 * Finds the entry script in the verified package and cross-checks it with the package's `bin`: the
 * pinned `launch.entry` must be what `bin[launch.bin]` names (or, without `launch.bin`, one of the bins).
 *
 * @param packageDir the extracted server package
 * @param plan the run plan (name, launch)
 * @returns the bin name and the entry's absolute path
 * @throws CheckFailedError (exit 1) if the package's bin disagrees with the pin, or the entry is not a
 *   regular file in the package
 */
export function resolveEntry(packageDir: string, plan: RunPlan): { bin: string; entry: string } {
  const { entry, bin } = plan.launch;
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  } catch (err) {
    throw new CheckFailedError(
      `cannot read the package.json of ${plan.root.name}: ${(err as Error).message}`,
    );
  }
  const bins = binMap(pkg, plan.root.name);
  const listed = [...bins.keys()].map((b) => JSON.stringify(b)).join(", ") || "none";
  let name: string | undefined;
  if (bin !== undefined) {
    const target = bins.get(bin);
    if (target === undefined) {
      throw new CheckFailedError(
        `the pin runs bin ${JSON.stringify(bin)}, which ${plan.root.name}'s package.json does not declare ` +
          `(bins: ${listed})`,
        { hint: "re-pin with `mcptrust lock --pin` and review" },
      );
    }
    if (normalizeBinPath(target) !== entry) {
      throw new CheckFailedError(
        `the pin runs ${entry} as bin ${JSON.stringify(bin)}, but ${plan.root.name}'s package.json says ` +
          `${JSON.stringify(bin)} is ${target}`,
        { hint: "re-pin with `mcptrust lock --pin` and review" },
      );
    }
    name = bin;
  } else {
    name = [...bins].find(([, t]) => normalizeBinPath(t) === entry)?.[0];
    if (name === undefined) {
      throw new CheckFailedError(
        `the pin runs ${entry}, which is not a bin of ${plan.root.name} (bins: ${listed})`,
        { hint: "re-pin with `mcptrust lock --pin` and review" },
      );
    }
  }
  const abs = join(packageDir, entry);
  let ok = false;
  try {
    ok = lstatSync(abs).isFile();
  } catch { /* missing */ }
  if (!ok) {
    throw new CheckFailedError(`the entry ${entry} of ${plan.root.name} is not a file in the package`);
  }
  return { bin: name, entry: abs };
}

/** How the server is launched. */
export interface Launch {
  /** argv for spawn (no shell): bwrap's, or our runtime's. */
  argv: string[];
  /** The environment of the process spawned (bwrap's own, or the server's). */
  env: Record<string, string>;
  /** The environment the server sees. */
  serverEnv: Record<string, string>;
  /** Working directory of the spawned process. */
  cwd: string;
  /** Working directory of the server (inside the sandbox: /tmp/home). */
  serverCwd: string;
  /** The sandbox, if any: the bwrap path. */
  bwrap?: string;
  /** For {@link probeSandbox}: the bwrap argv up to and including `--`. */
  sandboxPrefix?: string[];
  /** Our binary (the runtime). */
  self: string;
}

/** Options for {@link buildLaunch}. All paths absolute. */
export interface LaunchOptions {
  /** Our binary (real path). */
  self: string;
  /** The tree root (bound read-only in the sandbox). */
  tree: string;
  /** The entry script's absolute path. */
  entry: string;
  /** Server arguments: the pinned ones, then the extra ones. */
  args: readonly string[];
  /** Our environment. */
  env: Readonly<Record<string, string | undefined>>;
  envFlags: EnvFlags;
  /** Our working directory. */
  cwd: string;
  /** The bwrap to sandbox with, or undefined for none. */
  bwrap?: string;
  allowNet?: boolean;
  allowWrite?: readonly string[];
  allowRead?: readonly string[];
}

/**
 * Resolves and checks `--allow-write`/`--allow-read` paths: absolute (relative ones against `cwd`), and
 * existing (bwrap cannot bind a missing path).
 *
 * @throws McpTrustError (exit 2) for a path that does not exist
 */
export function sandboxPaths(flag: string, paths: readonly string[], cwd: string): string[] {
  return paths.map((p) => {
    const abs = isAbsolute(p) ? resolve(p) : resolve(cwd, p);
    if (!existsSync(abs)) {
      throw new McpTrustError(`${flag} ${p}: ${abs} does not exist`, {
        hint: "create it first; the sandbox binds existing paths only",
      });
    }
    return abs;
  });
}

/**
 * Builds the launch: `[self, ...RUNTIME_FLAGS, entry, ...args]` with {@link bareEnv}, or, with `bwrap`,
 * the sandbox argv around it (sandbox.ts: the tree and `self` read-only, private /tmp, no network unless
 * `allowNet`, only `allowWrite` writable). In the sandbox the environment is the same allowlist with HOME
 * and TMPDIR private, given to bwrap as its whole environment rather than on its command line (which any
 * user can read while the server runs).
 *
 * @throws McpTrustError (exit 2) from the sandbox builder (e.g. a writable path over the tree)
 */
export function buildLaunch(o: LaunchOptions): Launch {
  if (o.bwrap === undefined) {
    const env = bareEnv(o.env, o.envFlags);
    return {
      argv: [o.self, ...RUNTIME_FLAGS, o.entry, ...o.args],
      env,
      serverEnv: env,
      cwd: o.cwd,
      serverCwd: o.cwd,
      self: o.self,
    };
  }
  const spec = {
    bwrap: o.bwrap,
    self: o.self,
    entry: o.entry,
    runtimeArgs: RUNTIME_FLAGS,
    args: o.args,
    packageRoot: o.tree,
    allowNet: o.allowNet,
    allowWrite: o.allowWrite,
    allowRead: o.allowRead,
    env: o.env,
    passEnv: o.envFlags.passEnv,
    setEnv: o.envFlags.setEnv,
    // Values (tokens passed with --env) stay off bwrap's command line, which every user can read.
    envFromProcess: true,
  };
  const argv = buildBwrapArgv(spec);
  const serverEnv = sandboxEnv(spec);
  const command = 2 + RUNTIME_FLAGS.length + o.args.length;
  const prefix = argv.slice(0, argv.length - command);
  if (prefix.at(-1) !== "--" || argv[prefix.length] !== o.self) {
    throw new McpTrustError("internal: unexpected sandbox command line");
  }
  return {
    argv,
    env: serverEnv,
    serverEnv,
    cwd: o.cwd,
    serverCwd: SANDBOX_HOME,
    bwrap: o.bwrap,
    sandboxPrefix: prefix,
    self: o.self,
  };
}

/**
 * Checks that the sandbox starts here (user namespaces allowed, binds possible) by running our runtime's
 * `--version` in exactly the sandbox the server gets.
 *
 * @returns undefined if it started; else what bwrap said
 */
export function probeSandbox(l: Launch, timeoutMs = 10_000): Promise<string | undefined> {
  if (!l.sandboxPrefix) return Promise.resolve(undefined);
  return new Promise((resolvePromise) => {
    let stderr = "";
    const child = spawn(l.sandboxPrefix![0], [...l.sandboxPrefix!.slice(1), l.self, "--version"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: l.env,
      cwd: l.cwd,
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stderr!.on("data", (c: Uint8Array) => {
      if (stderr.length < 4096) stderr += new TextDecoder().decode(c);
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      resolvePromise(err.message);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(undefined);
      else {
        const said = stderr.trim().split("\n").filter((l) => l.trim() !== "").at(-1);
        resolvePromise(said ?? (signal ? `killed by ${signal}` : `exit code ${code}`));
      }
    });
  });
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Runs the launch with our stdin, stdout and stderr (no proxy), forwarding SIGINT, SIGTERM and SIGHUP.
 *
 * @returns the server's exit code (128+N if killed by signal N)
 * @throws McpTrustError (exit 2) if it cannot be started
 */
export function runBare(l: Launch): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(l.argv[0], l.argv.slice(1), { stdio: "inherit", env: l.env, cwd: l.cwd });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const done = () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    child.once("error", (err) => {
      done();
      reject(new McpTrustError(`the server could not be started: ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      done();
      resolvePromise(signal ? 128 + (SIGNALS[signal] ?? 1) : code ?? 1);
    });
  });
}

/** Our own binary, as a real path (the runtime the server runs on, bound read-only in the sandbox). */
export function selfPath(): string {
  try {
    return realpathSync(process.execPath);
  } catch {
    return process.execPath;
  }
}
