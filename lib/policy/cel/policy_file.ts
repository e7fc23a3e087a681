/**
 * Policy files: YAML in the Go tool's schema (reference §8.1), validated strictly. Every error names the
 * file, the line and the field, so a reviewer can fix it without guessing.
 *
 * ```yaml
 * name: My policy
 * mode: strict            # or warn; absent = strict
 * rules:
 *   - name: no_high_risk_tools
 *     expr: '!input.tools.exists(t, t.risk_level == "HIGH")'
 *     failure_msg: High-risk tools are not allowed
 *     severity: error      # or warn; absent = error
 *     control_refs: ["NIST AI RMF: MEASURE 2.3"]
 *     evidence: ["mcptrust scan output"]
 *     evidence_commands: ["mcptrust scan -- <server command>"]
 * call_rules:             # optional: decided by `mcptrust proxy --policy` for each tools/call
 *   - name: data_dir_only
 *     expr: 'tool.name != "read_file" || args.path.startsWith("/srv/data/")'
 *     failure_msg: read_file may only read under /srv/data/
 *     control_refs: ["SOC2: CC6.1"]
 * ```
 *
 * A file needs at least one rule, in `rules` or `call_rules`; names are unique across both.
 *
 * Stricter than the Go tool, on purpose: unknown keys (a misspelt `severty:` would silently make a warning
 * an error, or the reverse), severities other than warn/error, duplicate rule names and duplicate keys are
 * errors rather than ignored.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { LineCounter, parseDocument } from "yaml";
import { McpTrustError } from "../../errors.ts";

/** Where a policy came from. */
export interface PolicySource {
  type: "preset" | "file";
  /** The preset name, or the file path as given. */
  name: string;
}

/** One rule, with defaults applied. */
export interface PolicyRule {
  name: string;
  /** The CEL expression; it must yield true for the rule to pass. */
  expr: string;
  failure_msg: string;
  severity: "warn" | "error";
  control_refs: string[];
  evidence: string[];
  evidence_commands: string[];
  /** Line of the rule in its file (1-based). */
  line: number;
  /** Line where the expression's first line is (1-based), to place expression errors. */
  exprLine: number;
}

/**
 * A proxy call rule (`call_rules[]`), with defaults applied: decides each tools/call in `mcptrust proxy
 * --policy` from the tool, its arguments and the session; false or an error denies the call.
 */
export interface CallRule {
  name: string;
  /** The CEL expression over `tool`, `args` and `session`; it must yield true for the call to pass. */
  expr: string;
  failure_msg: string;
  control_refs: string[];
  /** Line of the rule in its file (1-based). */
  line: number;
  /** Line where the expression's first line is (1-based). */
  exprLine: number;
}

/** A validated policy. */
export interface PolicyDocument {
  name: string;
  /** `strict` (the default): any failing rule fails. `warn`: only failing `error` rules fail. */
  mode: "warn" | "strict";
  /** Rules over the server as a whole (policy check, check --policy, the proxy's preflight); may be empty. */
  rules: PolicyRule[];
  /** Rules over each tools/call (the proxy); may be empty. */
  call_rules: CallRule[];
  source: PolicySource;
}

/** The failure message of a call rule that gives none. */
export const DEFAULT_CALL_RULE_MESSAGE = "the policy does not allow this call";

/** Largest policy file read. */
export const MAX_POLICY_BYTES = 1024 * 1024;
/** Most rules in one policy. */
export const MAX_RULES = 1000;

const nonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"));
const strings = v.optional(v.array(v.string()), []);

/** The rule schema (valibot), exported for policy formats that embed rules (e.g. proxy call rules). */
export const RuleSchema = v.strictObject({
  name: nonEmpty,
  expr: nonEmpty,
  failure_msg: v.optional(v.string()),
  severity: v.optional(v.picklist(["warn", "error"]), "error"),
  control_refs: strings,
  evidence: strings,
  evidence_commands: strings,
});

/** The call rule schema (valibot): no severity, since every failing call rule denies the call. */
export const CallRuleSchema = v.strictObject({
  name: nonEmpty,
  expr: nonEmpty,
  failure_msg: v.optional(v.string()),
  control_refs: strings,
});

/** The policy file schema (valibot). At least one rule in `rules` or `call_rules` is checked after. */
export const PolicyFileSchema = v.strictObject({
  name: nonEmpty,
  mode: v.optional(v.picklist(["warn", "strict"]), "strict"),
  rules: v.optional(
    v.pipe(v.array(RuleSchema), v.maxLength(MAX_RULES, `has more than ${MAX_RULES} rules`)),
    [],
  ),
  call_rules: v.optional(
    v.pipe(v.array(CallRuleSchema), v.maxLength(MAX_RULES, `has more than ${MAX_RULES} rules`)),
    [],
  ),
});

/** Formats a valibot path as `rules[1].severity`. */
function fieldPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const k of path) out += typeof k === "number" ? `[${k}]` : out ? `.${k}` : k;
  return out || "(top level)";
}

