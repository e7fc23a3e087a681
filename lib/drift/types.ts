/**
 * Drift items: what differs between a lockfile and a live server.
 *
 * @module
 */

/** Drift severities, lowest to highest; strings as in the Go tool's JSON (reference §1.4). */
export type Severity = "info" | "moderate" | "critical";

/** Severity rank for comparisons (`--fail-on`). */
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, moderate: 1, critical: 2 };

/**
 * Drift types. The first block are the Go tool's v3 types (reference §4.2), kept for compatibility of
 * `check --format json`; the rest cover what the Go tool does not lock.
 */
export type DriftType =
  | "PROMPT_REMOVED"
  | "PROMPT_ADDED"
  | "PROMPT_ARGS_CHANGED"
  | "PROMPT_DESC_CHANGED"
  | "TEMPLATE_REMOVED"
  | "TEMPLATE_ADDED"
  | "TEMPLATE_CHANGED"
  | "TOOL_REMOVED"
  | "TOOL_ADDED"
  | "TOOL_CHANGED"
  // extensions
  | "PROMPT_TITLE_CHANGED"
  | "TEMPLATE_DESC_CHANGED"
  | "TOOL_TITLE_CHANGED"
  | "TOOL_OUTPUT_SCHEMA_CHANGED"
  | "TOOL_ANNOTATIONS_CHANGED"
  | "TOOL_RISK_CHANGED"
  | "RESOURCE_ADDED"
  | "RESOURCE_REMOVED"
  | "RESOURCE_CHANGED"
  | "SERVER_NAME_CHANGED"
  | "SERVER_VERSION_CHANGED"
  | "SERVER_INFO_CHANGED"
  | "SERVER_INSTRUCTIONS_CHANGED"
  | "SERVER_PROTOCOL_CHANGED"
  | "TOOL_MEMBERS_CHANGED"
  | "PROMPT_MEMBERS_CHANGED"
  | "TEMPLATE_MEMBERS_CHANGED";

/** One difference. Field names as in the Go tool's check JSON. */
export interface DriftItem {
  type: DriftType;
  severity: Severity;
  /** The tool/prompt name, template uriTemplate or resource uri. */
  identifier: string;
  oldHash?: string;
  newHash?: string;
  message: string;
}

/** The result of comparing a lockfile with a live server. */
export interface DriftReport {
  items: DriftItem[];
  /** What could not be compared (e.g. prompts in a v2 lockfile), one sentence each. */
  notCompared: string[];
}
