/**
 * Loading, compiling and evaluating a policy: the CEL rules behind `policy check` and `check --policy`.
 *
 * Fail closed at every step: a policy that does not parse or validate, a rule that does not compile or
 * cannot yield a bool, is a load error (exit 2) before any server runs; a rule whose evaluation errors
 * (a missing field, a cost limit, a bad run-time regex) fails, whatever its severity.
 *
 * Verdict (the same for both commands; the Go tool differed between them, reference §8.6): the policy
 * fails if any `error` rule fails or errors, or, in `strict` mode (the default), if any rule fails.
 *
 * @module
 */
import { McpTrustError } from "../../errors.ts";
import { isPresetName, PRESET_NAMES, presetYaml } from "../presets/presets.ts";
import { CALL_RULE_VARIABLES, type CompiledCallRule } from "./call_rules.ts";
import { CelCompileError, CelCompiler, type CompiledExpression } from "./compiler.ts";
import { POLICY_INPUT_SHAPE, type PolicyInput } from "./input.ts";
import { parsePolicyText, type PolicyDocument, type PolicyRule, readPolicyFile } from "./policy_file.ts";
import type { Shape } from "./shape.ts";

/** Which policy to use. */
export type PolicyRef = { preset: string } | { file: string };

/** A rule with its compiled expression. */
export interface CompiledRule {
  rule: PolicyRule;
  expression: CompiledExpression;
}

/** A policy ready to evaluate. */
export interface CompiledPolicy {
  doc: PolicyDocument;
  rules: CompiledRule[];
  /** The proxy's per-call rules (call_rules.ts), compiled against `tool`, `args` and `session`. */
  callRules: CompiledCallRule[];
}

/** One rule's outcome: `warn` is a failed `warn` rule; an evaluation error is always `fail`. */
export interface RuleResult {
  name: string;
  severity: "warn" | "error";
  status: "pass" | "warn" | "fail";
  /** Present unless the rule passed. */
  failure_msg?: string;
  /** Why the rule could not be evaluated, when it could not. */
  error?: string;
  control_refs: string[];
}

/** A policy's outcome. Field names `passed` and `reasons` are the Go tool's (check JSON `policy`). */
export interface PolicyResult {
  name: string;
  source: { type: "preset" | "file"; name: string };
  mode: "warn" | "strict";
  passed: boolean;
  summary: { pass: number; warn: number; fail: number };
  rules: RuleResult[];
  /** `<rule>: <failure_msg>` for every rule that did not pass. */
  reasons: string[];
}

/**
 * Reads a preset or a policy file.
 *
 * @throws {McpTrustError} (exit 2) for an unknown preset or an unreadable or invalid file
 */
export function loadPolicy(ref: PolicyRef): PolicyDocument {
  if ("preset" in ref) return parsePolicyText(presetYaml(ref.preset), { type: "preset", name: ref.preset });
  return readPolicyFile(ref.file);
}

/**
 * Interprets `check --policy <value>`: a preset name, or a path to a YAML file. Unlike the Go tool (which
 * looked every value up as a preset, so files were always refused, reference §1.4), files work.
 *
 * @returns the preset when `value` is a preset name, else the file
 */
export function policyRefFromArg(value: string): PolicyRef {
  return isPresetName(value) ? { preset: value } : { file: value };
}

/**
 * Checks `--preset` and `--policy` given together or neither, returning the one to use.
 *
 * @param fallback used when neither is given
 * @throws {McpTrustError} (exit 2) when both are given
 */
export function choosePolicy(
  opts: { preset?: string; policy?: string },
  fallback: PolicyRef = { preset: "baseline" },
): PolicyRef {
  if (opts.preset !== undefined && opts.policy !== undefined) {
    throw new McpTrustError("give --preset or --policy, not both", {
      hint: `presets: ${PRESET_NAMES.join(", ")}; --policy takes a YAML file`,
    });
  }
  if (opts.preset !== undefined) return { preset: opts.preset };
  if (opts.policy !== undefined) return { file: opts.policy };
  return fallback;
}

function where(doc: PolicyDocument): string {
  return doc.source.type === "file" ? doc.source.name : `preset ${doc.source.name}`;
}

/**
 * Compiles every rule once: `rules` against `input`, `call_rules` against `tool`, `args` and `session`.
 *
 * @param opts.shape the input shape rules are checked against (default: {@link POLICY_INPUT_SHAPE})
 * @throws {McpTrustError} (exit 2) `<file>:<line>: rule "<name>": <why>` (or `call rule "<name>"`) for the
 *   first rule that does not compile or cannot yield a bool
 */
export function compilePolicy(
  doc: PolicyDocument,
  opts: { compiler?: CelCompiler; shape?: Shape } = {},
): CompiledPolicy {
  const compiler = opts.compiler ?? new CelCompiler();
  const shape = opts.shape ?? POLICY_INPUT_SHAPE;
  const compile = <R extends { name: string; expr: string; exprLine: number }>(
    rule: R,
    kind: string,
    variables: Record<string, Shape>,
  ): { rule: R; expression: CompiledExpression } => {
    try {
      return { rule, expression: compiler.compile(rule.expr, variables) };
    } catch (err) {
      if (!(err instanceof CelCompileError)) throw err;
      const line = rule.exprLine + (err.line ?? 1) - 1;
      throw new McpTrustError(`${where(doc)}:${line}: ${kind} "${rule.name}": ${err.message}`, {
        hint: "fix the rule's expr; the fields rules can read are listed in docs/POLICY.md",
      });
    }
  };
  const rules = doc.rules.map((rule) => compile(rule, "rule", { input: shape }));
  const callRules = doc.call_rules.map((rule) => compile(rule, "call rule", CALL_RULE_VARIABLES));
  return { doc, rules, callRules };
}

/**
 * Evaluates every rule against `input` (verdict in the module note). Never throws.
 */
export function evaluatePolicy(policy: CompiledPolicy, input: PolicyInput): PolicyResult {
  const { doc } = policy;
  const summary = { pass: 0, warn: 0, fail: 0 };
  const reasons: string[] = [];
  let passed = true;
  const rules = policy.rules.map(({ rule, expression }): RuleResult => {
    const out = expression.evaluate({ input });
    const refs = rule.control_refs;
    if (out.ok && out.value) {
      summary.pass++;
      return { name: rule.name, severity: rule.severity, status: "pass", control_refs: refs };
    }
    reasons.push(`${rule.name}: ${rule.failure_msg}`);
    const msg = rule.failure_msg;
    if (!out.ok) {
      summary.fail++;
      passed = false;
      return {
        name: rule.name,
        severity: rule.severity,
        status: "fail",
        failure_msg: msg,
        error: out.error,
        control_refs: refs,
      };
    }
    if (rule.severity === "warn") {
      summary.warn++;
      if (doc.mode === "strict") passed = false;
      return {
        name: rule.name,
        severity: rule.severity,
        status: "warn",
        failure_msg: msg,
        control_refs: refs,
      };
    }
    summary.fail++;
    passed = false;
    return { name: rule.name, severity: rule.severity, status: "fail", failure_msg: msg, control_refs: refs };
  });
  return {
    name: doc.name,
    source: doc.source,
    mode: doc.mode,
    passed,
    summary,
    rules,
    reasons,
  };
}
