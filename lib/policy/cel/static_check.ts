/**
 * Static checks of a parsed CEL expression against the shape of its input, run once when a rule is
 * compiled: unknown variables, unknown fields (`t.risk_levl`), unknown functions and overloads, selecting a
 * field of a list, iterating over a scalar, regex literals RE2 rejects, and a result that cannot be a
 * bool. Whatever the checker cannot narrow (JSON schemas, map values) is `dyn` and checked at run time,
 * where an error fails the rule.
 *
 * @module
 */
import type { CelType, parse } from "@bufbuild/cel";
import type { FuncResolver } from "./env.ts";
import type { RegexCache } from "./regex_cache.ts";
import { type Shape, shapeName } from "./shape.ts";

/** The expression tree `@bufbuild/cel`'s parser produces (macros already expanded into comprehensions). */
export type Expr = ReturnType<typeof parse>["expr"];
type Kind = Expr["exprKind"];
type KindValue<C extends Kind["case"]> = Extract<Kind, { case: C }>["value"];

/** A static error in an expression, with the character offset it points at when known. */
export class CelStaticError extends Error {
  /** 0-based offset (in code points) into the expression, or undefined. */
  readonly offset?: number;
  constructor(message: string, offset?: number) {
    super(message);
    this.name = "CelStaticError";
    this.offset = offset;
  }
}

/** A typed sub-expression: its shape and, for values read from the input, the field path. */
interface Typed {
  shape: Shape;
  path?: string;
}

/** What the checker needs. */
export interface CheckEnv {
  funcs: FuncResolver;
  /** Variables in scope at the top (e.g. `input`), with their shapes and path roots. */
  variables: Record<string, Shape>;
  /** Regex literals are compiled (and pinned) here; RE2 rejections become static errors. */
  regex: RegexCache;
  /** id -> offset, from the parser's source info. */
  positions: Record<string, number>;
}

/** The checker's verdict. */
export interface CheckResult {
  /** The expression's result shape (`bool` or `dyn` for a usable rule). */
  shape: Shape;
  /** Input field paths the expression reads or tests, e.g. `input.tools[].risk_level`. */
  fieldsUsed: Set<string>;
}

const BOOL: Shape = { kind: "bool" };
/** Identifiers CEL resolves to type values, as in `type(x) == string`. */
const TYPE_NAMES = new Set([
  "bool",
  "int",
  "uint",
  "double",
  "string",
  "bytes",
  "list",
  "map",
  "null_type",
  "type",
  "dyn",
]);
const DYN: Shape = { kind: "dyn" };

/**
 * Checks `expr` (statement in the module note).
 *
 * @throws {CelStaticError} naming the first problem found
 */
export function checkExpression(expr: Expr, env: CheckEnv): CheckResult {
  const used = new Set<string>();
  const vars = new Map<string, Typed>();
  for (const [name, shape] of Object.entries(env.variables)) vars.set(name, { shape, path: name });
  const shape = infer(expr, { env, used, vars }).shape;
  return { shape, fieldsUsed: used };
}

interface Ctx {
  env: CheckEnv;
  used: Set<string>;
  vars: Map<string, Typed>;
}

function fail(ctx: Ctx, e: Expr, message: string): never {
  throw new CelStaticError(message, ctx.env.positions[String(e.id)]);
}

function describe(t: Typed): string {
  return t.path ? `${t.path} (${shapeName(t.shape)})` : `a ${shapeName(t.shape)}`;
}

function infer(e: Expr, ctx: Ctx): Typed {
  const k = e.exprKind;
  switch (k.case) {
    case "identExpr": {
      const v = ctx.vars.get(k.value.name);
      if (!v && TYPE_NAMES.has(k.value.name)) return { shape: { kind: "type" } };
      if (!v) {
        const known = [...ctx.vars.keys()].filter((n) => !n.startsWith("@")).join(", ");
        fail(ctx, e, `unknown variable "${k.value.name}" (in scope: ${known})`);
      }
      return v;
    }
    case "constExpr":
      return { shape: constShape(k.value) };
    case "selectExpr":
      return inferSelect(e, k.value, ctx);
    case "callExpr":
      return inferCall(e, k.value, ctx);
    case "listExpr": {
      let elem: Shape = { kind: "never" };
      for (const el of k.value.elements) elem = join(elem, infer(el, ctx).shape);
      return { shape: { kind: "list", elem } };
    }
    case "structExpr": {
      if (k.value.messageName !== "") {
        fail(ctx, e, `message construction (${k.value.messageName}{...}) is not supported`);
      }
      let value: Shape = { kind: "never" };
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === "mapKey") infer(entry.keyKind.value, ctx);
        if (entry.value) value = join(value, infer(entry.value, ctx).shape);
      }
      return { shape: { kind: "map", value } };
    }
    case "comprehensionExpr":
      return inferComprehension(e, k.value, ctx);
    default:
      fail(ctx, e, "unsupported expression");
  }
}

