/**
 * Item fingerprints: one string per locked item that changes whenever any of its locked hashes change.
 * The policy core compares the fingerprint of a live list item with the locked one, so a rug pull
 * (same name, new description, schema, annotations, `_meta`, icons, or any other member) is caught item
 * by item, not just by name.
 *
 * The rule for what reaches the host: **every member the host receives is covered by the fingerprint.**
 * An entry locked by this tool carries `members` (every member hashed), so the whole item is covered
 * and passes as listed. An entry without it (the Go tool's v3, or an older mcptrust) covers only some
 * members; {@link coveredItem} then gives the item reduced to those, and the proxy forwards that.
 *
 * @module
 */
import { hashString } from "../lockfile/hashes.ts";
import { lockPrompt, lockResource, lockTemplate, lockTool } from "../lockfile/build.ts";
import { hashMemberMap } from "../lockfile/members.ts";
import type {
  Digest,
  LockfileV3,
  PromptLock,
  StaticResourceLock,
  TemplateLock,
  ToolLock,
} from "../lockfile/types.ts";
import type { McpPrompt, McpResource, McpResourceTemplate, McpTool } from "../mcp/types.ts";
import type { ItemKind } from "./policy_port.ts";

const TOOL_FIELDS = [
  "description_hash",
  "input_schema_hash",
  "title_hash",
  "output_schema_hash",
  "annotations_hash",
] as const;
const TOOL_FIELDS_GO = ["description_hash", "input_schema_hash"] as const;
const PROMPT_FIELDS = ["argumentsHash", "descriptionHash", "titleHash"] as const;
const TEMPLATE_FIELDS = ["templateHash", "nameHash", "descriptionHash"] as const;
const TEMPLATE_FIELDS_GO = ["templateHash"] as const;
const RESOURCE_FIELDS = ["nameHash", "descriptionHash", "mimeTypeHash"] as const;

type WithMembers = { members?: Record<string, Digest> };

/**
 * sha256 over the selected hash fields, plus the member map when `withMembers`: a fixed-size
 * fingerprint whatever the item carries.
 */
function join<T extends WithMembers>(entry: T, fields: readonly (keyof T)[], withMembers: boolean): string {
  const parts = fields.map((f) => `${String(f)}=${String(entry[f] ?? "")}`);
  if (withMembers) parts.push(`members=${hashMemberMap(entry.members ?? {})}`);
  return hashString(parts.join("\n"));
}

/** True if the lockfile carries this tool's extensions (it always writes `resources.static`). */
export function hasExtensions(lock: LockfileV3): boolean {
  return lock.resources.static !== undefined;
}

/** Fingerprint of a locked tool entry. */
export function lockedToolFingerprint(entry: ToolLock, ext: boolean): string {
  return join(entry, ext ? TOOL_FIELDS : TOOL_FIELDS_GO, entry.members !== undefined);
}

/** Fingerprint of a live tool, using the fields its locked entry (if any) covers. */
export function liveToolFingerprint(tool: McpTool, locked: ToolLock | undefined, ext: boolean): string {
  return join(lockTool(tool), ext ? TOOL_FIELDS : TOOL_FIELDS_GO, locked?.members !== undefined);
}

/**
 * Prompt fingerprints. Without extensions, the description is compared only where the lockfile has a
 * description hash (the Go tool's rule), so the locked entry decides the fields.
 */
export function promptFields(locked: PromptLock | undefined, ext: boolean): readonly (keyof PromptLock)[] {
  if (ext || !locked) return PROMPT_FIELDS;
  return PROMPT_FIELDS.filter((f) =>
    f === "argumentsHash" || (f === "descriptionHash" && locked.descriptionHash)
  );
}

/** Fingerprint of a locked prompt. */
export function lockedPromptFingerprint(entry: PromptLock, ext: boolean): string {
  return join(entry, promptFields(entry, ext), entry.members !== undefined);
}

