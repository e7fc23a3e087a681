/**
 * The drift engine: compares a lockfile with a live server interface.
 *
 * The Go v3 table (reference §4.2) plus what it misses: annotations (a change that weakens safety is
 * critical, other changes moderate), titles and outputSchema (moderate), static resources (added
 * critical, removed or changed moderate), risk level raised (moderate) or lowered (info), server name
 * (moderate) and version (info). Output order is deterministic.
 *
 * @module
 */
import { lockPrompt, lockResource, lockTemplate, lockTool } from "../lockfile/build.ts";
import { compareCodePoints } from "../lockfile/canonical.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";
import type { AnnotationHints, ToolLock } from "../lockfile/types.ts";
import type { ServerInterface } from "../mcp/types.ts";
import type { DriftItem, DriftReport, DriftType, Severity } from "./types.ts";

const SECTION: Record<string, number> = { SERVER: 0, PROMPT: 1, TEMPLATE: 2, RESOURCE: 3, TOOL: 4 };

/** First 20 characters of a hash and an ellipsis, as the Go tool prints hashes in messages. */
export function truncHash(h: string | undefined): string {
  if (!h) return "(none)";
  return h.length > 20 ? h.slice(0, 20) + "..." : h;
}

/**
 * Effective annotation hints with the MCP spec defaults (readOnlyHint false, destructiveHint true,
 * idempotentHint false, openWorldHint true; MCP spec 2025-06-18 "ToolAnnotations").
 */
export function effectiveHints(h: AnnotationHints | undefined): Required<AnnotationHints> {
  return {
    readOnlyHint: h?.readOnlyHint ?? false,
    destructiveHint: h?.destructiveHint ?? true,
    idempotentHint: h?.idempotentHint ?? false,
    openWorldHint: h?.openWorldHint ?? true,
  };
}

/** The safety-weakening changes between two sets of hints, e.g. ["readOnlyHint true -> false"]. */
export function weakenedHints(
  before: AnnotationHints | undefined,
  after: AnnotationHints | undefined,
): string[] {
  const a = effectiveHints(before);
  const b = effectiveHints(after);
  const out: string[] = [];
  if (a.readOnlyHint && !b.readOnlyHint) out.push("readOnlyHint true -> false");
  // A read-only tool's destructiveHint is meaningless (MCP spec), so only compare when not read-only.
  if (!b.readOnlyHint && !a.destructiveHint && b.destructiveHint) out.push("destructiveHint false -> true");
  if (!a.openWorldHint && b.openWorldHint) out.push("openWorldHint false -> true");
  return out;
}

const RISK_RANK = { LOW: 0, MEDIUM: 1, HIGH: 2 } as const;

/**
 * Compares `loaded` with `live`.
 *
 * @returns the drift items in a stable order (section, identifier, type) and what could not be compared
 */
