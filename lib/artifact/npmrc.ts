/**
 * npm registry configuration as npm reads it from .npmrc files: which registry serves a package, and
 * which token to send to a registry URL. Only what pinning needs is read: `registry=`,
 * `@scope:registry=` and `//host[:port]/path/:_authToken=`.
 *
 * Sources, highest precedence first (npm's order, docs.npmjs.com "npmrc" and @npmcli/config):
 * 1. a registry given on the command line (`--registry`, passed in as `cliRegistry`);
 * 2. the environment: `npm_config_registry` / `NPM_CONFIG_REGISTRY`;
 * 3. the project .npmrc, in the nearest directory at or above `cwd` that has a package.json or
 *    node_modules (npm's local prefix), else `cwd`;
 * 4. the user .npmrc: `$npm_config_userconfig` / `$NPM_CONFIG_USERCONFIG`, else `~/.npmrc`.
 * The global npmrc and builtin config are not read.
 *
 * File syntax follows the `ini` package npm uses: `key=value` lines, `;`/`#` comment lines and inline
 * comments outside quotes, quoted values. `${NAME}` in keys and values is replaced from the environment;
 * an unset NAME stays literal unless written `${NAME?}` (then empty), and `\${` escapes it
 * (@npmcli/config env-replace). A token that still holds `${` is treated as absent.
 *
 * Tokens are returned as {@link RegistryToken}, which prints as `[redacted]` everywhere (String, JSON,
 * util.inspect); call `reveal()` only to put it in the request header.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { McpTrustError } from "../errors.ts";

/** The public npm registry, used when no configuration names another (npm's builtin default). */
export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

/** A registry token that never prints itself. */
export class RegistryToken {
  readonly #value: string;
  /** Where it was configured, e.g. `/home/u/.npmrc (//npm.example.com/:_authToken)`. */
  readonly source: string;
  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }
  /** The token itself: for the Authorization header only. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "RegistryToken [redacted]";
  }
}

/** One setting and where it came from. */
interface Setting {
  value: string;
  source: string;
}

/** A registry choice and where it came from (for messages: `--registry`, a file path, `default`). */
export interface RegistryChoice {
  /** Absolute registry URL with a trailing slash. */
  url: string;
  source: string;
}

/** The configuration read by {@link loadNpmConfig}. */
export interface NpmConfig {
  /** The registry for a package: its scope's registry, else the default registry. */
  registryFor(packageName: string): RegistryChoice;
  /**
   * The token for a request URL: the `//host[:port]/path/:_authToken` whose path is the longest prefix of
   * the URL's (npm-registry-fetch `regKeyFromURI`), or undefined.
   */
  tokenFor(url: string): RegistryToken | undefined;
  /** Notes for the user (unresolved `${VAR}` in a token, unsupported auth kinds); never contain a token. */
  warnings: string[];
  /** Files read, in precedence order (highest first). */
  files: string[];
}

/** Options for {@link loadNpmConfig}. */
export interface NpmConfigOptions {
  /** Directory to start the project .npmrc search from. Default `process.cwd()`. */
  cwd?: string;
  /** Home directory for `~/.npmrc`. Default `os.homedir()`. */
  home?: string;
  /** Environment for `${VAR}` and `npm_config_*`. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A registry from the command line (`--registry`), highest precedence. */
  cliRegistry?: string;
}

const ENV_EXPR = /(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g;

/** `${NAME}` expansion as @npmcli/config's env-replace does it. */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(ENV_EXPR, (orig, esc: string, name: string, modifier?: string) => {
    const fallback = modifier === "?" ? "" : `\${${name}}`;
    const val = env[name] !== undefined ? env[name]! : fallback;
    if (esc.length % 2) return orig.slice((esc.length + 1) / 2);
    return esc.slice(esc.length / 2) + val;
  });
}

/** A value as the `ini` package reads it: quotes removed, or inline comments cut and escapes undone. */
function iniValue(raw: string): string {
  const v = raw.trim();
  if (
    (v.startsWith('"') && v.endsWith('"') && v.length > 1) ||
    (v.startsWith("'") && v.endsWith("'") && v.length > 1)
  ) {
    if (v[0] === "'") return v.slice(1, -1);
    try {
      return JSON.parse(v);
    } catch {
      return v.slice(1, -1);
    }
  }
  let out = "";
  let escaping = false;
  for (const ch of v) {
    if (escaping) {
      out += "\\;#".includes(ch) ? ch : `\\${ch}`;
      escaping = false;
    } else if (ch === "\\") {
      escaping = true;
    } else if (ch === ";" || ch === "#") {
      break;
    } else {
      out += ch;
    }
  }
  if (escaping) out += "\\";
  return out.trim();
}

