/**
 * Reads a launcher command line (`npx -y @scope/pkg@1.2.3 args...`, `npm exec`, `bunx`, `pnpm dlx`) as
 * the package manager would, and returns which registry package it runs, with which spec, which bin and
 * which arguments, so `lock --pin` can pin that package and `run --lock` can run it without the launcher.
 *
 * Each launcher's own argument rules are followed, from its source or documentation:
 * - `npx` (npm's bin/npx-cli.js): options only before the first positional (or `--`); the first
 *   positional is the package spec (or, with `--package`/`-p`, the command); everything after it goes to
 *   the command verbatim.
 * - `npm exec` / `npm x` (nopt): options anywhere before `--`; positionals before and after `--` form the
 *   command line; with `--package`, the first positional is the command, else it is the package spec.
 * - `bunx` / `bun x` (`bunx --help`): options before the package; after it, everything goes to the command.
 * - `pnpm dlx` / `pnpx` (pnpm.io/cli/dlx): options before the command (also before `dlx`); after it,
 *   everything goes to the command.
 *
 * Only options we understand are accepted; anything else is refused rather than guessed (an unknown npm
 * option may consume the next word as its value, which changes what runs). Refused outright: shell
 * strings (`-c`/`--call`, `--shell-mode`), several packages, workspaces, and specs that are not registry
 * packages (git, file, directory, tarball URL, `workspace:`, `catalog:`): only registry packages can be
 * pinned. Package specs are classified by npm-package-arg, npm's own parser.
 *
 * @module
 */
import npa from "npm-package-arg";
import semver from "semver";
import { McpTrustError } from "../errors.ts";

/** Which launcher a command uses. */
export type LauncherKind = "npx" | "npm exec" | "bunx" | "pnpm dlx";

/** What a launcher command runs. */
export interface LauncherCommand {
  /** The launcher recognised. */
  launcher: LauncherKind;
  /** The registry package name, e.g. `@modelcontextprotocol/server-memory` (the real name for an alias). */
  name: string;
  /**
   * The requested version, range or dist-tag as written (trimmed), e.g. `1.2.3`, `^1`, `next`;
   * `latest` when none was given (npm picks the `latest` dist-tag then).
   */
  spec: string;
  /** How `spec` reads: an exact version, a semver range, or a dist-tag. */
  specType: "version" | "range" | "tag";
  /** For `specType: "version"`: the version normalized by semver (`v1.2.3` -> `1.2.3`). */
  version?: string;
  /** For `alias@npm:real@spec`: the alias name. */
  alias?: string;
  /** The command (bin) named explicitly (with `--package`); otherwise chosen from the package's `bin`. */
  bin?: string;
  /** Arguments for the server, verbatim. */
  args: string[];
  /** A registry given on the command line (`--registry`), if any. */
  registry?: string;
}

function usage(message: string, hint?: string): McpTrustError {
  return new McpTrustError(message, { hint });
}

const PIN_HINT =
  "only packages from an npm registry can be pinned; publish it to a registry or run it without --pin";

interface FlagRules {
  /** Flags without a value (long names without dashes, short as "-x"). */
  switches: ReadonlySet<string>;
  /** Flags that take a value; the value is the next word unless given as `--flag=value`. */
  values: ReadonlySet<string>;
  /** Flags refused, with the reason. */
  refused: ReadonlyMap<string, string>;
}

const SHELL = "a shell command string cannot be pinned: its words are only known when a shell runs it";
const NPM_RULES: FlagRules = {
  switches: new Set([
    "y",
    "yes",
    "no",
    "no-yes",
    "no-install",
    "q",
    "quiet",
    "s",
    "silent",
    "d",
    "verbose",
    "prefer-offline",
    "prefer-online",
    "offline",
    "ignore-scripts",
    "no-fund",
    "no-audit",
    "legacy-peer-deps",
    "no-update-notifier",
  ]),
  values: new Set(["p", "package", "registry", "reg", "loglevel", "cache"]),
  refused: new Map([
    ["c", SHELL],
    ["call", SHELL],
    ["shell", SHELL],
    ["script-shell", SHELL],
    ["w", "workspaces are not supported"],
    ["workspace", "workspaces are not supported"],
    ["workspaces", "workspaces are not supported"],
    ["ws", "workspaces are not supported"],
    ["userconfig", "a separate npm config file is not read: put the registry in .npmrc or use --registry"],
    ["n", "npx removed -n (--node-arg)"],
    ["node-arg", "npx removed --node-arg"],
  ]),
};