function constShape(c: KindValue<"constExpr">): Shape {
  switch (c.constantKind.case) {
    case "boolValue":
      return BOOL;
    case "int64Value":
      return { kind: "int" };
    case "uint64Value":
      return { kind: "uint" };
    case "doubleValue":
      return { kind: "double" };
    case "stringValue":
      return { kind: "string" };
    case "bytesValue":
      return { kind: "bytes" };
    case "nullValue":
      return { kind: "null" };
    default:
      return DYN;
  }
}

function selectField(e: Expr, t: Typed, field: string, ctx: Ctx, testOnly: boolean): Typed {
  const s = t.shape;
  if (s.kind === "object") {
    const f = Object.hasOwn(s.fields, field) ? s.fields[field] : undefined;
    if (!f) {
      const known = Object.keys(s.fields).join(", ");
      fail(ctx, e, `unknown field "${field}" on ${t.path ?? "this map"} (its fields: ${known})`);
    }
    const path = t.path !== undefined ? `${t.path}.${field}` : undefined;
    if (path) ctx.used.add(path);
    return { shape: f.shape, path };
  }
  if (s.kind === "map") return { shape: s.value, path: t.path !== undefined ? `${t.path}{}` : undefined };
  if (s.kind === "dyn" || s.kind === "never") return { shape: DYN };
  const hint = s.kind === "list"
    ? `; to test its elements use ${t.path ?? "the list"}.exists(x, x.${field} ...), .all(...) or [index]`
    : "";
  fail(ctx, e, `${testOnly ? "has() cannot test" : "cannot select"} "${field}" on ${describe(t)}${hint}`);
}

function inferSelect(e: Expr, sel: KindValue<"selectExpr">, ctx: Ctx): Typed {
  if (!sel.operand) fail(ctx, e, "invalid field selection");
  const operand = infer(sel.operand, ctx);
  const field = selectField(e, operand, sel.field, ctx, sel.testOnly);
  return sel.testOnly ? { shape: BOOL } : field;
}

function requireBool(ctx: Ctx, e: Expr, t: Typed, what: string): void {
  if (!maybe(t.shape, "bool")) fail(ctx, e, `${what} must be a bool, but ${describe(t)} is not`);
}

/** Whether a value of shape `s` could be of CEL kind `kind` at run time. */
function maybe(s: Shape, kind: Shape["kind"]): boolean {
  return s.kind === kind || s.kind === "dyn" || s.kind === "never";
}

function inferCall(e: Expr, call: KindValue<"callExpr">, ctx: Ctx): Typed {
  const fn = call.function;
  const args = call.args.map((a) => infer(a, ctx));
  const target = call.target ? infer(call.target, ctx) : undefined;
  switch (fn) {
    case "_&&_":
    case "_||_":
      for (let i = 0; i < args.length; i++) {
        requireBool(ctx, call.args[i], args[i], `each side of ${fn === "_&&_" ? "&&" : "||"}`);
      }
      return { shape: BOOL };
    case "!_":
      requireBool(ctx, call.args[0], args[0], "the operand of !");
      return { shape: BOOL };
    case "@not_strictly_false":
    case "__not_strictly_false__":
      return { shape: BOOL };
    case "_?_:_":
      requireBool(ctx, call.args[0], args[0], "the condition of ?:");
      return { shape: join(args[1].shape, args[2].shape) };
    case "_[_]":
      return inferIndex(e, args[0], args[1], call.args[1], ctx);
    case "_[?_]":
    case "_?._":
      fail(ctx, e, "optional field and index syntax (?. and [?]) is not supported");
  }
  if (fn === "matches") checkRegexLiteral(e, call, ctx);
  const group = ctx.env.funcs.find(fn);
  if (!group) fail(ctx, e, `unknown function ${fn}()`);
  const all = [...group];
  const sameForm = all.filter((f) => (f.target !== undefined) === (target !== undefined));
  if (sameForm.length === 0) {
    fail(
      ctx,
      e,
      target !== undefined
        ? `${fn}() is a function, not a method: write ${fn}(x, ...)`
        : `${fn}() is a method: write x.${fn}(...)`,
    );
  }
  const arity = sameForm.filter((f) => f.arguments.length === args.length);
  if (arity.length === 0) {
    const counts = [...new Set(sameForm.map((f) => f.arguments.length))].join(" or ");
    fail(ctx, e, `${fn}() takes ${counts} argument(s), not ${args.length}`);
  }
  const fits = arity.filter((f) =>
    (target === undefined || f.target === undefined || fitsType(target.shape, f.target)) &&
    f.arguments.every((p, i) => fitsType(args[i].shape, p))
  );
  if (fits.length === 0) {
    const given = [...(target ? [target] : []), ...args].map((a) => shapeName(a.shape)).join(", ");
    fail(ctx, e, `no overload of ${fn}() takes (${given})`);
  }
  const results = new Set(fits.map((f) => f.result.name));
  if (results.size !== 1) return { shape: DYN };
  if (fn === "_+_" && args.length === 2 && args[0].shape.kind === "list" && args[1].shape.kind === "list") {
    return { shape: join(args[0].shape, args[1].shape) };
  }
  return { shape: fromCelType(fits[0].result) };
}

