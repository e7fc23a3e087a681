/**
 * Item fingerprints: one string per locked item that changes whenever any of its locked hashes change.
 * The policy core compares the fingerprint of a live list item with the locked one, so a rug pull
 * (same name, new description, schema or annotations) is caught item by item, not just by name.
 *
 * For a lockfile written without this tool's extensions (the Go tool's v3), only the fields that file
 * has are compared, matching the drift engine.
 *
 * @module
 */
import { hashString } from "../lockfile/hashes.ts";
import { lockPrompt, lockResource, lockTemplate, lockTool } from "../lockfile/build.ts";
import type {
  LockfileV3,
  PromptLock,
  StaticResourceLock,
  TemplateLock,
  ToolLock,
} from "../lockfile/types.ts";
import type { McpPrompt, McpResource, McpResourceTemplate, McpTool } from "../mcp/types.ts";

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

/** sha256 over the selected hash fields: a fixed-size fingerprint whatever the item carries. */
function join<T>(entry: T, fields: readonly (keyof T)[]): string {
  return hashString(fields.map((f) => `${String(f)}=${String(entry[f] ?? "")}`).join("\n"));
}

/** True if the lockfile carries this tool's extensions (it always writes `resources.static`). */
export function hasExtensions(lock: LockfileV3): boolean {
  return lock.resources.static !== undefined;
}

/** Fingerprint of a locked tool entry. */
export function lockedToolFingerprint(entry: ToolLock, ext: boolean): string {
  return join(entry, ext ? TOOL_FIELDS : TOOL_FIELDS_GO);
}

/** Fingerprint of a live tool (as listed by the server). */
export function liveToolFingerprint(tool: McpTool, ext: boolean): string {
  return lockedToolFingerprint(lockTool(tool), ext);
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
  return join(entry, promptFields(entry, ext));
}

/** Fingerprint of a live prompt, using the fields its locked entry (if any) compares. */
export function livePromptFingerprint(
  prompt: McpPrompt,
  locked: PromptLock | undefined,
  ext: boolean,
): string {
  return join(lockPrompt(prompt), promptFields(locked, ext));
}

/** Fingerprint of a locked resource template. */
export function lockedTemplateFingerprint(entry: TemplateLock, ext: boolean): string {
  return join(entry, ext ? TEMPLATE_FIELDS : TEMPLATE_FIELDS_GO);
}

/** Fingerprint of a live resource template. */
export function liveTemplateFingerprint(t: McpResourceTemplate, ext: boolean): string {
  return lockedTemplateFingerprint(lockTemplate(t), ext);
}

/** Fingerprint of a locked static resource. */
export function lockedResourceFingerprint(entry: StaticResourceLock): string {
  return join(entry, RESOURCE_FIELDS);
}

/** Fingerprint of a live static resource. */
export function liveResourceFingerprint(r: McpResource): string {
  return lockedResourceFingerprint(lockResource(r));
}
