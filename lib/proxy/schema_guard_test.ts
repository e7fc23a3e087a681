import { test } from "node:test";
import assert from "node:assert/strict";
import { SchemaGuard, schemaGuardFor } from "./schema_guard.ts";

const readFile = {
  name: "read_file",
  inputSchema: {
    type: "object",
    properties: { path: { type: "string" }, limit: { type: "integer", minimum: 1 } },
    required: ["path"],
    additionalProperties: false,
  },
};
const search = {
  name: "search",
  inputSchema: { type: "object" },
  outputSchema: {
    type: "object",
    properties: { hits: { type: "array", items: { type: "string" } } },
    required: ["hits"],
  },
};

test("arguments are checked against the approved input schema; the reason names the tool and the path", () => {
  const g = new SchemaGuard();
  assert.deepEqual(g.learn([readFile, search]), []);
  assert.deepEqual(g.checkArgs("read_file", { path: "/srv/a" }), { ok: true });
  for (const bad of [{}, { path: 3 }, { path: "a", limit: 0 }, { path: "a", extra: true }, "x", undefined]) {
    const v = g.checkArgs("read_file", bad);
    assert.equal(v.ok, false, JSON.stringify(bad));
    assert.match((v as { reason: string }).reason, /^arguments of tool "read_file" do not match/);
  }
  assert.match((g.checkArgs("read_file", { path: 3 }) as { reason: string }).reason, /\/path must be string/);
  // A tool the guard never learned is left to the policy core.
  assert.deepEqual(g.checkArgs("unknown", { any: 1 }), { ok: true });
});

test("draft-07 and draft 2020-12 schemas are each read in their own dialect", () => {
  const g = new SchemaGuard();
  // `items` as an array is a tuple in draft-07; in 2020-12 tuples are `prefixItems`.
  g.learn([
    {
      name: "d7",
      inputSchema: {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        properties: { pair: { type: "array", items: [{ type: "string" }, { type: "integer" }] } },
      },
    },
    {
      name: "d2020",
      inputSchema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        properties: { pair: { type: "array", prefixItems: [{ type: "string" }, { type: "integer" }] } },
      },
    },
  ]);
  for (const tool of ["d7", "d2020"]) {
    assert.deepEqual(g.checkArgs(tool, { pair: ["a", 1] }), { ok: true }, tool);
    assert.equal(g.checkArgs(tool, { pair: [1, "a"] }).ok, false, tool);
  }
});

test("structured results must match the approved output schema; error results and tools without one pass", () => {
  const g = new SchemaGuard();
  g.learn([readFile, search]);
  assert.equal(g.checksResult("search"), true);
  assert.equal(g.checksResult("read_file"), false);
  assert.deepEqual(g.checkResult("search", { content: [], structuredContent: { hits: ["a"] } }), {
    ok: true,
  });
  const wrong = g.checkResult("search", { content: [], structuredContent: { hits: [1] } });
  assert.equal(wrong.ok, false);
  assert.match((wrong as { reason: string }).reason, /result of tool "search" does not match.*\/hits\/0/);
  const missing = g.checkResult("search", { content: [{ type: "text", text: "x" }] });
  assert.match((missing as { reason: string }).reason, /has no structuredContent/);
  assert.deepEqual(g.checkResult("search", { content: [], isError: true }), { ok: true });
});

test("a schema that does not compile fails closed for that tool, with a warning naming the way out", () => {
  const g = new SchemaGuard();
  const warnings = g.learn([{
    name: "bad",
    inputSchema: { type: "object", properties: { a: { type: 12 } } },
  }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /"bad" has an input schema that cannot be compiled.*--no-validate-args/);
  assert.equal(g.checkArgs("bad", { a: 1 }).ok, false);
  // Turned off, nothing is compiled or checked.
  const off = new SchemaGuard({ args: false, results: false });
  assert.deepEqual(off.learn([{ name: "bad", inputSchema: { type: 12 } }, search]), []);
  assert.deepEqual(off.checkArgs("bad", 1), { ok: true });
  assert.equal(off.checksResult("search"), false);
});

test("two tools with the same $id do not collide; a changed schema is recompiled", () => {
  const g = new SchemaGuard();
  const a = { name: "a", inputSchema: { $id: "https://x.example/s", type: "object", required: ["x"] } };
  const b = { name: "b", inputSchema: { $id: "https://x.example/s", type: "object", required: ["y"] } };
  assert.deepEqual(g.learn([a, b]), []);
  assert.equal(g.checkArgs("a", { x: 1 }).ok, true);
  assert.equal(g.checkArgs("b", { x: 1 }).ok, false);
  g.learn([{ name: "a", inputSchema: { type: "object", required: ["z"] } }]);
  assert.equal(g.checkArgs("a", { x: 1 }).ok, false);
});

test("schemaGuardFor: no guard at all when both checks are off, else one with the chosen checks", () => {
  assert.equal(schemaGuardFor({ validateArgs: false, validateResults: false }), undefined);
  const g = schemaGuardFor({ validateArgs: true, validateResults: false })!;
  assert.deepEqual([g.args, g.results], [true, false]);
});
