/**
 * The mcptrust policy core (AssemblyScript -> WebAssembly). Every allow/deny decision of the proxy
 * is made here; the TypeScript host (lib/policy/core.ts) only moves strings in and decisions out.
 *
 * Build (from the repo root or wasm/): `asc wasm/policy.ts --config wasm/asconfig.json --target release`.
 * The TLSF allocator ("minimal" runtime) backs the allowlist and scratch blocks; nothing is garbage
 * collected and the decision paths allocate nothing. asconfig's `use: abort=` turns a failed
 * assertion or allocation into a plain trap, so the module imports nothing.
 *
 * ABI (no generated glue, no imports):
 * - The host writes UTF-8 into a scratch block: `scratch_reserve(n)` makes each of its regions at
 *   least n bytes and returns the capacity `cap`; `scratch_ptr()` is region A. Region B is at
 *   A + cap; the core's own work buffers follow, and OUT (3 x cap, normalize_uri output) is at
 *   A + 4 cap. A reserve that grows the block moves it and drops its contents (both regions), so the
 *   host reserves for every input of a call before writing any of them. Linear memory may grow on
 *   any load call.
 * - Functions take byte lengths; a negative length is LEN_ILL_FORMED or LEN_TOO_LONG (the host could
 *   not encode the string), which is a deny, decided here.
 * - A decision is `code | subject << 8 | (rule + 1) << 12` (see codes.ts); 0 means the host broke
 *   the ABI and is read as a failure.
 *
 * Item states (per locked tool, prompt, static resource, resource template):
 * UNSEEN --list shows it, fingerprint equal--> VERIFIED; --fingerprint differs or listed twice-->
 * DRIFTED; VERIFIED --list_changed--> STALE. Only VERIFIED items may be used.
 */
import {
  addItem,
  commitAllowlist,
  committed,
  epochOf,
  errorItem,
  findItem,
  fingerprintEquals,
  itemCount,
  kindOf,
  resetAllowlist,
  setEpoch,
  setState,
  setTemplate,
  stateOf,
  templateCount,
  templateItem,
  templateOf,
} from "./allowlist";
import {
  compileTemplate,
  matchTemplate,
  normalizeRequest,
  tplErrorDetail,
  tplErrorPos,
  writeCanonical,
} from "./uri";
import {
  DRIFTED,
  DUPLICATE_IN_LIST,
  FROM_HOST,
  FROM_SERVER,
  INPUT_TOO_LONG,
  INVALID_PARAMS,
  INVALID_TEXT,
  KIND_PROMPT,
  KIND_RESOURCE,
  KIND_TEMPLATE,
  KIND_TOOL,
  LEN_ILL_FORMED,
  LIST,
  LOAD_BAD_KIND,
  LOAD_INVALID_TEXT,
  LOAD_TOO_MANY,
  LOCKED,
  METHOD_BY_NAME,
  METHOD_BY_REF,
  METHOD_BY_URI,
  METHOD_BY_URI_SET,
  METHOD_CLASS_SHIFT,
  METHOD_KIND_SHIFT,
  METHOD_LIST,
  METHOD_PASS,
  NOT_LOCKED,
  NOT_OFFERED,
  OPERAND_NAME,
  OPERAND_NONE,
  OPERAND_PROMPT_REF,
  OPERAND_RESOURCE_REF,
  OPERAND_URI,
  PASS,
  RULE_LIMIT,
  RULE_SHIFT,
  STALE,
  STATE_DRIFTED,
  STATE_STALE,
  STATE_VERIFIED,
  SUBJECT_METHOD,
  SUBJECT_NONE,
  SUBJECT_PROMPT,
  SUBJECT_RESOURCE,
  SUBJECT_SHIFT,
  SUBJECT_TEMPLATE,
  TEMPLATE_MATCH,
  UNKNOWN_METHOD,
  VERIFIED,
  WRONG_DIRECTION,
} from "./codes";

// ---------------------------------------------------------------------------------------------------
// Scratch block

let scratch: usize = 0;
let cap: i32 = 0;

function regionB(): usize {
  return scratch + <usize> cap;
}
function regionDec(): usize {
  return scratch + <usize> cap * 2;
}
function regionDot(): usize {
  return scratch + <usize> cap * 3;
}
function regionOut(): usize {
  return scratch + <usize> cap * 4;
}

