/**
 * Member collisions in the routing-relevant parts of a host request: the message itself, `params`, and
 * `params.arguments`. MCP proxies have been bypassed by members that one JSON decoder reads and another
 * does not (published advisories): `name` and `Name` (Go's encoding/json matches keys without regard to
 * case and lets the later one win), keys that differ only under Unicode normalization (`ｎａｍｅ`, the
 * Kelvin sign for `K`), a trailing NUL (`name\u0000`, which C-string decoders cut), and repeated members
 * (first-wins and last-wins decoders disagree).
 *
 * The proxy re-serializes what it forwards, so a repeated member never reaches the server twice; a
 * colliding pair does (they are distinct keys), and the server may read the one the policy did not.
 * Both are refused, so what the policy decided on is the only reading there is.
 *
 * @module
 */
import { scanTopLevel } from "./top_level.ts";

/**
 * The form two keys collide under: NFKC, then lowercase, without trailing NULs.
 *
 * @example
 * foldKey("Name") === foldKey("ｎａｍｅ\u0000"); // true
 */
export function foldKey(key: string): string {
  let k = key;
  let end = k.length;
  while (end > 0 && k.charCodeAt(end - 1) === 0) end--;
  if (end !== k.length) k = k.slice(0, end);
  // ASCII without upper case folds to itself; skip the Unicode work for it.
  if (/^[\x20-\x40\x5b-\x7e]*$/.test(k)) return k;
  return k.normalize("NFKC").toLowerCase().normalize("NFKC");
}

/** True for a key of lowercase ASCII letters, digits and `_-.$@:/` only, which {@link foldKey} keeps as is. */
function foldsToItself(k: string): boolean {
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (
      !((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e ||
        c === 0x24 || c === 0x40 || c === 0x3a || c === 0x2f)
    ) return false;
  }
  return true;
}

/**
 * Why the keys of one object collide, or undefined.
 *
 * @param where the object's place in the message, for the reason ("params", "params.arguments")
 */
export function keyCollision(keys: readonly string[], where: string): string | undefined {
  if (keys.length < 2) return undefined;
  // Keys are distinct as parsed; one that folds to itself can only collide with one that does not.
  if (keys.every(foldsToItself)) return undefined;
  const seen = new Map<string, string>();
  for (const k of keys) {
    const f = foldKey(k);
    const other = seen.get(f);
    if (other !== undefined) {
      return `members ${JSON.stringify(other)} and ${
        JSON.stringify(k)
      } of ${where} collide (case, Unicode normalization or a trailing NUL); a server could read either`;
    }
    seen.set(f, k);
  }
  return undefined;
}

/**
 * Checks a parsed host request for colliding or repeated members in its routing-relevant objects.
 *
 * @param text the request's exact text (repeated members are only visible there)
 * @param msg the request as JSON.parse read it
 * @returns the reason to refuse it, or undefined
 */
export function requestCollision(text: string, msg: Record<string, unknown>): string | undefined {
  const params = msg.params;
  const objects: [string, Record<string, unknown>][] = [["the message", msg]];
  if (isPlainObject(params)) {
    objects.push(["params", params]);
    if (isPlainObject(params.arguments)) objects.push(["params.arguments", params.arguments]);
  }
  for (const [where, obj] of objects) {
    const why = keyCollision(Object.keys(obj), where);
    if (why) return why;
  }
  // Repeats of id and method are refused by the id scan (top_level.ts), so here: params and below.
  if (isPlainObject(params) && possiblyRepeated(text, objects.slice(1), '"params"', params._meta)) {
    return repeatedMember(text);
  }
  return undefined;
}

/**
 * A cheap test that rules out repeated members in the common case: every key of the checked objects
 * appears once as a quoted text, and no escape could spell one differently. Only `\uXXXX` and `\/` give
 * a character two spellings in JSON (control characters, `"` and `\` must be escaped, so a key holding
 * one never matches its plain quoted form here and goes to the exact check).
 */
function possiblyRepeated(
  text: string,
  objects: [string, Record<string, unknown>][],
  first: string,
  meta: unknown,
): boolean {
  if (text.indexOf("\\u") !== -1 || text.indexOf("\\/") !== -1) return true;
  const at = text.indexOf(first);
  if (at === -1 || text.indexOf(first, at + first.length) !== -1) return true;
  // A 2026-07-28 request carries `params._meta` (the envelope: clientInfo has a `name`), whose keys and
  // strings may spell a checked key too: those occurrences are expected, so they are counted, not taken
  // for a repeat. Anything else unexpected goes to the exact check.
  const inMeta = isPlainObject(meta) ? spellings(meta, objects) : undefined;
  if (inMeta === null) return true;
  for (const [, obj] of objects) {
    for (const k in obj) {
      const q = quoted(k);
      const expected = 1 + (inMeta?.get(k) ?? 0);
      let found = 0;
      for (let i = text.indexOf(q); i !== -1 && found <= expected; i = text.indexOf(q, i + q.length)) found++;
      if (found !== expected) return true;
    }
  }
  return false;
}

/**
 * How often each key of `objects` occurs as a key or a string value in `value` (the text spells each
 * occurrence once as `"..."`), or null past 256 nodes (then the caller does the exact check).
 */
function spellings(
  value: Record<string, unknown>,
  objects: [string, Record<string, unknown>][],
): Map<string, number> | null {
  const counts = new Map<string, number>();
  for (const [, obj] of objects) for (const k in obj) counts.set(k, 0);
  let budget = 256;
  const add = (s: string) => {
    const n = counts.get(s);
    if (n !== undefined) counts.set(s, n + 1);
  };
  const walk = (v: unknown): boolean => {
    if (--budget < 0) return false;
    if (typeof v === "string") add(v);
    else if (Array.isArray(v)) {
      for (const x of v) if (!walk(x)) return false;
    } else if (isPlainObject(v)) {
      for (const k in v) {
        add(k);
        if (!walk(v[k])) return false;
      }
    }
    return true;
  };
  return walk(value) ? counts : null;
}

/** `"key"`, cached: the same few keys (name, arguments, params, ...) come in every message. */
const QUOTED = new Map<string, string>();
function quoted(k: string): string {
  let q = QUOTED.get(k);
  if (q === undefined) {
    q = '"' + k + '"';
    if (QUOTED.size < 1024) QUOTED.set(k, q);
  }
  return q;
}

/** The exact check: a structural scan of the message, params and arguments, which refuses repeats. */
function repeatedMember(text: string): string | undefined {
  const top = scanTopLevel(text);
  if (!top) return "the message repeats a member (parsers disagree on which one counts)";
  const p = top.get("params");
  if (!p) return undefined;
  const paramsText = text.slice(p[0], p[1]);
  if (paramsText.charCodeAt(0) !== 0x7b) return undefined;
  const params = scanTopLevel(paramsText);
  if (!params) return "params repeats a member (parsers disagree on which one counts)";
  const a = params.get("arguments");
  if (!a) return undefined;
  const argsText = paramsText.slice(a[0], a[1]);
  if (argsText.charCodeAt(0) !== 0x7b) return undefined;
  if (!scanTopLevel(argsText)) {
    return "params.arguments repeats a member (parsers disagree on which one counts)";
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
