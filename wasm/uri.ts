/**
 * URI normalization and resource-template matching for the policy core (AssemblyScript).
 *
 * A request URI is split with the RFC 3986 Appendix B grammar (scheme, authority, path, query,
 * fragment), then:
 * - the scheme is compared case-insensitively (RFC 3986 §3.1);
 * - the authority is compared byte for byte and must hold no percent-escape;
 * - the path is percent-decoded once (§2.1), checked, and dot segments are removed (§5.2.4);
 * - query and fragment are kept raw and must equal the template's literally.
 * Anything ambiguous is refused before matching (codes.ts URI_*): invalid escapes, escapes left after
 * one decode, control characters and backslashes, invalid UTF-8, empty segments, `..` above the root.
 *
 * A template (RFC 6570 level 1 `{var}` and level 2 `{+var}` only) is compiled at load into the same
 * components, with each variable replaced by VAR_MARK. A variable matches at least one byte; one in a
 * non-final position matches within one path segment; the final one may span segments but its value
 * never starts with `/`, and since matching runs on the normalized path it cannot climb out of the
 * literal prefix. At most one variable per segment keeps matching linear: every variable's extent is
 * fixed by the next `/`, so there is no backtracking.
 */
import {
  bytesEqual,
  checkEscapes,
  checkNoEscapes,
  checkText,
  hasEmptySegment,
  indexOf,
  isAlpha,
  isDigit,
  isDotSegment,
  lower,
  percentDecode,
  RESERVED_MARK,
  VAR_MARK,
} from "./bytes";
import { appendBytes, bytesAt, reserveBytes } from "./allowlist";
import {
  TPL_BAD_EXPRESSION,
  TPL_BAD_LITERAL,
  TPL_NO_SCHEME,
  TPL_RESERVED_IN_AUTHORITY,
  TPL_TWO_VARIABLES,
  TPL_UNSUPPORTED_MODIFIER,
  TPL_UNSUPPORTED_OPERATOR,
  TPL_VARIABLE_IN_QUERY,
  TPL_VARIABLE_LIST,
  URI_ABOVE_ROOT,
  URI_DOT_SEGMENT,
  URI_EMPTY_SEGMENT,
  URI_ENCODED_AUTHORITY,
  URI_MALFORMED,
} from "./codes";

const SLASH: u8 = 0x2f;
const COLON: u8 = 0x3a;
const QUESTION: u8 = 0x3f;
const HASH: u8 = 0x23;
const PERCENT: u8 = 0x25;
const AT: u8 = 0x40;
const DOT: u8 = 0x2e;

// ---------------------------------------------------------------------------------------------------
// Components of the last URI (or template) split by splitUri. Offsets are relative to its start.

let sSchemeLen: i32 = 0; // scheme is [0, sSchemeLen)
let sHasAuth: bool = false;
let sAuthStart: i32 = 0;
let sAuthLen: i32 = 0;
let sPathStart: i32 = 0;
let sPathLen: i32 = 0;
let sHasQuery: bool = false;
let sQueryStart: i32 = 0;
let sQueryLen: i32 = 0;
let sHasFrag: bool = false;
let sFragStart: i32 = 0;
let sFragLen: i32 = 0;

/**
 * Splits `[p, p+len)` per RFC 3986 Appendix B. The scheme must be `ALPHA *(ALPHA / DIGIT / + - .)`
 * followed by `:`; returns 0 or URI_MALFORMED.
 */
