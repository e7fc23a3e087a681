/**
 * The `scan` report: what a server exposes, with each tool's risk and any suspicious text.
 *
 * @module
 */
import type { ServerInterface } from "../mcp/types.ts";
import type { RiskLevel } from "../lockfile/types.ts";
import { assessToolRisk } from "./risk.ts";
import { inspectText, type TextFinding } from "./suspicious_text.ts";

/** One tool in a scan report. `risk_level`/`risk_reasons` keep the Go tool's field names. */
export interface ScannedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
  risk_level: RiskLevel;
  risk_reasons: string[];
  suspicious?: TextFinding[];
}

/** The JSON report printed by `scan`. */
export interface ScanReport {
  server: { name: string; version?: string; title?: string };
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  instructions?: string;
  tools: ScannedTool[];
  prompts: (Record<string, unknown> & { suspicious?: TextFinding[] })[];
  resources: (Record<string, unknown> & { suspicious?: TextFinding[] })[];
  resourceTemplates: (Record<string, unknown> & { suspicious?: TextFinding[] })[];
  summary: {
    tools: number;
    prompts: number;
    resources: number;
    resourceTemplates: number;
    risk: Record<RiskLevel, number>;
  };
  warnings: string[];
}

function withFindings<T extends Record<string, unknown>>(
  item: T,
  nameKey: string,
): T & { suspicious?: TextFinding[] } {
  const f = [
    ...inspectText(nameKey, item[nameKey], nameKey === "name"),
    ...inspectText("title", item.title),
    ...inspectText("description", item.description),
  ];
  return f.length ? { ...item, suspicious: f } : item;
}

/** Builds the report of `iface`. */
export function buildScanReport(iface: ServerInterface, warnings: string[] = []): ScanReport {
  const risk: Record<RiskLevel, number> = { HIGH: 0, MEDIUM: 0, LOW: 0 };
  const tools = iface.tools.map((t): ScannedTool => {
    const a = assessToolRisk(t);
    risk[a.level]++;
    const out: ScannedTool = { name: t.name, risk_level: a.level, risk_reasons: a.reasons };
    if (t.title !== undefined) out.title = t.title;
    if (t.description !== undefined) out.description = t.description;
    if (t.inputSchema !== undefined) out.inputSchema = t.inputSchema;
    if (t.outputSchema !== undefined) out.outputSchema = t.outputSchema;
    if (t.annotations !== undefined) out.annotations = t.annotations;
    if (a.findings.length) out.suspicious = a.findings;
    return out;
  });
  const si = iface.serverInfo;
  const server: ScanReport["server"] = { name: si.name };
  if (typeof si.version === "string") server.version = si.version;
  if (typeof si.title === "string") server.title = si.title;
  return {
    server,
    protocolVersion: iface.protocolVersion,
    capabilities: iface.capabilities,
    ...(iface.instructions !== undefined ? { instructions: iface.instructions } : {}),
    tools,
    prompts: iface.prompts.map((p) => withFindings(p, "name")),
    resources: iface.resources.map((r) => withFindings(r, "name")),
    resourceTemplates: iface.resourceTemplates.map((t) => withFindings(t, "name")),
    summary: {
      tools: tools.length,
      prompts: iface.prompts.length,
      resources: iface.resources.length,
      resourceTemplates: iface.resourceTemplates.length,
      risk,
    },
    warnings,
  };
}

function oneLine(s: unknown, max = 100): string {
  if (typeof s !== "string") return "";
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

/** Renders the report for people. Suspicious characters are shown as findings, never printed raw. */
export function renderScanText(r: ScanReport): string {
  const safe = (s: string) => JSON.stringify(s).slice(1, -1); // escapes control and bidi-free output
  const lines = [
    `Server: ${safe(r.server.name)}${
      r.server.version ? " " + safe(r.server.version) : ""
    } (protocol ${r.protocolVersion})`,
    `Tools: ${r.summary.tools} (HIGH ${r.summary.risk.HIGH}, MEDIUM ${r.summary.risk.MEDIUM}, LOW ${r.summary.risk.LOW}), prompts: ${r.summary.prompts}, resources: ${r.summary.resources}, resource templates: ${r.summary.resourceTemplates}`,
  ];
  if (r.tools.length) lines.push("", "Tools:");
  for (const t of r.tools) {
    lines.push(`  [${t.risk_level.padEnd(6)}] ${safe(t.name)}  ${safe(oneLine(t.description))}`);
    for (const reason of t.risk_reasons) lines.push(`           - ${reason}`);
  }
  const section = (title: string, items: Record<string, unknown>[], key: string) => {
    if (!items.length) return;
    lines.push("", `${title}:`);
    for (const i of items) {
      lines.push(`  ${safe(String(i[key]))}  ${safe(oneLine(i.description))}`);
      for (const f of (i.suspicious ?? []) as TextFinding[]) {
        lines.push(`    ! suspicious ${f.field}: ${f.detail}`);
      }
    }
  };
  section("Prompts", r.prompts, "name");
  section("Resources", r.resources, "uri");
  section("Resource templates", r.resourceTemplates, "uriTemplate");
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n") + "\n";
}
