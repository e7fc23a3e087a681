/**
 * `policy check` and `check --policy`, end to end: read the lockfile and settle its signature status,
 * scan the server once, compare, build the input, evaluate.
 *
 * Fail closed, unlike the Go tool (reference §1.10, §8.3): a server that cannot be scanned stops the check
 * (exit 2) instead of being evaluated as an empty report; a signature that does not verify stops it
 * (exit 1) before any rule runs.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { McpTrustError } from "../../errors.ts";
import type { TrustFlags } from "../../crypto/trust.ts";
import { readSignatureBytes, type Signer, verifyLockfile } from "../../crypto/verifier.ts";
import type { CheckResult } from "../../drift/check_result.ts";
import { compareLockfile } from "../../drift/compare.ts";
import { type DriftReport, SEVERITY_RANK } from "../../drift/types.ts";
import { type LoadedLockfile, readLockfile } from "../../lockfile/load.ts";
import type { ServerInterface } from "../../mcp/types.ts";
import type { HttpTarget } from "../../mcp/transport/http_target.ts";
import { scanServer } from "../../scan/scan_server.ts";
import { buildPolicyInput, type SignatureStatus } from "./input.ts";
import {
  type CompiledPolicy,
  compilePolicy,
  evaluatePolicy,
  loadPolicy,
  type PolicyRef,
  policyRefFromArg,
  type PolicyResult,
} from "./policy.ts";
import { type CheckContext, renderRuleLines } from "./render.ts";

export type { CompiledPolicy } from "./policy.ts";

/**
 * Loads and compiles a policy, before any server is started.
 *
 * @param opts.needsRules refuse a policy without `rules` (only `call_rules`, which only the proxy uses):
 *   a check that evaluates nothing must not pass
 * @throws {McpTrustError} (exit 2) for an unknown preset, an unreadable or invalid file, a rule that does
 *   not compile, or (with `needsRules`) no `rules`
 */
export function loadCompiledPolicy(ref: PolicyRef, opts: { needsRules?: boolean } = {}): CompiledPolicy {
  const policy = compilePolicy(loadPolicy(ref));
  if (opts.needsRules && policy.rules.length === 0) {
    const src = policy.doc.source;
    throw new McpTrustError(
      `${src.type === "file" ? src.name : `preset ${src.name}`}: the policy has no rules, only call_rules, ` +
        "which `mcptrust proxy --policy` applies to each tools/call",
      { hint: "add rules over the server (see docs/POLICY.md), or use this policy with the proxy" },
    );
  }
  return policy;
}

/**
 * `check --policy <value>` (and `proxy --policy`): loads and compiles the preset or file `value` names, or
 * nothing when absent.
 *
 * @param opts.needsRules as {@link loadCompiledPolicy}; default true (the proxy passes false)
 * @throws {McpTrustError} (exit 2) as {@link loadCompiledPolicy}
 */
export function loadCheckPolicy(
  value: string | undefined,
  opts: { needsRules?: boolean } = {},
): CompiledPolicy | undefined {
  return value === undefined
    ? undefined
    : loadCompiledPolicy(policyRefFromArg(value), { needsRules: opts.needsRules ?? true });
}

/** A lockfile with its signature status. */
export interface SignedLockfile {
  loaded: LoadedLockfile;
  signature: SignatureStatus;
  signer?: Signer;
}

function trustGiven(t: TrustFlags): boolean {
  return [t.key, t.identity, t.identityRegexp, t.issuer, t.trustedRoot].some((x) => x !== undefined);
}

/**
 * Reads a lockfile and settles its signature status (see {@link SignatureStatus}). The bytes verified are
 * the bytes parsed.
 *
 * @param opts.signature the `.sig` path (default `<lockfile>.sig`)
 * @param opts.trust `--key` or a Sigstore identity; without any, the signature is "not checked"
 * @throws {McpTrustError} (exit 2) unreadable or malformed lockfile, signature or key; unusable flags
 * @throws {CheckFailedError} (exit 1) the lockfile does not match its signature
 */
export function readSignedLockfile(
  path: string,
  opts: { signature?: string; trust?: TrustFlags } = {},
): Promise<SignedLockfile> {
  return settleSignature(readLockfile(path), opts);
}

/**
 * Settles the signature status of a lockfile already read, over the bytes it was parsed from (so what is
 * verified is what is enforced), as {@link readSignedLockfile}.
 *
 * @throws {McpTrustError} (exit 2) unreadable or malformed signature or key; unusable flags
 * @throws {CheckFailedError} (exit 1) the lockfile does not match its signature
 */
export async function settleSignature(
  loaded: LoadedLockfile,
  opts: { signature?: string; trust?: TrustFlags } = {},
): Promise<SignedLockfile> {
  const path = loaded.path;
  const sigPath = opts.signature ?? `${path}.sig`;
  const trust = opts.trust ?? {};
  if (!trustGiven(trust)) return { loaded, signature: existsSync(sigPath) ? "not checked" : "unsigned" };
  const verified = await verifyLockfile({
    lockfile: { path, bytes: loaded.bytes },
    signature: { path: sigPath, bytes: readSignatureBytes(sigPath) },
    flags: trust,
  });
  return { loaded, signature: "verified", signer: verified.signer };
}