function splitUri(p: usize, len: i32): i32 {
  if (len == 0 || !isAlpha(load<u8>(p))) return URI_MALFORMED;
  let i = 1;
  while (i < len) {
    const c = <u32> load<u8>(p + i);
    if (c == COLON) break;
    if (!(isAlpha(c) || isDigit(c) || c == 0x2b || c == 0x2d || c == 0x2e)) return URI_MALFORMED;
    i += 1;
  }
  if (i >= len) return URI_MALFORMED;
  sSchemeLen = i;
  const hierStart = i + 1;
  const frag = indexOf(p, len, hierStart, HASH);
  const hierAndQueryEnd = frag < 0 ? len : frag;
  const query = indexOf(p, hierAndQueryEnd, hierStart, QUESTION);
  const hierEnd = query < 0 ? hierAndQueryEnd : query;
  sHasFrag = frag >= 0;
  sFragStart = frag + 1;
  sFragLen = frag < 0 ? 0 : len - frag - 1;
  sHasQuery = query >= 0;
  sQueryStart = query + 1;
  sQueryLen = query < 0 ? 0 : hierAndQueryEnd - query - 1;
  sHasAuth = hierEnd - hierStart >= 2 && load<u8>(p + hierStart) == SLASH &&
    load<u8>(p + hierStart + 1) == SLASH;
  if (sHasAuth) {
    sAuthStart = hierStart + 2;
    const slash = indexOf(p, hierEnd, sAuthStart, SLASH);
    const authEnd = slash < 0 ? hierEnd : slash;
    sAuthLen = authEnd - sAuthStart;
    sPathStart = authEnd;
  } else {
    sAuthStart = hierStart;
    sAuthLen = 0;
    sPathStart = hierStart;
  }
  sPathLen = hierEnd - sPathStart;
  return 0;
}

/**
 * RFC 3986 §5.2.4 for a path starting with `/`, as a segment stack: `.` is dropped, `..` pops the
 * previous segment, and either one in last position leaves a trailing `/`. Fails with URI_ABOVE_ROOT
 * when `..` has nothing to pop: RFC 3986 clamps at the root, but a server joining the path to a base
 * directory would climb out of it. Writes to `out` (never longer than the input); returns the length.
 */
function removeDotSegments(src: usize, len: i32, out: usize): i32 {
  let o = 0;
  let i = 0;
  while (i < len) {
    const segStart = i + 1; // src[i] is '/'
    const slash = indexOf(src, len, segStart, SLASH);
    const segEnd = slash < 0 ? len : slash;
    const segLen = segEnd - segStart;
    const last = segEnd == len;
    if (segLen == 1 && load<u8>(src + segStart) == DOT) {
      if (last) {
        store<u8>(out + o, SLASH);
        o += 1;
      }
    } else if (segLen == 2 && load<u8>(src + segStart) == DOT && load<u8>(src + segStart + 1) == DOT) {
      if (o == 0) return -URI_ABOVE_ROOT;
      while (o > 0 && load<u8>(out + o - 1) != SLASH) o -= 1;
      o -= 1; // drop the '/' that started the popped segment
      if (last) {
        store<u8>(out + o, SLASH);
        o += 1;
      }
    } else {
      store<u8>(out + o, SLASH);
      if (segLen > 0) memory.copy(out + o + 1, src + segStart, <usize> segLen);
      o += segLen + 1;
    }
    i = segEnd;
  }
  return o;
}