/** Makes every scratch region at least `n` bytes; returns the capacity. Contents are not kept. */
export function scratch_reserve(n: i32): i32 {
  if (n <= cap) return cap;
  let c = cap < 1024 ? 1024 : cap;
  while (c < n) c *= 2;
  if (scratch != 0) heap.free(scratch);
  scratch = heap.alloc(<usize> c * 7);
  cap = c;
  return cap;
}

/** Address of scratch region A (region B is at A + scratch_reserve's capacity). */
export function scratch_ptr(): usize {
  return scratch;
}

// ---------------------------------------------------------------------------------------------------
// Decisions

function pack(code: i32, subject: i32, rule: i32): i32 {
  return code | (subject << SUBJECT_SHIFT) | ((rule + 1) << RULE_SHIFT);
}

/** The deny for a string the host could not pass (negative length), or 0 for a length past `cap`. */
function badLength(len: i32, subject: i32): i32 {
  if (len < 0) return pack(len == LEN_ILL_FORMED ? INVALID_TEXT : INPUT_TOO_LONG, subject, -1);
  return 0;
}

function lengthOk(len: i32): bool {
  return len >= 0 && len <= cap;
}

function find(kind: i32, p: usize, len: i32): i32 {
  return committed ? findItem(kind, p, len) : -1;
}

/** Decision from item `i`'s state: `allowCode` only when VERIFIED. */
function byState(i: i32, allowCode: i32, subject: i32): i32 {
  const st = stateOf(i);
  if (st == STATE_VERIFIED) return pack(allowCode, subject, i);
  if (st == STATE_DRIFTED) return pack(DRIFTED, subject, i);
  if (st == STATE_STALE) return pack(STALE, subject, i);
  return pack(NOT_OFFERED, subject, i);
}

/** tools/call or prompts/get by name in region A (`kind` KIND_TOOL or KIND_PROMPT). */
function decideName(kind: i32, len: i32): i32 {
  if (!lengthOk(len)) return badLength(len, kind);
  const i = find(kind, scratch, len);
  return i < 0 ? pack(NOT_LOCKED, kind, -1) : byState(i, LOCKED, kind);
}

/**
 * resources/read, subscribe, unsubscribe for the URI in region A. A verified static resource with the
 * exact URI allows; a drifted one denies. Otherwise the normalized URI is matched against every
 * template: any matching template that drifted denies (the server may route to it), else any verified
 * match allows, else the first match's state or the static resource's state explains the deny.
 */
function decideUri(len: i32): i32 {
  if (!lengthOk(len)) return badLength(len, SUBJECT_RESOURCE);
  let fallback = 0;
  const s = find(KIND_RESOURCE, scratch, len);
  if (s >= 0) {
    const st = stateOf(s);
    if (st == STATE_VERIFIED || st == STATE_DRIFTED) return byState(s, LOCKED, SUBJECT_RESOURCE);
    fallback = byState(s, LOCKED, SUBJECT_RESOURCE);
  }
  const err = normalizeRequest(scratch, len, regionDec(), regionDot());
  if (err != 0) return fallback != 0 ? fallback : pack(err, SUBJECT_RESOURCE, -1);
  let verified = -1;
  let drifted = -1;
  let other = -1;
  if (committed) {
    for (let n = 0; n < templateCount; n++) {
      const t = templateItem(n);
      if (!matchTemplate(templateOf(t))) continue;
      const st = stateOf(t);
      if (st == STATE_VERIFIED && verified < 0) verified = t;
      else if (st == STATE_DRIFTED && drifted < 0) drifted = t;
      else if (other < 0) other = t;
    }
  }
  if (drifted >= 0) return pack(DRIFTED, SUBJECT_RESOURCE, drifted);
  if (verified >= 0) return pack(TEMPLATE_MATCH, SUBJECT_RESOURCE, verified);
  if (fallback != 0) return fallback;
  if (other >= 0) return byState(other, TEMPLATE_MATCH, SUBJECT_RESOURCE);
  return pack(NOT_LOCKED, SUBJECT_RESOURCE, -1);
}

/**
 * completion/complete: a ref/prompt names a locked prompt, a ref/resource gives a locked template's
 * uriTemplate exactly (MCP 2025-06-18 "Completion", `PromptReference` / `ResourceTemplateReference`).
 */
