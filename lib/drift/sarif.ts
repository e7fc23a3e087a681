/**
 * `check --format sarif`: the check result as a SARIF 2.1.0 log (OASIS SARIF v2.1.0, errata 01), for
 * GitHub code scanning and any other SARIF consumer.
 *
 * The shape, and why:
 * - one run; `tool.driver` is mcptrust with its version and home page, and one rule per drift type
 *   (every {@link DriftType}, always, in a fixed order) plus one for a failed policy rule, so a rule id
 *   (`MCPTRUST/<TYPE>`) and its index never change between runs or releases (SARIF §3.27.5: `ruleId`
 *   must be stable; GitHub matches alerts across runs by rule and fingerprint);
 * - one result per drift item, at the item's severity: critical = `error`, moderate = `warning`,
 *   info = `note` (SARIF §3.27.10); a failed policy rule is `error` (`warning` for a warn rule);
 * - the location is the lockfile (the file a reviewer changes to accept the drift), with the line of
 *   the locked item when it is in the file, else the line of its section, else line 1: GitHub shows a
 *   result only where it has `region.startLine`;
 * - `partialFingerprints` hash the drift (type, item, old and new hash), so the same drift seen again is
 *   the same alert and a new change is a new one;
 * - every string is the report's own text: SARIF `message.text` is plain text, never rendered as
 *   Markdown, so a hostile tool name cannot inject links into an alert.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { findNodeAtLocation, type Node, parseTree, type Segment } from "jsonc-parser";
import type { CheckResult } from "./check_result.ts";
import type { DriftItem, DriftType, Severity } from "./types.ts";
import { readFileSync } from "node:fs";
import { VERSION } from "../version.ts";

/** `$schema` of the log: the OASIS-published SARIF 2.1.0 schema (errata 01). */
export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/** The tool's home page, `tool.driver.informationUri`. */
export const MCPTRUST_INFORMATION_URI = "https://github.com/mcptrust/mcptrust";
/** Where drift severities are explained (rules' `helpUri`). */
export const DRIFT_HELP_URI = `${MCPTRUST_INFORMATION_URI}#what-counts-as-drift`;
/** Rule id prefix: `MCPTRUST/TOOL_ADDED`. */
export const RULE_PREFIX = "MCPTRUST/";
/** The rule of a failed policy rule (`check --policy`). */
export const POLICY_RULE_ID = `${RULE_PREFIX}POLICY_RULE_FAILED`;

/** SARIF result levels (SARIF §3.27.10) used here. */
export type SarifLevel = "error" | "warning" | "note";

/** Level of a drift severity: critical = error, moderate = warning, info = note. */
export const LEVEL_OF: Readonly<Record<Severity, SarifLevel>> = {
  critical: "error",
  moderate: "warning",
  info: "note",
};

/**
 * GitHub's `security-severity` (a CVSS-like score as a string) per severity: critical (9.0) and
 * moderate (5.0) map to GitHub's "critical" and "medium" bands, info (1.0) to "low".
 */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: "9.0",
  moderate: "5.0",
  info: "1.0",
};

interface RuleText {
  /** The severity the type usually has (some types are raised to critical by suspicious text). */
  severity: Severity;
  short: string;
  full: string;
}

const SUSPICIOUS =
  " Critical when the new text introduces suspicious text (instruction-like phrases or hidden " +
  "characters) that the locked text did not have.";

/**
 * Every drift type's rule text. A `Record` over the union, so a new drift type does not compile until
 * it has a rule here; the order is the rules' order (and so their `ruleIndex`), append only.
 */
