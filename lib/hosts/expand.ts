/**
 * The command, args, env and cwd a host would start a server with, after the host's own `${...}`
 * expansion (kinds.ts `Expansion`), so that `wrap` scans the server the host will run. The config
 * keeps the references as written: the host still expands them, in the wrapped args too.
 *
 * @module
 */
import { basename, isAbsolute, resolve, sep } from "node:path";
import type { ServerEntry } from "./config_file.ts";
import { type Expansion, HOSTS } from "./kinds.ts";

/** How to start a server for a scan. */
export interface Launch {
  argv: string[];
  /** Variables to add to (or, when undefined, remove from) our environment. */
  env: Record<string, string | undefined>;
  cwd?: string;
}

/** The launch, or why it cannot be resolved here (e.g. VS Code's `${input:...}` prompts the user). */
export type LaunchResult = { ok: true; launch: Launch } | { ok: false; reason: string };

interface Ctx {
  env: Record<string, string | undefined>;
  home: string;
  workspace: string;
  missing: Set<string>;
}

function expand(value: string, how: Expansion, ctx: Ctx, envValue: boolean): string {
  if (how === "none") return value;
  if (how === "shell") {
    // Claude Code: ${VAR} and ${VAR:-default}.
    return value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_m, name: string, def?: string) => {
        const v = ctx.env[name];
        if (v !== undefined && v !== "") return v;
        if (def !== undefined) return def;
        if (v === undefined) ctx.missing.add(`\${${name}} (not set)`);
        return "";
      },
    );
  }
  if (how === "env-values") {
    // Gemini CLI: $VAR and ${VAR}, in env values.
    if (!envValue) return value;
    return value.replace(
      /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
      (m, a?: string, b?: string) => {
        const v = ctx.env[(a ?? b)!];
        return v ?? m;
      },
    );
  }
  // VS Code, Cursor, Windsurf.
  return value.replace(/\$\{([^}]*)\}/g, (m, ref: string) => {
    if (ref.startsWith("env:")) {
      const v = ctx.env[ref.slice(4)];
      return v ?? "";
    }
    switch (ref) {
      case "userHome":
        return ctx.home;
      case "workspaceFolder":
      case "workspaceRoot":
        return ctx.workspace;
      case "workspaceFolderBasename":
        return basename(ctx.workspace);
      case "pathSeparator":
      case "/":
        return sep;
    }
    ctx.missing.add(m);
    return m;
  });
}

/**
 * Resolves how the host would start `entry`.
 *
 * @param env our environment
 * @param home the user's home
 * @param workspace the project directory (VS Code's `${workspaceFolder}`)
 */
export function resolveLaunch(
  entry: ServerEntry,
  env: Record<string, string | undefined>,
  home: string,
  workspace: string,
): LaunchResult {
  const how = HOSTS[entry.host].expansion;
  const v = entry.value as Record<string, unknown>;
  const ctx: Ctx = { env, home, workspace: entry.project ?? workspace, missing: new Set() };
  const argv = [entry.command!, ...(entry.args ?? [])].map((a) => expand(a, how, ctx, false));
  const extra: Record<string, string | undefined> = {};
  if (typeof v.env === "object" && v.env !== null && !Array.isArray(v.env)) {
    for (const [k, val] of Object.entries(v.env as Record<string, unknown>)) {
      // VS Code: null removes a variable.
      if (val === null) extra[k] = undefined;
      else if (typeof val === "string") extra[k] = expand(val, how, ctx, true);
      else if (typeof val === "number" || typeof val === "boolean") extra[k] = String(val);
    }
  }
  if (typeof v.envFile === "string") {
    return { ok: false, reason: "it loads variables from envFile, which mcptrust does not read yet" };
  }
  let cwd: string | undefined;
  if (typeof v.cwd === "string" && v.cwd !== "") {
    const c = expand(v.cwd, how, ctx, false);
    cwd = isAbsolute(c) ? c : resolve(entry.project ?? workspace, c);
  }
  if (ctx.missing.size > 0) {
    return {
      ok: false,
      reason: `it uses ${[...ctx.missing].join(", ")}, which mcptrust cannot resolve here`,
    };
  }
  return { ok: true, launch: { argv, env: extra, cwd } };
}
