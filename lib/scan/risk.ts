/**
 * Risk classification of a tool: LOW, MEDIUM or HIGH, each HIGH and MEDIUM with its reasons.
 *
 * Better than the Go tool's keyword-substring rule (reference §2.5), which calls "information" risky
 * because it contains "rm": names are split into words (snake_case, kebab-case, camelCase), descriptions
 * into words, and schema property names are read; MCP tool annotations (readOnlyHint, destructiveHint,
 * openWorldHint; MCP spec "Tool annotations") count as the server's own claims; suspicious text (hidden
 * characters, homoglyphs) raises the level.
 *
 * @module
 */
import type { RiskLevel } from "../lockfile/types.ts";
import type { McpTool } from "../mcp/types.ts";
import { inspectText, type TextFinding } from "./suspicious_text.ts";

/** A tool's assessed risk. */
export interface RiskAssessment {
  level: RiskLevel;
  /** Why; empty for LOW. */
  reasons: string[];
  /** Suspicious-text findings in the tool's name, title and description. */
  findings: TextFinding[];
}

const EXEC = new Set([
  "exec",
  "execute",
  "shell",
  "bash",
  "zsh",
  "sh",
  "powershell",
  "pwsh",
  "cmd",
  "command",
  "commands",
  "sudo",
  "eval",
  "spawn",
  "subprocess",
  "popen",
  "terminal",
  "script",
  "repl",
]);
const DESTRUCTIVE = new Set([
  "delete",
  "remove",
  "rm",
  "rmdir",
  "drop",
  "truncate",
  "destroy",
  "wipe",
  "purge",
  "kill",
  "overwrite",
  "erase",
  "unlink",
]);
const WRITE = new Set([
  "write",
  "create",
  "update",
  "edit",
  "modify",
  "move",
  "rename",
  "upload",
  "put",
  "insert",
  "append",
  "save",
  "patch",
  "send",
  "email",
  "publish",
  "deploy",
  "push",
  "commit",
  "transfer",
  "pay",
  "install",
  "mkdir",
  "set",
]);
const SECRETS = new Set([
  "env",
  "environment",
  "secret",
  "secrets",
  "credential",
  "credentials",
  "token",
  "tokens",
  "password",
  "passwords",
  "apikey",
  "keychain",
  "vault",
]);
const EXEC_ARGS = new Set(["command", "cmd", "script", "shell", "code", "expression", "eval", "argv"]);

/** Splits an identifier into lowercase words: "execShell_cmd-v2" -> ["exec", "shell", "cmd", "v2"]. */
export function identifierWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

function textWords(text: string): Set<string> {
  return new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean));
}

function schemaPropertyNames(schema: unknown, out: Set<string> = new Set(), depth = 0): Set<string> {
  if (depth > 8 || typeof schema !== "object" || schema === null) return out;
  const props = (schema as Record<string, unknown>).properties;
  if (typeof props === "object" && props !== null && !Array.isArray(props)) {
    for (const [k, v] of Object.entries(props)) {
      for (const w of identifierWords(k)) out.add(w);
      schemaPropertyNames(v, out, depth + 1);
    }
  }
  const items = (schema as Record<string, unknown>).items;
  if (items) schemaPropertyNames(items, out, depth + 1);
  return out;
}

const ORDER: Record<RiskLevel, number> = { LOW: 0, MEDIUM: 1, HIGH: 2 };

/**
 * Assesses one tool.
 *
 * @example
 * assessToolRisk({ name: "exec_shell", description: "Run a command" }).level; // "HIGH"
 * assessToolRisk({ name: "get_information" }).level; // "LOW" (no substring false positive)
 */
export function assessToolRisk(tool: McpTool): RiskAssessment {
  let level: RiskLevel = "LOW";
  const reasons: string[] = [];
  const raise = (to: RiskLevel, reason: string) => {
    if (ORDER[to] > ORDER[level]) level = to;
    reasons.push(reason);
  };
  const nameWords = identifierWords(tool.name);
  const hit = (
    set: Set<string>,
    words: Iterable<string>,
  ) => [...new Set([...words].filter((w) => set.has(w)))];

  const execName = hit(EXEC, nameWords);
  if (execName.length) raise("HIGH", `name suggests command execution (${execName.join(", ")})`);
  const destName = hit(DESTRUCTIVE, nameWords);
  if (destName.length) raise("HIGH", `name suggests a destructive action (${destName.join(", ")})`);
  const writeName = hit(WRITE, nameWords);
  if (writeName.length) raise("MEDIUM", `name suggests it changes state (${writeName.join(", ")})`);
  const secretName = hit(SECRETS, nameWords);
  if (secretName.length) raise("MEDIUM", `name suggests access to secrets (${secretName.join(", ")})`);

  const desc = typeof tool.description === "string" ? tool.description : "";
  const descWords = textWords(desc);
  const execDesc = hit(EXEC, descWords);
  if (execDesc.length >= 2) raise("HIGH", `description mentions command execution (${execDesc.join(", ")})`);
  else if (execDesc.length === 1) raise("MEDIUM", `description mentions command execution (${execDesc[0]})`);
  const destDesc = hit(DESTRUCTIVE, descWords);
  if (destDesc.length) raise("MEDIUM", `description mentions a destructive action (${destDesc.join(", ")})`);

  const execArgs = hit(EXEC_ARGS, schemaPropertyNames(tool.inputSchema));
  if (execArgs.length) {
    raise("HIGH", `takes an argument that looks like code or a command (${execArgs.join(", ")})`);
  }

  const a = typeof tool.annotations === "object" && tool.annotations !== null ? tool.annotations : {};
  if (a.readOnlyHint !== true && a.destructiveHint === true) {
    raise("HIGH", "annotated destructive (destructiveHint: true)");
  } else if (a.readOnlyHint === false) raise("MEDIUM", "annotated as not read-only (readOnlyHint: false)");
  if (a.openWorldHint === true) {
    raise("MEDIUM", "annotated open-world: reaches outside systems (openWorldHint: true)");
  }
  if (a.readOnlyHint === true && (execName.length || destName.length)) {
    reasons.push("claims readOnlyHint: true, but its name says otherwise");
  }

  const findings = [
    ...inspectText("name", tool.name, true),
    ...inspectText("title", tool.title, false),
    ...inspectText("description", tool.description, false),
  ];
  for (const f of findings) {
    const severe = ["invisible", "bidi", "tag", "ansi", "control", "mixed-script"].includes(f.kind);
    raise(severe ? "HIGH" : "MEDIUM", `suspicious ${f.field}: ${f.detail}`);
  }
  return { level, reasons: level === "LOW" ? [] : reasons, findings };
}
