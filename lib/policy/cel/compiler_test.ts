/**
 * The CEL compiler: static refusals (syntax, non-bool, unknown variable/field/function, RE2-rejected
 * regexes, limits), fail-closed evaluation (errors, non-bool results, the cost limit even where CEL's
 * `||` would absorb the error), and the compiled-regex cache.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServerInterface } from "../../mcp/types.ts";
import { CelCompileError, CelCompiler, type CelLimits } from "./compiler.ts";
import { buildPolicyInput, POLICY_INPUT_SHAPE } from "./input.ts";
import { RegexCache } from "./regex_cache.ts";

function iface(toolCount = 2): ServerInterface {
  return {
    serverInfo: { name: "demo", version: "1.0.0" },
    protocolVersion: "2025-06-18",
    capabilities: {},
    tools: Array.from({ length: toolCount }, (_, i) => ({
      name: i === 0 ? "read_file" : `tool_${i}`,
      description: `tool number ${i}`,
      inputSchema: { type: "object", properties: { path: { type: "string" } } },
    })),
    prompts: [],
    resources: [],
    resourceTemplates: [],
  };
}

const input = buildPolicyInput({ argv: ["node", "s.js"], iface: iface() });

function compile(expr: string, limits?: Partial<CelLimits>) {
  return new CelCompiler({ limits }).compile(expr, { input: POLICY_INPUT_SHAPE });
}

function refusal(expr: string, limits?: Partial<CelLimits>): string {
  try {
    compile(expr, limits);
  } catch (err) {
    assert.ok(err instanceof CelCompileError, `${expr}: ${err}`);
    return err.message;
  }
  assert.fail(`${expr} compiled`);
}

test("a syntax error is refused with its position in the expression", () => {
  assert.match(refusal("input.tools.exists(t, "), /^syntax error: .*at 1:\d+ of the expression/);
  assert.match(refusal("input.server.name == 'x' &&"), /^syntax error/);
  assert.match(refusal("   "), /empty/);
});

test("an expression that cannot yield a bool is refused, naming what it yields", () => {
  assert.match(refusal("size(input.tools)"), /yields an int, not a bool/);
  assert.match(refusal("input.server.name"), /yields a string, not a bool/);
  assert.match(refusal("input.tools.map(t, t.name)"), /yields a list, not a bool/);
  assert.match(refusal('input.server.name == "x" ? 1 : 2'), /yields an int/);
});

test("unknown fields, variables and functions are refused, with what exists", () => {
  const m = refusal('input.tools.exists(t, t.risk_levl == "HIGH")');
  assert.match(m, /unknown field "risk_levl" on input\.tools\[\]/);
  assert.match(m, /risk_level/, "lists the real fields");
  assert.match(m, /at 1:\d+ of the expression/);
  assert.match(refusal("has(input.tols)"), /unknown field "tols" on input /);
  assert.match(refusal('tools.exists(t, t.name == "x")'), /unknown variable "tools" \(in scope: input\)/);
  assert.match(refusal("input.tools.exists(t, foo(t.name))"), /unknown function foo\(\)/);
  assert.match(refusal('startsWith(input.server.name, "a")'), /is a method: write x\.startsWith/);
  assert.match(refusal('input.server.name + 1 == "x"'), /no overload of _\+_\(\) takes \(string, int\)/);
});

test("selecting a field of a list says how to test its elements", () => {
  assert.match(
    refusal('input.tools.name == "x"'),
    /cannot select "name" on input\.tools .*exists\(x, x\.name/,
  );
  assert.match(refusal('input.server.name.exists(c, c == "a")'), /cannot iterate over input\.server\.name/);
});

test("a regex literal RE2 rejects is refused at compile time, in both forms of matches()", () => {
  assert.match(refusal('input.server.name.matches("(?=admin)")'), /not valid RE2: .*\(\?=/);
  assert.match(refusal('matches(input.server.name, "(a)\\\\1")'), /not valid RE2: .*\\1/);
  assert.match(refusal('input.server.name.matches("(")'), /not valid RE2: .*missing closing \)/);
});

test("limits on length, depth and size are compile errors", () => {
  assert.match(
    refusal('input.server.name == "' + "a".repeat(200) + '"', { maxExpressionLength: 100 }),
    /limit is 100/,
  );
  const deep = "size(" + "[".repeat(80) + "1" + "]".repeat(80) + ") == 1";
  assert.match(refusal(deep, { maxAstDepth: 64 }), /nested \d+ deep; the limit is 64/);
  const wide = Array.from({ length: 50 }, (_, i) => `input.server.name == "${i}"`).join(" || ");
  assert.match(refusal(wide, { maxAstNodes: 100 }), /nodes; the limit is 100/);
});

test("rules read what they should: fieldsUsed lists the input paths", () => {
  const c = compile('input.tools.exists(t, t.risk_level == "HIGH") && has(input.drift)');
  assert.deepEqual([...c.fieldsUsed].sort(), ["input.drift", "input.tools", "input.tools[].risk_level"]);
  assert.equal(c.resultShape, "bool");
});

test("an evaluation error fails the rule instead of passing it", () => {
  const outOfRange = compile('input.tools[5].name == "x"').evaluate({ input });
  assert.equal(outOfRange.ok, false);
  const missingKey = compile("input.tools.exists(t, t.input_schema.nope == 1)").evaluate({ input });
  assert.equal(missingKey.ok, false);
  assert.match(!missingKey.ok ? missingKey.error : "", /nope/);
  const badRuntimeRegex = compile('input.tools.exists(t, t.name.matches(input.server.name + "("))')
    .evaluate({ input });
  assert.equal(badRuntimeRegex.ok, false);
});

test("a dyn result that is not a bool at run time fails the rule", () => {
  const c = compile("input.tools[0].input_schema.type");
  assert.equal(c.resultShape, "dyn");
  assert.deepEqual(c.evaluate({ input }).ok, false);
  const out = c.evaluate({ input });
  assert.match(!out.ok ? out.error : "", /yielded a string, not a bool/);
});

test("the cost limit stops runaway comprehensions, and || cannot absorb it", () => {
  const big = buildPolicyInput({ argv: [], iface: iface(20) });
  const cubic =
    "input.tools.map(a, input.tools.map(b, input.tools.filter(c, c.name == a.name))).size() == 20";
  const small = compile(cubic).evaluate({ input: big });
  assert.deepEqual(small.ok && small.value, true, JSON.stringify(small));
  assert.ok(small.cost > 100_000, `cost ${small.cost}`);
  const limited = compile(cubic, { maxCost: 50_000 }).evaluate({ input: big });
  assert.equal(limited.ok, false);
  assert.match(!limited.ok ? limited.error : "", /cost limit of 50000 exceeded/);
  // CEL's || returns true if either side is true, even when the other is an error.
  const absorbed = compile(`(${cubic}) || true`, { maxCost: 50_000 }).evaluate({ input: big });
  assert.equal(absorbed.ok, false);
  const listIn = compile("input.tools.all(t, t.name in input.tools.map(x, x.name))", { maxCost: 5_000 })
    .evaluate({ input: big });
  assert.equal(listIn.ok, false, "in on a list is charged by its size");
});

test("cost grows with the work done", () => {
  const c = compile('input.tools.exists(t, t.name == "nope")');
  const two = c.evaluate({ input });
  const many = c.evaluate({ input: buildPolicyInput({ argv: [], iface: iface(40) }) });
  assert.ok(two.cost > 0 && many.cost > two.cost * 10, `${two.cost} vs ${many.cost}`);
});

test("standard CEL beyond field access compiles and runs: types, timestamps, map literals, 3-arg map", () => {
  for (
    const expr of [
      "type(input.server.name) == string && type(size(input.tools)) == int",
      'timestamp("2024-01-01T00:00:00Z") < timestamp("2025-01-01T00:00:00Z") && duration("1h") > duration("1m")',
      '{"a": 1}["a"] == 1',
      'input.tools.map(t, t.name.startsWith("read"), t.name) == ["read_file"]',
      'input.tools.exists_one(t, t.name == "read_file")',
      'input.tools[0].input_schema.properties.path.type == "string"',
    ]
  ) {
    const out = compile(expr).evaluate({ input });
    assert.deepEqual(out.ok ? out.value : out.error, true, expr);
  }
});

test("matches() is a partial RE2 match, as in cel-go", () => {
  assert.deepEqual(compile('"abc".matches("b")').evaluate({ input }).ok, true);
  const r = compile('input.server.name.matches("^de") && !input.server.name.matches("^(?i)DEX")')
    .evaluate({ input });
  assert.deepEqual(r.ok && r.value, true);
});

test("regex literals compile once, at load; run-time patterns are cached", () => {
  const compiler = new CelCompiler();
  const rule = compiler.compile('input.tools.exists(t, t.name.matches("^read_"))', {
    input: POLICY_INPUT_SHAPE,
  });
  assert.equal(compiler.regexCache.compiles, 1);
  for (let i = 0; i < 50; i++) assert.deepEqual(rule.evaluate({ input }).ok, true);
  assert.equal(compiler.regexCache.compiles, 1, "never recompiled per call");
  const dynamic = compiler.compile("input.tools.exists(t, t.name.matches(input.server.name))", {
    input: POLICY_INPUT_SHAPE,
  });
  for (let i = 0; i < 50; i++) dynamic.evaluate({ input });
  assert.equal(compiler.regexCache.compiles, 2);
});

test("the run-time regex cache is bounded (LRU) and keeps pinned literals", () => {
  const cache = new RegexCache(2);
  cache.pin("^pinned$");
  for (const p of ["a", "b", "a", "c", "a"]) cache.compile(p);
  assert.equal(cache.compiles, 4, "a stays cached (recently used); b is evicted by c");
  cache.compile("b");
  assert.equal(cache.compiles, 5);
  for (const p of ["x", "y", "z"]) cache.compile(p);
  const before = cache.compiles;
  assert.equal(cache.compile("^pinned$").test("pinned"), true);
  assert.equal(cache.compiles, before, "pinned patterns are never evicted");
  assert.throws(() => cache.pin("(?<=x)y"), /error parsing regexp/);
});
