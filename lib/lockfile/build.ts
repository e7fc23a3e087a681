/**
 * Builds a v3 lockfile from a listed server interface (reference §2.2, §2.3), plus the extensions the
 * Go tool misses: tool title, outputSchema and annotations; static resources.
 *
 * @module
 */
import type { McpPrompt, McpResource, McpResourceTemplate, McpTool, ServerInterface } from "../mcp/types.ts";
import { assessToolRisk } from "../scan/risk.ts";
import { compareCodePoints } from "./canonical.ts";
import { findingCodes, inspectText } from "../scan/suspicious_text.ts";
import { hashJson, hashNormalizedString, hashPromptArguments, hashString, hashTemplate } from "./hashes.ts";
import { memberHashes } from "./members.ts";
import { lockProtocol } from "./protocol.ts";
import type {
  AnnotationHints,
  ArtifactPin,
  LockfileV3,
  PromptLock,
  StaticResourceLock,
  TemplateLock,
  ToolLock,
} from "./types.ts";

const HINTS = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const;

/**
 * The lock entry of one tool.
 *
 * description_hash: raw UTF-8 (Go `HashString`); input_schema_hash: canonical v1 (Go `HashJSON`, "" for a
 * missing or empty schema). Extensions only appear when the tool has the field.
 */
export function lockTool(tool: McpTool): ToolLock {
  const entry: ToolLock = {
    description_hash: hashString(typeof tool.description === "string" ? tool.description : ""),
    input_schema_hash: hashJson(tool.inputSchema),
    risk_level: assessToolRisk(tool).level,
  };
  if (typeof tool.title === "string" && tool.title !== "") {
    entry.title_hash = hashNormalizedString(tool.title);
  }
  if (tool.outputSchema !== undefined && tool.outputSchema !== null) {
    entry.output_schema_hash = hashJson(tool.outputSchema) || hashString("{}");
  }
  if (typeof tool.annotations === "object" && tool.annotations !== null) {
    entry.annotations_hash = hashJson(tool.annotations) || hashString("{}");
    const hints: AnnotationHints = {};
    for (const h of HINTS) {
      if (typeof tool.annotations[h] === "boolean") hints[h] = tool.annotations[h] as boolean;
    }
    if (Object.keys(hints).length) entry.annotations = hints;
  }
  entry.members = memberHashes(tool, "name");
  const findings = textFindingCodes(tool, "name");
  if (findings.length) entry.text_findings = findings;
  return entry;
}

/**
 * Suspicious-text finding codes of an item's visible text: its name (or `nameKey`), title and
 * description (lib/scan/suspicious_text.ts). Recorded at lock time so drift can tell which findings a
 * changed text introduced.
 */
export function textFindingCodes(item: Record<string, unknown>, nameKey: string): string[] {
  return findingCodes([
    ...inspectText(nameKey, item[nameKey], nameKey === "name"),
    ...inspectText("title", item.title),
    ...inspectText("description", item.description),
  ]);
}

/** The lock entry of one prompt (Go `HashPromptArguments`, `HashNormalizedString`); titleHash is an extension. */
export function lockPrompt(prompt: McpPrompt): PromptLock {
  const entry: PromptLock = { argumentsHash: hashPromptArguments(prompt.arguments) };
  if (typeof prompt.title === "string" && prompt.title !== "") {
    entry.titleHash = hashNormalizedString(prompt.title);
  }
  if (typeof prompt.description === "string" && prompt.description !== "") {
    entry.descriptionHash = hashNormalizedString(prompt.description);
  }
  entry.members = memberHashes(prompt, "name");
  const findings = textFindingCodes(prompt, "name");
  if (findings.length) entry.textFindings = findings;
  return entry;
}

/** The lock entry of one resource template (Go `HashTemplate` + normalized name/description hashes). */
export function lockTemplate(t: McpResourceTemplate): TemplateLock {
  const mimeType = typeof t.mimeType === "string" && t.mimeType !== "" ? t.mimeType : undefined;
  const entry: TemplateLock = {
    uriTemplate: t.uriTemplate,
    templateHash: hashTemplate(t.uriTemplate, mimeType),
  };
  if (typeof t.name === "string" && t.name !== "") entry.nameHash = hashNormalizedString(t.name);
  if (typeof t.description === "string" && t.description !== "") {
    entry.descriptionHash = hashNormalizedString(t.description);
  }
  if (mimeType) entry.mimeType = mimeType;
  entry.members = memberHashes(t, "uriTemplate");
  const findings = textFindingCodes(t, "name");
  if (findings.length) entry.textFindings = findings;
  return entry;
}

