/**
 * The MCP hosts mcptrust knows, where each keeps its server list, and in what format.
 *
 * Locations and keys are the hosts' documented ones (docs/HOSTS.md cites each):
 * - Claude Desktop: `claude_desktop_config.json` under the OS's app-data folder, key `mcpServers`;
 * - Claude Code: `.mcp.json` in the project (scope "project"), `~/.claude.json` with a top-level
 *   `mcpServers` (scope "user") and one per project under `projects["<abs path>"].mcpServers` ("local");
 * - Cursor: `~/.cursor/mcp.json`, `<project>/.cursor/mcp.json`, key `mcpServers`;
 * - VS Code: `<project>/.vscode/mcp.json` and the user profile's `mcp.json`, key `servers`, JSONC;
 * - Windsurf: `~/.codeium/windsurf/mcp_config.json`, key `mcpServers`;
 * - Gemini CLI: `~/.gemini/settings.json`, `<project>/.gemini/settings.json`, key `mcpServers`;
 * - Codex: `$CODEX_HOME/config.toml` (default `~/.codex`), `<project>/.codex/config.toml`, TOML tables
 *   `[mcp_servers.<name>]`.
 *
 * @module
 */
import { join } from "node:path";

/** A host's id, as `--host` takes it. */
export type HostKind =
  | "claude-desktop"
  | "claude-code"
  | "cursor"
  | "vscode"
  | "windsurf"
  | "gemini"
  | "codex";

/** Every host id, in the order `hosts` lists them. */
export const HOST_KINDS: readonly HostKind[] = [
  "claude-desktop",
  "claude-code",
  "cursor",
  "vscode",
  "windsurf",
  "gemini",
  "codex",
];

/**
 * How a host expands `${...}` references in a server's command, args and env before it starts the
 * server (we expand them the same way to scan the server; the config keeps them as written).
 *
 * - `shell`: `${VAR}` and `${VAR:-default}` (Claude Code);
 * - `editor`: `${env:VAR}`, `${userHome}`, `${workspaceFolder}`, `${workspaceFolderBasename}`,
 *   `${pathSeparator}`, `${/}`; `${input:...}` and `${file:...}` cannot be resolved here (VS Code,
 *   Cursor, Windsurf);
 * - `env-values`: `$VAR` and `${VAR}` in env values only (Gemini CLI);
 * - `none`: values are used as written (Claude Desktop, Codex).
 */
export type Expansion = "shell" | "editor" | "env-values" | "none";

/** What mcptrust knows about one host. */
export interface HostInfo {
  kind: HostKind;
  /** Display name. */
  title: string;
  format: "json" | "toml";
  /** JSON: comments and trailing commas are accepted (JSONC). */
  jsonc: boolean;
  /** The key of the server table (`mcpServers`, `servers`, `mcp_servers`). */
  serversKey: string;
  expansion: Expansion;
}

/** The hosts. */
export const HOSTS: Readonly<Record<HostKind, HostInfo>> = {
  "claude-desktop": {
    kind: "claude-desktop",
    title: "Claude Desktop",
    format: "json",
    jsonc: false,
    serversKey: "mcpServers",
    expansion: "none",
  },
  "claude-code": {
    kind: "claude-code",
    title: "Claude Code",
    format: "json",
    jsonc: false,
    serversKey: "mcpServers",
    expansion: "shell",
  },
  cursor: {
    kind: "cursor",
    title: "Cursor",
    format: "json",
    jsonc: false,
    serversKey: "mcpServers",
    expansion: "editor",
  },
  vscode: {
    kind: "vscode",
    title: "VS Code",
    format: "json",
    jsonc: true,
    serversKey: "servers",
    expansion: "editor",
  },
  windsurf: {
    kind: "windsurf",
    title: "Windsurf",
    format: "json",
    jsonc: false,
    serversKey: "mcpServers",
    expansion: "editor",
  },
  gemini: {
    kind: "gemini",
    title: "Gemini CLI",
    format: "json",
    // Gemini CLI strips comments from settings.json before parsing it.
    jsonc: true,
    serversKey: "mcpServers",
    expansion: "env-values",
  },
  codex: {
    kind: "codex",
    title: "Codex",
    format: "toml",
    jsonc: false,
    serversKey: "mcp_servers",
    expansion: "none",
  },
};

/**
 * Parses `--host`.
 *
 * @returns the host id, or undefined if `text` names none
 */
export function parseHostKind(text: string): HostKind | undefined {
  const t = text.toLowerCase();
  const aliases: Record<string, HostKind> = { "vs-code": "vscode", code: "vscode", "gemini-cli": "gemini" };
  if ((HOST_KINDS as readonly string[]).includes(t)) return t as HostKind;
  return aliases[t];
}

/** Where a run looks: home, project, platform and environment (tests pass a temp HOME). */
export interface HostContext {
  home: string;
  /** The project directory (the current directory). */
  project: string;
  platform: string;
  env: Record<string, string | undefined>;
}

/** One place a host keeps servers. */
export interface ConfigLocation {
  host: HostKind;
  /** "user" (this machine), "project" (a file in the project). Claude Code's local sections are found inside its user file. */
  scope: "user" | "project";
  path: string;
}

/**
 * The config files each host may have on this machine and in the project, whether or not they exist.
 *
 * @param only restrict to these hosts (default: all)
 */
export function configLocations(ctx: HostContext, only?: readonly HostKind[]): ConfigLocation[] {
  const { home, project, platform, env } = ctx;
  const appData = env.APPDATA ?? join(home, "AppData", "Roaming");
  const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(home, ".config");
  const appDir = platform === "darwin"
    ? join(home, "Library", "Application Support")
    : platform === "win32"
    ? appData
    : xdg;
  const codexHome = env.CODEX_HOME && env.CODEX_HOME !== "" ? env.CODEX_HOME : join(home, ".codex");
  const all: ConfigLocation[] = [
    { host: "claude-desktop", scope: "user", path: join(appDir, "Claude", "claude_desktop_config.json") },
    { host: "claude-code", scope: "user", path: join(home, ".claude.json") },
    { host: "claude-code", scope: "project", path: join(project, ".mcp.json") },
    { host: "cursor", scope: "user", path: join(home, ".cursor", "mcp.json") },
    { host: "cursor", scope: "project", path: join(project, ".cursor", "mcp.json") },
    { host: "vscode", scope: "user", path: join(appDir, "Code", "User", "mcp.json") },
    { host: "vscode", scope: "project", path: join(project, ".vscode", "mcp.json") },
    { host: "windsurf", scope: "user", path: join(home, ".codeium", "windsurf", "mcp_config.json") },
    { host: "gemini", scope: "user", path: join(home, ".gemini", "settings.json") },
    { host: "gemini", scope: "project", path: join(project, ".gemini", "settings.json") },
    { host: "codex", scope: "user", path: join(codexHome, "config.toml") },
    { host: "codex", scope: "project", path: join(project, ".codex", "config.toml") },
  ];
  // With HOME as the project directory, the user and project files are the same file: list it once.
  const seen = new Set<string>();
  return all.filter((l) => {
    if (only && !only.includes(l.host)) return false;
    const key = `${l.host}\0${l.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