const BUNX_RULES: FlagRules = {
  switches: new Set(["bun", "no-install", "ignore-scripts", "verbose", "silent"]),
  values: new Set(["p", "package", "registry", "minimum-release-age"]),
  refused: new Map([
    ["cwd", "the pinned server runs in the current directory; drop --cwd and cd first"],
    ["env-file", "--env-file is not applied to a pinned server; export the variables instead"],
    ["ca", "a custom CA is not read from the command line; configure it for mcptrust instead"],
    ["cafile", "a custom CA is not read from the command line; configure it for mcptrust instead"],
    ["trust", "lifecycle scripts never run for a pinned server"],
  ]),
};

const PNPM_RULES: FlagRules = {
  switches: new Set(["s", "silent"]),
  values: new Set(["package", "registry", "allow-build", "reporter", "loglevel"]),
  refused: new Map([
    ["c", SHELL],
    ["shell-mode", SHELL],
    ["C", "the pinned server runs in the current directory; drop --dir and cd first"],
    ["dir", "the pinned server runs in the current directory; drop --dir and cd first"],
    ["w", "workspaces are not supported"],
    ["workspace-root", "workspaces are not supported"],
    ["filter", "workspaces are not supported"],
  ]),
};

interface Flag {
  key: string;
  value?: string;
}

/**
 * Reads one option word at `argv[i]` under `rules`; returns the option and the index of the last word
 * consumed. Throws for refused and unknown options.
 */
function readFlag(argv: readonly string[], i: number, rules: FlagRules, tool: string): [Flag, number] {
  const word = argv[i];
  const eq = word.indexOf("=");
  const raw = eq >= 0 ? word.slice(0, eq) : word;
  const inline = eq >= 0 ? word.slice(eq + 1) : undefined;
  const key = raw.replace(/^--?/, "");
  const reason = rules.refused.get(key);
  if (reason !== undefined) throw usage(`cannot pin \`${tool} ${raw}\`: ${reason}`);
  if (rules.switches.has(key)) {
    if (inline !== undefined && !/^(true|false)$/.test(inline)) {
      throw usage(`cannot read \`${tool} ${word}\`: ${raw} takes no value`);
    }
    return [{ key, value: inline }, i];
  }
  if (rules.values.has(key)) {
    if (inline !== undefined) return [{ key, value: inline }, i];
    if (i + 1 >= argv.length) throw usage(`cannot read \`${tool}\`: ${raw} needs a value`);
    return [{ key, value: argv[i + 1] }, i + 1];
  }
  throw usage(
    `cannot pin a \`${tool}\` command with the option ${raw}: mcptrust does not know how ${tool} reads it`,
    "remove the option, or put it after the package (it then goes to the server)",
  );
}

/** The result of {@link parsePackageSpec}. */
export interface PackageSpec {
  name: string;
  spec: string;
  specType: "version" | "range" | "tag";
  version?: string;
  alias?: string;
}

/**
 * Reads an npm package spec (`name`, `name@1.2.3`, `@scope/name@^1`, `name@next`, `alias@npm:real@1`) with
 * npm-package-arg, accepting registry packages only.
 *
 * @throws McpTrustError (exit 2) for git, file, directory, URL, `workspace:`/`catalog:` specs and invalid
 *   names or specs
 */
