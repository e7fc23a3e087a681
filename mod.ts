/**
 * mcptrust as a library: lock, hash and drift functions with typed results, for embedding in other
 * TypeScript programs (Deno, Bun or Node).
 *
 * @example
 * import { scanServer, buildLockfile, compareLockfile, readLockfile, nowRfc3339 } from "./mod.ts";
 * const iface = await scanServer(["npx", "-y", "@modelcontextprotocol/server-everything"], { timeoutMs: 10_000 });
 * const lock = buildLockfile(iface, { generator: "my-tool", updatedAt: nowRfc3339() });
 * const drift = compareLockfile(readLockfile("mcp-lock.json"), iface);
 *
 * @module
 */
export { canonicalBytes, canonicalize, type CanonVersion, type Json } from "./lib/lockfile/canonical.ts";
export {
  hashJson,
  hashNormalizedString,
  hashPromptArguments,
  hashString,
  hashTemplate,
  normalizeText,
  sha256Digest,
} from "./lib/lockfile/hashes.ts";
export {
  buildLockfile,
  type BuildOptions,
  lockPrompt,
  lockResource,
  lockTemplate,
  lockTool,
  nowRfc3339,
} from "./lib/lockfile/build.ts";
export {
  type LoadedLockfile,
  parseLockfile,
  readLockfile,
  serializeLockfile,
  writeLockfile,
} from "./lib/lockfile/load.ts";
export { type LockPlan, planLock } from "./lib/lockfile/plan_lock.ts";
export type * from "./lib/lockfile/types.ts";
export { compareLockfile, effectiveHints, maxSeverity, weakenedHints } from "./lib/drift/compare.ts";
export { type CheckResult, judgeDrift, renderCheckText, renderDiffText } from "./lib/drift/check_result.ts";
export type { DriftItem, DriftReport, DriftType, Severity } from "./lib/drift/types.ts";
export { type ScanOptions, scanServer } from "./lib/scan/scan_server.ts";
export { assessToolRisk, type RiskAssessment } from "./lib/scan/risk.ts";
export { inspectText, type TextFinding } from "./lib/scan/suspicious_text.ts";
export { buildScanReport, type ScanReport } from "./lib/scan/report.ts";
export type * from "./lib/mcp/types.ts";
export { CheckFailedError, McpTrustError } from "./lib/errors.ts";