/** Options of {@link runPolicyCheck}. */
export interface PolicyCheckOptions {
  policy: CompiledPolicy;
  /** The server command, exactly as given after `--` (empty with `target`). */
  argv: readonly string[];
  /** A remote server (`--url`) to scan instead of running `argv`. */
  target?: HttpTarget;
  /** The lockfile (already read and signature-checked), if any. */
  lockfile?: SignedLockfile;
  timeoutMs: number;
  capabilities?: Record<string, unknown>;
  onWarning?: (message: string) => void;
}

/** What {@link runPolicyCheck} found. */
export interface PolicyCheckOutcome {
  result: PolicyResult;
  context: CheckContext;
}

function context(iface: ServerInterface, lock?: SignedLockfile, drift?: DriftReport): CheckContext {
  const ctx: CheckContext = {
    server: {
      name: iface.serverInfo.name,
      ...(iface.serverInfo.version ? { version: iface.serverInfo.version } : {}),
    },
  };
  if (lock) {
    const l = lock.loaded;
    ctx.lockfile = {
      path: l.path,
      version: l.version === "3" ? l.lockfile.lockFileVersion : l.lockfile.version,
      signature: lock.signature,
    };
  }
  if (drift) {
    ctx.drift = {
      total: drift.items.length,
      critical: drift.items.filter((d) => d.severity === "critical").length,
    };
  }
  return ctx;
}

/**
 * Scans the server once, compares it with the lockfile (if any) and evaluates the policy.
 *
 * @throws {McpTrustError} (exit 2) when the server cannot be started or listed: never evaluated as empty
 */
export async function runPolicyCheck(opts: PolicyCheckOptions): Promise<PolicyCheckOutcome> {
  const iface = await scanServer(opts.target ?? opts.argv, {
    timeoutMs: opts.timeoutMs,
    onWarning: opts.onWarning,
    capabilities: opts.capabilities,
  });
  const drift = opts.lockfile ? compareLockfile(opts.lockfile.loaded, iface) : undefined;
  const input = buildPolicyInput({ argv: opts.argv, iface, lockfile: opts.lockfile, drift });
  return { result: evaluatePolicy(opts.policy, input), context: context(iface, opts.lockfile, drift) };
}

/** `check --format json`'s `policy` member: the Go tool's `preset`, `passed`, `reasons`, plus the rest. */
export interface CheckPolicyJson {
  /** The preset name, or the policy file path. */
  preset: string;
  passed: boolean;
  reasons: string[];
  name: string;
  source: PolicyResult["source"];
  mode: PolicyResult["mode"];
  summary: PolicyResult["summary"];
  rules: PolicyResult["rules"];
}

/** A check result with its policy verdict, in the Go tool's member order. */
export type CheckResultWithPolicy = Omit<CheckResult, "failOn" | "outcome"> & {
  policy: CheckPolicyJson;
  failOn: CheckResult["failOn"];
  outcome: CheckResult["outcome"];
};

/**
 * The policy step of `check --policy`, run after the drift check on the same scan: builds the input
 * (the lockfile's signature is "not checked" or "unsigned": `check` takes no key) and evaluates. The check
 * fails if the drift check or the policy fails.
 */
export function applyPolicyToCheck(
  result: CheckResult,
  policy: CompiledPolicy,
  src: { argv: readonly string[]; iface: ServerInterface; loaded: LoadedLockfile; drift: DriftReport },
): CheckResultWithPolicy {
  const signature: SignatureStatus = existsSync(`${src.loaded.path}.sig`) ? "not checked" : "unsigned";
  const input = buildPolicyInput({
    argv: src.argv,
    iface: src.iface,
    lockfile: { loaded: src.loaded, signature },
    drift: src.drift,
  });
  const p = evaluatePolicy(policy, input);
  const { failOn, outcome, ...rest } = result;
  return {
    ...rest,
    policy: {
      preset: p.source.name,
      passed: p.passed,
      reasons: p.reasons,
      name: p.name,
      source: p.source,
      mode: p.mode,
      summary: p.summary,
      rules: p.rules,
    },
    failOn,
    outcome: outcome === "FAIL" || !p.passed ? "FAIL" : "PASS",
  };
}

/**
 * The `check` text report. Without a policy, `renderDrift(r)`. With one: the drift part (its verdict line
 * replaced by the combined verdict, its drift advice kept only when drift failed the check), then the
 * policy's rules.
 */
export function renderCheckWithPolicyText(
  r: CheckResult | CheckResultWithPolicy,
  renderDrift: (r: CheckResult) => string,
): string {
  if (!("policy" in r)) return renderDrift(r);
  const driftFails = r.drift.some((d) => SEVERITY_RANK[d.severity] >= SEVERITY_RANK[r.failOn]);
  const driftText = renderDrift({ ...r, outcome: driftFails ? "FAIL" : "PASS" }).split("\n");
  driftText[0] = `mcptrust check: ${r.outcome} (fail-on=${r.failOn}, policy=${r.policy.preset})`;
  const p = r.policy;
  const lines = [
    driftText.join("\n").trimEnd(),
    "",
    `Policy: ${p.passed ? "PASS" : "FAIL"}: ${p.name} (${p.source.type} ${p.source.name}, mode ${p.mode})`,
    ...renderRuleLines(p),
  ];
  return lines.join("\n") + "\n";
}