function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "strict_object" && issue.expected === "never") {
    return "unknown field";
  }
  if (issue.received === "undefined") return "missing (required)";
  switch (issue.type) {
    case "picklist":
      return `must be one of ${
        issue.expected?.replace(/^\(|\)$/g, "").replaceAll(" | ", ", ")
      }, not ${issue.received}`;
    case "string":
      return `must be a string, not ${issue.received}`;
    case "array":
      return `must be a list, not ${issue.received}`;
    case "strict_object":
    case "object":
      return `must be a map of fields, not ${issue.received}`;
    default:
      return issue.message;
  }
}

function knownFields(path: readonly (string | number)[]): string {
  const keys = path.length <= 1
    ? Object.keys(PolicyFileSchema.entries)
    : Object.keys((path[0] === "call_rules" ? CallRuleSchema : RuleSchema).entries);
  return ` (known fields: ${keys.join(", ")})`;
}

/**
 * Parses and validates policy YAML.
 *
 * @param source names the policy in messages (`file` sources print their path)
 * @throws {McpTrustError} (exit 2) listing each problem as `<file>:<line>: <field>: <what>`
 */
export function parsePolicyText(text: string, source: PolicySource): PolicyDocument {
  const where = source.type === "file" ? source.name : `preset ${source.name}`;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line ?? lc.linePos(e.pos[0]).line;
    throw new McpTrustError(`${where}:${line}: not valid YAML: ${e.message.split("\n")[0]}`, {
      hint: "fix the YAML syntax (indentation, quotes around expressions containing : or #)",
    });
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new McpTrustError(`${where}: cannot read the YAML: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) {
    throw new McpTrustError(`${where}: the policy is empty`, {
      hint: "a policy needs a name and at least one rule; see docs/POLICY.md",
    });
  }
  const lineOf = (path: readonly (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lc.linePos(node.range[0]).line;
    }
    return 1;
  };
  const res = v.safeParse(PolicyFileSchema, raw, { abortEarly: false });
  if (!res.success) {
    const lines = res.issues.slice(0, 10).map((issue) => {
      const path = (issue.path ?? []).map((p) => p.key as string | number);
      const unknown = issue.type === "strict_object" && issue.expected === "never";
      return `${where}:${lineOf(path)}: ${fieldPath(path)}: ${issueMessage(issue)}${
        unknown ? knownFields(path) : ""
      }`;
    });
    if (res.issues.length > 10) lines.push(`... and ${res.issues.length - 10} more`);
    throw new McpTrustError(
      `${lines.length > 1 ? "the policy has errors:\n  " : ""}${lines.join("\n  ")}`,
      { hint: "fix the policy file; the schema is in docs/POLICY.md" },
    );
  }
  if (res.output.rules.length === 0 && res.output.call_rules.length === 0) {
    throw new McpTrustError(
      `${where}:${lineOf(["rules"])}: rules: needs at least one rule (in rules or call_rules)`,
      { hint: "add a rule; the schema is in docs/POLICY.md" },
    );
  }
  const seen = new Map<string, number>();
  const place = (list: "rules" | "call_rules", i: number, name: string) => {
    const line = lineOf([list, i]);
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new McpTrustError(
        `${where}:${line}: ${list}[${i}].name: "${name}" is already the name of the rule on line ${prev}`,
        { hint: "give every rule its own name: results and reasons are reported by name" },
      );
    }
    seen.set(name, line);
    const exprNode = doc.getIn([list, i, "expr"], true) as
      | { range?: [number, number, number]; type?: string }
      | undefined;
    let exprLine = line;
    if (exprNode?.range) {
      exprLine = lc.linePos(exprNode.range[0]).line;
      if (exprNode.type === "BLOCK_LITERAL" || exprNode.type === "BLOCK_FOLDED") exprLine++;
    }
    return { line, exprLine };
  };
  const rules: PolicyRule[] = res.output.rules.map((r, i) => ({
    name: r.name,
    expr: r.expr,
    failure_msg: r.failure_msg ?? `rule "${r.name}" failed`,
    severity: r.severity,
    control_refs: r.control_refs,
    evidence: r.evidence,
    evidence_commands: r.evidence_commands,
    ...place("rules", i, r.name),
  }));
  const call_rules: CallRule[] = res.output.call_rules.map((r, i) => ({
    name: r.name,
    expr: r.expr,
    failure_msg: r.failure_msg ?? DEFAULT_CALL_RULE_MESSAGE,
    control_refs: r.control_refs,
    ...place("call_rules", i, r.name),
  }));
  return { name: res.output.name, mode: res.output.mode, rules, call_rules, source };
}

/**
 * Reads and validates a policy file.
 *
 * @throws {McpTrustError} (exit 2) if the file cannot be read, is over 1 MiB, or is not a valid policy
 */
export function readPolicyFile(path: string): PolicyDocument {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new McpTrustError(
      `cannot read policy ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`,
      { hint: "pass a policy YAML file, or a preset with --preset baseline|strict" },
    );
  }
  if (bytes.length > MAX_POLICY_BYTES) {
    throw new McpTrustError(`policy ${path} is ${bytes.length} bytes; the limit is ${MAX_POLICY_BYTES}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new McpTrustError(`policy ${path} is not UTF-8 text`);
  }
  return parsePolicyText(text, { type: "file", name: path });
}