function decideCompletionRef(operand: i32, len: i32): i32 {
  if (operand == OPERAND_PROMPT_REF) return decideName(KIND_PROMPT, len);
  if (operand != OPERAND_RESOURCE_REF) return pack(INVALID_PARAMS, SUBJECT_NONE, -1);
  if (!lengthOk(len)) return badLength(len, SUBJECT_TEMPLATE);
  const i = find(KIND_TEMPLATE, scratch, len);
  return i < 0 ? pack(NOT_LOCKED, SUBJECT_TEMPLATE, -1) : byState(i, LOCKED, SUBJECT_TEMPLATE);
}

// ---------------------------------------------------------------------------------------------------
// Method table (MCP 2025-11-25 schema, plus the methods MCP 2026-07-28 added: server/discover,
// subscriptions/listen, notifications/subscriptions/acknowledged; ids are stable only within one build
// of the core). One table serves both eras: a method the other era lacks is refused by the receiver
// (-32601), and the proxy translates or refuses what one era cannot say to the other (lib/proxy/era.ts).

const H = FROM_HOST;
const S = FROM_SERVER;
const HS = FROM_HOST | FROM_SERVER;

/** Number of methods in the table (ids 1..METHOD_COUNT). */
const METHOD_COUNT = 34;

let rowDirs = 0;
let rowClass = 0;
let rowKind = 0;

function row(name: string, dirs: i32, cls: i32, kind: i32): string {
  rowDirs = dirs;
  rowClass = cls;
  rowKind = kind;
  return name;
}

/**
 * Method `id`: returns its name and sets rowDirs (who may send it), rowClass and rowKind (the item
 * kind it lists or names). Unknown ids return "" with rowDirs 0.
 */
function method(id: i32): string {
  switch (id) {
    case 1:
      return row("initialize", H, METHOD_PASS, 0);
    case 2:
      return row("ping", HS, METHOD_PASS, 0);
    case 3:
      return row("notifications/initialized", H, METHOD_PASS, 0);
    case 4:
      return row("notifications/cancelled", HS, METHOD_PASS, 0);
    case 5:
      return row("notifications/progress", HS, METHOD_PASS, 0);
    case 6:
      return row("notifications/roots/list_changed", H, METHOD_PASS, 0);
    case 7:
      return row("notifications/message", S, METHOD_PASS, 0);
    case 8:
      return row("notifications/resources/updated", S, METHOD_PASS, 0);
    case 9:
      return row("notifications/resources/list_changed", S, METHOD_PASS, 0);
    case 10:
      return row("notifications/tools/list_changed", S, METHOD_PASS, 0);
    case 11:
      return row("notifications/prompts/list_changed", S, METHOD_PASS, 0);
    case 12:
      return row("notifications/tasks/status", HS, METHOD_PASS, 0);
    case 13:
      return row("notifications/elicitation/complete", S, METHOD_PASS, 0);
    case 14:
      return row("logging/setLevel", H, METHOD_PASS, 0);
    case 15:
      return row("roots/list", S, METHOD_PASS, 0);
    case 16:
      return row("sampling/createMessage", S, METHOD_PASS, 0);
    case 17:
      return row("elicitation/create", S, METHOD_PASS, 0);
    case 18:
      return row("tasks/get", HS, METHOD_PASS, 0);
    case 19:
      return row("tasks/result", HS, METHOD_PASS, 0);
    case 20:
      return row("tasks/list", HS, METHOD_PASS, 0);
    case 21:
      return row("tasks/cancel", HS, METHOD_PASS, 0);
    case 22:
      return row("tools/list", H, METHOD_LIST, KIND_TOOL);
    case 23:
      return row("prompts/list", H, METHOD_LIST, KIND_PROMPT);
    case 24:
      return row("resources/list", H, METHOD_LIST, KIND_RESOURCE);
    case 25:
      return row("resources/templates/list", H, METHOD_LIST, KIND_TEMPLATE);
    case 26:
      return row("tools/call", H, METHOD_BY_NAME, KIND_TOOL);
    case 27:
      return row("prompts/get", H, METHOD_BY_NAME, KIND_PROMPT);
    case 28:
      return row("resources/read", H, METHOD_BY_URI, KIND_RESOURCE);
    case 29:
      return row("resources/subscribe", H, METHOD_BY_URI, KIND_RESOURCE);
    case 30:
      return row("resources/unsubscribe", H, METHOD_BY_URI, KIND_RESOURCE);
    case 31:
      return row("completion/complete", H, METHOD_BY_REF, 0);
    case 32:
      return row("server/discover", H, METHOD_PASS, 0);
    case 33:
      return row("subscriptions/listen", H, METHOD_BY_URI_SET, KIND_RESOURCE);
    case 34:
      return row("notifications/subscriptions/acknowledged", S, METHOD_PASS, 0);
    default:
      return row("", 0, 0, 0);
  }
}

