/**
 * Rendering `bundle verify` results for people (text) and machines (JSON).
 *
 * @module
 */
import { safeText } from "../crypto/display.ts";
import { describeSigner, signerJson } from "../crypto/report.ts";
import { describeArtifact } from "./summary.ts";
import type { BundleReport } from "./verify.ts";

const TRUST_TEXT = {
  "key-flag": "the public key you passed with --key",
  "bundled-key": "the public key shipped INSIDE the bundle (a claim, not proof of who signed)",
  "sigstore-identity": "the Sigstore identity and issuer you named",
} as const;

/** `bundle verify --format json`. */
export function bundleReportJson(r: BundleReport): Record<string, unknown> {
  const s = r.summary;
  return {
    valid: true,
    bundle: r.bundle,
    trust: {
      source: r.trustSource,
      description: TRUST_TEXT[r.trustSource],
      independent: r.trustSource !== "bundled-key",
    },
    warnings: r.warnings,
    signer: signerJson(r.verified.signer),
    lockfile: {
      sha256: r.verified.lockfile.sha256,
      version: s.lockfileVersion,
      canonicalization: r.verified.canonVersion,
      signatureFormat: r.verified.signatureFormat,
    },
    approved: {
      server: s.server,
      artifact: s.artifact ?? null,
      tools: s.tools,
      prompts: s.prompts,
      resourceTemplates: s.templates,
      staticResources: s.staticResources ?? null,
    },
    otherFiles: r.otherFiles.map((f) => ({ ...f, coveredBySignature: false })),
    toolVersion: r.manifest.tool_version,
  };
}

/** `bundle verify` text output. */
export function bundleReportText(r: BundleReport): string {
  const s = r.summary;
  const q = safeText;
  const lines: string[] = [];
  if (r.trustSource === "bundled-key") {
    lines.push("!".repeat(78), "WARNING: " + r.warnings[0], "!".repeat(78), "");
  }
  lines.push(
    `bundle valid: ${q(r.bundle.path)} (sha256 ${r.bundle.sha256}, ${r.bundle.entries} entries)`,
    `  checked against:  ${TRUST_TEXT[r.trustSource]}`,
    `  signer:           ${describeSigner(r.verified.signer)}`,
    `  lockfile:         format ${
      q(s.lockfileVersion)
    }, sha256 ${r.verified.lockfile.sha256}, canonicalization ${r.verified.canonVersion}`,
    `  server:           ${s.server.name !== undefined ? q(s.server.name) : "(not recorded)"}${
      s.server.version ? " " + q(s.server.version) : ""
    }`,
  );
  if (s.server.command !== undefined) lines.push(`  server command:   ${q(s.server.command)}`);
  lines.push(
    `  artifact pin:     ${q(describeArtifact(s.artifact))}`,
    `  tools (${s.tools.length}):${s.tools.length ? "" : " none"}`,
  );
  for (const t of s.tools) lines.push(`    ${t.risk.padEnd(7)} ${q(t.name)}`);
  lines.push(`  prompts (${s.prompts.length}):${s.prompts.length ? "" : " none"}`);
  for (const p of s.prompts) lines.push(`    ${q(p)}`);
  lines.push(`  resource templates (${s.templates.length}):${s.templates.length ? "" : " none"}`);
  for (const t of s.templates) {
    lines.push(`    ${q(t.uriTemplate)}${t.mimeType ? `  (${q(t.mimeType)})` : ""}`);
  }
  if (s.staticResources !== undefined) {
    lines.push(`  static resources (${s.staticResources.length}):${s.staticResources.length ? "" : " none"}`);
    for (const u of s.staticResources) lines.push(`    ${q(u)}`);
  }
  if (r.otherFiles.length > 0) {
    lines.push("  other files (hash-checked against manifest.json; NOT covered by the signature):");
    for (const f of r.otherFiles) lines.push(`    ${q(f.name)}  ${f.size} bytes  sha256 ${f.sha256}`);
  }
  for (const w of r.warnings.slice(r.trustSource === "bundled-key" ? 1 : 0)) lines.push(`  warning: ${w}`);
  lines.push("");
  return lines.join("\n");
}
