/**
 * The result of `check`: drift items judged against a `--fail-on` threshold, in the Go tool's JSON shape
 * (reference §1.4), plus text renderings for `check` and the human-first `diff`.
 *
 * @module
 */
import { type DriftItem, type DriftReport, type Severity, SEVERITY_RANK } from "./types.ts";

/** `check --format json` output. Field names are the Go tool's; `notCompared` is an extension. */
export interface CheckResult {
  lockfileVersion: string;
  server: string;
  lockfile: string;
  summary: { critical: number; moderate: number; info: number; total: number };
  drift: DriftItem[];
  failOn: Severity;
  outcome: "PASS" | "FAIL";
  notCompared?: string[];
}

/**
 * Judges `report` against `failOn`: FAIL if any item's severity is at or above it.
 *
 * @param lockfileVersion the file's declared version, e.g. "3.0"
 */
export function judgeDrift(
  report: DriftReport,
  opts: { failOn: Severity; lockfileVersion: string; server: string; lockfile: string },
): CheckResult {
  const summary = { critical: 0, moderate: 0, info: 0, total: report.items.length };
  for (const i of report.items) summary[i.severity]++;
  const fail = report.items.some((i) => SEVERITY_RANK[i.severity] >= SEVERITY_RANK[opts.failOn]);
  const result: CheckResult = {
    lockfileVersion: opts.lockfileVersion,
    server: opts.server,
    lockfile: opts.lockfile,
    summary,
    drift: report.items,
    failOn: opts.failOn,
    outcome: fail ? "FAIL" : "PASS",
  };
  if (report.notCompared.length) result.notCompared = report.notCompared;
  return result;
}

const ORDER: Severity[] = ["critical", "moderate", "info"];

/** The `check` text report: verdict, then drift grouped by severity. */
export function renderCheckText(r: CheckResult): string {
  const lines = [
    `mcptrust check: ${r.outcome} (fail-on=${r.failOn})`,
    `Server:   ${r.server}`,
    `Lockfile: ${r.lockfile} (v${r.lockfileVersion})`,
  ];
  if (r.drift.length === 0) lines.push("", "No drift: the server matches the lockfile.");
  for (const sev of ORDER) {
    const group = r.drift.filter((d) => d.severity === sev);
    if (!group.length) continue;
    lines.push("", `${sev.toUpperCase()} (${group.length})`);
    for (const d of group) lines.push(`  - ${d.type}: ${d.message}`);
  }
  for (const n of r.notCompared ?? []) lines.push("", `Not compared: ${n}`);
  if (r.outcome === "FAIL") {
    lines.push(
      "",
      `The server has drifted from the approved lockfile (${r.summary.total} change(s), fail-on=${r.failOn}).`,
      "Next: review the changes; if they are intended, re-approve with `mcptrust lock --force -- <server command>`.",
    );
  }
  return lines.join("\n") + "\n";
}

/** The `diff` text: one line per change, marked + (added), - (removed) or ~ (changed), by identifier. */
export function renderDiffText(r: CheckResult): string {
  if (r.drift.length === 0) return `No changes: ${r.server} matches ${r.lockfile}.\n`;
  const mark = (d: DriftItem) => d.type.endsWith("_ADDED") ? "+" : d.type.endsWith("_REMOVED") ? "-" : "~";
  const lines = [`${r.drift.length} change(s) between ${r.lockfile} and the live server ${r.server}:`, ""];
  for (const d of r.drift) lines.push(`${mark(d)} [${d.severity}] ${d.message}`);
  for (const n of r.notCompared ?? []) lines.push("", `Not compared: ${n}`);
  return lines.join("\n") + "\n";
}
