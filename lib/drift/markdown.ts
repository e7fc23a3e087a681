/**
 * `check --format markdown`: the check result as GitHub-flavoured Markdown, for a CI job summary
 * (`$GITHUB_STEP_SUMMARY`) or a pull-request comment. The outcome comes first, then one table row per
 * drift item, most severe first.
 *
 * Every string that came from the server or the lockfile (names, URIs, messages) is untrusted: a hostile
 * server can name a tool `x](https://evil)` or put `<img src=...>` or a bidi override in a description.
 * {@link mdText} makes such text inert: control, bidi and invisible characters become visible `\u{...}`
 * escapes, HTML and Markdown punctuation is escaped, and URLs cannot autolink.
 *
 * @module
 */
import { appendFileSync } from "node:fs";
import { McpTrustError } from "../errors.ts";
import type { CheckResult } from "./check_result.ts";
import type { Severity } from "./types.ts";
import type { SarifInput } from "./sarif.ts";

// C0/C1 controls, DEL, bidi controls, zero-width and other invisible format characters, line/paragraph
// separators, the BOM and Unicode tag characters: shown as escapes, never passed to the renderer.
const INVISIBLE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;

/**
 * `text` made inert where this module puts it (inside table cells and after a label, never at the start of
 * a line): invisible characters escaped as `\u{hex}`; `&`, `<` and `>` as HTML entities; the punctuation
 * that starts inline Markdown in GitHub's dialect (emphasis, code, links, images, strikethrough, math,
 * table pipes) backslash-escaped; `@` and the `:` of `scheme://` and the `.` of `www.` as entities so no
 * mention, email or URL autolinks.
 */
export function mdText(text: string): string {
  return text
    .replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
    .replace(/[\\`*_[\]()!|~$]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/@/g, "&#64;")
    .replace(/:(?=\/\/)/g, "&#58;")
    .replace(/\b(www)\./gi, "$1&#46;");
}

const ORDER: Severity[] = ["critical", "moderate", "info"];
const BADGE: Record<Severity, string> = { critical: "🔴 critical", moderate: "🟠 moderate", info: "🔵 info" };

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

/**
 * Renders a check result as Markdown: a heading with the outcome, a one-line summary, the drift table
 * (severity, type, item, change), then the policy's failed rules, what was not compared, and what to do.
 *
 * @param r the result of `check` (with `policy` when `--policy` ran)
 * @returns Markdown text ending in a newline
 */
export function renderCheckMarkdown(r: SarifInput | CheckResult): string {
  const policy = "policy" in r ? r.policy : undefined;
  const pass = r.outcome === "PASS";
  const s = r.summary;
  const facts = [
    `**${
      plural(r.drift.length, "drift item")
    }** (${s.critical} critical, ${s.moderate} moderate, ${s.info} info)`,
    `fail-on **${r.failOn}**`,
    ...(policy ? [`policy **${mdText(policy.preset)}**`] : []),
    `server **${mdText(r.server)}**`,
    `lockfile **${mdText(r.lockfile)}** (v${mdText(r.lockfileVersion)})`,
  ];
  const lines = [`### mcptrust check: ${pass ? "✅ PASS" : "❌ FAIL"}`, "", facts.join(" · "), ""];
  if (r.drift.length === 0) {
    lines.push("No drift: the server matches the lockfile.", "");
  } else {
    lines.push("| Severity | Type | Item | Change |", "|---|---|---|---|");
    for (const sev of ORDER) {
      for (const d of r.drift.filter((x) => x.severity === sev)) {
        lines.push(`| ${BADGE[sev]} | ${d.type} | ${mdText(d.identifier)} | ${mdText(d.message)} |`);
      }
    }
    lines.push("");
  }
  if (policy) {
    const failed = policy.rules.filter((x) => x.status !== "pass");
    lines.push(`**Policy ${mdText(policy.name)}: ${policy.passed ? "PASS" : "FAIL"}**`, "");
    if (failed.length) {
      lines.push("| Rule | Status | Why |", "|---|---|---|");
      for (const x of failed) {
        const why = x.error ?? x.failure_msg ?? "";
        lines.push(`| ${mdText(x.name)} | ${x.status} | ${mdText(why)} |`);
      }
      lines.push("");
    }
  }
  for (const n of r.notCompared ?? []) lines.push(`_Not compared:_ ${mdText(n)}`, "");
  if (!pass && r.drift.length) {
    lines.push(
      "Review the changes. If they are intended, approve them by re-locking " +
        "(`mcptrust lock --force -- <server command>`) and commit the lockfile.",
      "",
    );
  }
  return lines.join("\n");
}

/**
 * Appends {@link renderCheckMarkdown} to `path` (`check --summary`; GitHub gives each step its own
 * `$GITHUB_STEP_SUMMARY` file and shows what was appended to it).
 *
 * @throws {McpTrustError} (exit 2) if the file cannot be written
 */
export function appendCheckMarkdown(path: string, r: SarifInput | CheckResult): void {
  try {
    appendFileSync(path, renderCheckMarkdown(r) + "\n");
  } catch (err) {
    throw new McpTrustError(`cannot append the summary to ${path}: ${(err as Error).message}`, {
      hint: "pass a writable file to --summary (in GitHub Actions: $GITHUB_STEP_SUMMARY)",
      cause: err,
    });
  }
}