/** Number of method ids (1..method_count()). */
export function method_count(): i32 {
  return METHOD_COUNT;
}

/** Writes method `id`'s name (ASCII) to region A and returns its length (0 for an unknown id). */
export function method_name(id: i32): i32 {
  const name = method(id);
  scratch_reserve(name.length);
  for (let i = 0; i < name.length; i++) store<u8>(scratch + <usize> i, <u8> name.charCodeAt(i));
  return name.length;
}

/** Method `id`'s row: `directions | class << METHOD_CLASS_SHIFT | kind << METHOD_KIND_SHIFT`. */
export function method_info(id: i32): i32 {
  method(id);
  return rowDirs | (rowClass << METHOD_CLASS_SHIFT) | (rowKind << METHOD_KIND_SHIFT);
}

/**
 * The decision for a request or notification with method `id` sent from `dir` (FROM_HOST or
 * FROM_SERVER). For enforced methods the host extracted `operand` (OPERAND_*) into region A with
 * byte length `len`.
 */
export function decide_request(id: i32, dir: i32, operand: i32, len: i32): i32 {
  if (id < 1 || id > METHOD_COUNT) return pack(UNKNOWN_METHOD, SUBJECT_METHOD, -1);
  method(id);
  if ((rowDirs & dir) == 0 || (dir != FROM_HOST && dir != FROM_SERVER)) {
    return pack(WRONG_DIRECTION, SUBJECT_METHOD, id);
  }
  if (rowClass == METHOD_PASS) return pack(PASS, SUBJECT_METHOD, id);
  if (rowClass == METHOD_LIST) return pack(LIST, SUBJECT_METHOD, id);
  if (rowClass == METHOD_BY_NAME) {
    return operand == OPERAND_NAME ? decideName(rowKind, len) : pack(INVALID_PARAMS, rowKind, -1);
  }
  if (rowClass == METHOD_BY_URI) {
    return operand == OPERAND_URI ? decideUri(len) : pack(INVALID_PARAMS, SUBJECT_RESOURCE, -1);
  }
  if (rowClass == METHOD_BY_URI_SET) {
    // One resource subscription per call; none at all subscribes only to list changes, which pass.
    if (operand == OPERAND_URI) return decideUri(len);
    return operand == OPERAND_NONE
      ? pack(PASS, SUBJECT_METHOD, id)
      : pack(INVALID_PARAMS, SUBJECT_RESOURCE, -1);
  }
  return decideCompletionRef(operand, len);
}

/** tools/call (`kind` KIND_TOOL) or prompts/get (KIND_PROMPT) by the name in region A. */
export function decide_name(kind: i32, len: i32): i32 {
  if (kind != KIND_TOOL && kind != KIND_PROMPT) return 0;
  return decideName(kind, len);
}

/** resources/read (and subscribe/unsubscribe) of the URI in region A. */
export function decide_uri(len: i32): i32 {
  return decideUri(len);
}

/** completion/complete with a ref of type `operand` (OPERAND_PROMPT_REF / _RESOURCE_REF) in region A. */
export function decide_completion(operand: i32, len: i32): i32 {
  return decideCompletionRef(operand, len);
}

// ---------------------------------------------------------------------------------------------------
// List verification

let epoch: u32 = 0;
let listOpen = false;

/** Starts one list result: until list_end, a key seen twice is a duplicate. */
export function list_begin(): void {
  epoch += 1;
  if (epoch == 0) {
    // Wrapped after 2^32 lists: forget old epochs so none equals the new one.
    for (let i = 0; i < itemCount; i++) setEpoch(i, 0);
    epoch = 1;
  }
  listOpen = true;
}

/** Ends the list result started by list_begin. */
export function list_end(): void {
  listOpen = false;
}

