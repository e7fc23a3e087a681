/**
 * Installs the host config fixtures (one per host, in each host's documented shape) into a temp HOME and
 * project, with `@@...@@` placeholders replaced by absolute paths, so every stdio server in them runs
 * offline: the fixture server (testdata/servers) and the real npm servers in node_modules.
 *
 * @module
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";

/** Repository root. */
export const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const HERE = join(ROOT, "testdata/hosts");

/** fixture file -> where it goes (relative to HOME or to the project). */
const PLACES: readonly { file: string; base: "home" | "project"; path: string; host: string }[] = [
  {
    file: "claude_desktop_config.json",
    base: "home",
    path: ".config/Claude/claude_desktop_config.json",
    host: "claude-desktop",
  },
  { file: "claude.json", base: "home", path: ".claude.json", host: "claude-code" },
  { file: "mcp.json", base: "project", path: ".mcp.json", host: "claude-code" },
  { file: "cursor_mcp.json", base: "home", path: ".cursor/mcp.json", host: "cursor" },
  { file: "vscode_mcp.json", base: "project", path: ".vscode/mcp.json", host: "vscode" },
  {
    file: "windsurf_mcp_config.json",
    base: "home",
    path: ".codeium/windsurf/mcp_config.json",
    host: "windsurf",
  },
  { file: "gemini_settings.json", base: "home", path: ".gemini/settings.json", host: "gemini" },
  { file: "codex_config.toml", base: "home", path: ".codex/config.toml", host: "codex" },
];

/** An installed fixture. */
export interface InstalledConfig {
  host: string;
  path: string;
  /** The bytes written. */
  original: string;
}

/** A temp HOME and project with the fixtures in place. */
export interface HostFixtures {
  home: string;
  project: string;
  configs: InstalledConfig[];
  /** The environment a run should use: HOME set, host path overrides removed. */
  env: Record<string, string>;
}

/** The text of a fixture with its placeholders filled in. */
export function fixtureText(file: string, home: string, project: string): string {
  return readFileSync(join(HERE, file), "utf8")
    .replaceAll("@@FIXTURE_SERVER@@", join(ROOT, "testdata/servers/fixture_server.mjs"))
    .replaceAll("@@BASE_SCENARIO@@", join(ROOT, "testdata/servers/scenarios/base.json"))
    .replaceAll("@@SCENARIOS@@", join(ROOT, "testdata/servers/scenarios"))
    .replaceAll("@@ROOT@@", ROOT)
    .replaceAll("@@HOME@@", home)
    .replaceAll("@@PROJECT@@", project);
}

/**
 * Installs the fixtures of `hosts` (default: all) into a fresh temp HOME and project.
 */
export function installHostFixtures(hosts?: readonly string[]): HostFixtures {
  const base = mkdtempSync(join(tmpdir(), "mcptrust-hosts-"));
  const home = join(base, "home");
  const project = join(base, "project");
  mkdirSync(home);
  mkdirSync(project);
  // VS Code's fixture names ${workspaceFolder}/scenario.json.
  copyFileSync(join(ROOT, "testdata/servers/scenarios/base.json"), join(project, "scenario.json"));
  const configs: InstalledConfig[] = [];
  for (const p of PLACES) {
    if (hosts && !hosts.includes(p.host)) continue;
    const path = join(p.base === "home" ? home : project, p.path);
    mkdirSync(dirname(path), { recursive: true });
    const text = fixtureText(p.file, home, project);
    writeFileSync(path, text);
    configs.push({ host: p.host, path, original: text });
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (
      !["XDG_CONFIG_HOME", "CODEX_HOME", "APPDATA", "MCPTRUST_TEST_SCENARIO", "MCPTRUST_TEST_API_KEY"]
        .includes(k)
    ) {
      env[k] = v;
    }
  }
  env.HOME = home;
  return { home, project, configs, env };
}
