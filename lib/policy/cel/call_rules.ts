/**
 * Call rules: the `call_rules` of a policy file, decided by `mcptrust proxy --policy` for every tools/call
 * the policy core allowed and whose arguments validated, before it is forwarded (issue 8 §4). Each rule
 * is a CEL expression over three variables; false, or an evaluation error (fail closed), denies the call.
 *
 * - `tool`: the tool as approved: its name, the lockfile's risk level, and the title, description and
 *   annotations of the verified (hash-matching) live tool; built once per tool and cached.
 * - `args`: the call's `arguments` as the host sent them, objects as Maps (input.ts `celJson`), so a key
 *   such as `constructor` cannot break a rule; `{}` when absent.
 * - `session`: the host's `clientInfo` from its initialize request, and counts of the calls forwarded so
 *   far, per tool and in total (the call being decided is not counted yet). Kept incrementally.
 *
 * Documented with worked examples in docs/POLICY.md ("Call rules").
 *
 * @module
 */
import { type CelInput, type CelMap, celMap } from "@bufbuild/cel";
import type { LockfileV3 } from "../../lockfile/types.ts";
import type { CompiledExpression } from "./compiler.ts";
import { celJson, TOOL_ANNOTATION_FIELDS, toolAnnotationInput } from "./input.ts";
import type { CallRule } from "./policy_file.ts";
import { S, type Shape } from "./shape.ts";

const str = (doc: string) => S.f(S.string, doc);

/** The shape of `tool`. */
export const CALL_TOOL_SHAPE: Shape = S.object({
  name: str("tool name, as called"),
  title: str('display title of the approved tool ("" when none)'),
  description: str('description of the approved tool ("" when none)'),
  risk_level: str('"LOW", "MEDIUM" or "HIGH", as the lockfile records it ("" for a tool it does not have)'),
  ...TOOL_ANNOTATION_FIELDS,
});

/** The shape of `session`. */
export const CALL_SESSION_SHAPE: Shape = S.object({
  client: S.f(
    S.object({
      name: str('clientInfo.name from the host\'s initialize request ("" when none)'),
      version: str('clientInfo.version ("" when none)'),
    }),
    "the host, as it introduced itself",
  ),
  calls: S.f(
    S.map(S.int),
    "tools/call requests forwarded so far, by tool name; every locked tool is there (0 until called)",
  ),
  total_calls: S.f(S.int, "tools/call requests forwarded so far, all tools"),
});

/** The variables call rules are compiled against. */
export const CALL_RULE_VARIABLES: Readonly<Record<string, Shape>> = {
  tool: CALL_TOOL_SHAPE,
  args: S.dyn,
  session: CALL_SESSION_SHAPE,
};

/** A call rule with its compiled expression. */
export interface CompiledCallRule {
  rule: CallRule;
  expression: CompiledExpression;
}

/** The decision on one call: allowed, or the first rule that denied it and why. */
export type CallDecision =
  | { allow: true }
  | {
    allow: false;
    /** The rule's name. */
    rule: string;
    /** `<failure_msg> (rule <name>)`, plus the evaluation error when there was one. */
    reason: string;
    /** Why the rule could not be evaluated, when it could not. */
    error?: string;
  };

const ALLOW: CallDecision = { allow: true };

/** Most distinct tool names counted in `session.calls` (a host in audit-only mode may invent names). */
export const MAX_COUNTED_TOOLS = 10_000;

/**
 * Decides tools/call requests with the compiled call rules, and keeps the session state they read.
 * Synchronous and cheap per call: the rules are compiled once, `tool` is built once per tool, `session`
 * is updated in place, and only `args` is converted per call.
 *
 * @example
 * const engine = new CallRuleEngine(compiled.callRules, lockfile);
 * engine.hostInitialize({ clientInfo: { name: "claude-ai", version: "0.1.0" } });
 * engine.learn(verifiedTools);
 * const d = engine.check("read_file", { path: "/etc/passwd" }); // { allow: false, rule: ..., reason: ... }
 * if (d.allow) engine.forwarded("read_file");
 */