export const DRIFT_RULES: Readonly<Record<DriftType, RuleText>> = {
  TOOL_ADDED: {
    severity: "critical",
    short: "A tool was added to the server",
    full: "The server lists a tool the lockfile does not pin. A new tool is new capability the model can " +
      "call, such as a shell or network tool, that nobody approved.",
  },
  TOOL_REMOVED: {
    severity: "critical",
    short: "A tool was removed from the server",
    full: "A tool pinned in the lockfile is no longer listed by the server.",
  },
  TOOL_CHANGED: {
    severity: "critical",
    short: "A tool's input schema or description changed",
    full: "The tool's input schema (what the model may send) or its description (what the model reads and " +
      "obeys) differs from the approved one. A schema change is critical; a reworded description is " +
      "moderate." + SUSPICIOUS,
  },
  TOOL_TITLE_CHANGED: {
    severity: "moderate",
    short: "A tool's title changed",
    full: "The tool's display title differs from the approved one." + SUSPICIOUS,
  },
  TOOL_OUTPUT_SCHEMA_CHANGED: {
    severity: "moderate",
    short: "A tool's output schema changed",
    full: "The schema of the tool's structured result differs from the approved one.",
  },
  TOOL_ANNOTATIONS_CHANGED: {
    severity: "moderate",
    short: "A tool's annotations changed",
    full: "The tool's behaviour hints changed. Critical when the change weakens safety (readOnlyHint " +
      "true to false, destructiveHint false to true, openWorldHint false to true).",
  },
  TOOL_RISK_CHANGED: {
    severity: "moderate",
    short: "A tool's risk level changed",
    full: "The risk level mcptrust derives from the tool changed: raised is moderate, lowered is info.",
  },
  TOOL_MEMBERS_CHANGED: {
    severity: "moderate",
    short: "Other members of a tool changed",
    full: "A member of the tool other than those reported by name (_meta, icons, execution, or one a newer " +
      "MCP revision or the server adds) differs from the approved one.",
  },
  PROMPT_ADDED: {
    severity: "critical",
    short: "A prompt was added to the server",
    full: "The server lists a prompt the lockfile does not pin.",
  },
  PROMPT_REMOVED: {
    severity: "critical",
    short: "A prompt was removed from the server",
    full: "A prompt pinned in the lockfile is no longer listed by the server.",
  },
  PROMPT_ARGS_CHANGED: {
    severity: "critical",
    short: "A prompt's arguments changed",
    full: "The prompt's arguments differ from the approved ones.",
  },
  PROMPT_DESC_CHANGED: {
    severity: "moderate",
    short: "A prompt's description changed",
    full: "The prompt's description differs from the approved one." + SUSPICIOUS,
  },
  PROMPT_TITLE_CHANGED: {
    severity: "moderate",
    short: "A prompt's title changed",
    full: "The prompt's display title differs from the approved one." + SUSPICIOUS,
  },
  PROMPT_MEMBERS_CHANGED: {
    severity: "moderate",
    short: "Other members of a prompt changed",
    full: "A member of the prompt other than those reported by name differs from the approved one.",
  },
  TEMPLATE_ADDED: {
    severity: "critical",
    short: "A resource template was added to the server",
    full: "The server lists a resource template the lockfile does not pin.",
  },
  TEMPLATE_REMOVED: {
    severity: "critical",
    short: "A resource template was removed from the server",
    full: "A resource template pinned in the lockfile is no longer listed by the server.",
  },
  TEMPLATE_CHANGED: {
    severity: "critical",
    short: "A resource template changed",
    full: "The resource template's URI template or MIME type differs from the approved one.",
  },
  TEMPLATE_DESC_CHANGED: {
    severity: "moderate",
    short: "A resource template's name or description changed",
    full: "The resource template's name or description differs from the approved one." + SUSPICIOUS,
  },
  TEMPLATE_MEMBERS_CHANGED: {
    severity: "moderate",
    short: "Other members of a resource template changed",
    full: "A member of the resource template other than those reported by name differs from the " +
      "approved one.",
  },
  RESOURCE_ADDED: {
    severity: "critical",
    short: "A static resource was added to the server",
    full: "The server lists a static resource the lockfile does not pin.",
  },
  RESOURCE_REMOVED: {
    severity: "moderate",
    short: "A static resource was removed from the server",
    full: "A static resource pinned in the lockfile is no longer listed by the server.",
  },
  RESOURCE_CHANGED: {
    severity: "moderate",
    short: "A static resource changed",
    full: "The static resource's name, description, MIME type or other members differ from the approved " +
      "ones." + SUSPICIOUS,
  },
  SERVER_NAME_CHANGED: {
    severity: "moderate",
    short: "The server's name changed",
    full: "serverInfo.name differs from the locked name.",
  },
  SERVER_VERSION_CHANGED: {
    severity: "info",
    short: "The server's version changed",
    full: "serverInfo.version differs from the locked version.",
  },
  SERVER_INFO_CHANGED: {
    severity: "moderate",
    short: "The server's identity changed",
    full: "A serverInfo member other than name and version (title, icons, websiteUrl, anything else) " +
      "differs from the locked one.",
  },
  SERVER_INSTRUCTIONS_CHANGED: {
    severity: "moderate",
    short: "The server's instructions changed",
    full: "The instructions in the initialize result (which hosts put in the model's context) were added, " +
      "removed or reworded." + SUSPICIOUS,
  },
  SERVER_PROTOCOL_CHANGED: {
    severity: "moderate",
    short: "The server's protocol era changed",
    full: "The server now speaks another MCP protocol era than when it was locked (the session era of " +
      "initialize, or the stateless era of server/discover, 2026-07-28); a new revision within the " +
      "stateless era is info. What the server exposes is compared item by item on its own.",
  },
};

