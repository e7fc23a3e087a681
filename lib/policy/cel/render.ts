/**
 * Rendering policies and their results: the `policy check` report (text and JSON) and `policy explain`
 * (Markdown and JSON) for reviewers.
 *
 * @module
 */
import type { CompiledPolicy, PolicyResult, RuleResult } from "./policy.ts";

/** Context printed with a result. */
export interface CheckContext {
  server: { name: string; version?: string };
  lockfile?: { path: string; version: string; signature: string };
  drift?: { total: number; critical: number };
}

/** Terminal-safe text: control and bidi characters escaped, as scan's text report does. */
function safe(s: string, keepLines = false): string {
  // Escaping control and bidi characters is the point of these patterns.
  const unsafe = keepLines
    // deno-lint-ignore no-control-regex
    ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g
    // deno-lint-ignore no-control-regex
    : /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;
  return s.replace(unsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function sourceLabel(r: { source: { type: string; name: string }; mode: string }): string {
  return `${r.source.type} ${r.source.name}, mode ${r.mode}`;
}

/** The `policy check` text report: verdict, context, one line per rule, summary. */
export function renderPolicyText(r: PolicyResult, ctx: CheckContext): string {
  const lines = [
    `mcptrust policy check: ${r.passed ? "PASS" : "FAIL"}`,
    `Policy:   ${safe(r.name)} (${sourceLabel(r)})`,
    `Server:   ${safe(ctx.server.name)}${ctx.server.version ? " " + safe(ctx.server.version) : ""}`,
  ];
  if (ctx.lockfile) {
    lines.push(
      `Lockfile: ${ctx.lockfile.path} (v${ctx.lockfile.version}, signature ${ctx.lockfile.signature})`,
    );
  }
  if (ctx.drift) lines.push(`Drift:    ${ctx.drift.total} change(s), ${ctx.drift.critical} critical`);
  lines.push("", ...renderRuleLines(r), "", summaryLine(r));
  if (!r.passed) {
    lines.push(
      r.mode === "strict"
        ? "The policy failed: in strict mode every rule must pass."
        : "The policy failed: an error rule did not pass.",
    );
  }
  return lines.join("\n") + "\n";
}

/** One line per rule (plus its message, error and control refs), for text reports. */
export function renderRuleLines(r: { rules: readonly RuleResult[] }): string[] {
  const lines: string[] = [];
  for (const rule of r.rules) {
    const mark = rule.status === "pass" ? "[pass]" : rule.status === "warn" ? "[warn]" : "[FAIL]";
    lines.push(`  ${mark} ${safe(rule.name)}`);
    if (rule.status === "pass") continue;
    if (rule.failure_msg) lines.push(`         ${safe(rule.failure_msg)}`);
    if (rule.error) lines.push(`         could not be evaluated: ${safe(rule.error)}`);
    if (rule.control_refs.length) lines.push(`         controls: ${safe(rule.control_refs.join("; "))}`);
  }
  return lines;
}

function summaryLine(r: PolicyResult): string {
  return `Rules: ${r.summary.pass} pass, ${r.summary.warn} warn, ${r.summary.fail} fail`;
}

/** The `policy check --format json` document. */
export function policyCheckJson(r: PolicyResult, ctx: CheckContext): Record<string, unknown> {
  const out: Record<string, unknown> = { outcome: r.passed ? "PASS" : "FAIL", server: ctx.server };
  if (ctx.lockfile) out.lockfile = ctx.lockfile;
  if (ctx.drift) out.drift = ctx.drift;
  out.policy = r;
  return out;
}

/** `policy explain --format json`: the Go tool's fields (without `generated_at`, so output is stable). */
export function explainJson(p: CompiledPolicy): Record<string, unknown> {
  return {
    schema_version: "1.0",
    source: p.doc.source,
    name: p.doc.name,
    mode: p.doc.mode,
    rules: p.rules.map(({ rule, expression }) => ({
      name: rule.name,
      severity: rule.severity,
      expr: rule.expr,
      failure_msg: rule.failure_msg,
      control_refs: rule.control_refs,
      evidence: rule.evidence,
      evidence_commands: rule.evidence_commands,
      reads: [...expression.fieldsUsed].sort(),
    })),
    call_rules: p.callRules.map(({ rule, expression }) => ({
      name: rule.name,
      expr: rule.expr,
      failure_msg: rule.failure_msg,
      control_refs: rule.control_refs,
      reads: [...expression.fieldsUsed].sort(),
    })),
  };
}

function cell(s: string): string {
  return safe(s).replace(/\s+/g, " ").trim().replaceAll("|", "\\|");
}

function code(s: string): string {
  const flat = safe(s).replace(/\s+/g, " ").trim();
  const ticks = flat.includes("`") ? "``" : "`";
  return `${ticks}${flat}${ticks}`;
}

const MODE_TEXT = {
  strict: "every rule must pass; a failing `warn` rule fails the check too",
  warn: "only failing `error` rules fail the check; failing `warn` rules are reported",
};

/** `policy explain --format markdown`: a summary table, then each rule in full; then the call rules. */
export function explainMarkdown(p: CompiledPolicy): string {
  const d = p.doc;
  const lines = [
    `# Policy: ${cell(d.name)}`,
    "",
    `**Source**: ${d.source.type} (\`${cell(d.source.name)}\`)  `,
    `**Mode**: ${d.mode}: ${
      MODE_TEXT[d.mode]
    }. A rule that cannot be evaluated fails, whatever its severity.`,
    "",
  ];
  if (p.rules.length) lines.push("| Rule | Severity | Control refs | Fails unless |", "|---|---|---|---|");
  for (const { rule } of p.rules) {
    const expr = rule.expr.replace(/\s+/g, " ").trim();
    const short = expr.length > 120 ? expr.slice(0, 119) + "…" : expr;
    lines.push(
      `| ${cell(rule.name)} | ${rule.severity} | ${cell(rule.control_refs.join(", ") || "-")} | ${
        code(short).replaceAll("|", "\\|")
      } |`,
    );
  }
  for (const { rule, expression } of p.rules) {
    lines.push("", `## ${cell(rule.name)}`, "");
    lines.push(`- **Severity**: ${rule.severity}`);
    lines.push(`- **Failure message**: ${cell(rule.failure_msg)}`);
    lines.push(`- **Control refs**: ${cell(rule.control_refs.join(", ") || "-")}`);
    lines.push(`- **Evidence**: ${cell(rule.evidence.join("; ") || "-")}`);
    lines.push(
      `- **Evidence commands**: ${
        rule.evidence_commands.length ? rule.evidence_commands.map(code).join(", ") : "-"
      }`,
    );
    lines.push(`- **Reads**: ${[...expression.fieldsUsed].sort().map(code).join(", ") || "-"}`);
    const fence = rule.expr.includes("```") ? "~~~~" : "```";
    lines.push("", `${fence}cel`, safe(rule.expr.trimEnd(), true), fence);
  }
  if (p.callRules.length) {
    if (lines[lines.length - 1] !== "") lines.push("");
    lines.push(
      "## Call rules",
      "",
      "`mcptrust proxy --policy` evaluates these, in order, for every `tools/call` the lockfile allows and " +
        "whose arguments validate, before it reaches the server; the first that is false or cannot be " +
        "evaluated denies the call.",
      "",
      "| Call rule | Control refs | Denies unless |",
      "|---|---|---|",
    );
    for (const { rule } of p.callRules) {
      const expr = rule.expr.replace(/\s+/g, " ").trim();
      const short = expr.length > 120 ? expr.slice(0, 119) + "…" : expr;
      lines.push(
        `| ${cell(rule.name)} | ${cell(rule.control_refs.join(", ") || "-")} | ${
          code(short).replaceAll("|", "\\|")
        } |`,
      );
    }
    for (const { rule, expression } of p.callRules) {
      lines.push("", `### ${cell(rule.name)}`, "");
      lines.push(`- **Failure message**: ${cell(rule.failure_msg)}`);
      lines.push(`- **Control refs**: ${cell(rule.control_refs.join(", ") || "-")}`);
      lines.push(`- **Reads**: ${[...expression.fieldsUsed].sort().map(code).join(", ") || "-"}`);
      const fence = rule.expr.includes("```") ? "~~~~" : "```";
      lines.push("", `${fence}cel`, safe(rule.expr.trimEnd(), true), fence);
    }
  }
  return lines.join("\n") + "\n";
}
