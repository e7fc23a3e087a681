/**
 * Byte helpers for the policy core (AssemblyScript): UTF-8 validation, percent-escapes, searching.
 * Everything works on (pointer, length) ranges of linear memory and allocates nothing.
 */
import { URI_BAD_CHAR, URI_BAD_ESCAPE, URI_BAD_UTF8, URI_DOUBLE_ENCODED } from "./codes";

/** Marks a template variable inside a compiled pattern; never part of valid UTF-8 (RFC 3629 §1). */
export const VAR_MARK: u8 = 0xff;
/** Marks a `{+var}` while a template is compiled; turned into VAR_MARK once checked. */
export const RESERVED_MARK: u8 = 0xfe;

const SLASH: u8 = 0x2f;
const PERCENT: u8 = 0x25;

/** True for an ASCII hex digit. */
export function isHex(c: u32): bool {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** Value of an ASCII hex digit (caller checked isHex). */
export function hexValue(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

/** True for an ASCII letter. */
export function isAlpha(c: u32): bool {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

/** True for an ASCII digit. */
export function isDigit(c: u32): bool {
  return c >= 0x30 && c <= 0x39;
}

/** ASCII lowercase of one byte; other bytes unchanged. */
export function lower(c: u32): u32 {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/**
 * Checks that `[p, p+len)` is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF) with no control character (C0, DEL, C1) and no backslash. With `allowMarks`, the
 * template markers 0xFE/0xFF are skipped. Returns 0, URI_BAD_UTF8 or URI_BAD_CHAR.
 */
export function checkText(p: usize, len: i32, allowMarks: bool): i32 {
  let i = 0;
  while (i < len) {
    const c = <u32> load<u8>(p + i);
    if (c < 0x80) {
      // Backslash: Windows servers treat it as a path separator, RFC 3986 does not.
      if (c < 0x20 || c == 0x7f || c == 0x5c) return URI_BAD_CHAR;
      i += 1;
      continue;
    }
    if (allowMarks && c >= 0xfe) {
      i += 1;
      continue;
    }
    let need = 0;
    let lo: u32 = 0x80;
    let hi: u32 = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0) lo = 0xa0; // overlong
      if (c == 0xed) hi = 0x9f; // UTF-16 surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0) lo = 0x90; // overlong
      if (c == 0xf4) hi = 0x8f; // above U+10FFFF
    } else {
      return URI_BAD_UTF8; // continuation byte, C0/C1 overlong lead, or F5..FF
    }
    if (i + need >= len) return URI_BAD_UTF8; // truncated sequence
    const c1 = <u32> load<u8>(p + i + 1);
    if (c1 < lo || c1 > hi) return URI_BAD_UTF8;
    for (let k = 2; k <= need; k++) {
      const ck = <u32> load<u8>(p + i + k);
      if (ck < 0x80 || ck > 0xbf) return URI_BAD_UTF8;
    }
    if (c == 0xc2 && c1 < 0xa0) return URI_BAD_CHAR; // C1 controls U+0080..U+009F
    i += need + 1;
  }
  return 0;
}

/** Checks that every `%` in `[p, p+len)` starts a valid escape `%HH`. Returns 0 or URI_BAD_ESCAPE. */
export function checkEscapes(p: usize, len: i32): i32 {
  for (let i = 0; i < len; i++) {
    if (load<u8>(p + i) != PERCENT) continue;
    if (i + 2 >= len) return URI_BAD_ESCAPE;
    if (!isHex(load<u8>(p + i + 1)) || !isHex(load<u8>(p + i + 2))) return URI_BAD_ESCAPE;
    i += 2;
  }
  return 0;
}

/**
 * Percent-decodes `[src, src+len)` once into `dst` (RFC 3986 §2.1) and returns the decoded length,
 * or the negated error: URI_BAD_ESCAPE for a malformed escape, URI_BAD_UTF8 for an escape that
 * decodes to 0xFE/0xFF (never UTF-8, and reserved for template markers). Raw marker bytes are
 * copied through, so the same routine decodes compiled template paths.
 */
export function percentDecode(src: usize, len: i32, dst: usize): i32 {
  let j = 0;
  let i = 0;
  while (i < len) {
    const c = <u32> load<u8>(src + i);
    if (c != PERCENT) {
      store<u8>(dst + j, <u8> c);
      j += 1;
      i += 1;
      continue;
    }
    if (i + 2 >= len) return -URI_BAD_ESCAPE;
    const h1 = <u32> load<u8>(src + i + 1);
    const h2 = <u32> load<u8>(src + i + 2);
    if (!isHex(h1) || !isHex(h2)) return -URI_BAD_ESCAPE;
    const b = (hexValue(h1) << 4) | hexValue(h2);
    if (b >= 0xfe) return -URI_BAD_UTF8;
    store<u8>(dst + j, <u8> b);
    j += 1;
    i += 3;
  }
  return j;
}

/**
 * After one decode, a remaining `%HH` means the input was encoded at least twice: a server that
 * decodes again would see bytes we never checked (`%252e` -> `%2e` -> `.`). Returns 0 or
 * URI_DOUBLE_ENCODED.
 */
export function checkNoEscapes(p: usize, len: i32): i32 {
  for (let i = 0; i + 2 < len; i++) {
    if (load<u8>(p + i) == PERCENT && isHex(load<u8>(p + i + 1)) && isHex(load<u8>(p + i + 2))) {
      return URI_DOUBLE_ENCODED;
    }
  }
  return 0;
}

/** Index of the first `b` in `[p+from, p+len)`, or -1. */
export function indexOf(p: usize, len: i32, from: i32, b: u8): i32 {
  for (let i = from; i < len; i++) {
    if (load<u8>(p + i) == b) return i;
  }
  return -1;
}

/** True when `[p, p+len)` contains "//". */
export function hasEmptySegment(p: usize, len: i32): bool {
  for (let i = 0; i + 1 < len; i++) {
    if (load<u8>(p + i) == SLASH && load<u8>(p + i + 1) == SLASH) return true;
  }
  return false;
}

/** True when the byte ranges are equal. */
export function bytesEqual(a: usize, b: usize, len: i32): bool {
  return len == 0 || memory.compare(a, b, <usize> len) == 0;
}

/** True when `[p, p+len)` is "." or "..". */
export function isDotSegment(p: usize, len: i32): bool {
  if (len == 1) return load<u8>(p) == 0x2e;
  if (len == 2) return load<u8>(p) == 0x2e && load<u8>(p + 1) == 0x2e;
  return false;
}
