/**
 * Compiling and evaluating CEL expressions, once per rule: parse, check statically against the input's
 * shape (static_check.ts), instrument for the cost limit (env.ts), plan. The same compiler serves the
 * rules of `policy check` / `check --policy` and, later, the proxy's per-call rules (with another shape).
 *
 * Limits (each a compile error when crossed, except the cost limit, which fails the evaluation):
 * expression length, AST node count, AST depth, and the cost per evaluation (comprehension iterations
 * weighted by the size of their bodies, plus the size of strings and lists touched by `in`, `+`,
 * `matches` and `contains`; see env.ts). `@bufbuild/cel` has no cost limit of its own.
 *
 * @module
 */
import { isCelError, parse, plan } from "@bufbuild/cel";
import { createPolicyEnv, type PolicyEnv, STEP_FUNCTION } from "./env.ts";
import { DEFAULT_REGEX_CACHE_SIZE, RegexCache } from "./regex_cache.ts";
import type { Shape } from "./shape.ts";
import { CelStaticError, checkExpression, type Expr } from "./static_check.ts";

/** Bounds on one expression. */
export interface CelLimits {
  /** Characters of expression text. */
  maxExpressionLength: number;
  /** Nodes of the parsed expression (macros expanded). */
  maxAstNodes: number;
  /** Nesting depth of the parsed expression. */
  maxAstDepth: number;
  /** Cost units per evaluation (see the module note). The Go tool's cel-go limit is 1,000,000 too. */
  maxCost: number;
}

/** The defaults: generous for policy rules, small enough that no rule can stall a check. */
export const DEFAULT_CEL_LIMITS: Readonly<CelLimits> = {
  maxExpressionLength: 16 * 1024,
  maxAstNodes: 4_000,
  maxAstDepth: 64,
  maxCost: 1_000_000,
};

/** Why an expression does not compile, with where in the expression (1-based) when known. */
export class CelCompileError extends Error {
  readonly line?: number;
  readonly column?: number;
  constructor(message: string, where?: { line: number; column: number }) {
    super(where ? `${message} (at ${where.line}:${where.column} of the expression)` : message);
    this.name = "CelCompileError";
    this.line = where?.line;
    this.column = where?.column;
  }
}

/** The result of one evaluation: a bool, or why there is none (which fails the rule). */
export type EvalOutcome =
  | { ok: true; value: boolean; cost: number }
  | { ok: false; error: string; cost: number };

/** A compiled expression, ready to evaluate many times. */
export interface CompiledExpression {
  /** The expression text. */
  readonly source: string;
  /** Input field paths it reads or tests, e.g. `input.tools[].risk_level` (lists `[]`, maps `{}`). */
  readonly fieldsUsed: ReadonlySet<string>;
  /** `bool`, or `dyn` when the result is only known at run time (then a non-bool result fails). */
  readonly resultShape: "bool" | "dyn";
  /**
   * Evaluates with `bindings` (e.g. `{ input }`; plain JSON-like values: objects, arrays, strings,
   * numbers, booleans, null). Never throws: errors, non-bool results and a crossed cost limit come back
   * as `{ ok: false }`.
   */
  evaluate(bindings: Record<string, unknown>): EvalOutcome;
}

/** Options of {@link CelCompiler}. */
export interface CelCompilerOptions {
  limits?: Partial<CelLimits>;
  /** Run-time regex patterns to keep compiled (rule literals are always kept). */
  regexCacheSize?: number;
}

/**
 * Compiles CEL expressions against an input shape. One compiler holds one environment, cost meter and
 * regex cache; compile every rule of a policy with the same compiler.
 *
 * @example
 * const c = new CelCompiler();
 * const rule = c.compile('!input.tools.exists(t, t.risk_level == "HIGH")', { input: POLICY_INPUT_SHAPE });
 * rule.evaluate({ input }); // { ok: true, value: true, cost: 57 }
 */
export class CelCompiler {
  readonly limits: Readonly<CelLimits>;
  readonly #env: PolicyEnv;

  constructor(opts: CelCompilerOptions = {}) {
    this.limits = { ...DEFAULT_CEL_LIMITS, ...opts.limits };
    this.#env = createPolicyEnv(new RegexCache(opts.regexCacheSize ?? DEFAULT_REGEX_CACHE_SIZE));
  }

  /** The regex cache `matches()` uses (exposed for tests and benchmarks). */
  get regexCache(): RegexCache {
    return this.#env.regex;
  }

