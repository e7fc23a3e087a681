/**
 * Decisions of the policy core, as the proxy sees them: names for the core's numeric codes
 * (wasm/codes.ts) and the small immutable {@link Decision} record.
 *
 * @module
 */
import * as C from "../../wasm/codes.ts";

/** Why something was allowed or denied. Allow codes: PASS, LIST, LOCKED, TEMPLATE_MATCH, VERIFIED. */
export type DecisionCode =
  | "PASS"
  | "LIST"
  | "LOCKED"
  | "TEMPLATE_MATCH"
  | "VERIFIED"
  | "CORE_FAILURE"
  | "UNKNOWN_METHOD"
  | "WRONG_DIRECTION"
  | "INVALID_PARAMS"
  | "INVALID_TEXT"
  | "INPUT_TOO_LONG"
  | "NOT_LOCKED"
  | "NOT_OFFERED"
  | "DRIFTED"
  | "STALE"
  | "DUPLICATE_IN_LIST"
  | "URI_MALFORMED"
  | "URI_BAD_ESCAPE"
  | "URI_DOUBLE_ENCODED"
  | "URI_BAD_CHAR"
  | "URI_BAD_UTF8"
  | "URI_EMPTY_SEGMENT"
  | "URI_ABOVE_ROOT"
  | "URI_ENCODED_AUTHORITY"
  | "URI_DOT_SEGMENT";

/** What a decision is about. */
export type Subject = "none" | "tool" | "prompt" | "resource" | "template" | "method";

/** Kinds of locked items; each is listed by one MCP list method. */
export type ItemKind = "tool" | "prompt" | "resource" | "template";

/** Verification state of a locked item (see wasm/policy.ts). */
export type ItemState = "unseen" | "verified" | "drifted" | "stale";

/** One allow/deny decision. Immutable; `reasonFor` (reasons.ts) renders it for users. */
export interface Decision {
  /** True only for the allow codes. */
  readonly allow: boolean;
  readonly code: DecisionCode;
  readonly subject: Subject;
  /** Index of the allowlist item (or method id, for subject "method") that decided; -1 for none. */
  readonly rule: number;
  /** That item's key (tool or prompt name, resource uri, uriTemplate) or method name; "" for none. */
  readonly ruleKey: string;
}

/** Code names by number; holes are numbers the core must never return. */
export const CODE_NAMES: readonly (DecisionCode | undefined)[] = (() => {
  const names: (DecisionCode | undefined)[] = new Array(C.LAST_CODE + 1).fill(undefined);
  const set = (n: number, name: DecisionCode) => (names[n] = name);
  set(C.PASS, "PASS");
  set(C.LIST, "LIST");
  set(C.LOCKED, "LOCKED");
  set(C.TEMPLATE_MATCH, "TEMPLATE_MATCH");
  set(C.VERIFIED, "VERIFIED");
  set(C.CORE_FAILURE, "CORE_FAILURE");
  set(C.UNKNOWN_METHOD, "UNKNOWN_METHOD");
  set(C.WRONG_DIRECTION, "WRONG_DIRECTION");
  set(C.INVALID_PARAMS, "INVALID_PARAMS");
  set(C.INVALID_TEXT, "INVALID_TEXT");
  set(C.INPUT_TOO_LONG, "INPUT_TOO_LONG");
  set(C.NOT_LOCKED, "NOT_LOCKED");
  set(C.NOT_OFFERED, "NOT_OFFERED");
  set(C.DRIFTED, "DRIFTED");
  set(C.STALE, "STALE");
  set(C.DUPLICATE_IN_LIST, "DUPLICATE_IN_LIST");
  set(C.URI_MALFORMED, "URI_MALFORMED");
  set(C.URI_BAD_ESCAPE, "URI_BAD_ESCAPE");
  set(C.URI_DOUBLE_ENCODED, "URI_DOUBLE_ENCODED");
  set(C.URI_BAD_CHAR, "URI_BAD_CHAR");
  set(C.URI_BAD_UTF8, "URI_BAD_UTF8");
  set(C.URI_EMPTY_SEGMENT, "URI_EMPTY_SEGMENT");
  set(C.URI_ABOVE_ROOT, "URI_ABOVE_ROOT");
  set(C.URI_ENCODED_AUTHORITY, "URI_ENCODED_AUTHORITY");
  set(C.URI_DOT_SEGMENT, "URI_DOT_SEGMENT");
  return names;
})();

/** Subject names by number (wasm/codes.ts SUBJECT_*). */
export const SUBJECT_NAMES: readonly Subject[] = ["none", "tool", "prompt", "resource", "template", "method"];

/** Item kind numbers (wasm/codes.ts KIND_*). */
export const KIND_NUMBERS: Readonly<Record<ItemKind, number>> = {
  tool: C.KIND_TOOL,
  prompt: C.KIND_PROMPT,
  resource: C.KIND_RESOURCE,
  template: C.KIND_TEMPLATE,
};

/** State names by number (wasm/codes.ts STATE_*). */
export const STATE_NAMES: readonly ItemState[] = ["unseen", "verified", "drifted", "stale"];

/** True for the codes that allow. */
export function isAllowCode(code: number): boolean {
  return code >= 1 && code <= C.LAST_ALLOW;
}
