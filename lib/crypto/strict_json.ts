/**
 * Strict JSON parsing for documents that are signed or checked against a signature.
 *
 * The signature covers the canonical form of the parsed document (reference §3.2), so anything that lets
 * two different files parse to the same value, or one file parse to two values in two parsers, weakens
 * it. On top of JSON.parse (RFC 8259) this rejects:
 * - duplicate member names in an object (JSON.parse keeps the last, other parsers the first: a classic
 *   parser-differential; RFC 8259 §4 says names SHOULD be unique);
 * - lone UTF-16 surrogates (`"\ud800"`), which canonical JSON writes as U+FFFD, so `"\ud800"` and
 *   `"\udbff"` would sign the same;
 * - nesting deeper than {@link MAX_JSON_DEPTH}, which would overflow recursive canonicalizers.
 * Callers decode bytes with a fatal UTF-8 decoder, so invalid UTF-8 never reaches this point.
 *
 * @module
 */
import type { Json } from "../lockfile/canonical.ts";

/** Deepest object/array nesting accepted. Lockfiles nest about six levels. */
export const MAX_JSON_DEPTH = 100;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Parses `text` as JSON with the extra rules in the module note.
 *
 * @returns the parsed value
 * @throws {Error} with a one-line reason (the caller adds the file name)
 */
export function parseStrictJson(text: string): Json {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  checkStructure(text);
  checkStrings(value);
  return value;
}

/**
 * Walks already-validated JSON text, tracking the member names of each open object, and throws on a
 * duplicate name or on nesting deeper than MAX_JSON_DEPTH. Iterative, so depth costs no stack.
 */
function checkStructure(text: string): void {
  // One entry per open container: a Set of member names for objects, null for arrays.
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (open.length >= MAX_JSON_DEPTH) throw new Error(`nested more than ${MAX_JSON_DEPTH} levels deep`);
      open.push(c === 0x7b ? new Set() : null);
      expectName = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = open[open.length - 1] instanceof Set;
    } else if (c === 0x22 /* " */) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      }
      if (expectName) {
        const names = open[open.length - 1] as Set<string>;
        const name = JSON.parse(text.slice(start, i + 1)) as string;
        if (names.has(name)) throw new Error(`duplicate member name ${JSON.stringify(name)}`);
        names.add(name);
        expectName = false;
      }
    }
  }
}

/** Throws if any string or member name in `value` holds a lone surrogate. */
function checkStrings(value: Json): void {
  const todo: Json[] = [value];
  while (todo.length > 0) {
    const v = todo.pop()!;
    if (typeof v === "string") {
      if (LONE_SURROGATE.test(v)) {
        throw new Error(`the string ${JSON.stringify(v)} holds a lone UTF-16 surrogate`);
      }
    } else if (Array.isArray(v)) {
      todo.push(...v);
    } else if (v !== null && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) {
          throw new Error(`the member name ${JSON.stringify(k)} holds a lone UTF-16 surrogate`);
        }
        todo.push(item);
      }
    }
  }
}
