/**
 * The proxy's policy, backed by the WebAssembly policy core: the core makes every allow/deny decision;
 * this adapter computes item fingerprints from the lockfile and the live items, and turns decisions
 * into reason texts.
 *
 * @module
 */
import type { LockfileV3 } from "../lockfile/types.ts";
import type { McpPrompt, McpResource, McpResourceTemplate, McpTool } from "../mcp/types.ts";
import { type Decision, PolicyCore } from "../policy/core.ts";
import { reasonFor } from "../policy/reasons.ts";
import {
  coveredItem,
  hasExtensions,
  livePromptFingerprint,
  liveResourceFingerprint,
  liveTemplateFingerprint,
  liveToolFingerprint,
  lockedPromptFingerprint,
  lockedResourceFingerprint,
  lockedTemplateFingerprint,
  lockedToolFingerprint,
} from "./fingerprint.ts";
import type { ItemKind, PolicyVerdict, ProxyPolicy } from "./policy_port.ts";

const ALLOW: PolicyVerdict = { allow: true };

function verdict(d: Decision, identifier: string): PolicyVerdict {
  return d.allow ? ALLOW : { allow: false, reason: reasonFor(d, identifier) };
}

/** What a message is about, for reason texts: the method itself for method-level decisions. */
function identifierOf(d: Decision, method: string, params: unknown): string {
  if (d.subject === "method" || d.subject === "none" && !params) return method;
  if (typeof params !== "object" || params === null) return method;
  const p = params as Record<string, unknown>;
  if (typeof p.name === "string") return p.name;
  if (typeof p.uri === "string") return p.uri;
  const ref = p.ref as Record<string, unknown> | undefined;
  if (ref && typeof ref === "object") return String(ref.name ?? ref.uri ?? "");
  return method;
}

/**
 * Loads the policy core with the lockfile's allowlist.
 *
 * @param wasmBytes core bytes to load instead of the embedded ones (tests)
 * @throws {PolicyCoreError} (exit 2) if the core cannot load, fails its self-test, or cannot enforce
 *   the lockfile (e.g. an unsupported template); the proxy then refuses to start
 */
export function createCorePolicy(lock: LockfileV3, wasmBytes?: Uint8Array): ProxyPolicy {
  const core = PolicyCore.load(wasmBytes);
  const ext = hasExtensions(lock);
  core.setAllowlist({
    tools: Object.entries(lock.tools).map(([name, t]) => ({
      name,
      fingerprint: lockedToolFingerprint(t, ext),
    })),
    prompts: Object.entries(lock.prompts.definitions).map(([name, p]) => ({
      name,
      fingerprint: lockedPromptFingerprint(p, ext),
    })),
    resources: (lock.resources.static ?? []).map((r) => ({
      uri: r.uri,
      fingerprint: lockedResourceFingerprint(r),
    })),
    templates: lock.resources.templates.map((t) => ({
      uriTemplate: t.uriTemplate,
      fingerprint: lockedTemplateFingerprint(t, ext),
    })),
  });

  const keyOf = (kind: ItemKind, item: Record<string, unknown>): string =>
    String(
      kind === "resource" ? item.uri ?? "" : kind === "template" ? item.uriTemplate ?? "" : item.name ?? "",
    );

  const templates = new Map(lock.resources.templates.map((t) => [t.uriTemplate, t]));
  const resources = new Map((lock.resources.static ?? []).map((r) => [r.uri, r]));
  const own = <T>(rec: Record<string, T>, key: string): T | undefined =>
    Object.hasOwn(rec, key) ? rec[key] : undefined;
  const lockedEntry = (kind: ItemKind, key: string) =>
    kind === "tool"
      ? own(lock.tools, key)
      : kind === "prompt"
      ? own(lock.prompts.definitions, key)
      : kind === "template"
      ? templates.get(key)
      : resources.get(key);

  const fingerprintOf = (kind: ItemKind, key: string, item: Record<string, unknown>): string => {
    try {
      switch (kind) {
        case "tool":
          return liveToolFingerprint(item as McpTool, own(lock.tools, key), ext);
        case "prompt":
          return livePromptFingerprint(item as McpPrompt, own(lock.prompts.definitions, key), ext);
        case "resource":
          return liveResourceFingerprint(item as McpResource, resources.get(key));
        case "template":
          return liveTemplateFingerprint(item as McpResourceTemplate, templates.get(key), ext);
      }
    } catch {
      // An item we cannot even hash (e.g. a cyclic or non-JSON value) never matches.
      return "\u0000unhashable";
    }
  };

  return {
    checkHostMessage(method, params) {
      const d = core.decideMethod(method, params, "host");
      if (d.allow) return ALLOW;
      if (method === "subscriptions/listen" && d.subject === "resource") {
        // Name the subscription that was refused: the first URI that, on its own, is denied.
        const uris = (params as { notifications: { resourceSubscriptions: string[] } }).notifications
          .resourceSubscriptions;
        return verdict(d, uris.find((u) => !core.decideResourceUri(u).allow) ?? "");
      }
      return verdict(d, identifierOf(d, method, params));
    },
    checkServerMessage(method, params) {
      const d = core.decideMethod(method, params, "server");
      return d.allow ? ALLOW : verdict(d, identifierOf(d, method, params));
    },
    checkList(kind, items) {
      const entries = items.map((item) => {
        const key = keyOf(kind, item);
        return { key, fingerprint: fingerprintOf(kind, key, item) };
      });
      return core.verifyList(kind, entries).map((d, i) => {
        const v = verdict(d, entries[i].key);
        if (!v.allow) return v;
        const locked = lockedEntry(kind, entries[i].key);
        // The core allowed it, so it is locked; without an entry here, fail closed.
        if (!locked) {
          return { allow: false, reason: `${kind} ${JSON.stringify(entries[i].key)} has no locked entry` };
        }
        const covered = coveredItem(kind, items[i], locked, ext);
        return covered.stripped.length ? { allow: true, item: covered.item, stripped: covered.stripped } : v;
      });
    },
    markStale(kind) {
      core.markStale(kind);
    },
  };
}
