import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_JSON_DEPTH, parseStrictJson } from "./strict_json.ts";

test("parses ordinary JSON like JSON.parse, including tricky strings", () => {
  const text = '{"a":"}{\\"[","b\\"}":[1,{"a":2}],"c":{"a":"\\u0061"},"\\ud83d\\ude00":true}';
  assert.deepEqual(parseStrictJson(text), JSON.parse(text));
});

test("refuses duplicate member names, also when spelled with different escapes", () => {
  assert.throws(() => parseStrictJson('{"a":1,"a":2}'), /duplicate member name "a"/);
  assert.throws(() => parseStrictJson('{"a":1,"\\u0061":2}'), /duplicate member name "a"/);
  assert.throws(() => parseStrictJson('{"x":[{"t":1,"t":1}]}'), /duplicate member name "t"/);
  // The same name in sibling objects is fine.
  assert.doesNotThrow(() => parseStrictJson('{"x":{"t":1},"y":{"t":1},"z":[{"t":1},{"t":2}]}'));
});

test("refuses lone surrogates, which canonical JSON would collapse to U+FFFD", () => {
  assert.throws(() => parseStrictJson('{"name":"\\ud800"}'), /lone UTF-16 surrogate/);
  assert.throws(() => parseStrictJson('{"\\udc00":1}'), /lone UTF-16 surrogate/);
  assert.doesNotThrow(() => parseStrictJson('{"name":"\\ud83d\\ude00"}'));
});

test("refuses invalid JSON and nesting deeper than the limit", () => {
  assert.throws(() => parseStrictJson("{"), /not valid JSON/);
  assert.throws(() => parseStrictJson('{"a":1,}'), /not valid JSON/);
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
  assert.doesNotThrow(() => parseStrictJson(deep(MAX_JSON_DEPTH)));
  assert.throws(() => parseStrictJson(deep(MAX_JSON_DEPTH + 1)), /nested more than/);
});