/**
 * Parses the text of one .npmrc into key -> value, with `${VAR}` expanded in keys and values.
 * Section headers (`[name]`) prefix their keys with `name.`; they never name registries or tokens.
 *
 * @param text file contents
 * @param env the environment for expansion
 * @returns keys as written (after expansion), values after ini unquoting
 */
export function parseNpmrc(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): Map<string, string> {
  const out = new Map<string, string>();
  let section = "";
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "" || t.startsWith(";") || t.startsWith("#")) continue;
    const sec = /^\[([^\]]*)\]\s*$/.exec(t);
    if (sec) {
      section = `${sec[1]}.`;
      continue;
    }
    const eq = t.indexOf("=");
    const key = expandEnv(iniValue(eq >= 0 ? t.slice(0, eq) : t), env);
    const value = eq >= 0 ? expandEnv(iniValue(t.slice(eq + 1)), env) : "true";
    if (key !== "") out.set(section + key, value);
  }
  return out;
}

function normalizeRegistry(url: string, source: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new McpTrustError(`the registry ${JSON.stringify(url)} (from ${source}) is not a URL`, {
      hint: "set registry=https://<host>/ in .npmrc",
    });
  }
  u.hash = "";
  u.search = "";
  if (!u.pathname.endsWith("/")) u.pathname += "/";
  return u.href;
}

/** npm's local prefix: the nearest directory at or above `cwd` with package.json or node_modules. */
function localPrefix(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, "package.json")) || existsSync(join(dir, "node_modules"))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(cwd);
    dir = up;
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw new McpTrustError(`cannot read ${path}: ${(err as Error).message}`, {
      hint: "fix the file's permissions or remove it",
    });
  }
}

/**
 * Reads the project and user .npmrc files and the environment.
 *
 * @throws McpTrustError (exit 2) if an .npmrc exists but cannot be read, or a registry is not a URL
 */
export function loadNpmConfig(opts: NpmConfigOptions = {}): NpmConfig {
  const env = opts.env ??
    (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ??
    {};
  const home = opts.home ?? homedir();
  const userPath = env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? join(home, ".npmrc");
  const projectPath = join(localPrefix(opts.cwd ?? resolve(".")), ".npmrc");
  const files: string[] = [];
  // Lowest precedence first; later sources overwrite.
  const settings = new Map<string, Setting>();
  for (const path of projectPath === resolve(userPath) ? [userPath] : [userPath, projectPath]) {
    const text = readIfPresent(path);
    if (text === undefined) continue;
    files.unshift(path);
    for (const [k, v] of parseNpmrc(text, env)) settings.set(k, { value: v, source: path });
  }
  const envRegistry = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  if (envRegistry) {
    settings.set("registry", { value: envRegistry, source: "the npm_config_registry variable" });
  }
  if (opts.cliRegistry !== undefined) {
    settings.set("registry", { value: opts.cliRegistry, source: "--registry" });
  }

  const warnings: string[] = [];
  const tokens = new Map<string, RegistryToken>();
  for (const [key, s] of settings) {
    const m = /^(\/\/.*):(_authToken|_auth|_password|username)$/.exec(key);
    if (!m) continue;
    const [, prefix, kind] = m;
    if (kind !== "_authToken") {
      warnings.push(`${s.source}: ${prefix}:${kind} (basic auth) is not supported; use _authToken`);
      continue;
    }
    if (s.value.includes("${")) {
      warnings.push(
        `${s.source}: the token for ${prefix} names an unset environment variable; no token sent`,
      );
      continue;
    }
    // Host names are case-insensitive, paths are not (npm's nerf-dart keeps the path as written).
    const norm = prefix.replace(/^\/\/[^/]*/, (h) => h.toLowerCase());
    if (s.value !== "") tokens.set(norm, new RegistryToken(s.value, `${s.source} (${prefix})`));
  }

  const registryFor = (packageName: string): RegistryChoice => {
    const scope = /^(@[^/]+)\//.exec(packageName)?.[1];
    const scoped = scope !== undefined ? settings.get(`${scope}:registry`) : undefined;
    // A command-line --registry applies to every package (npm: it sets `registry`, scoped keys still win).
    const s = scoped ?? settings.get("registry");
    if (s === undefined) return { url: DEFAULT_REGISTRY, source: "default" };
    return { url: normalizeRegistry(s.value, s.source), source: s.source };
  };

  const tokenFor = (url: string): RegistryToken | undefined => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    // npm-registry-fetch regKeyFromURI: walk up `//host/path` one segment (or one slash) at a time.
    let key = `//${u.host}${u.pathname}`;
    while (key.length > "//".length) {
      const t = tokens.get(key);
      if (t) return t;
      key = key.replace(/([^/]+|\/)$/, "");
    }
    return undefined;
  };

  return { registryFor, tokenFor, warnings, files };
}
