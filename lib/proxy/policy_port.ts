/**
 * What the proxy session asks of the policy: decisions on host messages and on each item of every list
 * result. The WebAssembly policy core implements it (lib/proxy/core_policy.ts); tests may give a stub.
 *
 * @module
 */

/** The kinds of list items. */
export type ItemKind = "tool" | "prompt" | "resource" | "template";

/** A decision. `reason` (when denied) says what was refused, why, and what to do. */
export interface PolicyVerdict {
  allow: boolean;
  reason?: string;
  /**
   * For an allowed list item: the item as the host may see it, when that differs from the listed one
   * (members its locked entry does not cover are left out), and the names of those members.
   */
  item?: Record<string, unknown>;
  stripped?: string[];
}

/** The policy as the proxy session uses it. Implementations must fail closed (deny on internal error). */
export interface ProxyPolicy {
  /** Decision for a host request or notification by method and params. */
  checkHostMessage(method: string, params: unknown): PolicyVerdict;
  /** Decision for a server-to-client request or a server notification. */
  checkServerMessage(method: string, params: unknown): PolicyVerdict;
  /**
   * Decisions for the items of one list result (one page), in order; also records whether each item is
   * verified or drifted for later calls.
   */
  checkList(kind: ItemKind, items: readonly Record<string, unknown>[]): PolicyVerdict[];
  /** A `notifications/<kind>s/list_changed`: verification state is stale until the next list. */
  markStale(kind: ItemKind): void;
}

/** List methods, the result key of their items and the kind of item. */
export const LIST_KINDS: Record<string, { key: string; kind: ItemKind }> = {
  "tools/list": { key: "tools", kind: "tool" },
  "prompts/list": { key: "prompts", kind: "prompt" },
  "resources/list": { key: "resources", kind: "resource" },
  "resources/templates/list": { key: "resourceTemplates", kind: "template" },
};
