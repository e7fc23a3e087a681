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
import { lockPrompt, lockResource, lockServer, lockTemplate, lockTool } from "../lockfile/build.ts";
import { compareCodePoints } from "../lockfile/canonical.ts";
import type { LoadedLockfile } from "../lockfile/load.ts";
import { changedMembers } from "../lockfile/members.ts";
import { lockedProtocol } from "../lockfile/protocol.ts";
import type { AnnotationHints, Digest, LockfileV3, ProtocolLock, ToolLock } from "../lockfile/types.ts";
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

type Add = (
  type: DriftType,
  severity: Severity,
  id: string,
  message: string,
  oldHash?: string,
  newHash?: string,
) => void;

/**
 * Pairs locked entries with live items by key: calls `removed` for locked keys the server no longer
 * lists, `changed` for keys on both sides, `added` for live keys the lockfile does not have.
 */
function pairUp<L, T>(
  locked: Iterable<[string, L]>,
  live: readonly T[],
  keyOf: (t: T) => string,
  on: {
    removed: (key: string) => void;
    changed: (key: string, locked: L, live: T) => void;
    added: (key: string) => void;
  },
): void {
  const liveByKey = new Map(live.map((t) => [keyOf(t), t]));
  const lockedKeys = new Set<string>();
  for (const [key, l] of locked) {
    lockedKeys.add(key);
    const t = liveByKey.get(key);
    if (t === undefined) on.removed(key);
    else on.changed(key, l, t);
  }
  for (const t of live) if (!lockedKeys.has(keyOf(t))) on.added(keyOf(t));
}

/** True if two optional hashes differ ("" and absent are the same). */
const differ = (a: string | undefined, b: string | undefined) => (a ?? "") !== (b ?? "");

/**
 * The suspicious-text findings of `field` that the live text has and the locked text did not (codes as
 * lib/scan/suspicious_text.ts findingCodes writes them). A lockfile without finding codes (the Go
 * tool's, an older mcptrust) counts as "no findings", so every finding of a changed text is new.
 */
export function introducedFindings(
  locked: readonly string[] | undefined,
  live: readonly string[] | undefined,
  field: string,
): string[] {
  const had = new Set(locked ?? []);
  return (live ?? []).filter((c) => c.startsWith(field + ":") && !had.has(c)).map((c) =>
    c.slice(field.length + 1)
  );
}

/**
 * Severity and message suffix of a changed text: critical when the change introduces a suspicious-text
 * finding (instruction-like text, hidden characters), which is how a poisoned description looks; plain
 * rewording stays `base`.
 */
function textChange(
  base: Severity,
  locked: readonly string[] | undefined,
  live: readonly string[] | undefined,
  fields: readonly string[],
): { severity: Severity; suffix: string } {
  const found = fields.flatMap((f) => introducedFindings(locked, live, f).map((c) => `${f}: ${c}`));
  if (!found.length) return { severity: base, suffix: "" };
  return { severity: "critical", suffix: ` and now contains suspicious text (${found.join("; ")})` };
}

/** Reports members changed beyond those already reported by name (`reported`), as one moderate item. */
function memberDrift(
  add: Add,
  type: DriftType,
  what: string,
  id: string,
  locked: Record<string, Digest> | undefined,
  live: Record<string, Digest> | undefined,
  reported: readonly string[],
): void {
  if (locked === undefined || live === undefined) return;
  const rest = changedMembers(locked, live).filter((m) => !reported.includes(m));
  if (rest.length) add(type, "moderate", id, `${what} [${id}] members changed: ${rest.join(", ")}`);
}

/**
 * Compares `loaded` with `live`.
 *
 * @returns the drift items in a stable order (section, identifier, type) and what could not be compared
 */