function checkRegexLiteral(e: Expr, call: KindValue<"callExpr">, ctx: Ctx): void {
  const pattern = call.args[call.args.length - 1];
  if (!pattern || pattern.exprKind.case !== "constExpr") return;
  const c = pattern.exprKind.value.constantKind;
  if (c.case !== "stringValue") return;
  try {
    ctx.env.regex.pin(c.value);
  } catch (err) {
    fail(ctx, e, `the regex ${JSON.stringify(c.value)} is not valid RE2: ${(err as Error).message}`);
  }
}

function inferIndex(e: Expr, operand: Typed, index: Typed, indexExpr: Expr, ctx: Ctx): Typed {
  const s = operand.shape;
  if (s.kind === "list") {
    if (!maybe(index.shape, "int") && !maybe(index.shape, "uint")) {
      fail(ctx, e, `a list index must be an int, not ${shapeName(index.shape)}`);
    }
    return { shape: s.elem, path: operand.path !== undefined ? `${operand.path}[]` : undefined };
  }
  if (s.kind === "map") {
    return { shape: s.value, path: operand.path !== undefined ? `${operand.path}{}` : undefined };
  }
  if (s.kind === "object") {
    const k = indexExpr.exprKind;
    if (k.case === "constExpr" && k.value.constantKind.case === "stringValue") {
      return selectField(e, operand, k.value.constantKind.value, ctx, false);
    }
    return { shape: DYN };
  }
  if (s.kind === "dyn" || s.kind === "never") return { shape: DYN };
  fail(ctx, e, `cannot index ${describe(operand)}`);
}

function inferComprehension(e: Expr, c: KindValue<"comprehensionExpr">, ctx: Ctx): Typed {
  if (c.iterVar2 !== "") fail(ctx, e, "two-variable comprehensions are not supported");
  if (!c.iterRange || !c.accuInit || !c.loopCondition || !c.loopStep || !c.result) {
    fail(ctx, e, "invalid comprehension");
  }
  const range = infer(c.iterRange, ctx);
  let elem: Typed;
  const r = range.shape;
  if (r.kind === "list") {
    elem = { shape: r.elem, path: range.path !== undefined ? `${range.path}[]` : undefined };
  } else if (r.kind === "map" || r.kind === "object") elem = { shape: { kind: "string" } }; // iterates keys
  else if (r.kind === "dyn" || r.kind === "never") elem = { shape: DYN };
  else {fail(
      ctx,
      c.iterRange,
      `cannot iterate over ${describe(range)}: macros such as exists() need a list or map`,
    );}
  const accu0 = infer(c.accuInit, ctx);
  const saved = new Map(ctx.vars);
  try {
    ctx.vars.set(c.accuVar, accu0);
    ctx.vars.set(c.iterVar, elem);
    requireBool(ctx, c.loopCondition, infer(c.loopCondition, ctx), "a loop condition");
    const step = infer(c.loopStep, ctx);
    const accu: Typed = { shape: join(accu0.shape, step.shape) };
    ctx.vars.delete(c.iterVar);
    ctx.vars.set(c.accuVar, accu);
    return infer(c.result, ctx);
  } finally {
    ctx.vars.clear();
    for (const [k, v] of saved) ctx.vars.set(k, v);
  }
}

/** The least shape covering both (dyn when they differ). */
function join(a: Shape, b: Shape): Shape {
  if (a.kind === "never") return b;
  if (b.kind === "never") return a;
  if (a === b) return a;
  if (a.kind === "list" && b.kind === "list") return { kind: "list", elem: join(a.elem, b.elem) };
  if (a.kind === "map" && b.kind === "map") return { kind: "map", value: join(a.value, b.value) };
  if (a.kind === "opaque" && b.kind === "opaque") return a.name === b.name ? a : DYN;
  if (a.kind === b.kind && a.kind !== "object") return a;
  return DYN;
}

function fromCelType(t: CelType): Shape {
  switch (t.kind) {
    case "list":
      return { kind: "list", elem: DYN };
    case "map":
      return { kind: "map", value: DYN };
    case "object":
      return { kind: "opaque", name: t.name };
    default:
      switch (t.name) {
        case "bool":
        case "int":
        case "uint":
        case "double":
        case "string":
        case "bytes":
        case "type":
          return { kind: t.name };
        case "null_type":
          return { kind: "null" };
        default:
          return DYN;
      }
  }
}

/** Whether a value of shape `s` may be passed where CEL type `t` is expected. */
function fitsType(s: Shape, t: CelType): boolean {
  if (s.kind === "dyn" || s.kind === "never") return true;
  switch (t.kind) {
    case "list":
      return s.kind === "list";
    case "map":
      return s.kind === "map" || s.kind === "object";
    case "object":
      return s.kind === "opaque" && s.name === t.name;
    default:
      if (t.name === "dyn") return true;
      if (t.name === "null_type") return s.kind === "null";
      return s.kind === t.name;
  }
}