/** Fingerprint of a live prompt, using the fields its locked entry (if any) covers. */
export function livePromptFingerprint(
  prompt: McpPrompt,
  locked: PromptLock | undefined,
  ext: boolean,
): string {
  return join(lockPrompt(prompt), promptFields(locked, ext), locked?.members !== undefined);
}

/** Fingerprint of a locked resource template. */
export function lockedTemplateFingerprint(entry: TemplateLock, ext: boolean): string {
  return join(entry, ext ? TEMPLATE_FIELDS : TEMPLATE_FIELDS_GO, entry.members !== undefined);
}

/** Fingerprint of a live resource template, using the fields its locked entry (if any) covers. */
export function liveTemplateFingerprint(
  t: McpResourceTemplate,
  locked: TemplateLock | undefined,
  ext: boolean,
): string {
  return join(lockTemplate(t), ext ? TEMPLATE_FIELDS : TEMPLATE_FIELDS_GO, locked?.members !== undefined);
}

/** Fingerprint of a locked static resource. */
export function lockedResourceFingerprint(entry: StaticResourceLock): string {
  return join(entry, RESOURCE_FIELDS, entry.members !== undefined);
}

/** Fingerprint of a live static resource, using the fields its locked entry (if any) covers. */
export function liveResourceFingerprint(r: McpResource, locked: StaticResourceLock | undefined): string {
  return join(lockResource(r), RESOURCE_FIELDS, locked?.members !== undefined);
}

/** The members each kind's hash fields cover, for an entry without a member map. */
const COVERED: Record<ItemKind, { go: readonly string[]; ext: readonly string[] }> = {
  tool: {
    go: ["name", "description", "inputSchema"],
    ext: ["name", "description", "inputSchema", "title", "outputSchema", "annotations"],
  },
  prompt: { go: ["name", "arguments"], ext: ["name", "arguments", "description", "title"] },
  template: { go: ["uriTemplate", "mimeType"], ext: ["uriTemplate", "mimeType", "name", "description"] },
  resource: { go: ["uri"], ext: ["uri", "name", "description", "mimeType"] },
};

/** The item as the host may see it, and the members left out because the fingerprint does not cover them. */
export interface CoveredItem {
  item: Record<string, unknown>;
  stripped: string[];
}

/**
 * `item` reduced to the members its locked entry's fingerprint covers. An entry with a member map
 * covers every member, so the item comes back as is (same object, nothing copied).
 *
 * @param locked the item's locked entry; must exist (an unlocked item never reaches the host)
 * @param ext whether the lockfile carries this tool's extensions ({@link hasExtensions})
 */
export function coveredItem(
  kind: ItemKind,
  item: Record<string, unknown>,
  locked: WithMembers & { descriptionHash?: string },
  ext: boolean,
): CoveredItem {
  if (locked.members !== undefined) return { item, stripped: [] };
  let allowed = COVERED[kind][ext ? "ext" : "go"];
  if (kind === "prompt" && !ext && locked.descriptionHash) allowed = [...allowed, "description"];
  const out: Record<string, unknown> = {};
  const stripped: string[] = [];
  for (const m of Object.keys(item)) {
    if (allowed.includes(m)) out[m] = item[m];
    else stripped.push(m);
  }
  if (kind === "prompt" && Array.isArray(out.arguments)) {
    // The Go arguments hash covers each argument's name, description and required only.
    out.arguments = out.arguments.map((a) => {
      if (typeof a !== "object" || a === null) return a;
      const r: Record<string, unknown> = {};
      for (const k of ["name", "description", "required"]) {
        if ((a as Record<string, unknown>)[k] !== undefined) r[k] = (a as Record<string, unknown>)[k];
      }
      if (Object.keys(r).length !== Object.keys(a).length) stripped.push("arguments[].*");
      return r;
    });
  }
  return { item: out, stripped };
}
