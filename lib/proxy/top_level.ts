/**
 * A structural scan of a JSON object's top-level members: where each member's value starts and ends in
 * the text, without building the value. The proxy uses it to read and replace the `id` of a message
 * exactly (a numeric id such as 12345678901234567890 must come back byte for byte, which a round trip
 * through a JavaScript number cannot do) and to restore ids on large responses without re-serializing
 * them.
 *
 * It is not a validator: callers that need the content still JSON.parse it. It does reject duplicate
 * top-level keys (after unescaping), so `{"id":1,"id":2}` cannot mean different things to the proxy and
 * to a peer.
 *
 * @module
 */

/** Value spans by key: [start, end) offsets into the scanned text. */
export type MemberSpans = Map<string, [number, number]>;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Scans the top level of `text`, which must be a JSON object.
 *
 * @returns the member spans, or undefined if the text is not a well-formed object at the top level or
 *   has a duplicate top-level key
 */
export function scanTopLevel(text: string): MemberSpans | undefined {
  const n = text.length;
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined; // {
  i = skipWs(text, i + 1);
  const spans: MemberSpans = new Map();
  if (text.charCodeAt(i) === 0x7d) return skipWs(text, i + 1) === n ? spans : undefined; // {}
  for (;;) {
    if (text.charCodeAt(i) !== 0x22) return undefined; // key must be a string
    const keyEnd = skipString(text, i);
    if (keyEnd < 0) return undefined;
    const rawKey = text.slice(i + 1, keyEnd - 1);
    let key = rawKey;
    if (rawKey.includes("\\")) {
      try {
        key = JSON.parse(text.slice(i, keyEnd));
      } catch {
        return undefined;
      }
    }
    i = skipWs(text, keyEnd);
    if (text.charCodeAt(i) !== 0x3a) return undefined; // :
    const start = skipWs(text, i + 1);
    const end = skipValue(text, start);
    if (end < 0) return undefined;
    if (spans.has(key)) return undefined;
    spans.set(key, [start, end]);
    i = skipWs(text, end);
    const c = text.charCodeAt(i);
    if (c === 0x2c) { // ,
      i = skipWs(text, i + 1);
      continue;
    }
    if (c === 0x7d) return skipWs(text, i + 1) === n ? spans : undefined; // }
    return undefined;
  }
}

function skipWs(t: string, i: number): number {
  while (i < t.length && WS.has(t.charCodeAt(i))) i++;
  return i;
}

/**
 * From an opening quote, returns the index after the closing quote, or -1. Jumps from quote to quote
 * with indexOf (native speed on multi-megabyte strings); a quote preceded by an odd number of
 * backslashes is escaped.
 */