export function compareLockfile(loaded: LoadedLockfile, live: ServerInterface): DriftReport {
  const items: DriftItem[] = [];
  const notCompared: string[] = [];
  const add = (
    type: DriftType,
    severity: Severity,
    identifier: string,
    message: string,
    oldHash?: string,
    newHash?: string,
  ) => {
    const item: DriftItem = { type, severity, identifier, message };
    if (oldHash !== undefined) item.oldHash = oldHash;
    if (newHash !== undefined) item.newHash = newHash;
    items.push(item);
  };

  if (loaded.version === "3") {
    const lock = loaded.lockfile;
    const ext = lock.resources.static !== undefined; // written by this tool: extensions are meaningful
    if (!ext) {
      notCompared.push(
        "static resources, tool annotations, titles and output schemas (the lockfile was written without them; re-lock with this tool to pin them)",
      );
    }
    if (lock.server.name !== live.serverInfo.name) {
      add(
        "SERVER_NAME_CHANGED",
        "moderate",
        lock.server.name,
        `Server name changed from [${lock.server.name}] to [${live.serverInfo.name}]`,
      );
    }
    if (
      ext && lock.server.version !== undefined && live.serverInfo.version !== undefined &&
      lock.server.version !== live.serverInfo.version
    ) {
      add(
        "SERVER_VERSION_CHANGED",
        "info",
        lock.server.name,
        `Server version changed from ${lock.server.version} to ${live.serverInfo.version}`,
      );
    }

    // Prompts
    const livePrompts = new Map(live.prompts.map((p) => [p.name, p]));
    for (const [name, locked] of Object.entries(lock.prompts.definitions)) {
      const p = livePrompts.get(name);
      if (!p) {
        add("PROMPT_REMOVED", "critical", name, `Prompt [${name}] has been removed from the server`);
        continue;
      }
      const now = lockPrompt(p);
      if (now.argumentsHash !== locked.argumentsHash) {
        add(
          "PROMPT_ARGS_CHANGED",
          "critical",
          name,
          `Prompt [${name}] arguments changed: ${truncHash(locked.argumentsHash)} → ${
            truncHash(now.argumentsHash)
          }`,
          locked.argumentsHash,
          now.argumentsHash,
        );
      }
      if ((locked.descriptionHash ?? "") !== (now.descriptionHash ?? "") && (ext || locked.descriptionHash)) {
        add(
          "PROMPT_DESC_CHANGED",
          "moderate",
          name,
          `Prompt [${name}] description changed`,
          locked.descriptionHash,
          now.descriptionHash,
        );
      }
      if (ext && (locked.titleHash ?? "") !== (now.titleHash ?? "")) {
        add(
          "PROMPT_TITLE_CHANGED",
          "moderate",
          name,
          `Prompt [${name}] title changed`,
          locked.titleHash,
          now.titleHash,
        );
      }
    }
    for (const p of live.prompts) {
      if (!Object.hasOwn(lock.prompts.definitions, p.name)) {
        add("PROMPT_ADDED", "critical", p.name, `Prompt [${p.name}] has been added to the server`);
      }
    }

    // Resource templates
    const liveTemplates = new Map(live.resourceTemplates.map((t) => [t.uriTemplate, t]));
    const lockedTemplates = new Set<string>();
    for (const locked of lock.resources.templates) {
      lockedTemplates.add(locked.uriTemplate);
      const t = liveTemplates.get(locked.uriTemplate);
      if (!t) {
        add(
          "TEMPLATE_REMOVED",
          "critical",
          locked.uriTemplate,
          `Template [${locked.uriTemplate}] has been removed from the server`,
        );
        continue;
      }
      const now = lockTemplate(t);
      if (now.templateHash !== locked.templateHash) {
        add(
          "TEMPLATE_CHANGED",
          "critical",
          locked.uriTemplate,
          `Template [${locked.uriTemplate}] changed: ${truncHash(locked.templateHash)} → ${
            truncHash(now.templateHash)
          }`,
          locked.templateHash,
          now.templateHash,
        );
      }
      if (
        ext &&
        ((locked.nameHash ?? "") !== (now.nameHash ?? "") ||
          (locked.descriptionHash ?? "") !== (now.descriptionHash ?? ""))
      ) {
        add(
          "TEMPLATE_DESC_CHANGED",
          "moderate",
          locked.uriTemplate,
          `Template [${locked.uriTemplate}] name or description changed`,
        );
      }
    }
    for (const t of live.resourceTemplates) {
      if (!lockedTemplates.has(t.uriTemplate)) {
        add(
          "TEMPLATE_ADDED",
          "critical",
          t.uriTemplate,
          `Template [${t.uriTemplate}] has been added to the server`,
        );
      }
    }

    // Static resources (extension)
    if (ext) {
      const liveRes = new Map(live.resources.map((r) => [r.uri, r]));
      const lockedRes = new Set<string>();
      for (const locked of lock.resources.static!) {
        lockedRes.add(locked.uri);
        const r = liveRes.get(locked.uri);
        if (!r) {
          add(
            "RESOURCE_REMOVED",
            "moderate",
            locked.uri,
            `Resource [${locked.uri}] has been removed from the server`,
          );
          continue;
        }
        const now = lockResource(r);
        const changed = (["nameHash", "descriptionHash", "mimeTypeHash"] as const).filter((k) =>
          (locked[k] ?? "") !== (now[k] ?? "")
        );
        if (changed.length) {
          add(
            "RESOURCE_CHANGED",
            "moderate",
            locked.uri,
            `Resource [${locked.uri}] ${changed.map((k) => k.replace("Hash", "")).join(", ")} changed`,
          );
        }
      }
      for (const r of live.resources) {
        if (!lockedRes.has(r.uri)) {
          add("RESOURCE_ADDED", "critical", r.uri, `Resource [${r.uri}] has been added to the server`);
        }
      }
    }
    compareTools(lock.tools, live, ext, add);
  } else {
    notCompared.push(
      `prompts, resources, resource templates, annotations and titles (a v${loaded.version} lockfile pins tools only; re-lock to get v3)`,
    );
    compareTools(loaded.lockfile.tools, live, false, add);
  }

  items.sort((a, b) =>
    SECTION[a.type.split("_")[0]] - SECTION[b.type.split("_")[0]] ||
    compareCodePoints(a.identifier, b.identifier) ||
    compareCodePoints(a.type, b.type) ||
    compareCodePoints(a.message, b.message)
  );
  return { items, notCompared };
}