  /**
   * Compiles `source` for inputs bound to `variables` (name -> shape).
   *
   * @throws {CelCompileError} if it does not parse, crosses a limit, names an unknown variable, field or
   *   function, uses a regex RE2 rejects, or cannot yield a bool
   */
  compile(source: string, variables: Record<string, Shape>): CompiledExpression {
    const limits = this.limits;
    if (source.trim() === "") throw new CelCompileError("the expression is empty");
    if (source.length > limits.maxExpressionLength) {
      throw new CelCompileError(
        `the expression is ${source.length} characters long; the limit is ${limits.maxExpressionLength}`,
      );
    }
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(source);
    } catch (err) {
      if (err instanceof RangeError) throw new CelCompileError("the expression is nested too deeply");
      throw new CelCompileError(`syntax error: ${describeParseError(err, source)}`);
    }
    const size = measure(parsed.expr);
    if (size.depth > limits.maxAstDepth) {
      throw new CelCompileError(
        `the expression is nested ${size.depth} deep; the limit is ${limits.maxAstDepth}`,
      );
    }
    if (size.nodes > limits.maxAstNodes) {
      throw new CelCompileError(`the expression has ${size.nodes} nodes; the limit is ${limits.maxAstNodes}`);
    }
    const positions = parsed.sourceInfo?.positions ?? {};
    let checked;
    try {
      checked = checkExpression(parsed.expr, {
        funcs: this.#env.env.funcs,
        variables,
        regex: this.#env.regex,
        positions,
      });
    } catch (err) {
      if (err instanceof CelStaticError) {
        throw new CelCompileError(
          err.message,
          err.offset !== undefined ? lineColumn(source, err.offset) : undefined,
        );
      }
      throw err;
    }
    const k = checked.shape.kind;
    if (k !== "bool" && k !== "dyn" && k !== "never") {
      throw new CelCompileError(`the expression yields ${shapeLabel(checked.shape)}, not a bool`);
    }
    instrument(parsed.expr);
    let program: (ctx: Record<string, unknown>) => unknown;
    try {
      program = plan(this.#env.env, parsed) as (ctx: Record<string, unknown>) => unknown;
    } catch (err) {
      throw new CelCompileError(`cannot plan the expression: ${(err as Error).message}`);
    }
    const meter = this.#env.meter;
    const baseCost = size.nodes;
    const maxCost = limits.maxCost;
    return {
      source,
      fieldsUsed: checked.fieldsUsed,
      resultShape: k === "bool" ? "bool" : "dyn",
      evaluate(bindings: Record<string, unknown>): EvalOutcome {
        meter.reset(maxCost);
        let value: unknown;
        try {
          meter.charge(baseCost);
          value = program(bindings);
        } catch (err) {
          return { ok: false, error: (err as Error).message, cost: meter.used };
        }
        if (meter.exceeded) {
          return { ok: false, error: `cost limit of ${maxCost} exceeded`, cost: meter.used };
        }
        if (isCelError(value)) return { ok: false, error: value.message, cost: meter.used };
        if (typeof value !== "boolean") {
          return {
            ok: false,
            error: `the expression yielded ${celTypeOf(value)}, not a bool`,
            cost: meter.used,
          };
        }
        return { ok: true, value, cost: meter.used };
      },
    };
  }
}

function shapeLabel(s: Shape): string {
  switch (s.kind) {
    case "list":
      return "a list";
    case "map":
    case "object":
      return "a map";
    case "int":
    case "uint":
      return `an ${s.kind}`;
    case "opaque":
      return `a ${s.name}`;
    default:
      return `a ${s.kind}`;
  }
}

function celTypeOf(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "bigint") return "an int";
  if (typeof v === "number") return "a double";
  if (typeof v === "string") return "a string";
  return "a " + (typeof v === "object" ? "list or map" : typeof v);
}

/** 1-based line and column of a code-point offset in `source`. */
function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  let i = 0;
  for (const ch of source) {
    if (i++ >= offset) break;
    if (ch === "\n") {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

/** `@bufbuild/cel` reports "<input>:1:12: found . but expecting ..."; keep the reason, add the position. */
function describeParseError(err: unknown, source: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /^<input>:(\d+):(\d+):\s*(.*)$/s.exec(msg);
  if (!m) return msg;
  const line = Number(m[1]);
  const col = Number(m[2]);
  const text = source.split("\n")[line - 1] ?? "";
  return `${m[3]} (at ${line}:${col} of the expression: ${
    JSON.stringify(text.slice(Math.max(0, col - 1), col + 19))
  })`;
}

/** Children of a node, for walks. */
function children(e: Expr): Expr[] {
  const k = e.exprKind;
  switch (k.case) {
    case "selectExpr":
      return k.value.operand ? [k.value.operand] : [];
    case "callExpr":
      return [...(k.value.target ? [k.value.target] : []), ...k.value.args];
    case "listExpr":
      return [...k.value.elements];
    case "structExpr":
      return k.value.entries.flatMap((en) => [
        ...(en.keyKind.case === "mapKey" ? [en.keyKind.value] : []),
        ...(en.value ? [en.value] : []),
      ]);
    case "comprehensionExpr": {
      const c = k.value;
      return [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].filter((x): x is Expr =>
        x !== undefined
      );
    }
    default:
      return [];
  }
}

/** Node count and depth, iteratively (the tree may be deeper than the call stack allows). */
function measure(root: Expr): { nodes: number; depth: number } {
  let nodes = 0;
  let depth = 0;
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length) {
    const [e, d] = stack.pop()!;
    nodes++;
    if (d > depth) depth = d;
    for (const c of children(e)) stack.push([c, d + 1]);
  }
  return { nodes, depth };
}

/** Wraps each loop condition `c` as `@mcptrust_step(c, <size of the loop body>)` (see env.ts). */
function instrument(e: Expr): void {
  for (const c of children(e)) instrument(c);
  const k = e.exprKind;
  if (k.case !== "comprehensionExpr" || !k.value.loopCondition || !k.value.loopStep) return;
  const weight = measure(k.value.loopCondition).nodes + measure(k.value.loopStep).nodes;
  const call = parse("f(true, 1)").expr;
  if (call.exprKind.case !== "callExpr") throw new Error("unexpected parse of the step template");
  const [cond, w] = call.exprKind.value.args;
  call.exprKind.value.function = STEP_FUNCTION;
  if (w.exprKind.case === "constExpr") {
    w.exprKind.value.constantKind = { case: "int64Value", value: BigInt(weight) };
  }
  void cond;
  call.exprKind.value.args = [k.value.loopCondition, w];
  call.id = k.value.loopCondition.id;
  k.value.loopCondition = call;
}