export function compareLockfile(loaded: LoadedLockfile, live: ServerInterface): DriftReport {
  const items: DriftItem[] = [];
  const notCompared: string[] = [];
  const add: Add = (type, severity, identifier, message, oldHash, newHash) => {
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
    const server = lock.server.name;
    if (server !== live.serverInfo.name) {
      add(
        "SERVER_NAME_CHANGED",
        "moderate",
        server,
        `Server name changed from [${server}] to [${live.serverInfo.name}]`,
      );
    }
    const [was, now] = [lock.server.version, live.serverInfo.version];
    if (ext && was !== undefined && now !== undefined && was !== now) {
      add("SERVER_VERSION_CHANGED", "info", server, `Server version changed from ${was} to ${now}`);
    }
    compareServer(lock.server, live, add, notCompared);
    compareProtocol(lockedProtocol(loaded), live, server, add);

    pairUp(Object.entries(lock.prompts.definitions), live.prompts, (p) => p.name, {
      removed: (name) =>
        add("PROMPT_REMOVED", "critical", name, `Prompt [${name}] has been removed from the server`),
      added: (name) => add("PROMPT_ADDED", "critical", name, `Prompt [${name}] has been added to the server`),
      changed(name, l, p) {
        const now = lockPrompt(p);
        if (now.argumentsHash !== l.argumentsHash) {
          const how = `${truncHash(l.argumentsHash)} → ${truncHash(now.argumentsHash)}`;
          add(
            "PROMPT_ARGS_CHANGED",
            "critical",
            name,
            `Prompt [${name}] arguments changed: ${how}`,
            l.argumentsHash,
            now.argumentsHash,
          );
        }
        const reported = now.argumentsHash !== l.argumentsHash ? ["arguments"] : [];
        // The Go tool compares a description only when the lockfile has one.
        if (differ(l.descriptionHash, now.descriptionHash) && (ext || l.descriptionHash)) {
          const t = textChange("moderate", l.textFindings, now.textFindings, ["description"]);
          add(
            "PROMPT_DESC_CHANGED",
            t.severity,
            name,
            `Prompt [${name}] description changed${t.suffix}`,
            l.descriptionHash,
            now.descriptionHash,
          );
          reported.push("description");
        }
        if (ext && differ(l.titleHash, now.titleHash)) {
          const t = textChange("moderate", l.textFindings, now.textFindings, ["title"]);
          add(
            "PROMPT_TITLE_CHANGED",
            t.severity,
            name,
            `Prompt [${name}] title changed${t.suffix}`,
            l.titleHash,
            now.titleHash,
          );
          reported.push("title");
        }
        memberDrift(add, "PROMPT_MEMBERS_CHANGED", "Prompt", name, l.members, now.members, reported);
      },
    });

    pairUp(
      lock.resources.templates.map((t) => [t.uriTemplate, t]),
      live.resourceTemplates,
      (t) => t.uriTemplate,
      {
        removed: (u) =>
          add("TEMPLATE_REMOVED", "critical", u, `Template [${u}] has been removed from the server`),
        added: (u) => add("TEMPLATE_ADDED", "critical", u, `Template [${u}] has been added to the server`),
        changed(u, l, t) {
          const now = lockTemplate(t);
          if (now.templateHash !== l.templateHash) {
            const how = `${truncHash(l.templateHash)} → ${truncHash(now.templateHash)}`;
            add(
              "TEMPLATE_CHANGED",
              "critical",
              u,
              `Template [${u}] changed: ${how}`,
              l.templateHash,
              now.templateHash,
            );
          }
          const reported = now.templateHash !== l.templateHash ? ["mimeType"] : [];
          if (ext && (differ(l.nameHash, now.nameHash) || differ(l.descriptionHash, now.descriptionHash))) {
            const t = textChange("moderate", l.textFindings, now.textFindings, ["name", "description"]);
            add(
              "TEMPLATE_DESC_CHANGED",
              t.severity,
              u,
              `Template [${u}] name or description changed${t.suffix}`,
            );
            reported.push("name", "description");
          }
          memberDrift(add, "TEMPLATE_MEMBERS_CHANGED", "Template", u, l.members, now.members, reported);
        },
      },
    );

    if (ext) {
      pairUp(lock.resources.static!.map((r) => [r.uri, r]), live.resources, (r) => r.uri, {
        removed: (u) =>
          add("RESOURCE_REMOVED", "moderate", u, `Resource [${u}] has been removed from the server`),
        added: (u) => add("RESOURCE_ADDED", "critical", u, `Resource [${u}] has been added to the server`),
        changed(u, l, r) {
          const now = lockResource(r);
          const fields = (["nameHash", "descriptionHash", "mimeTypeHash"] as const).filter((k) =>
            differ(l[k], now[k])
          ).map((k) => k.replace("Hash", ""));
          const members = l.members !== undefined && now.members !== undefined
            ? changedMembers(l.members, now.members).filter((m) => !fields.includes(m))
            : [];
          const all = [...fields, ...members];
          if (all.length) {
            const t = textChange("moderate", l.textFindings, now.textFindings, ["name", "description"]);
            add("RESOURCE_CHANGED", t.severity, u, `Resource [${u}] ${all.join(", ")} changed${t.suffix}`);
          }
        },
      });
    }
    compareTools(lock.tools, live, ext, add);
  } else {
    notCompared.push(
      `prompts, resources, resource templates, annotations and titles (a v${loaded.version} lockfile pins tools only; re-lock to get v3)`,
    );
    compareTools(loaded.lockfile.tools, live, false, add);
    compareProtocol(lockedProtocol(loaded), live, live.serverInfo.name, add);
  }

  items.sort((a, b) =>
    SECTION[a.type.split("_")[0]] - SECTION[b.type.split("_")[0]] ||
    compareCodePoints(a.identifier, b.identifier) ||
    compareCodePoints(a.type, b.type) ||
    compareCodePoints(a.message, b.message)
  );
  return { items, notCompared };
}