function skipString(t: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = t.indexOf('"', j);
    if (q < 0) return -1;
    let k = q - 1;
    while (k > i && t.charCodeAt(k) === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Skips one JSON value (structurally), returning the index after it, or -1. */
function skipValue(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return skipString(t, i);
  if (c === 0x7b || c === 0x5b) {
    // A plain charCodeAt walk for structure (fastest on small messages), with an indexOf jump over
    // every string (fastest on large ones, where the bulk is string content).
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t.charCodeAt(j);
      if (d === 0x22) {
        j = skipString(t, j) - 1;
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return j + 1;
    }
    return -1;
  }
  // number, true, false, null: up to the next delimiter
  let j = i;
  while (j < t.length) {
    const d = t.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || WS.has(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

/** The shape of a JSON-RPC message as the proxy's hot path needs it. */
export interface MessageShape {
  /** [start, end) of the id's value text, or undefined if there is no id. */
  id?: [number, number];
  hasMethod: boolean;
  hasResult: boolean;
  hasError: boolean;
}

const K_ID = 1, K_METHOD = 2, K_RESULT = 4, K_ERROR = 8;

function keyBit(t: string, start: number, end: number): number {
  switch (end - start) {
    case 2:
      return t.startsWith("id", start) ? K_ID : 0;
    case 5:
      return t.startsWith("error", start) ? K_ERROR : 0;
    case 6:
      return t.startsWith("method", start) ? K_METHOD : t.startsWith("result", start) ? K_RESULT : 0;
  }
  return 0;
}

function hasBackslash(t: string, start: number, end: number): boolean {
  for (let j = start; j < end; j++) if (t.charCodeAt(j) === 0x5c) return true;
  return false;
}

/**
 * {@link scanTopLevel} for the per-message path: no map, no key strings, only the members JSON-RPC
 * routing depends on (id, method, result, error). A repeated one of those makes the message ambiguous
 * and returns undefined; other repeated keys are left to the JSON parser.
 */
export function scanMessage(text: string): MessageShape | undefined {
  const n = text.length;
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  i = skipWs(text, i + 1);
  let seen = 0;
  let id: [number, number] | undefined;
  if (text.charCodeAt(i) !== 0x7d) {
    for (;;) {
      if (text.charCodeAt(i) !== 0x22) return undefined;
      const keyEnd = skipString(text, i);
      if (keyEnd < 0) return undefined;
      let bit: number;
      if (hasBackslash(text, i + 1, keyEnd - 1)) {
        let key: unknown;
        try {
          key = JSON.parse(text.slice(i, keyEnd));
        } catch {
          return undefined;
        }
        bit = key === "id"
          ? K_ID
          : key === "method"
          ? K_METHOD
          : key === "result"
          ? K_RESULT
          : key === "error"
          ? K_ERROR
          : 0;
      } else {
        bit = keyBit(text, i + 1, keyEnd - 1);
      }
      i = skipWs(text, keyEnd);
      if (text.charCodeAt(i) !== 0x3a) return undefined;
      const start = skipWs(text, i + 1);
      const end = skipValue(text, start);
      if (end < 0) return undefined;
      if (bit) {
        if (seen & bit) return undefined;
        seen |= bit;
        if (bit === K_ID) id = [start, end];
      }
      i = skipWs(text, end);
      const c = text.charCodeAt(i);
      if (c === 0x2c) {
        i = skipWs(text, i + 1);
        continue;
      }
      if (c === 0x7d) break;
      return undefined;
    }
  }
  if (skipWs(text, i + 1) !== n) return undefined;
  return {
    id,
    hasMethod: (seen & K_METHOD) !== 0,
    hasResult: (seen & K_RESULT) !== 0,
    hasError: (seen & K_ERROR) !== 0,
  };
}

/**
 * The text of each element of a top-level JSON array (a JSON-RPC batch), exactly as sent, so numeric
 * ids keep every digit.
 *
 * @returns the element texts, or undefined if `text` is not a well-formed array at the top level
 */
export function splitTopLevelArray(text: string): string[] | undefined {
  const n = text.length;
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x5b) return undefined; // [
  i = skipWs(text, i + 1);
  const out: string[] = [];
  if (text.charCodeAt(i) === 0x5d) return skipWs(text, i + 1) === n ? out : undefined;
  for (;;) {
    const end = skipValue(text, i);
    if (end < 0) return undefined;
    out.push(text.slice(i, end));
    i = skipWs(text, end);
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i = skipWs(text, i + 1);
      continue;
    }
    if (c === 0x5d) return skipWs(text, i + 1) === n ? out : undefined;
    return undefined;
  }
}

/** The two layouts JSON.stringify gives a message whose id comes first or second, as the SDKs build them. */
const ID_FIRST = '{"id":';
const ID_SECOND = '{"jsonrpc":"2.0","id":';

/**
 * The span of the top-level id's value text, found without a scan when the message is compact and the
 * id is its first member, follows `"jsonrpc":"2.0"`, or is its last member: the layouts JSON.stringify
 * gives the SDKs' messages. `id` is the value JSON.parse read for the top-level id; the span is only
 * returned when its text reads as that same value (so an escaped or repeated "id" key, where parsers
 * could disagree, falls back to {@link scanMessage}), and when "method", "result" and "error" each
 * appear at most once as a key-like text and no `\u` escape appears anywhere (a repeated routing key,
 * however escaped, makes {@link scanMessage} refuse the message, and this path must not accept what
 * that one refuses).
 *
 * A repeated id with the same value text (where the first or second member is the id) is accepted: every
 * parser reads the same id from it, so there is nothing to disagree on.
 *
 * Why the last-member case is the top-level id: in valid JSON the text `"id":` followed by a value and
 * the final `}` can only be the outermost object's last member (a string can not hold an unescaped `"`,
 * and a `"` followed by `:` closes a key).
 *
 * @param text a line that JSON.parse accepted as an object
 * @returns [start, end) of the id's value text, or undefined: then use {@link scanMessage}
 */
export function quickIdSpan(text: string, id: unknown): [number, number] | undefined {
  const n = text.length;
  if (text.charCodeAt(n - 1) !== 0x7d) return undefined;
  let start: number;
  let last = false;
  if (text.startsWith(ID_FIRST)) start = ID_FIRST.length;
  else if (text.startsWith(ID_SECOND)) start = ID_SECOND.length;
  else {
    const k = text.lastIndexOf('"id":');
    // The only literal "id" key: an earlier one could be a top-level duplicate, which a first-wins
    // parser on the host's side would read instead (a guessed host id would inject a response).
    if (k < 1 || text.charCodeAt(k - 1) !== 0x2c || text.indexOf('"id":') !== k) return undefined;
    start = k + 5;
    last = true;
  }
  let end: number;
  if (typeof id === "string") {
    if (text.charCodeAt(start) !== 0x22) return undefined;
    end = text.indexOf('"', start + 1) + 1;
    // The text between the quotes must be the value itself: no escapes.
    if (end === 0 || end - start - 2 !== id.length || !text.startsWith(id, start + 1)) return undefined;
  } else if (typeof id === "number") {
    end = start;
    while (end < n && isNumberChar(text.charCodeAt(end))) end++;
    if (end === start || Number(text.slice(start, end)) !== id) return undefined;
  } else if (id === null) {
    if (!text.startsWith("null", start)) return undefined;
    end = start + 4;
  } else {
    return undefined;
  }
  const after = text.charCodeAt(end);
  if (last ? end !== n - 1 : after !== 0x2c && !(after === 0x7d && end === n - 1)) return undefined;
  // A \u escape can spell a key that the literal checks here do not see; leave those to the scan.
  if (text.indexOf("\\u") !== -1) return undefined;
  for (const key of ROUTING_KEYS) {
    const at = text.indexOf(key);
    if (at !== -1 && text.indexOf(key, at + 1) !== -1) return undefined;
  }
  return [start, end];
}

const ROUTING_KEYS = ['"method":', '"result":', '"error":'];

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

/** Replaces the span [start, end) of `text` with `replacement`. */
export function splice(text: string, [start, end]: [number, number], replacement: string): string {
  return text.slice(0, start) + replacement + text.slice(end);
}