/** Rule ids in index order: every drift type, then the policy rule. */
export const RULE_IDS: readonly string[] = [
  ...Object.keys(DRIFT_RULES).map((t) => RULE_PREFIX + t),
  POLICY_RULE_ID,
];

/** A failed rule of `check --policy`, as the check JSON's `policy.rules` carries it. */
interface PolicyRuleLike {
  name: string;
  severity: "warn" | "error";
  status: "pass" | "warn" | "fail";
  failure_msg?: string;
  error?: string;
}

/** What {@link renderCheckSarif} reads: a check result, with the policy verdict when `--policy` ran. */
export type SarifInput = CheckResult & {
  policy?: { name: string; preset: string; passed: boolean; rules: readonly PolicyRuleLike[] };
};

/** Options for {@link renderCheckSarif}. */
export interface SarifOptions {
  /** The lockfile's text, to point each result at the line of its item. Without it, line 1. */
  lockfileText?: string;
}

/** TOOL_ADDED -> "ToolAdded" (a rule's `name`, SARIF §3.49.7: a readable identifier). */
function ruleName(type: string): string {
  return type.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

function driftRule(type: DriftType) {
  const r = DRIFT_RULES[type];
  return {
    id: RULE_PREFIX + type,
    name: ruleName(type),
    shortDescription: { text: r.short },
    fullDescription: { text: r.full },
    helpUri: DRIFT_HELP_URI,
    help: {
      text: `${r.full} Review the change. If it is intended, approve it by re-locking: ` +
        "mcptrust lock --force -- <server command>; otherwise keep the server from running " +
        "(mcptrust proxy removes the changed item and denies calls to it).",
    },
    defaultConfiguration: { level: LEVEL_OF[r.severity] },
    properties: {
      tags: ["security", "mcp", "drift"],
      "security-severity": SECURITY_SEVERITY[r.severity],
    },
  };
}

const POLICY_RULE = {
  id: POLICY_RULE_ID,
  name: "PolicyRuleFailed",
  shortDescription: { text: "A policy rule failed" },
  fullDescription: {
    text: "A CEL rule of the policy given with --policy did not pass over the live server. The message " +
      "names the rule and its failure message.",
  },
  helpUri: `${MCPTRUST_INFORMATION_URI}/blob/main/docs/POLICY.md`,
  help: { text: "Change the server or the policy; `mcptrust policy explain` shows each rule." },
  defaultConfiguration: { level: "error" as SarifLevel },
  properties: { tags: ["security", "mcp", "policy"], "security-severity": SECURITY_SEVERITY.critical },
};

/**
 * The lockfile path as a SARIF artifact URI (SARIF §3.4.3): a relative URI reference with `/` separators
 * and percent-encoded segments, resolved against the repository root (`%SRCROOT%`) by GitHub; an absolute
 * path becomes a `file://` URI.
 */
export function artifactUri(path: string): { uri: string; uriBaseId?: string } {
  const slashed = path.replace(/\\/g, "/");
  const drive = /^[A-Za-z]:\//.test(slashed);
  const segments = slashed.split("/").filter((s) => s !== "" && s !== ".")
    .map((s, i) => drive && i === 0 ? s : encodeURIComponent(s));
  if (drive || slashed.startsWith("/")) return { uri: `file:///${segments.join("/")}` };
  return { uri: segments.join("/"), uriBaseId: "%SRCROOT%" };
}

/** JSON paths to try for an item, most specific first (v3 lockfile layout; v1/v2 share `tools`). */
function candidatePaths(d: DriftItem): Array<{ path: Segment[]; match?: [string, string] }> {
  const id = d.identifier;
  switch (d.type.split("_")[0]) {
    case "TOOL":
      return [{ path: ["tools", id] }, { path: ["tools"] }];
    case "PROMPT":
      return [{ path: ["prompts", "definitions", id] }, { path: ["prompts"] }];
    case "TEMPLATE":
      return [{ path: ["resources", "templates"], match: ["uriTemplate", id] }, { path: ["resources"] }];
    case "RESOURCE":
      return [{ path: ["resources", "static"], match: ["uri", id] }, { path: ["resources"] }];
    default: // SERVER_*
      return [{ path: ["server"] }];
  }
}

/** 1-based line of `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The 1-based line of the lockfile where the item `d` is pinned: the line of its key (for a template or
 * static resource, of its `uriTemplate` or `uri` member), else of its section, else 1. Never throws: an
 * unparsable lockfile gives 1.
 */
export function lockfileLine(text: string | undefined, d: DriftItem, tree?: Node): number {
  if (text === undefined) return 1;
  const root = tree ?? parseTree(text);
  if (!root) return 1;
  for (const c of candidatePaths(d)) {
    let node = findNodeAtLocation(root, c.path);
    if (!node) continue;
    if (c.match) {
      const [key, want] = c.match;
      // The line of the element's identifying member (`"uriTemplate": "..."`).
      node = node.type === "array"
        ? node.children?.map((el) => findNodeAtLocation(el, [key])).find((v) => v?.value === want)?.parent
        : undefined;
      if (!node) continue;
    } else if (node.parent?.type === "property") {
      node = node.parent; // the key's line, not the value's
    }
    return lineAt(text, node.offset);
  }
  return 1;
}

function fingerprint(parts: readonly string[]): string {
  return bytesToHex(sha256(new TextEncoder().encode(parts.join("\u0000"))));
}

function logicalKind(type: DriftType): string {
  if (type.startsWith("TOOL_")) return "function";
  if (type.startsWith("SERVER_")) return "module";
  return "resource";
}

/**
 * Builds the SARIF 2.1.0 log of a check result (see the module note for the shape).
 *
 * @param r the result of `check` (with `policy` when `--policy` ran)
 * @returns the log as a JSON value; it validates against the official SARIF 2.1.0 schema
 */
export function buildCheckSarif(r: SarifInput, opts: SarifOptions = {}): Record<string, unknown> {
  const tree = opts.lockfileText === undefined ? undefined : parseTree(opts.lockfileText);
  const location = artifactUri(r.lockfile);
  const at = (line: number) => ({
    physicalLocation: { artifactLocation: { ...location, index: 0 }, region: { startLine: line } },
  });
  const results: Record<string, unknown>[] = r.drift.map((d) => {
    const result: Record<string, unknown> = {
      ruleId: RULE_PREFIX + d.type,
      ruleIndex: RULE_IDS.indexOf(RULE_PREFIX + d.type),
      level: LEVEL_OF[d.severity],
      message: { text: d.message },
      locations: [{
        ...at(lockfileLine(opts.lockfileText, d, tree)),
        logicalLocations: [{ name: d.identifier, kind: logicalKind(d.type) }],
      }],
      partialFingerprints: {
        "mcptrustDrift/v1": fingerprint([d.type, d.identifier, d.oldHash ?? "", d.newHash ?? ""]),
      },
      properties: {
        severity: d.severity,
        identifier: d.identifier,
        ...(d.oldHash === undefined ? {} : { oldHash: d.oldHash }),
        ...(d.newHash === undefined ? {} : { newHash: d.newHash }),
      },
    };
    return result;
  });
  for (const rule of r.policy?.rules ?? []) {
    if (rule.status === "pass") continue;
    const why = rule.error ?? rule.failure_msg ?? "the rule did not pass";
    results.push({
      ruleId: POLICY_RULE_ID,
      ruleIndex: RULE_IDS.indexOf(POLICY_RULE_ID),
      level: rule.status === "fail" ? "error" : "warning",
      message: { text: `Policy ${r.policy!.name}: rule ${rule.name} failed: ${why}` },
      locations: [at(1)],
      partialFingerprints: { "mcptrustPolicy/v1": fingerprint([r.policy!.preset, rule.name, why]) },
      properties: { policy: r.policy!.preset, rule: rule.name, ruleSeverity: rule.severity },
    });
  }
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [{
      tool: {
        driver: {
          name: "mcptrust",
          version: VERSION,
          ...(/^\d+\.\d+\.\d+/.test(VERSION) ? { semanticVersion: VERSION } : {}),
          informationUri: MCPTRUST_INFORMATION_URI,
          rules: [...(Object.keys(DRIFT_RULES) as DriftType[]).map(driftRule), POLICY_RULE],
        },
      },
      automationDetails: { id: `mcptrust/check/${r.lockfile.replace(/\\/g, "/")}/` },
      artifacts: [{ location, roles: ["analysisTarget"] }],
      columnKind: "utf16CodeUnits",
      results,
      invocations: [{
        executionSuccessful: true,
        exitCode: r.outcome === "FAIL" ? 1 : 0,
      }],
      properties: {
        outcome: r.outcome,
        failOn: r.failOn,
        server: r.server,
        lockfile: r.lockfile,
        lockfileVersion: r.lockfileVersion,
        summary: r.summary,
        driftCount: r.drift.length,
        ...(r.policy
          ? { policy: { name: r.policy.name, preset: r.policy.preset, passed: r.policy.passed } }
          : {}),
        ...(r.notCompared ? { notCompared: r.notCompared } : {}),
      },
    }],
  };
}

/** {@link buildCheckSarif} as pretty-printed JSON text with a final newline. */
export function renderCheckSarif(r: SarifInput, opts: SarifOptions = {}): string {
  return JSON.stringify(buildCheckSarif(r, opts), null, 2) + "\n";
}

/**
 * {@link renderCheckSarif} for `check --format sarif`: reads the lockfile at `lockPath` again for the
 * results' line numbers (an unreadable file only costs the line numbers: every result then says line 1).
 */
export function renderCheckSarifFile(r: SarifInput, lockPath: string): string {
  let lockfileText: string | undefined;
  try {
    lockfileText = readFileSync(lockPath, "utf8");
  } catch {
    lockfileText = undefined;
  }
  return renderCheckSarif(r, { lockfileText });
}