/** The lock entry of one static resource (extension). */
export function lockResource(r: McpResource): StaticResourceLock {
  const entry: StaticResourceLock = { uri: r.uri };
  if (typeof r.name === "string" && r.name !== "") entry.nameHash = hashNormalizedString(r.name);
  if (typeof r.description === "string" && r.description !== "") {
    entry.descriptionHash = hashNormalizedString(r.description);
  }
  if (typeof r.mimeType === "string" && r.mimeType !== "") entry.mimeTypeHash = hashString(r.mimeType);
  entry.members = memberHashes(r, "uri");
  const findings = textFindingCodes(r, "name");
  if (findings.length) entry.textFindings = findings;
  return entry;
}

/**
 * The locked server identity and instructions (extensions): serverInfo's title and websiteUrl as text,
 * every serverInfo member hashed, and the instructions' hash and finding codes.
 */
export function lockServer(
  serverInfo: ServerInterface["serverInfo"],
  instructions: string | undefined,
): LockfileV3["server"] {
  const server: LockfileV3["server"] = { name: serverInfo.name };
  if (typeof serverInfo.version === "string" && serverInfo.version !== "") {
    server.version = serverInfo.version;
  }
  if (typeof serverInfo.title === "string") server.title = serverInfo.title;
  if (typeof serverInfo.websiteUrl === "string") server.websiteUrl = serverInfo.websiteUrl;
  server.infoMembers = memberHashes(serverInfo, "name");
  if (typeof instructions === "string") {
    server.instructionsHash = hashString(instructions);
    const findings = findingCodes(inspectText("instructions", instructions));
    if (findings.length) server.instructionsFindings = findings;
  }
  return server;
}

/** Options for {@link buildLockfile}. */
export interface BuildOptions {
  /** meta.generator, e.g. "mcptrust 0.1.0". */
  generator: string;
  /** meta.updatedAt, RFC 3339 UTC with seconds, e.g. "2026-01-01T00:00:00Z". */
  updatedAt: string;
  /** An artifact pin to record under server.artifact. */
  artifact?: ArtifactPin;
  /** A remote server's URL (no userinfo, query or fragment) to record under server.url. */
  url?: string;
}

/**
 * Builds the v3 lockfile of `iface`. Pure: the same interface and options give the same object.
 *
 * @example
 * const lock = buildLockfile(iface, { generator: "mcptrust 0.1.0", updatedAt: nowRfc3339() });
 */
export function buildLockfile(iface: ServerInterface, opts: BuildOptions): LockfileV3 {
  const tools: Record<string, ToolLock> = {};
  for (const t of sortBy(iface.tools, (t) => t.name)) tools[t.name] = lockTool(t);
  const definitions: Record<string, PromptLock> = {};
  for (const p of sortBy(iface.prompts, (p) => p.name)) definitions[p.name] = lockPrompt(p);
  const server = lockServer(iface.serverInfo, iface.instructions);
  if (opts.artifact) server.artifact = opts.artifact;
  if (opts.url) server.url = opts.url;
  const protocol = lockProtocol(iface);
  if (protocol) server.protocol = protocol;
  return {
    lockFileVersion: "3.0",
    meta: { generator: opts.generator, updatedAt: opts.updatedAt },
    server,
    prompts: { definitions },
    resources: {
      templates: sortBy(iface.resourceTemplates, (t) => t.uriTemplate).map(lockTemplate),
      static: sortBy(iface.resources, (r) => r.uri).map(lockResource),
    },
    tools,
  };
}

function sortBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  return [...items].sort((a, b) => compareCodePoints(key(a), key(b)));
}

/** The current time as RFC 3339 UTC with seconds precision, as the Go tool writes meta.updatedAt. */
export function nowRfc3339(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
