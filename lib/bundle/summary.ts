/**
 * What a lockfile approves, in the terms an auditor reads: the server, its tools by risk, prompts,
 * resource templates, static resources and the artifact pin. Shared by README.txt and `bundle verify`.
 *
 * @module
 */
import { compareCodePoints } from "../lockfile/canonical.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";
import type { ArtifactPin, RiskLevel } from "../lockfile/types.ts";

/** The approved interface of one server. Lists are sorted; tools HIGH risk first. */
export interface ApprovalSummary {
  /** "3.0", "2.0" or "1.0". */
  lockfileVersion: string;
  generator?: string;
  updatedAt?: string;
  server: { name?: string; version?: string; command?: string };
  tools: { name: string; risk: RiskLevel }[];
  prompts: string[];
  templates: { uriTemplate: string; mimeType?: string }[];
  /** Static resource URIs; undefined when the lockfile does not lock them (Go-written files). */
  staticResources?: string[];
  artifact?: ArtifactPin;
}

const RISK_ORDER: Record<RiskLevel, number> = { HIGH: 0, MEDIUM: 1, LOW: 2 };

/** Summarizes a lockfile loaded with lib/lockfile/load.ts. */
export function summarizeLockfile(loaded: LoadedLockfile): ApprovalSummary {
  const toolsOf = (tools: Record<string, { risk_level: RiskLevel }>) =>
    Object.entries(tools)
      .map(([name, t]) => ({ name, risk: t.risk_level }))
      .sort((a, b) => RISK_ORDER[a.risk] - RISK_ORDER[b.risk] || compareCodePoints(a.name, b.name));
  if (loaded.version === "3") {
    const l = loaded.lockfile;
    return {
      lockfileVersion: l.lockFileVersion,
      generator: l.meta.generator,
      updatedAt: l.meta.updatedAt,
      server: { name: l.server.name, version: l.server.version },
      tools: toolsOf(l.tools),
      prompts: Object.keys(l.prompts.definitions).sort(compareCodePoints),
      templates: l.resources.templates
        .map((t) => ({ uriTemplate: t.uriTemplate, mimeType: t.mimeType }))
        .sort((a, b) => compareCodePoints(a.uriTemplate, b.uriTemplate)),
      staticResources: l.resources.static?.map((r) => r.uri).sort(compareCodePoints),
      artifact: l.server.artifact,
    };
  }
  const l = loaded.lockfile;
  return {
    lockfileVersion: l.version,
    server: { command: l.server_command },
    tools: toolsOf(l.tools),
    prompts: [],
    templates: [],
    artifact: l.artifact,
  };
}

/** One line describing an artifact pin, e.g. `npm @scope/pkg@1.2.3 (integrity sha512-...)`. */
export function describeArtifact(a: ArtifactPin | undefined): string {
  if (!a) return "none (the lockfile does not pin the server's package)";
  if (a.type === "npm") {
    const parts = [`npm ${a.name ?? "?"}@${a.version ?? "?"}`];
    if (a.integrity) parts.push(`integrity ${a.integrity}`);
    if (a.tarball_sha256) parts.push(`tarball sha256 ${a.tarball_sha256}`);
    if (a.registry) parts.push(`registry ${a.registry}`);
    return parts.join(", ");
  }
  if (a.type === "oci") return `oci ${a.image ?? "?"}@${a.digest ?? "?"}`;
  return "local (no package pin)";
}