type LockedTool = Partial<ToolLock> & Pick<ToolLock, "description_hash" | "input_schema_hash" | "risk_level">;

function compareTools(
  locked: Record<string, LockedTool>,
  live: ServerInterface,
  ext: boolean,
  add: Add,
): void {
  pairUp(Object.entries(locked), live.tools, (t) => t.name, {
    removed: (name) =>
      add("TOOL_REMOVED", "critical", name, `Tool [${name}] has been removed from the server`),
    added: (name) => add("TOOL_ADDED", "critical", name, `Tool [${name}] has been added to the server`),
    changed(name, l, t) {
      const now = lockTool(t);
      const reported: string[] = [];
      if (now.description_hash !== l.description_hash) {
        const tc = textChange("moderate", l.text_findings, now.text_findings, ["description"]);
        add(
          "TOOL_CHANGED",
          tc.severity,
          name,
          `Tool [${name}] description changed${tc.suffix}`,
          l.description_hash,
          now.description_hash,
        );
        reported.push("description");
      }
      if (now.input_schema_hash !== l.input_schema_hash) {
        const how = `${truncHash(l.input_schema_hash)} → ${truncHash(now.input_schema_hash)}`;
        add(
          "TOOL_CHANGED",
          "critical",
          name,
          `Tool [${name}] schema changed: ${how}`,
          l.input_schema_hash,
          now.input_schema_hash,
        );
        reported.push("inputSchema");
      }
      const [was, is] = [RISK_RANK[l.risk_level], RISK_RANK[now.risk_level]];
      if (is !== was) {
        const how = `${is > was ? "raised" : "lowered"} from ${l.risk_level} to ${now.risk_level}`;
        add("TOOL_RISK_CHANGED", is > was ? "moderate" : "info", name, `Tool [${name}] risk level ${how}`);
      }
      if (!ext) return;
      if (differ(l.title_hash, now.title_hash)) {
        const tc = textChange("moderate", l.text_findings, now.text_findings, ["title"]);
        add(
          "TOOL_TITLE_CHANGED",
          tc.severity,
          name,
          `Tool [${name}] title changed${tc.suffix}`,
          l.title_hash,
          now.title_hash,
        );
        reported.push("title");
      }
      if (differ(l.output_schema_hash, now.output_schema_hash)) {
        const [o, n] = [l.output_schema_hash, now.output_schema_hash];
        add("TOOL_OUTPUT_SCHEMA_CHANGED", "moderate", name, `Tool [${name}] output schema changed`, o, n);
        reported.push("outputSchema");
      }
      if (differ(l.annotations_hash, now.annotations_hash)) {
        reported.push("annotations");
        const [o, n] = [l.annotations_hash, now.annotations_hash];
        const weakened = weakenedHints(l.annotations, now.annotations);
        if (weakened.length) {
          add(
            "TOOL_ANNOTATIONS_CHANGED",
            "critical",
            name,
            `Tool [${name}] annotations weakened: ${weakened.join(", ")}`,
            o,
            n,
          );
        } else {
          add("TOOL_ANNOTATIONS_CHANGED", "moderate", name, `Tool [${name}] annotations changed`, o, n);
        }
      }
      memberDrift(add, "TOOL_MEMBERS_CHANGED", "Tool", name, l.members, now.members, reported);
    },
  });
}

