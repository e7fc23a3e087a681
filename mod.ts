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
export {
  encodePrivateKey,
  encodePublicKey,
  fingerprintOf,
  generateKeyPair,
  type KeyFormat,
  parsePrivateKey,
  parsePublicKey,
  type PrivateKey,
  type PublicKey,
  readPrivateKeyFile,
  readPublicKeyFile,
} from "./lib/crypto/keys.ts";
export { type KeygenOptions, writeNewKeyPair } from "./lib/crypto/keygen.ts";
export { type SigningMethod, signLockfile, type SignResult } from "./lib/crypto/signer.ts";
export {
  checkSignature,
  parseSignatureFile,
  type VerifiedLockfile,
  type VerifyInputs,
  verifyLockfile,
} from "./lib/crypto/verifier.ts";
export {
  type IdentityPolicy,
  signWithSigstore,
  type SigstoreVerified,
  verifySigstoreBundle,
} from "./lib/crypto/sigstore.ts";
export { buildBundle, type ExportInputs, type ExportResult } from "./lib/bundle/export.ts";
export { type BundleReport, verifyBundle } from "./lib/bundle/verify.ts";
export { type Decision, PolicyCore } from "./lib/policy/core.ts";
export {
  CelCompileError,
  CelCompiler,
  type CelLimits,
  type CompiledExpression,
  DEFAULT_CEL_LIMITS,
  type EvalOutcome,
} from "./lib/policy/cel/compiler.ts";
export {
  buildPolicyInput,
  POLICY_INPUT_SHAPE,
  type PolicyInput,
  type PolicyInputSources,
  type SignatureStatus,
} from "./lib/policy/cel/input.ts";
export {
  type CompiledPolicy,
  compilePolicy,
  evaluatePolicy,
  loadPolicy,
  type PolicyRef,
  type PolicyResult,
  type RuleResult,
} from "./lib/policy/cel/policy.ts";
export { parsePolicyText, type PolicyDocument, type PolicyRule } from "./lib/policy/cel/policy_file.ts";
export { readSignedLockfile, runPolicyCheck } from "./lib/policy/cel/policy_check.ts";
export { type Field, S, type Shape } from "./lib/policy/cel/shape.ts";