/** True when a path not starting with `/` has a `.` or `..` segment (RFC 3986 would make it rooted). */
function rootlessHasDots(p: usize, len: i32): bool {
  let start = 0;
  while (start <= len) {
    const slash = indexOf(p, len, start, SLASH);
    const end = slash < 0 ? len : slash;
    if (isDotSegment(p + start, end - start)) return true;
    if (slash < 0) break;
    start = end + 1;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// The last request URI accepted by normalizeRequest. Scheme, authority, query and fragment point
// into the caller's input; the path points into the caller's `dot` buffer.

let rBase: usize = 0;
let rSchemeLen: i32 = 0;
let rHasAuth: bool = false;
let rAuth: usize = 0;
let rAuthLen: i32 = 0;
let rPath: usize = 0;
let rPathLen: i32 = 0;
let rHasQuery: bool = false;
let rQuery: usize = 0;
let rQueryLen: i32 = 0;
let rHasFrag: bool = false;
let rFrag: usize = 0;
let rFragLen: i32 = 0;

/**
 * Normalizes the request URI `[p, p+len)`; `dec` and `dot` are work buffers of at least `len` bytes.
 * Returns 0 and keeps the components for matchTemplate / writeCanonical, or a URI_* code.
 */
export function normalizeRequest(p: usize, len: i32, dec: usize, dot: usize): i32 {
  let err = checkText(p, len, false);
  if (err != 0) return err;
  err = splitUri(p, len);
  if (err != 0) return err;
  if (sHasAuth && indexOf(p, sAuthStart + sAuthLen, sAuthStart, PERCENT) >= 0) {
    return URI_ENCODED_AUTHORITY;
  }
  err = checkEscapes(p + sQueryStart, sQueryLen);
  if (err == 0) err = checkEscapes(p + sFragStart, sFragLen);
  if (err != 0) return err;
  const decLen = percentDecode(p + sPathStart, sPathLen, dec);
  if (decLen < 0) return -decLen;
  err = checkText(dec, decLen, false);
  if (err == 0) err = checkNoEscapes(dec, decLen);
  if (err != 0) return err;
  // Checked before dot removal: "/a//../b" is "/a/b" to RFC 3986 but "/b" to path.join.
  if (hasEmptySegment(dec, decLen)) return URI_EMPTY_SEGMENT;
  let pathLen = decLen;
  if (decLen > 0 && load<u8>(dec) == SLASH) {
    pathLen = removeDotSegments(dec, decLen, dot);
    if (pathLen < 0) return -pathLen;
  } else {
    if (rootlessHasDots(dec, decLen)) return URI_DOT_SEGMENT;
    if (decLen > 0) memory.copy(dot, dec, <usize> decLen);
  }
  rBase = p;
  rSchemeLen = sSchemeLen;
  rHasAuth = sHasAuth;
  rAuth = p + sAuthStart;
  rAuthLen = sAuthLen;
  rPath = dot;
  rPathLen = pathLen;
  rHasQuery = sHasQuery;
  rQuery = p + sQueryStart;
  rQueryLen = sQueryLen;
  rHasFrag = sHasFrag;
  rFrag = p + sFragStart;
  rFragLen = sFragLen;
  return 0;
}

/** True for bytes kept as-is in a canonical path: unreserved, sub-delims, ':', '@', '/' (RFC 3986 §3.3). */
function keepInPath(c: u32): bool {
  if (isAlpha(c) || isDigit(c)) return true;
  // - . _ ~ ! $ & ' ( ) * + , ; = : @ /
  return c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e || c == 0x21 || c == 0x24 || c == 0x26 ||
    c == 0x27 || c == 0x28 || c == 0x29 || c == 0x2a || c == 0x2b || c == 0x2c || c == 0x3b ||
    c == 0x3d || c == 0x3a || c == 0x40 || c == 0x2f;
}

function hexDigit(v: u32): u8 {
  return <u8> (v < 10 ? 0x30 + v : 0x41 + v - 10);
}

/**
 * Writes the canonical form of the last normalized URI to `out` (room for 3 x input length) and
 * returns its length: lowercase scheme, raw authority, the normalized path re-encoded (every byte
 * outside keepInPath as uppercase `%HH`, RFC 3986 §6.2.2), raw query and fragment. Normalizing the
 * result gives the result again.
 */
export function writeCanonical(out: usize): i32 {
  let o = 0;
  for (let i = 0; i < rSchemeLen; i++) {
    store<u8>(out + o, <u8> lower(load<u8>(rBase + i)));
    o += 1;
  }
  store<u8>(out + o, COLON);
  o += 1;
  if (rHasAuth) {
    store<u8>(out + o, SLASH);
    store<u8>(out + o + 1, SLASH);
    o += 2;
    memory.copy(out + o, rAuth, <usize> rAuthLen);
    o += rAuthLen;
  }
  for (let i = 0; i < rPathLen; i++) {
    const c = <u32> load<u8>(rPath + i);
    if (keepInPath(c)) {
      store<u8>(out + o, <u8> c);
      o += 1;
    } else {
      store<u8>(out + o, PERCENT);
      store<u8>(out + o + 1, hexDigit(c >> 4));
      store<u8>(out + o + 2, hexDigit(c & 15));
      o += 3;
    }
  }
  if (rHasQuery) {
    store<u8>(out + o, QUESTION);
    memory.copy(out + o + 1, rQuery, <usize> rQueryLen);
    o += rQueryLen + 1;
  }
  if (rHasFrag) {
    store<u8>(out + o, HASH);
    memory.copy(out + o + 1, rFrag, <usize> rFragLen);
    o += rFragLen + 1;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Templates. A compiled template is a record of 13 u32 in the allowlist byte block:
// scheme (lowercase), authority pattern, path pattern, query, fragment as (offset, length), each
// optional part preceded by a presence flag.

const T_SCHEME_OFF: usize = 0;
const T_SCHEME_LEN: usize = 4;
const T_HAS_AUTH: usize = 8;
const T_AUTH_OFF: usize = 12;
const T_AUTH_LEN: usize = 16;
const T_PATH_OFF: usize = 20;
const T_PATH_LEN: usize = 24;
const T_HAS_QUERY: usize = 28;
const T_QUERY_OFF: usize = 32;
const T_QUERY_LEN: usize = 36;
const T_HAS_FRAG: usize = 40;
const T_FRAG_OFF: usize = 44;
const T_FRAG_LEN: usize = 48;
const T_RECORD_SIZE: i32 = 52;

/** Byte offset (in the template text) of the last compile error, or -1. */
export let tplErrorPos: i32 = -1;
/** URI_* detail of the last TPL_BAD_LITERAL error, or 0. */
export let tplErrorDetail: i32 = 0;

function tplFail(code: i32, pos: i32, detail: i32): i32 {
  tplErrorPos = pos;
  tplErrorDetail = detail;
  return -code;
}

/**
 * Replaces each RFC 6570 expression of `[p, p+len)` with one marker byte, writing to `out`.
 * Accepts `{name}` and `{+name}` with name = ALPHA / DIGIT / "_" / "." / pct-encoded (§2.3); rejects
 * every other operator (§2.2), modifiers (§2.4) and variable lists. Returns the length or -TPL_*.
 */
function markExpressions(p: usize, len: i32, out: usize): i32 {
  let o = 0;
  let i = 0;
  while (i < len) {
    const c = <u32> load<u8>(p + i);
    if (c == 0x7d) return tplFail(TPL_BAD_EXPRESSION, i, 0); // stray '}'
    if (c != 0x7b) {
      store<u8>(out + o, <u8> c);
      o += 1;
      i += 1;
      continue;
    }
    const open = i;
    i += 1;
    let mark = VAR_MARK;
    if (i < len) {
      const op = <u32> load<u8>(p + i);
      if (op == 0x2b) {
        mark = RESERVED_MARK;
        i += 1;
      } else if (
        // # . / ; ? & (RFC 6570 levels 2-3) and = , ! @ | (reserved for future extensions)
        op == 0x23 || op == 0x2e || op == 0x2f || op == 0x3b || op == 0x3f || op == 0x26 ||
        op == 0x3d || op == 0x2c || op == 0x21 || op == 0x40 || op == 0x7c
      ) {
        return tplFail(TPL_UNSUPPORTED_OPERATOR, open, 0);
      }
    }
    const nameStart = i;
    while (i < len && load<u8>(p + i) != 0x7d) {
      const ch = <u32> load<u8>(p + i);
      if (ch == 0x2c) return tplFail(TPL_VARIABLE_LIST, open, 0);
      if (ch == 0x3a || ch == 0x2a) return tplFail(TPL_UNSUPPORTED_MODIFIER, open, 0);
      if (!(isAlpha(ch) || isDigit(ch) || ch == 0x5f || ch == 0x2e || ch == 0x25)) {
        return tplFail(TPL_BAD_EXPRESSION, open, 0);
      }
      i += 1;
    }
    if (i >= len || i == nameStart) return tplFail(TPL_BAD_EXPRESSION, open, 0);
    if (checkEscapes(p + nameStart, i - nameStart) != 0) return tplFail(TPL_BAD_EXPRESSION, open, 0);
    store<u8>(out + o, mark);
    o += 1;
    i += 1; // '}'
  }
  return o;
}

function countMarks(p: usize, len: i32): i32 {
  let n = 0;
  for (let i = 0; i < len; i++) {
    if (load<u8>(p + i) >= RESERVED_MARK) n += 1;
  }
  return n;
}

/** Checks each segment of a decoded path pattern: no dot segment, at most one variable. */
function checkPatternSegments(p: usize, len: i32): i32 {
  let start = 0;
  while (start <= len) {
    const slash = indexOf(p, len, start, SLASH);
    const end = slash < 0 ? len : slash;
    if (isDotSegment(p + start, end - start)) return tplFail(TPL_BAD_LITERAL, -1, URI_DOT_SEGMENT);
    if (countMarks(p + start, end - start) > 1) return tplFail(TPL_TWO_VARIABLES, -1, 0);
    if (slash < 0) break;
    start = end + 1;
  }
  return 0;
}

/**
 * Compiles the template `[p, p+len)` into the allowlist byte block; `work` and `work2` are buffers of
 * at least `len` bytes. Returns the record offset, or a negated TPL_* code with tplErrorPos /
 * tplErrorDetail set.
 */
export function compileTemplate(p: usize, len: i32, work: usize, work2: usize): i32 {
  tplErrorPos = -1;
  tplErrorDetail = 0;
  const textErr = checkText(p, len, false);
  if (textErr != 0) return tplFail(TPL_BAD_LITERAL, -1, textErr);
  const mlen = markExpressions(p, len, work);
  if (mlen < 0) return mlen;
  if (splitUri(work, mlen) != 0) return tplFail(TPL_NO_SCHEME, 0, 0);
  if (countMarks(work + sQueryStart, sQueryLen) + countMarks(work + sFragStart, sFragLen) > 0) {
    return tplFail(TPL_VARIABLE_IN_QUERY, -1, 0);
  }
  let err = checkEscapes(work + sQueryStart, sQueryLen);
  if (err == 0) err = checkEscapes(work + sFragStart, sFragLen);
  if (err != 0) return tplFail(TPL_BAD_LITERAL, -1, err);
  const auth = work + sAuthStart;
  if (sHasAuth) {
    if (indexOf(auth, sAuthLen, 0, PERCENT) >= 0) return tplFail(TPL_BAD_LITERAL, -1, URI_ENCODED_AUTHORITY);
    if (indexOf(auth, sAuthLen, 0, RESERVED_MARK) >= 0) return tplFail(TPL_RESERVED_IN_AUTHORITY, -1, 0);
    if (countMarks(auth, sAuthLen) > 1) return tplFail(TPL_TWO_VARIABLES, -1, 0);
  }
  // The path pattern is decoded once, like request paths, so literals compare byte for byte.
  const plen = percentDecode(work + sPathStart, sPathLen, work2);
  if (plen < 0) return tplFail(TPL_BAD_LITERAL, -1, -plen);
  err = checkText(work2, plen, true);
  if (err == 0) err = checkNoEscapes(work2, plen);
  if (err == 0 && hasEmptySegment(work2, plen)) err = URI_EMPTY_SEGMENT;
  if (err != 0) return tplFail(TPL_BAD_LITERAL, -1, err);
  err = checkPatternSegments(work2, plen);
  if (err != 0) return err;
  for (let i = 0; i < plen; i++) {
    if (load<u8>(work2 + i) == RESERVED_MARK) store<u8>(work2 + i, VAR_MARK);
  }
  // Store: record first, then the parts (appendBytes may move the block, so write fields by offset).
  const rec = reserveBytes(T_RECORD_SIZE);
  const schemeOff = appendBytes(work, sSchemeLen);
  for (let i = 0; i < sSchemeLen; i++) {
    const a = bytesAt(schemeOff + i);
    store<u8>(a, <u8> lower(load<u8>(a)));
  }
  const authOff = appendBytes(auth, sAuthLen);
  const pathOff = appendBytes(work2, plen);
  const queryOff = appendBytes(work + sQueryStart, sQueryLen);
  const fragOff = appendBytes(work + sFragStart, sFragLen);
  const r = bytesAt(rec);
  store<u32>(r + T_SCHEME_OFF, schemeOff);
  store<u32>(r + T_SCHEME_LEN, sSchemeLen);
  store<u32>(r + T_HAS_AUTH, sHasAuth ? 1 : 0);
  store<u32>(r + T_AUTH_OFF, authOff);
  store<u32>(r + T_AUTH_LEN, sAuthLen);
  store<u32>(r + T_PATH_OFF, pathOff);
  store<u32>(r + T_PATH_LEN, plen);
  store<u32>(r + T_HAS_QUERY, sHasQuery ? 1 : 0);
  store<u32>(r + T_QUERY_OFF, queryOff);
  store<u32>(r + T_QUERY_LEN, sQueryLen);
  store<u32>(r + T_HAS_FRAG, sHasFrag ? 1 : 0);
  store<u32>(r + T_FRAG_OFF, fragOff);
  store<u32>(r + T_FRAG_LEN, sFragLen);
  return rec;
}

/**
 * A variable's value `[p, p+len)`: never empty (RFC 6570 would expand an empty value, but reading the
 * template's bare prefix is not what was locked), never `.` or `..` (an authority is not
 * dot-normalized), never starting with `/`, and, in an authority, without `@` (userinfo would change
 * what the host part means).
 */
function valueOk(p: usize, len: i32, inAuthority: bool): bool {
  if (len < 1 || isDotSegment(p, len) || load<u8>(p) == SLASH) return false;
  return !inAuthority || indexOf(p, len, 0, AT) < 0;
}

/**
 * Matches a compiled pattern (literal bytes and VAR_MARK) against `[s, s+slen)` in one pass.
 * A variable followed by another variable ends at the next `/` of the subject, minus the literal
 * that follows it in its segment; the last variable takes everything up to the literal tail.
 */
function matchPattern(pat: usize, plen: i32, s: usize, slen: i32, inAuthority: bool): bool {
  let i = 0;
  let j = 0;
  while (i < plen) {
    const c = load<u8>(pat + i);
    if (c != VAR_MARK) {
      if (j >= slen || load<u8>(s + j) != c) return false;
      i += 1;
      j += 1;
      continue;
    }
    const nextMark = indexOf(pat, plen, i + 1, VAR_MARK);
    if (nextMark < 0) {
      const tail = plen - i - 1;
      const valueEnd = slen - tail;
      if (valueEnd - j < 1) return false;
      if (!bytesEqual(s + valueEnd, pat + i + 1, tail)) return false;
      return valueOk(s + j, valueEnd - j, inAuthority);
    }
    // compileTemplate guarantees a '/' between this mark and the next one; refuse if it is missing.
    const patSlash = indexOf(pat, nextMark, i + 1, SLASH);
    if (patSlash < 0) return false;
    const suffix = patSlash - i - 1;
    const subjSlash = indexOf(s, slen, j, SLASH);
    const segEnd = subjSlash < 0 ? slen : subjSlash;
    const valueEnd = segEnd - suffix;
    if (valueEnd - j < 1 || !valueOk(s + j, valueEnd - j, inAuthority)) return false;
    j = valueEnd;
    i += 1;
  }
  return j == slen;
}

/** True when the last normalized request URI matches the template record at byte offset `rec`. */
export function matchTemplate(rec: i32): bool {
  const r = bytesAt(rec);
  const schemeLen = <i32> load<u32>(r + T_SCHEME_LEN);
  if (schemeLen != rSchemeLen) return false;
  const scheme = bytesAt(<i32> load<u32>(r + T_SCHEME_OFF));
  for (let i = 0; i < schemeLen; i++) {
    if (lower(load<u8>(rBase + i)) != <u32> load<u8>(scheme + i)) return false;
  }
  if ((load<u32>(r + T_HAS_AUTH) != 0) != rHasAuth) return false;
  if (
    rHasAuth &&
    !matchPattern(
      bytesAt(<i32> load<u32>(r + T_AUTH_OFF)),
      <i32> load<u32>(r + T_AUTH_LEN),
      rAuth,
      rAuthLen,
      true,
    )
  ) {
    return false;
  }
  if (!literalEquals(r + T_HAS_QUERY, rHasQuery, rQuery, rQueryLen)) return false;
  if (!literalEquals(r + T_HAS_FRAG, rHasFrag, rFrag, rFragLen)) return false;
  return matchPattern(
    bytesAt(<i32> load<u32>(r + T_PATH_OFF)),
    <i32> load<u32>(r + T_PATH_LEN),
    rPath,
    rPathLen,
    false,
  );
}

/** Compares an optional literal part (flag, offset, length at `f`) with the request's. */
function literalEquals(f: usize, has: bool, p: usize, len: i32): bool {
  if ((load<u32>(f) != 0) != has) return false;
  return <i32> load<u32>(f + 8) == len && bytesEqual(bytesAt(<i32> load<u32>(f + 4)), p, len);
}
