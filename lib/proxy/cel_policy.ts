/**
 * A CEL policy in the proxy (`mcptrust proxy --policy <preset|file>`, issue 8 §4): its `rules` are
 * evaluated once, at preflight, over the live and verified server (as `policy check` would, on the same
 * process the host talks to); its `call_rules` decide every tools/call (lib/policy/cel/call_rules.ts).
 * Without `--policy` the session has none of this, and no CEL runs on the per-message path.
 *
 * @module
 */
import type { Signer } from "../crypto/verifier.ts";
import type { DriftReport } from "../drift/types.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";
import type { LockfileV3 } from "../lockfile/types.ts";
import type { ServerInterface } from "../mcp/types.ts";
import type { AuditRecord } from "../observe/audit_log.ts";
import { CallRuleEngine } from "../policy/cel/call_rules.ts";
import { buildPolicyInput, type SignatureStatus } from "../policy/cel/input.ts";
import { type CompiledPolicy, evaluatePolicy } from "../policy/cel/policy.ts";

/** What the preflight found: audit records for every rule that did not pass, and why to deny, if so. */
export interface PreflightPolicyOutcome {
  records: AuditRecord[];
  /** Set when the policy fails (an `error` rule failed, or any rule in strict mode). */
  deny?: string;
}

/** The policy as the proxy session uses it. */
export interface ProxyCelPolicy {
  /** Evaluates `rules` over the live server at preflight; absent when the policy has none. */
  preflight?: (iface: ServerInterface, drift: DriftReport) => PreflightPolicyOutcome;
  /** Decides each tools/call; absent when the policy has no `call_rules`. */
  calls?: CallRuleEngine;
}

/** Where the preflight input comes from besides the live server. */
export interface ProxyCelPolicyContext {
  /** The server command, as given after `--`. */
  argv: readonly string[];
  /** The lockfile the proxy enforces, with its signature status ("verified" only with a key). */
  lockfile: { loaded: LoadedLockfile; signature: SignatureStatus; signer?: Signer };
}

function label(p: CompiledPolicy): string {
  const src = p.doc.source;
  return src.type === "preset" ? `preset ${src.name}` : src.name;
}

/**
 * Prepares a compiled policy for the proxy session.
 *
 * @throws {Error} if the lockfile is not v3 (the proxy refuses those before this)
 */
export function proxyCelPolicy(policy: CompiledPolicy, ctx: ProxyCelPolicyContext): ProxyCelPolicy {
  const { loaded } = ctx.lockfile;
  if (loaded.version !== "3") throw new Error("the proxy needs a v3 lockfile");
  const out: ProxyCelPolicy = {};
  if (policy.callRules.length) {
    out.calls = new CallRuleEngine(policy.callRules, loaded.lockfile as LockfileV3);
  }
  if (policy.rules.length) {
    out.preflight = (iface, drift) => {
      const input = buildPolicyInput({ argv: ctx.argv, iface, lockfile: ctx.lockfile, drift });
      const result = evaluatePolicy(policy, input);
      const failed = result.rules.filter((r) => r.status !== "pass");
      const records: AuditRecord[] = failed.map((r) => ({
        level: r.status === "warn" && result.passed ? "info" : "warn",
        event: "policy",
        identifier: r.name,
        reason: r.error ? `${r.failure_msg} (could not be evaluated: ${r.error})` : r.failure_msg,
        status: r.status,
        policy: result.name,
      }));
      if (result.passed) return { records };
      const named = failed.map((r) => `rule ${r.name}: ${r.failure_msg}${r.error ? ` (${r.error})` : ""}`);
      const what = named.slice(0, 3).join("; ") + (named.length > 3 ? `; and ${named.length - 3} more` : "");
      return {
        records,
        deny: `the policy "${result.name}" (${label(policy)}) does not pass on this server: ${what}; ` +
          "run `mcptrust policy check` with the same policy and lockfile to see every rule",
      };
    };
  }
  return out;
}