/**
 * Server identity and instructions (extensions). Only compared when the lockfile pins them
 * (`server.infoMembers`, which this tool always writes); otherwise noted as not compared.
 */
function compareServer(
  locked: LockfileV3["server"],
  live: ServerInterface,
  add: Add,
  notCompared: string[],
): void {
  if (locked.infoMembers === undefined) {
    notCompared.push(
      "server instructions and identity (title, icons, websiteUrl) (the lockfile was written without them; re-lock with this tool to pin them)",
    );
    return;
  }
  const now = lockServer(live.serverInfo, live.instructions);
  const name = locked.name;
  const info = changedMembers(locked.infoMembers, now.infoMembers ?? {}).filter((m) => m !== "version");
  if (info.length) {
    add("SERVER_INFO_CHANGED", "moderate", name, `Server identity changed: ${info.join(", ")}`);
  }
  if (locked.instructionsHash !== now.instructionsHash) {
    const how = locked.instructionsHash === undefined
      ? "added"
      : now.instructionsHash === undefined
      ? "removed"
      : "changed";
    const t = textChange("moderate", locked.instructionsFindings, now.instructionsFindings, ["instructions"]);
    add(
      "SERVER_INSTRUCTIONS_CHANGED",
      t.severity,
      name,
      `Server instructions ${how}${t.suffix}`,
      locked.instructionsHash,
      now.instructionsHash,
    );
  }
}

/**
 * The protocol era (extension `server.protocol`; absent: the session era, lib/lockfile/protocol.ts).
 * A change of era is moderate: it changes how the server is spoken to (handshake or per-request
 * envelope, server requests or input-required results), not what reaches the model, which the item
 * comparisons judge on their own, and the proxy enforces both eras alike. A new revision within the
 * stateless era is info, like a server version.
 */
function compareProtocol(locked: ProtocolLock, live: ServerInterface, name: string, add: Add): void {
  const era = live.era ?? "session";
  const rev = (r: string | undefined) => r ? ` (${r})` : "";
  if (locked.era !== era) {
    add(
      "SERVER_PROTOCOL_CHANGED",
      "moderate",
      name,
      `Server protocol changed from the ${locked.era} era${rev(locked.revision)} to the ${era} era${
        rev(live.protocolVersion)
      }`,
    );
  } else if (
    era === "stateless" && locked.revision !== undefined && locked.revision !== live.protocolVersion
  ) {
    add(
      "SERVER_PROTOCOL_CHANGED",
      "info",
      name,
      `Server protocol revision changed from ${locked.revision} to ${live.protocolVersion}`,
    );
  }
}

/** The highest severity among `items`, or undefined if there are none. */
export function maxSeverity(items: readonly DriftItem[]): Severity | undefined {
  let max: Severity | undefined;
  const rank = { info: 0, moderate: 1, critical: 2 };
  for (const i of items) if (max === undefined || rank[i.severity] > rank[max]) max = i.severity;
  return max;
}
