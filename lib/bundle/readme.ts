/**
 * README.txt: the human summary of an approval bundle. It is derived only from the verified lockfile,
 * the signer and the other entries' hashes, with no times or paths, so `bundle verify` re-renders it
 * and refuses a bundle whose README says something else than its signed lockfile.
 *
 * @module
 */
import { safeText } from "../crypto/display.ts";
import type { Signer } from "../crypto/verifier.ts";
import type { ManifestFile } from "./manifest.ts";
import { ENTRY } from "./manifest.ts";
import { type ApprovalSummary, describeArtifact } from "./summary.ts";

/** Inputs of {@link renderReadme}. */
export interface ReadmeInputs {
  summary: ApprovalSummary;
  signer: Signer;
  lockfileSha256: string;
  canonVersion: "v1" | "v2";
  /** The entries other than the lockfile, its signature and README.txt. */
  otherFiles: ManifestFile[];
}

/** The signer as README.txt states it (no key path: that is machine-dependent). */
export function readmeSigner(signer: Signer): string {
  return signer.type === "ed25519"
    ? `Ed25519 key ${signer.fingerprint}`
    : `Sigstore certificate identity ${JSON.stringify(safeText(signer.identity))}, issuer ` +
      `${JSON.stringify(safeText(signer.issuer))}${signer.signedAt ? `, signed ${signer.signedAt}` : ""}`;
}

/** Renders README.txt (LF line endings, trailing newline). */
export function renderReadme(r: ReadmeInputs): string {
  const s = r.summary;
  const q = (t: string) => safeText(t);
  const lines: string[] = [
    "mcptrust approval bundle",
    "========================",
    "",
    "What was approved for one MCP server, signed. Check the bundle before relying on it:",
    r.signer.type === "ed25519"
      ? "  mcptrust bundle verify <this bundle> --key <the signer's public key, obtained independently>"
      : "  mcptrust bundle verify <this bundle> --certificate-identity <id> --certificate-oidc-issuer <url>",
    "",
    `Server:            ${s.server.name !== undefined ? q(s.server.name) : "(not recorded)"}` +
    (s.server.version ? ` ${q(s.server.version)}` : ""),
  ];
  if (s.server.command !== undefined) lines.push(`Server command:    ${q(s.server.command)}`);
  lines.push(
    `Lockfile:          ${ENTRY.lockfile}, format ${q(s.lockfileVersion)}` +
      (s.generator ? `, written by ${q(s.generator)}` : "") + (s.updatedAt ? ` at ${q(s.updatedAt)}` : ""),
    `Lockfile sha256:   ${r.lockfileSha256}`,
    `Signature:         ${ENTRY.signature}, canonicalization ${r.canonVersion}`,
    `Signer:            ${readmeSigner(r.signer)}`,
    `Artifact pin:      ${q(describeArtifact(s.artifact))}`,
    "",
    `Tools (${s.tools.length})`,
  );
  if (s.tools.length === 0) lines.push("  (none)");
  for (const t of s.tools) lines.push(`  ${t.risk.padEnd(7)} ${q(t.name)}`);
  lines.push("", `Prompts (${s.prompts.length})`);
  if (s.prompts.length === 0) lines.push("  (none)");
  for (const p of s.prompts) lines.push(`  ${q(p)}`);
  lines.push("", `Resource templates (${s.templates.length})`);
  if (s.templates.length === 0) lines.push("  (none)");
  for (const t of s.templates) lines.push(`  ${q(t.uriTemplate)}${t.mimeType ? `  (${q(t.mimeType)})` : ""}`);
  if (s.staticResources !== undefined) {
    lines.push("", `Static resources (${s.staticResources.length})`);
    if (s.staticResources.length === 0) lines.push("  (none)");
    for (const u of s.staticResources) lines.push(`  ${q(u)}`);
  }
  if (r.otherFiles.length > 0) {
    lines.push("", "Other files (listed with their hashes in manifest.json; NOT covered by the signature)");
    for (const f of r.otherFiles) {
      const note = f.role === "public-key" ? "  (the signer's key as claimed by the bundle maker)" : "";
      lines.push(`  ${q(f.name)}  ${f.size} bytes  sha256 ${f.sha256}${note}`);
    }
  }
  lines.push("");
  return lines.join("\n");
}