function compareTools(
  locked: Record<
    string,
    Partial<ToolLock> & Pick<ToolLock, "description_hash" | "input_schema_hash" | "risk_level">
  >,
  live: ServerInterface,
  ext: boolean,
  add: (
    type: DriftType,
    severity: Severity,
    identifier: string,
    message: string,
    oldHash?: string,
    newHash?: string,
  ) => void,
): void {
  const liveTools = new Map(live.tools.map((t) => [t.name, t]));
  for (const [name, l] of Object.entries(locked)) {
    const t = liveTools.get(name);
    if (!t) {
      add("TOOL_REMOVED", "critical", name, `Tool [${name}] has been removed from the server`);
      continue;
    }
    const now = lockTool(t);
    if (now.description_hash !== l.description_hash) {
      add(
        "TOOL_CHANGED",
        "moderate",
        name,
        `Tool [${name}] description changed`,
        l.description_hash,
        now.description_hash,
      );
    }
    if (now.input_schema_hash !== l.input_schema_hash) {
      add(
        "TOOL_CHANGED",
        "critical",
        name,
        `Tool [${name}] schema changed: ${truncHash(l.input_schema_hash)} → ${
          truncHash(now.input_schema_hash)
        }`,
        l.input_schema_hash,
        now.input_schema_hash,
      );
    }
    if (RISK_RANK[now.risk_level] > RISK_RANK[l.risk_level]) {
      add(
        "TOOL_RISK_CHANGED",
        "moderate",
        name,
        `Tool [${name}] risk level raised from ${l.risk_level} to ${now.risk_level}`,
      );
    } else if (RISK_RANK[now.risk_level] < RISK_RANK[l.risk_level]) {
      add(
        "TOOL_RISK_CHANGED",
        "info",
        name,
        `Tool [${name}] risk level lowered from ${l.risk_level} to ${now.risk_level}`,
      );
    }
    if (!ext) continue;
    if ((l.title_hash ?? "") !== (now.title_hash ?? "")) {
      add(
        "TOOL_TITLE_CHANGED",
        "moderate",
        name,
        `Tool [${name}] title changed`,
        l.title_hash,
        now.title_hash,
      );
    }
    if ((l.output_schema_hash ?? "") !== (now.output_schema_hash ?? "")) {
      add(
        "TOOL_OUTPUT_SCHEMA_CHANGED",
        "moderate",
        name,
        `Tool [${name}] output schema changed`,
        l.output_schema_hash,
        now.output_schema_hash,
      );
    }
    if ((l.annotations_hash ?? "") !== (now.annotations_hash ?? "")) {
      const weakened = weakenedHints(l.annotations, now.annotations);
      if (weakened.length) {
        add(
          "TOOL_ANNOTATIONS_CHANGED",
          "critical",
          name,
          `Tool [${name}] annotations weakened: ${weakened.join(", ")}`,
          l.annotations_hash,
          now.annotations_hash,
        );
      } else {
        add(
          "TOOL_ANNOTATIONS_CHANGED",
          "moderate",
          name,
          `Tool [${name}] annotations changed`,
          l.annotations_hash,
          now.annotations_hash,
        );
      }
    }
  }
  for (const t of live.tools) {
    if (!Object.hasOwn(locked, t.name)) {
      add("TOOL_ADDED", "critical", t.name, `Tool [${t.name}] has been added to the server`);
    }
  }
}

/** The highest severity among `items`, or undefined if there are none. */
export function maxSeverity(items: readonly DriftItem[]): Severity | undefined {
  let max: Severity | undefined;
  const rank = { info: 0, moderate: 1, critical: 2 };
  for (const i of items) if (max === undefined || rank[i.severity] > rank[max]) max = i.severity;
  return max;
}