export class CallRuleEngine {
  readonly rules: readonly CompiledCallRule[];
  readonly #lock: LockfileV3;
  /** `tool` bindings by name, for tools the lockfile has. */
  readonly #tools = new Map<string, CelMap>();
  readonly #client = new Map<string, CelInput>([["name", ""], ["version", ""]]);
  readonly #calls = new Map<string, bigint>();
  readonly #session = new Map<string, CelInput>();
  #total = 0n;
  /** Reused for every evaluation: only `tool` and `args` change. */
  readonly #bindings: { tool: unknown; args: unknown; session: CelMap };

  constructor(rules: readonly CompiledCallRule[], lock: LockfileV3) {
    this.rules = rules;
    this.#lock = lock;
    for (const name of Object.keys(lock.tools)) this.#calls.set(name, 0n);
    this.#session.set("client", this.#client);
    this.#session.set("calls", this.#calls);
    this.#session.set("total_calls", 0n);
    this.#bindings = { tool: undefined, args: undefined, session: celMap(this.#session) };
  }

  /** Records the host's `clientInfo` from its initialize request params. */
  hostInitialize(params: unknown): void {
    const info = isRecord(params) && isRecord(params.clientInfo) ? params.clientInfo : {};
    this.#client.set("name", typeof info.name === "string" ? info.name : "");
    this.#client.set("version", typeof info.version === "string" ? info.version : "");
  }

  /**
   * Builds the `tool` bindings of tools the proxy verified against the lockfile (call it with verified
   * items only, as listed: their title, description and annotations are the approved ones).
   */
  learn(tools: readonly Record<string, unknown>[]): void {
    for (const t of tools) {
      if (typeof t.name !== "string" || !Object.hasOwn(this.#lock.tools, t.name)) continue;
      this.#tools.set(t.name, this.#toolBinding(t.name, t));
    }
  }

  #toolBinding(name: string, live: Record<string, unknown> | undefined): CelMap {
    const locked = Object.hasOwn(this.#lock.tools, name) ? this.#lock.tools[name] : undefined;
    // Without a verified live item, the hints the lockfile records (v3 extension), else MCP's defaults.
    const { annotations, hints } = toolAnnotationInput(live ? live.annotations : locked?.annotations);
    return celMap(
      new Map<string, CelInput>([
        ["name", name],
        ["title", typeof live?.title === "string" ? live.title : ""],
        ["description", typeof live?.description === "string" ? live.description : ""],
        ["risk_level", locked?.risk_level ?? ""],
        ["annotations", new Map(Object.entries(annotations) as [string, CelInput][])],
        ["hints", new Map(Object.entries(hints))],
      ]),
    );
  }

  #tool(name: string): CelMap {
    const cached = this.#tools.get(name);
    if (cached) return cached;
    const built = this.#toolBinding(name, undefined);
    // Only locked names are cached: the host chooses the others, and must not grow the cache.
    if (Object.hasOwn(this.#lock.tools, name)) this.#tools.set(name, built);
    return built;
  }

  /**
   * Evaluates the rules, in order, for a call of `name` with `args`; the first that yields false or
   * cannot be evaluated denies. Never throws.
   */
  check(name: string, args: unknown): CallDecision {
    if (!this.#calls.has(name) && this.#calls.size < MAX_COUNTED_TOOLS) this.#calls.set(name, 0n);
    const b = this.#bindings;
    b.tool = this.#tool(name);
    // Converted once per call, and wrapped once (not by every rule that reads it).
    const json = args === undefined ? new Map() : celJson(args);
    b.args = json instanceof Map ? celMap(json as Map<string, CelInput>) : json;
    for (const { rule, expression } of this.rules) {
      const out = expression.evaluate(b);
      if (out.ok && out.value) continue;
      if (out.ok) return { allow: false, rule: rule.name, reason: `${rule.failure_msg} (rule ${rule.name})` };
      return {
        allow: false,
        rule: rule.name,
        reason: `${rule.failure_msg} (rule ${rule.name}, which could not be evaluated: ${out.error})`,
        error: out.error,
      };
    }
    return ALLOW;
  }

  /** Counts a call of `name` that was forwarded to the server. */
  forwarded(name: string): void {
    const n = this.#calls.get(name);
    if (n !== undefined) this.#calls.set(name, n + 1n);
    else if (this.#calls.size < MAX_COUNTED_TOOLS) this.#calls.set(name, 1n);
    this.#session.set("total_calls", ++this.#total);
  }

  /** Calls forwarded so far, per tool (for tests). */
  get counts(): ReadonlyMap<string, bigint> {
    return this.#calls;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
