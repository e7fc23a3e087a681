/**
 * Canonical JSON, byte-compatible with the Go MCPTrust (reference §2.4).
 *
 * - **v1** ("mcptrust-canon-v1"): keys sorted by code point (Go `sort.Strings` over UTF-8 bytes), compact,
 *   Go `encoding/json` string escaping including the HTML escapes `<` `>` `&` -> `\u003c` `\u003e`
 *   `\u0026` and U+2028/U+2029; numbers as Go prints a float64 (JavaScript's shortest form, except
 *   that -0 prints `-0`). Used for `input_schema_hash` and, by default, for signatures.
 * - **v2** ("mcptrust-canon-v2", RFC 8785 intent): keys sorted by UTF-16 code unit, compact, only the
 *   mandatory JSON escapes; numbers: 0 and -0 -> `0`, safe integers as integers, anything else in Go's
 *   `strconv.FormatFloat(f, 'g', -1, 64)` form (e.g. `1.2345675e+06`, `1e-07`), NaN/Infinity rejected.
 *
 * Lone UTF-16 surrogates (what invalid UTF-8 becomes in JavaScript) are written as U+FFFD, as Go does.
 *
 * @module
 */

/** A JSON value as produced by `JSON.parse`. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Canonicalization versions understood by the tool. */
export type CanonVersion = "v1" | "v2";

/**
 * Canonical form of `value`.
 *
 * @param value a JSON value (as from `JSON.parse`); `undefined` members of objects are skipped
 * @param version "v1" (Go-compatible, default) or "v2" (JCS-like)
 * @returns the canonical JSON text
 * @throws {TypeError} on NaN/Infinity (v2), functions, symbols, bigints or cycles
 *
 * @example
 * canonicalize({ b: "<", a: 1 }, "v1"); // '{"a":1,"b":"\u003c"}'
 */
export function canonicalize(value: unknown, version: CanonVersion = "v1"): string {
  const parts: string[] = [];
  write(value, version, parts, new Set());
  return parts.join("");
}

/** UTF-8 bytes of the canonical form of `value`; see {@link canonicalize}. */
export function canonicalBytes(value: unknown, version: CanonVersion = "v1"): Uint8Array {
  return new TextEncoder().encode(canonicalize(value, version));
}

function write(value: unknown, version: CanonVersion, out: string[], seen: Set<object>): void {
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      out.push(version === "v1" ? goFloat(value) : jcsNumber(value));
      return;
    case "string":
      out.push(version === "v1" ? quoteV1(value) : quoteV2(value));
      return;
    case "object":
      break;
    default:
      throw new TypeError(`cannot canonicalize a value of type ${typeof value}`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError("cannot canonicalize a cyclic structure");
  seen.add(obj);
  if (Array.isArray(obj)) {
    out.push("[");
    obj.forEach((item, i) => {
      if (i > 0) out.push(",");
      write(item === undefined ? null : item, version, out, seen);
    });
    out.push("]");
  } else {
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined);
    keys.sort(version === "v1" ? compareCodePoints : compareCodeUnits);
    out.push("{");
    keys.forEach((key, i) => {
      if (i > 0) out.push(",");
      out.push(version === "v1" ? quoteV1(key) : quoteV2(key), ":");
      write(record[key], version, out, seen);
    });
    out.push("}");
  }
  seen.delete(obj);
}

/**
 * Orders strings by Unicode code point, which equals Go's bytewise order of their UTF-8 encodings.
 * JavaScript's default sort compares UTF-16 code units and puts U+E000..U+FFFF after astral characters.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral characters) sort above every BMP character in code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const HEX = "0123456789abcdef";

function u4(code: number): string {
  return "\\u" + HEX[(code >> 12) & 15] + HEX[(code >> 8) & 15] + HEX[(code >> 4) & 15] + HEX[code & 15];
}

function shortEscape(c: number): string | undefined {
  switch (c) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return "\\\\";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
  }
  return undefined;
}

/** Go encoding/json string escaping (with HTML escaping, as json.Marshal does by default). */
function quoteV1(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c) rep = shortEscape(c) ?? u4(c);
    else if (c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) rep = u4(c);
    else if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1));
      if (pair) {
        i++;
        continue;
      }
      rep = "\ufffd";
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** RFC 8785 string escaping: only `"`, `\` and control characters. */
function quoteV2(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c) rep = shortEscape(c) ?? u4(c);
    else if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1));
      if (pair) {
        i++;
        continue;
      }
      rep = "\ufffd";
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * A float64 as Go's encoding/json prints it: the shortest round-trip digits, in plain notation for
 * 1e-6 <= |x| < 1e21 and exponent notation (`1e-7`, `1e+21`) outside it. JavaScript uses the same
 * thresholds and exponent shape; only -0 differs (Go keeps the sign).
 */
function goFloat(x: number): string {
  if (!Number.isFinite(x)) throw new TypeError(`cannot canonicalize non-finite number ${x}`);
  if (Object.is(x, -0)) return "-0";
  return String(x);
}

const MAX_SAFE = 2 ** 53 - 1;

/** v2 number form: integers up to 2^53-1 as integers, otherwise Go's `FormatFloat(x, 'g', -1, 64)`. */
function jcsNumber(x: number): string {
  if (!Number.isFinite(x)) throw new TypeError(`cannot canonicalize non-finite number ${x} (JCS forbids it)`);
  if (x === 0) return "0";
  if (Number.isInteger(x) && Math.abs(x) <= MAX_SAFE) return x.toFixed(0);
  return goFormatG(x);
}

/**
 * Go `strconv.FormatFloat(x, 'g', -1, 64)`: shortest round-trip digits; exponent form (at least two
 * exponent digits) when the decimal exponent is < -4 or >= 6, because Go uses precision 6 for that
 * decision when printing the shortest representation.
 */
function goFormatG(x: number): string {
  // toExponential() with no argument yields the shortest round-trip digits: "d.ddddde±x".
  const [mant, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${neg ? "-" : ""}${digits[0]}${digits.length > 1 ? "." + digits.slice(1) : ""}e${
      exp < 0 ? "-" : "+"
    }${abs < 10 ? "0" : ""}${abs}`;
  }
  return String(x);
}