export function parsePackageSpec(text: string): PackageSpec {
  let parsed: ReturnType<typeof npa>;
  try {
    parsed = npa(text);
  } catch (err) {
    throw usage(`cannot pin ${JSON.stringify(text)}: ${(err as Error).message.split("\n")[0]}`, PIN_HINT);
  }
  let alias: string | undefined;
  let target = parsed;
  if (parsed.type === "alias") {
    alias = parsed.name ?? undefined;
    target = parsed.subSpec!;
  }
  const kinds: Record<string, string> = {
    git: "a git repository",
    file: "a local tarball",
    directory: "a local directory",
    remote: "a tarball URL",
  };
  if (kinds[target.type] !== undefined) {
    throw usage(
      `cannot pin ${JSON.stringify(text)}: it names ${kinds[target.type]}, not a registry package`,
      PIN_HINT,
    );
  }
  if (!["version", "range", "tag"].includes(target.type) || !target.name) {
    throw usage(`cannot pin ${JSON.stringify(text)}: not a registry package spec`, PIN_HINT);
  }
  const name = target.name;
  const raw = (target.rawSpec ?? "").trim();
  const noSpec = raw === "" ||
    (raw === "*" && !text.slice(text.lastIndexOf(name) + name.length).includes("@"));
  if (noSpec) return { name, spec: "latest", specType: "tag", alias };
  const specType = target.type as PackageSpec["specType"];
  const out: PackageSpec = { name, spec: raw, specType, alias };
  if (specType === "version") out.version = semver.clean(target.fetchSpec ?? raw) ?? undefined;
  return out;
}

function launcherOf(
  argv: readonly string[],
): { kind: LauncherKind; rest: readonly string[]; tool: string } | null {
  if (argv.length === 0) return null;
  const base = argv[0].split(/[\\/]/).pop()!.toLowerCase().replace(/\.(cmd|exe|ps1)$/, "");
  if (base === "npx") return { kind: "npx", rest: argv.slice(1), tool: "npx" };
  if (base === "bunx") return { kind: "bunx", rest: argv.slice(1), tool: "bunx" };
  if (base === "pnpx") return { kind: "pnpm dlx", rest: argv.slice(1), tool: "pnpx" };
  if (base === "bun" && argv[1] === "x") return { kind: "bunx", rest: argv.slice(2), tool: "bun x" };
  if (base === "npm") return { kind: "npm exec", rest: argv.slice(1), tool: "npm" };
  if (base === "pnpm") return { kind: "pnpm dlx", rest: argv.slice(1), tool: "pnpm" };
  return null;
}

/**
 * True if `argv` starts with a launcher this module reads (npx, npm, bunx, bun x, pnpm, pnpx), by the
 * basename of argv[0]. It does not check the rest: {@link parseLauncher} may still refuse it.
 */
export function isLauncherCommand(argv: readonly string[]): boolean {
  return launcherOf(argv) !== null;
}

function finish(
  launcher: LauncherKind,
  tool: string,
  packages: string[],
  positionals: string[],
  registry: string | undefined,
): LauncherCommand {
  if (packages.length > 1) {
    throw usage(
      `cannot pin \`${tool}\` with ${packages.length} packages (${
        packages.join(", ")
      }): one command, one package`,
      "pin the package that provides the server's command; list its other needs as its dependencies",
    );
  }
  if (positionals.length === 0) {
    throw usage(`cannot pin \`${tool}\`: no ${packages.length ? "command" : "package"} given`);
  }
  let spec: PackageSpec;
  let bin: string | undefined;
  let args: string[];
  if (packages.length === 1) {
    spec = parsePackageSpec(packages[0]);
    bin = positionals[0];
    args = positionals.slice(1);
  } else {
    spec = parsePackageSpec(positionals[0]);
    args = positionals.slice(1);
  }
  const out: LauncherCommand = { launcher, ...spec, args };
  if (spec.alias === undefined) delete out.alias;
  if (spec.version === undefined) delete out.version;
  if (bin !== undefined) out.bin = bin;
  if (registry !== undefined) out.registry = registry;
  return out;
}

/**
 * npx and bunx / bun x: options until the first positional or `--`; then the rest is the command line
 * (the package, or with `--package` the bin, and the server's arguments, verbatim).
 */
function parseLeadingOptions(
  rest: readonly string[],
  rules: FlagRules,
  launcher: "npx" | "bunx",
  tool: string,
): LauncherCommand {
  const packages: string[] = [];
  let registry: string | undefined;
  let i = 0;
  for (; i < rest.length; i++) {
    const w = rest[i];
    if (w === "--") {
      i++;
      break;
    }
    if (!w.startsWith("-") || w === "-") break;
    const [flag, last] = readFlag(rest, i, rules, tool);
    i = last;
    if (flag.key === "p" || flag.key === "package") packages.push(flag.value!);
    if (flag.key === "registry" || flag.key === "reg") registry = flag.value;
  }
  return finish(launcher, tool, packages, rest.slice(i), registry);
}

