/**
 * The CEL environment mcptrust evaluates rules in: `@bufbuild/cel`'s standard library (no extensions,
 * as in the Go tool's environment) with
 *
 * - `matches()` served from a compiled-regex cache (RE2, linear time), in both the method form
 *   `s.matches(re)` and the function form `matches(s, re)` of the CEL spec;
 * - `urlHosts(value)`: the hosts of the http(s) URLs in any string inside `value` (url_hosts.ts), the one
 *   function mcptrust adds, charged to the meter as it walks;
 * - a cost meter. `@bufbuild/cel` has no cost limit, so mcptrust adds one: the compiler rewrites every
 *   comprehension (exists, all, exists_one, map, filter) so that each iteration charges the size of its
 *   body, and the operations whose work grows with their operands (`in` on a list, `+` on strings and
 *   lists, `matches`, `contains`) charge for the size they touch. A rule that goes over its budget fails.
 *
 * Evaluation is synchronous, so one meter per environment is safe: it is reset before each evaluation.
 *
 * @module
 */
import { type CelEnv, celEnv, celFunc, celMethod, CelScalar, type CelType, listType } from "@bufbuild/cel";
import { type Matcher, RegexCache } from "./regex_cache.ts";
import { urlHosts } from "./url_hosts.ts";

/** The function resolver type of `@bufbuild/cel` (not exported by name). */
export type FuncResolver = CelEnv["funcs"];
type CelFunc = ReturnType<typeof celFunc>;

/** The step function the compiler inserts into loop conditions. `@` makes it unreachable from rule text. */
export const STEP_FUNCTION = "@mcptrust_step";

/** How many characters of a string one cost unit pays for. */
export const CHARS_PER_COST_UNIT = 64;

/** Thrown (inside CEL, so it surfaces as an evaluation error) when a rule exceeds its cost limit. */
export class CostLimitExceeded extends Error {
  constructor(limit: number) {
    super(`cost limit of ${limit} exceeded`);
    this.name = "CostLimitExceeded";
  }
}

/** Counts the cost of one evaluation against a limit. */
export class CostMeter {
  /** Units charged since the last reset. */
  used = 0;
  /** Whether the limit was crossed (CEL's `||`/`&&` can absorb the error, so callers check this too). */
  exceeded = false;
  #limit = Infinity;

  /** Starts a new evaluation with `limit` units. */
  reset(limit: number): void {
    this.used = 0;
    this.exceeded = false;
    this.#limit = limit;
  }

  /**
   * Charges `units`.
   *
   * @throws {CostLimitExceeded} once the total passes the limit (and on every later charge)
   */
  charge(units: number): void {
    this.used += units;
    if (this.used > this.#limit) {
      this.exceeded = true;
      throw new CostLimitExceeded(this.#limit);
    }
  }
}

/** An environment with its meter and regex cache. */
export interface PolicyEnv {
  env: CelEnv;
  meter: CostMeter;
  regex: RegexCache;
}

const { BOOL, DYN, INT, STRING } = CelScalar;

function chars(s: string): number {
  return Math.ceil(s.length / CHARS_PER_COST_UNIT);
}

/**
 * Creates the environment (module note).
 *
 * @param regex the cache `matches()` compiles through; rule literals are pinned into it at compile time
 */
export function createPolicyEnv(regex: RegexCache = new RegexCache()): PolicyEnv {
  const meter = new CostMeter();
  const std = celEnv().funcs;
  const find = (name: string, pred: (f: CelFunc) => boolean): CelFunc => {
    const f = [...(std.find(name) ?? [])].find(pred);
    if (!f) throw new Error(`@bufbuild/cel has no ${name} overload mcptrust expects`);
    return f;
  };
  const argNames = (f: CelFunc) => f.arguments.map((a) => a.name).join(",");
  /** Re-declares a standard overload with the same signature, charging `cost(args)` before running it. */
  const charged = (name: string, sig: string, cost: (args: unknown[]) => number): CelFunc => {
    const orig = find(name, (f) => f.target === undefined && argNames(f) === sig);
    const types = orig.arguments as CelType[];
    // deno-lint-ignore no-explicit-any
    return celFunc(name, types as any, orig.result as any, (...args: unknown[]) => {
      meter.charge(cost(args));
      // deno-lint-ignore no-explicit-any
      const r = orig.call(0, undefined, args as any);
      if (r === undefined) throw new Error(`no overload of ${name} for these arguments`);
      return r as never;
    });
  };
  const match = (m: Matcher, text: string) => {
    meter.charge(chars(text));
    return m.test(text);
  };
  const funcs: CelFunc[] = [
    celFunc(STEP_FUNCTION, [BOOL, INT], BOOL, (cond: boolean, weight: bigint) => {
      meter.charge(Number(weight));
      return cond;
    }),
    celMethod("matches", STRING, [STRING], BOOL, function (this: string, pattern: string) {
      return match(regex.compile(pattern), this);
    }),
    celFunc("matches", [STRING, STRING], BOOL, (text: string, pattern: string) => {
      return match(regex.compile(pattern), text);
    }),
    celMethod("contains", STRING, [STRING], BOOL, function (this: string, sub: string) {
      meter.charge(chars(this));
      return this.includes(sub);
    }),
    celFunc("urlHosts", [DYN], listType(STRING), (v: unknown) => urlHosts(v, (n) => meter.charge(n))),
    charged("@in", "dyn,list", (a) => 1 + ((a[1] as { size: number }).size ?? 0)),
    charged("_+_", "string,string", (a) => 1 + chars(a[0] as string) + chars(a[1] as string)),
    charged(
      "_+_",
      "list,list",
      (a) => 1 + (a[0] as { size: number }).size + (a[1] as { size: number }).size,
    ),
  ];
  return { env: celEnv({ funcs }), meter, regex };
}