/**
 * Verifies one item of a list result: key in region A (`keyLen` bytes), fingerprint in region B.
 * Unlocked -> NOT_LOCKED; same fingerprint -> VERIFIED (also after an earlier drift); different, or
 * the key already seen in the open list -> DRIFTED / DUPLICATE_IN_LIST, and the item stays unusable
 * until a later list shows it matching.
 */
export function verify_item(kind: i32, keyLen: i32, fpLen: i32): i32 {
  if (kind < KIND_TOOL || kind > KIND_TEMPLATE) return 0;
  if (!lengthOk(keyLen)) return badLength(keyLen, kind);
  if (!lengthOk(fpLen)) return badLength(fpLen, kind);
  const i = find(kind, scratch, keyLen);
  if (i < 0) return pack(NOT_LOCKED, kind, -1);
  if (listOpen) {
    if (epochOf(i) == epoch) {
      setState(i, STATE_DRIFTED);
      return pack(DUPLICATE_IN_LIST, kind, i);
    }
    setEpoch(i, epoch);
  }
  if (fingerprintEquals(i, regionB(), fpLen)) {
    setState(i, STATE_VERIFIED);
    return pack(VERIFIED, kind, i);
  }
  setState(i, STATE_DRIFTED);
  return pack(DRIFTED, kind, i);
}

/** Moves every VERIFIED item of `kind` (0: all kinds) to STALE: the server said its list changed. */
export function mark_stale(kind: i32): void {
  for (let i = 0; i < itemCount; i++) {
    if ((kind == 0 || kindOf(i) == kind) && stateOf(i) == STATE_VERIFIED) setState(i, STATE_STALE);
  }
}

/** State (STATE_*) of item `i`, or -1. */
export function item_state(i: i32): i32 {
  return i >= 0 && i < itemCount ? stateOf(i) : -1;
}

// ---------------------------------------------------------------------------------------------------
// Loading the allowlist

/** Forgets the allowlist and all states; add items, then commit. */
export function allow_begin(): void {
  resetAllowlist();
  epoch = 0;
  listOpen = false;
}

/**
 * Adds a locked item: key in region A, fingerprint in region B. Templates are compiled here.
 * Returns the item index, or a negated TPL_* / LOAD_* code (see load_error_pos / load_error_detail).
 */
export function allow_add(kind: i32, keyLen: i32, fpLen: i32): i32 {
  if (committed || kind < KIND_TOOL || kind > KIND_TEMPLATE) return -LOAD_BAD_KIND;
  if (keyLen < 0 || fpLen < 0) return -LOAD_INVALID_TEXT;
  if (keyLen > cap || fpLen > cap) return -LOAD_BAD_KIND;
  if (itemCount >= RULE_LIMIT - 1) return -LOAD_TOO_MANY;
  let rec = -1;
  if (kind == KIND_TEMPLATE) {
    rec = compileTemplate(scratch, keyLen, regionDec(), regionDot());
    if (rec < 0) return rec;
  }
  const i = addItem(kind, scratch, keyLen, regionB(), fpLen);
  if (rec >= 0) setTemplate(i, rec);
  return i;
}

/** Indexes the added items. Returns 0 or the negated LOAD_DUPLICATE (load_error_item says which). */
export function allow_commit(): i32 {
  return -commitAllowlist();
}

/** Offset in the template text of the last template error, or -1. */
export function load_error_pos(): i32 {
  return tplErrorPos;
}

/** URI_* detail of the last TPL_BAD_LITERAL error, or 0. */
export function load_error_detail(): i32 {
  return tplErrorDetail;
}

/** Item index of the last LOAD_DUPLICATE error. */
export function load_error_item(): i32 {
  return errorItem;
}

// ---------------------------------------------------------------------------------------------------
// Diagnostics

/**
 * Normalizes the URI in region A and writes the canonical form to region OUT (A + 4 cap). Returns
 * its length, or a negated URI_* / INVALID_TEXT / INPUT_TOO_LONG code.
 */
export function normalize_uri(len: i32): i32 {
  if (!lengthOk(len)) return len < 0 ? -(badLength(len, 0) & 0xff) : -INVALID_PARAMS;
  const err = normalizeRequest(scratch, len, regionDec(), regionDot());
  if (err != 0) return -err;
  return writeCanonical(regionOut());
}