/** npm exec / npm x (nopt): options anywhere before `--`; positionals form the command line. */
function parseNpmExec(rest: readonly string[]): LauncherCommand {
  const packages: string[] = [];
  const positionals: string[] = [];
  let registry: string | undefined;
  let sawExec = false;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (w === "--") {
      if (!sawExec) throw usage("cannot pin an `npm` command that is not `npm exec` (or `npm x`)");
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (w.startsWith("-") && w !== "-") {
      const [flag, last] = readFlag(rest, i, NPM_RULES, "npm exec");
      i = last;
      if (flag.key === "no-install") {
        throw usage("cannot read `npm exec --no-install`: that is an npx option");
      }
      if (flag.key === "p" || flag.key === "package") packages.push(flag.value!);
      if (flag.key === "registry" || flag.key === "reg") registry = flag.value;
      continue;
    }
    if (!sawExec) {
      if (w !== "exec" && w !== "x") {
        throw usage(`cannot pin \`npm ${w}\`: only \`npm exec\` (or \`npm x\`) runs a package`);
      }
      sawExec = true;
      continue;
    }
    positionals.push(w);
  }
  if (!sawExec) throw usage("cannot pin an `npm` command that is not `npm exec` (or `npm x`)");
  return finish("npm exec", "npm exec", packages, positionals, registry);
}

/** pnpm dlx / pnpx: options before `dlx` or between `dlx` and the command; the rest goes to the command. */
function parsePnpmDlx(rest: readonly string[], tool: string): LauncherCommand {
  const packages: string[] = [];
  let registry: string | undefined;
  let sawDlx = tool === "pnpx";
  let i = 0;
  for (; i < rest.length; i++) {
    const w = rest[i];
    if (w === "--" && sawDlx) {
      i++;
      break;
    }
    if (w.startsWith("-") && w !== "-" && w !== "--") {
      const [flag, last] = readFlag(rest, i, PNPM_RULES, tool === "pnpx" ? "pnpx" : "pnpm dlx");
      i = last;
      if (flag.key === "package") packages.push(flag.value!);
      if (flag.key === "registry") registry = flag.value;
      continue;
    }
    if (!sawDlx) {
      if (w !== "dlx") {
        throw usage(`cannot pin \`pnpm ${w}\`: only \`pnpm dlx\` runs a package from the registry`);
      }
      sawDlx = true;
      continue;
    }
    break;
  }
  if (!sawDlx) throw usage("cannot pin a `pnpm` command that is not `pnpm dlx`");
  return finish("pnpm dlx", tool === "pnpx" ? "pnpx" : "pnpm dlx", packages, rest.slice(i), registry);
}

/**
 * Reads a launcher argv (as given after `--`, never re-split) and returns the package it runs.
 *
 * @param argv e.g. `["npx", "-y", "@modelcontextprotocol/server-memory@2026.8.31"]`
 * @returns name, spec (version/range/tag, `latest` if none), bin if named, args verbatim, registry if given
 * @throws McpTrustError (exit 2) if argv is not a launcher command, uses an option that cannot be pinned
 *   or is unknown, names several packages, or names something other than a registry package
 */
export function parseLauncher(argv: readonly string[]): LauncherCommand {
  const l = launcherOf(argv);
  if (l === null) {
    throw usage(
      `cannot pin ${JSON.stringify(argv[0] ?? "")}: not a package launcher (npx, npm exec, bunx, pnpm dlx)`,
      "give the server command as it would be launched from the registry, e.g. -- npx -y <package>@<version>",
    );
  }
  switch (l.kind) {
    case "npx":
      return parseLeadingOptions(l.rest, NPM_RULES, "npx", l.tool);
    case "npm exec":
      return parseNpmExec(l.rest);
    case "bunx":
      return parseLeadingOptions(l.rest, BUNX_RULES, "bunx", l.tool);
    case "pnpm dlx":
      return parsePnpmDlx(l.rest, l.tool);
  }
}
