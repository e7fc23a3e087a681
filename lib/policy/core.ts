/**
 * Host of the WebAssembly policy core (wasm/policy.ts): loads it, feeds it the lockfile allowlist,
 * and asks it for every allow/deny decision the proxy makes. This file decides nothing itself; it
 * moves strings into the core's scratch memory, reads back one packed integer, and fails closed when
 * the core misbehaves.
 *
 * What the core decides (deny by default):
 * - methods: protocol methods pass, list methods pass with their result verified item by item,
 *   tools/call, prompts/get, resources/read|subscribe|unsubscribe, subscriptions/listen (each resource
 *   subscription) and completion/complete are decided on their params, anything else is
 *   UNKNOWN_METHOD (MCP 2025-11-25 method set, plus server/discover, subscriptions/listen and
 *   notifications/subscriptions/acknowledged of MCP 2026-07-28);
 * - items: a locked item may be used only while VERIFIED, i.e. the latest list result that showed
 *   it had the locked fingerprint;
 * - resource URIs: exact match with a verified static resource, or a match of the normalized URI
 *   (RFC 3986 §5.2.4, one percent-decode, ambiguity refused) against a verified resource template
 *   (RFC 6570 `{var}` / `{+var}`); see wasm/uri.ts.
 *
 * Failure model: a trap or exception in the core, or a result outside the known codes, is a
 * CORE_FAILURE deny, and the instance stays failed (every later decision is CORE_FAILURE) because its
 * memory may be half-updated. Build a new one with {@link PolicyCore.load}.
 *
 * @module
 */
import * as C from "../../wasm/codes.ts";
import { McpTrustError } from "../errors.ts";
import { POLICY_CORE_WASM_BASE64 } from "./core_wasm.generated.ts";
import {
  CODE_NAMES,
  type Decision,
  type DecisionCode,
  isAllowCode,
  type ItemKind,
  type ItemState,
  KIND_NUMBERS,
  STATE_NAMES,
  type Subject,
  SUBJECT_NAMES,
} from "./decision.ts";

export type { Decision, DecisionCode, ItemKind, ItemState, Subject } from "./decision.ts";

/** Who sent a JSON-RPC message. */
export type Direction = "host" | "server";

/** The lockfile allowlist; fingerprints are opaque strings the caller derives from locked hashes. */
export interface Allowlist {
  tools?: readonly { name: string; fingerprint: string }[];
  prompts?: readonly { name: string; fingerprint: string }[];
  /** Static resources, matched by exact uri. */
  resources?: readonly { uri: string; fingerprint: string }[];
  templates?: readonly { uriTemplate: string; fingerprint: string }[];
}

/** One item of a list result: its key (name, uri or uriTemplate) and live fingerprint. */
export interface ListEntry {
  key: string;
  fingerprint: string;
}

/** Result of {@link PolicyCore.normalizeUri}. */
export type NormalizedUri = { ok: true; uri: string } | { ok: false; code: DecisionCode };

/** Most resource subscriptions one subscriptions/listen may name; more are INVALID_PARAMS. */
export const MAX_LISTEN_URIS = 1024;

/** Longest string (UTF-16 code units) passed to the core; longer ones are denied INPUT_TOO_LONG. */
export const MAX_INPUT_UNITS = 1 << 20;

/** The policy core could not be loaded, failed its self-test, or cannot enforce an allowlist (exit 2). */
export class PolicyCoreError extends McpTrustError {
  constructor(message: string, hint: string, cause?: unknown) {
    super(message, { hint, cause });
    this.name = "PolicyCoreError";
  }
}

/** The raw exports of wasm/policy.ts (its ABI; see the header of that file). */
interface CoreExports {
  memory: WebAssembly.Memory;
  scratch_reserve(n: number): number;
  scratch_ptr(): number;
  method_count(): number;
  method_name(id: number): number;
  method_info(id: number): number;
  decide_request(id: number, dir: number, operand: number, len: number): number;
  decide_name(kind: number, len: number): number;
  decide_uri(len: number): number;
  decide_completion(operand: number, len: number): number;
  list_begin(): void;
  list_end(): void;
  verify_item(kind: number, keyLen: number, fpLen: number): number;
  mark_stale(kind: number): void;
  item_state(i: number): number;
  allow_begin(): void;
  allow_add(kind: number, keyLen: number, fpLen: number): number;
  allow_commit(): number;
  load_error_pos(): number;
  load_error_detail(): number;
  load_error_item(): number;
  normalize_uri(len: number): number;
}

const EXPORTED_FUNCTIONS = [
  "scratch_reserve",
  "scratch_ptr",
  "method_count",
  "method_name",
  "method_info",
  "decide_request",
  "decide_name",
  "decide_uri",
  "decide_completion",
  "list_begin",
  "list_end",
  "verify_item",
  "mark_stale",
  "item_state",
  "allow_begin",
  "allow_add",
  "allow_commit",
  "load_error_pos",
  "load_error_detail",
  "load_error_item",
  "normalize_uri",
] as const;

// Subject bit masks: which subjects a decision from a given entry point may carry.
const S_NONE = 1 << C.SUBJECT_NONE;
const S_TOOL = 1 << C.SUBJECT_TOOL;
const S_PROMPT = 1 << C.SUBJECT_PROMPT;
const S_RESOURCE = 1 << C.SUBJECT_RESOURCE;
const S_TEMPLATE = 1 << C.SUBJECT_TEMPLATE;
const S_METHOD = 1 << C.SUBJECT_METHOD;
const S_ANY = S_NONE | S_TOOL | S_PROMPT | S_RESOURCE | S_TEMPLATE | S_METHOD;

const REINSTALL_HINT = "the mcptrust binary may be damaged: reinstall it, and report this if it persists";

/** Decodes base64 (RFC 4648 §4) with the web-standard `atob`. */
function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Encodes `s` as UTF-8 into `out` (room for 3 bytes per code unit) without allocating. Returns the
 * byte length, or LEN_ILL_FORMED for a lone surrogate: TextEncoder would turn it into U+FFFD, so two
 * different names could reach the core as the same bytes.
 */
function encodeUtf8(s: string, out: Uint8Array): number {
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return C.LEN_ILL_FORMED;
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o;
}

/** Code units {@link encodeInto} will write for `s` (0 when it refuses `s` without writing). */
function encodableUnits(s: unknown): number {
  return typeof s === "string" && s.length <= MAX_INPUT_UNITS ? s.length : 0;
}

/**
 * UTF-8 of `s` into `out` (room for 3 bytes per code unit); returns the byte length, or
 * LEN_ILL_FORMED (not well-formed Unicode, or not a string) / LEN_TOO_LONG (over MAX_INPUT_UNITS).
 */
function encodeInto(s: unknown, out: Uint8Array): number {
  if (typeof s !== "string") return C.LEN_ILL_FORMED;
  if (s.length > MAX_INPUT_UNITS) return C.LEN_TOO_LONG;
  return encodeUtf8(s, out);
}

/** A copy backed by a plain ArrayBuffer (whatever backs the caller's view), as WebAssembly.Module needs. */
function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(new ArrayBuffer(bytes.length));
  copy.set(bytes);
  return copy;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The WebAssembly policy core and its per-session item states. Not thread-safe; one per proxy session. */
export class PolicyCore {
  readonly #x: CoreExports;
  #cap = 0;
  #a: Uint8Array = new Uint8Array(0);
  #b: Uint8Array = new Uint8Array(0);
  #out = 0;
  readonly #methodIds = new Map<string, number>();
  #methodNames: string[] = [""];
  #methodClass = new Uint8Array(1);
  #methodKind = new Uint8Array(1);
  #itemKinds = new Uint8Array(0);
  #itemKeys: string[] = [];
  #failure: string | undefined;

  private constructor(exports: CoreExports) {
    this.#x = exports;
    this.#reserve(1024);
    this.#readMethodTable();
  }

  /**
   * Compiles, instantiates and self-tests the policy core.
   *
   * @param bytes a WebAssembly module; default: the core embedded at build time
   *   (lib/policy/core_wasm.generated.ts)
   * @returns a core with an empty allowlist (everything item-related is denied NOT_LOCKED)
   * @throws {PolicyCoreError} if the bytes do not compile or instantiate, lack an export, or the
   *   instance fails the known-answer self-test; the proxy must then refuse to start
   */
  static load(bytes?: Uint8Array): PolicyCore {
    let instance: WebAssembly.Instance;
    try {
      const module = new WebAssembly.Module(bytes ? copyBytes(bytes) : fromBase64(POLICY_CORE_WASM_BASE64));
      instance = new WebAssembly.Instance(module, {});
    } catch (err) {
      throw new PolicyCoreError(
        `the policy core is not a usable WebAssembly module (${describeError(err)})`,
        REINSTALL_HINT,
        err,
      );
    }
    return PolicyCore.fromInstance(instance);
  }

  /**
   * Wraps an already instantiated core (for embedders with their own instantiation, and for tests
   * that inject faults) and runs the self-test.
   *
   * @param instance anything with the core's `exports`
   * @throws {PolicyCoreError} on a missing export or a failed self-test
   */
  static fromInstance(instance: { exports: WebAssembly.Exports }): PolicyCore {
    const ex = instance.exports as Record<string, unknown>;
    if (!(ex.memory instanceof WebAssembly.Memory)) {
      throw new PolicyCoreError("the policy core does not export its memory", REINSTALL_HINT);
    }
    for (const name of EXPORTED_FUNCTIONS) {
      if (typeof ex[name] !== "function") {
        throw new PolicyCoreError(`the policy core does not export ${name}()`, REINSTALL_HINT);
      }
    }
    let core: PolicyCore;
    try {
      core = new PolicyCore(ex as unknown as CoreExports);
    } catch (err) {
      if (err instanceof PolicyCoreError) throw err;
      throw new PolicyCoreError(
        `the policy core failed to start (${describeError(err)})`,
        REINSTALL_HINT,
        err,
      );
    }
    selfTest(core);
    return core;
  }

  /** Why the core failed (trap, exception, bad result), or undefined while it works. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /**
   * Replaces the allowlist; every item starts UNSEEN (so calls are NOT_OFFERED until a list shows
   * them). Item indices (`Decision.rule`) follow the order tools, prompts, resources, templates.
   *
   * @throws {PolicyCoreError} if a template uses RFC 6570 syntax the core cannot enforce (operators
   *   other than `+`, modifiers, variable lists, variables in the query, two variables in one path
   *   segment, `{+var}` in the authority), a key repeats within a kind, or a string is not
   *   well-formed Unicode; the allowlist is then empty (everything denied)
   */
  setAllowlist(allowlist: Allowlist): void {
    const entries: [number, string, string][] = [];
    for (const t of allowlist.tools ?? []) entries.push([C.KIND_TOOL, t.name, t.fingerprint]);
    for (const p of allowlist.prompts ?? []) entries.push([C.KIND_PROMPT, p.name, p.fingerprint]);
    for (const r of allowlist.resources ?? []) entries.push([C.KIND_RESOURCE, r.uri, r.fingerprint]);
    for (const t of allowlist.templates ?? []) entries.push([C.KIND_TEMPLATE, t.uriTemplate, t.fingerprint]);
    this.#assertUsable();
    this.#itemKinds = new Uint8Array(0);
    this.#itemKeys = [];
    try {
      this.#load(entries);
    } catch (err) {
      this.#itemKinds = new Uint8Array(0);
      this.#itemKeys = [];
      if (err instanceof PolicyCoreError) {
        this.#loadEmpty();
        throw err;
      }
      this.#failure = `trap while loading the allowlist: ${describeError(err)}`;
      throw new PolicyCoreError(
        `the policy core failed while loading the lockfile (${this.#failure})`,
        REINSTALL_HINT,
        err,
      );
    }
  }

  /**
   * Decides a JSON-RPC request or notification by its method, and for enforced methods by its params:
   * tools/call and prompts/get by `params.name`, resources/read|subscribe|unsubscribe by `params.uri`,
   * completion/complete by `params.ref` ({type: "ref/prompt", name} or {type: "ref/resource", uri}).
   * Responses have no method and are not decided here.
   *
   * @param method the message's `method`
   * @param params the message's `params` (any JSON value, or undefined)
   * @param from who sent it; host requests and server requests are different sets (MCP lifecycle)
   */
  decideMethod(method: string, params?: unknown, from: Direction = "host"): Decision {
    if (this.#failure !== undefined) return failed("method");
    try {
      const id = this.#methodIds.get(method) ?? 0;
      const cls = this.#methodClass[id];
      let operand = C.OPERAND_NONE;
      let len = 0;
      const p = isRecord(params) ? params : undefined;
      if (cls === C.METHOD_BY_NAME || cls === C.METHOD_BY_URI) {
        const value = cls === C.METHOD_BY_NAME ? p?.name : p?.uri;
        if (typeof value === "string") {
          operand = cls === C.METHOD_BY_NAME ? C.OPERAND_NAME : C.OPERAND_URI;
          len = this.#write(value);
        } else {
          operand = C.OPERAND_MALFORMED;
        }
      } else if (cls === C.METHOD_BY_REF) {
        [operand, len] = this.#writeRef(p?.ref);
      }
      const dir = from === "server" ? C.FROM_SERVER : from === "host" ? C.FROM_HOST : 0;
      if (cls === C.METHOD_BY_URI_SET) return this.#decideUriSet(id, dir, p);
      return this.#decode(this.#x.decide_request(id, dir, operand, len), S_ANY);
    } catch (err) {
      return this.#fail(err, "method");
    }
  }

  /**
   * subscriptions/listen (MCP 2026-07-28): every URI of `params.notifications.resourceSubscriptions` is
   * decided as resources/read decides it, one call each, and the first deny is the decision; a listen
   * with none (list_changed flags only) is one call with OPERAND_NONE. Anything but an array of at most
   * {@link MAX_LISTEN_URIS} strings is INVALID_PARAMS.
   */
  #decideUriSet(id: number, dir: number, p: Record<string, unknown> | undefined): Decision {
    const filter = p?.notifications;
    const uris = isRecord(filter) ? filter.resourceSubscriptions : undefined;
    if (!isRecord(filter) || (uris !== undefined && !Array.isArray(uris))) {
      return this.#decode(this.#x.decide_request(id, dir, C.OPERAND_MALFORMED, 0), S_ANY);
    }
    if (uris === undefined || uris.length === 0) {
      return this.#decode(this.#x.decide_request(id, dir, C.OPERAND_NONE, 0), S_ANY);
    }
    if (uris.length > MAX_LISTEN_URIS || !uris.every((u) => typeof u === "string")) {
      return this.#decode(this.#x.decide_request(id, dir, C.OPERAND_MALFORMED, 0), S_ANY);
    }
    let last: Decision | undefined;
    for (const uri of uris as string[]) {
      last = this.#decode(this.#x.decide_request(id, dir, C.OPERAND_URI, this.#write(uri)), S_ANY);
      if (!last.allow) return last;
    }
    return last!;
  }

  /**
   * The item kind whose list a method returns (tools/list -> "tool", ...), or null. The proxy verifies
   * each item of such a result with {@link verifyList}.
   */
  listKindOf(method: string): ItemKind | null {
    const id = this.#methodIds.get(method) ?? 0;
    if (this.#methodClass[id] !== C.METHOD_LIST) return null;
    return (SUBJECT_NAMES[this.#methodKind[id]] as ItemKind | undefined) ?? null;
  }

  /** tools/call: allows only a locked tool in state VERIFIED. */
  decideToolCall(name: string): Decision {
    return this.#decideName(C.KIND_TOOL, name, "tool", S_TOOL);
  }

  /** prompts/get: allows only a locked prompt in state VERIFIED. */
  decidePromptGet(name: string): Decision {
    return this.#decideName(C.KIND_PROMPT, name, "prompt", S_PROMPT);
  }

  /**
   * resources/read, resources/subscribe, resources/unsubscribe: allows the exact URI of a verified
   * static resource, or a URI whose normalized form matches a verified resource template and no
   * drifted one. Normalization and its refusals: wasm/uri.ts (RFC 3986 §2.1, §3, §5.2.4; RFC 6570
   * levels 1-2).
   */
  decideResourceUri(uri: string): Decision {
    if (this.#failure !== undefined) return failed("resource");
    try {
      return this.#decode(this.#x.decide_uri(this.#write(uri)), S_RESOURCE);
    } catch (err) {
      return this.#fail(err, "resource");
    }
  }

  /**
   * completion/complete by its `ref`: a `ref/prompt` must name a verified locked prompt, a
   * `ref/resource` must give a verified locked template's uriTemplate exactly. Anything else is
   * INVALID_PARAMS.
   */
  decideCompletion(ref: unknown): Decision {
    if (this.#failure !== undefined) return failed("none");
    try {
      const [operand, len] = this.#writeRef(ref);
      return this.#decode(this.#x.decide_completion(operand, len), S_PROMPT | S_TEMPLATE | S_NONE);
    } catch (err) {
      return this.#fail(err, "none");
    }
  }

  /**
   * Verifies one item of a list result on its own (no duplicate detection; prefer {@link verifyList}
   * for a whole result). VERIFIED allows it through; NOT_LOCKED, DRIFTED deny it, and a drifted item
   * stays unusable until a later list shows it matching.
   */
  verifyListItem(kind: ItemKind, key: string, fingerprint: string): Decision {
    if (this.#failure !== undefined) return failed(kind);
    try {
      return this.#verify(kind, key, fingerprint);
    } catch (err) {
      return this.#fail(err, kind);
    }
  }

  /**
   * Verifies every item of one list result (one page), in order. A key listed twice in the result is
   * refused (DUPLICATE_IN_LIST) and its item marked drifted: the host could use either definition.
   *
   * @returns one decision per entry, same order
   */
  verifyList(kind: ItemKind, entries: Iterable<ListEntry>): Decision[] {
    const out: Decision[] = [];
    if (this.#failure !== undefined) {
      for (const _ of entries) out.push(failed(kind));
      return out;
    }
    try {
      this.#x.list_begin();
    } catch (err) {
      this.#fail(err, kind);
    }
    for (const e of entries) out.push(this.verifyListItem(kind, e.key, e.fingerprint));
    try {
      this.#x.list_end();
    } catch (err) {
      this.#fail(err, kind);
      out.fill(failed(kind));
    }
    return out;
  }

  /**
   * Marks verified items of `kind` (default: all kinds) STALE, so they are denied until the next list
   * shows them matching. Call it when the server sends notifications/tools/list_changed (and the
   * prompts/resources equivalents: resources/list_changed covers "resource" and "template").
   */
  markStale(kind?: ItemKind): void {
    if (this.#failure !== undefined) return;
    try {
      this.#x.mark_stale(kind === undefined ? 0 : KIND_NUMBERS[kind]);
    } catch (err) {
      this.#fail(err, kind ?? "none");
    }
  }

  /** Every locked item with its state, in rule order (for logs and `--print-effective-allowlist`). */
  itemStates(): { kind: ItemKind; key: string; state: ItemState }[] {
    this.#assertUsable();
    return this.#itemKeys.map((key, i) => {
      const state = STATE_NAMES[this.#x.item_state(i)];
      if (state === undefined) {
        throw new PolicyCoreError("the policy core reported an unknown item state", REINSTALL_HINT);
      }
      return { kind: SUBJECT_NAMES[this.#itemKinds[i]] as ItemKind, key, state };
    });
  }

  /**
   * The canonical form of a request URI as the core sees it: lowercase scheme, path decoded once,
   * dot segments removed and re-encoded (RFC 3986 §6.2.2), query and fragment as sent; or the URI_*
   * code for why it is refused. Idempotent: normalizing the result returns it unchanged.
   */
  normalizeUri(uri: string): NormalizedUri {
    this.#assertUsable();
    let n: number;
    try {
      n = this.#x.normalize_uri(this.#write(uri));
      this.#refreshIfDetached();
    } catch (err) {
      this.#fail(err, "resource");
      this.#assertUsable();
      throw err; // unreachable: #assertUsable throws
    }
    if (n < 0) {
      const code = CODE_NAMES[-n];
      if (code === undefined) throw new PolicyCoreError(`the policy core returned ${n}`, REINSTALL_HINT);
      return { ok: false, code };
    }
    const bytes = new Uint8Array(this.#x.memory.buffer, this.#out, n);
    return { ok: true, uri: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  }

  // -- internals -------------------------------------------------------------------------------

  #decideName(kind: number, name: string, subject: Subject, allowed: number): Decision {
    if (this.#failure !== undefined) return failed(subject);
    try {
      return this.#decode(this.#x.decide_name(kind, this.#write(name)), allowed);
    } catch (err) {
      return this.#fail(err, subject);
    }
  }

  #verify(kind: ItemKind, key: string, fingerprint: string): Decision {
    const k = KIND_NUMBERS[kind];
    if (k === undefined) throw new TypeError(`unknown item kind ${String(kind)}`);
    const [keyLen, fpLen] = this.#writePair(key, fingerprint);
    return this.#decode(this.#x.verify_item(k, keyLen, fpLen), 1 << k);
  }

  /** Writes a completion ref's name or uri to region A; returns [operand, length]. */
  #writeRef(ref: unknown): [number, number] {
    if (isRecord(ref)) {
      if (ref.type === "ref/prompt" && typeof ref.name === "string") {
        return [C.OPERAND_PROMPT_REF, this.#write(ref.name)];
      }
      if (ref.type === "ref/resource" && typeof ref.uri === "string") {
        return [C.OPERAND_RESOURCE_REF, this.#write(ref.uri)];
      }
    }
    return [C.OPERAND_MALFORMED, 0];
  }

  /**
   * UTF-8 of `s` into region A; returns the byte length, or LEN_TOO_LONG / LEN_ILL_FORMED (also for a
   * non-string), which the core turns into a deny.
   */
  #write(s: string): number {
    this.#fit(encodableUnits(s));
    return encodeInto(s, this.#a);
  }

  /**
   * A key (name, uri or uriTemplate) into region A and a fingerprint into region B, for allow_add and
   * verify_item; returns both byte lengths as `#write` does.
   *
   * scratch_reserve replaces the whole scratch block, region A included, so the block is sized for the
   * longer string before either is written. Growing it for the fingerprint after writing the key
   * handed the core a key it never saw (fresh or stale heap bytes): a locked item loaded under the
   * wrong key was then reported NOT_LOCKED, and a list item could be checked against another key.
   */
  #writePair(key: string, fingerprint: string): [number, number] {
    this.#fit(Math.max(encodableUnits(key), encodableUnits(fingerprint)));
    return [encodeInto(key, this.#a), encodeInto(fingerprint, this.#b)];
  }

  /** Makes each scratch region hold `units` UTF-16 code units as UTF-8; may discard their contents. */
  #fit(units: number): void {
    if (units * 3 > this.#cap) this.#reserve(units * 3);
    else this.#refreshIfDetached();
  }

  #reserve(n: number): void {
    const cap = this.#x.scratch_reserve(n);
    if (!Number.isInteger(cap) || cap < n) throw new Error(`scratch_reserve(${n}) returned ${cap}`);
    this.#cap = cap;
    this.#views();
  }

  /**
   * Growing linear memory detaches the old ArrayBuffer, so its views read byteLength 0 (writes to them
   * would be silently lost). Checked before every write; cheaper than comparing `memory.buffer`.
   */
  #refreshIfDetached(): void {
    if (this.#a.byteLength === 0) this.#views();
  }

  #views(): void {
    const buf = this.#x.memory.buffer;
    const ptr = this.#x.scratch_ptr();
    if (!Number.isInteger(ptr) || ptr <= 0 || ptr + this.#cap * 7 > buf.byteLength) {
      throw new Error(`scratch block [${ptr}, +${this.#cap * 7}) is outside linear memory`);
    }
    this.#a = new Uint8Array(buf, ptr, this.#cap);
    this.#b = new Uint8Array(buf, ptr + this.#cap, this.#cap);
    this.#out = ptr + this.#cap * 4;
  }

  #readMethodTable(): void {
    const count = this.#x.method_count();
    if (!Number.isInteger(count) || count < 1 || count > 255) {
      throw new Error(`method_count() returned ${count}`);
    }
    this.#methodNames = [""];
    this.#methodClass = new Uint8Array(count + 1);
    this.#methodKind = new Uint8Array(count + 1);
    for (let id = 1; id <= count; id++) {
      const len = this.#x.method_name(id);
      this.#refreshIfDetached();
      const name = String.fromCharCode(...this.#a.subarray(0, len));
      const info = this.#x.method_info(id);
      const cls = (info >> C.METHOD_CLASS_SHIFT) & 0xf;
      if (
        len < 1 || this.#methodIds.has(name) || cls < C.METHOD_PASS || cls > C.METHOD_BY_URI_SET ||
        (info & 3) === 0
      ) {
        throw new Error(`method table entry ${id} (${JSON.stringify(name)}) is invalid`);
      }
      this.#methodIds.set(name, id);
      this.#methodNames.push(name);
      this.#methodClass[id] = cls;
      this.#methodKind[id] = (info >> C.METHOD_KIND_SHIFT) & 0xf;
    }
  }

  #load(entries: [number, string, string][]): void {
    if (entries.length >= C.RULE_LIMIT - 1) {
      throw new PolicyCoreError(
        `the lockfile has ${entries.length} items; the policy core holds at most ${C.RULE_LIMIT - 2}`,
        "split the server or lock fewer items",
      );
    }
    const kinds = new Uint8Array(entries.length);
    const keys: string[] = [];
    this.#x.allow_begin();
    for (let i = 0; i < entries.length; i++) {
      const [kind, key, fp] = entries[i];
      const [keyLen, fpLen] = this.#writePair(key, fp);
      const r = this.#x.allow_add(kind, keyLen, fpLen);
      if (r < 0) throw loadError(-r, kind, key, this.#x.load_error_pos(), this.#x.load_error_detail());
      if (r !== i) throw new Error(`allow_add returned item ${r}, expected ${i}`);
      kinds[i] = kind;
      keys.push(key);
    }
    const r = this.#x.allow_commit();
    this.#refreshIfDetached();
    if (r < 0) {
      const i = this.#x.load_error_item();
      throw loadError(-r, entries[i]?.[0] ?? 0, entries[i]?.[1] ?? "?", -1, 0);
    }
    this.#itemKinds = kinds;
    this.#itemKeys = keys;
  }

  /** After a rejected allowlist: nothing is locked, so everything item-related is denied. */
  #loadEmpty(): void {
    try {
      this.#x.allow_begin();
      if (this.#x.allow_commit() !== 0) throw new Error("allow_commit failed on an empty allowlist");
    } catch (err) {
      this.#failure = `trap while clearing the allowlist: ${describeError(err)}`;
    }
  }

  /** Turns a packed core result into a Decision, or fails the core if it is not one it may return. */
  #decode(r: number, allowedSubjects: number): Decision {
    if (!Number.isInteger(r) || r <= 0 || r > 0x7fffffff) return this.#bad(r, "not a decision");
    const code = r & 0xff;
    const subject = (r >> C.SUBJECT_SHIFT) & 0xf;
    const rule = (r >>> C.RULE_SHIFT) - 1;
    const name = CODE_NAMES[code];
    if (name === undefined || code === C.CORE_FAILURE) return this.#bad(r, "unknown code");
    if (subject > C.LAST_SUBJECT || ((1 << subject) & allowedSubjects) === 0) {
      return this.#bad(r, "unexpected subject");
    }
    let ruleKey = "";
    if (rule >= 0) {
      const key = subject === C.SUBJECT_METHOD ? this.#methodNames[rule] : this.#itemKeys[rule];
      if (key === undefined || (subject === C.SUBJECT_METHOD && rule === 0)) {
        return this.#bad(r, "rule out of range");
      }
      ruleKey = key;
    }
    const allow = isAllowCode(code);
    if (allow && !this.#allowIsConsistent(code, subject, rule)) return this.#bad(r, "inconsistent allow");
    return { allow, code: name, subject: SUBJECT_NAMES[subject], rule, ruleKey };
  }

  /** An allow must name the rule that allows it, and that rule must be of the right kind. */
  #allowIsConsistent(code: number, subject: number, rule: number): boolean {
    if (code === C.PASS || code === C.LIST) return subject === C.SUBJECT_METHOD && rule >= 1;
    if (rule < 0) return false;
    const kind = this.#itemKinds[rule];
    if (code === C.TEMPLATE_MATCH) return subject === C.SUBJECT_RESOURCE && kind === C.KIND_TEMPLATE;
    return (code === C.LOCKED || code === C.VERIFIED) && kind === subject;
  }

  #bad(r: number, why: string): Decision {
    this.#failure = `the policy core returned ${r} (${why})`;
    return failed("none");
  }

  #fail(err: unknown, subject: Subject): Decision {
    this.#failure = describeError(err);
    return failed(subject);
  }

  #assertUsable(): void {
    if (this.#failure !== undefined) {
      throw new PolicyCoreError(`the policy core has failed (${this.#failure})`, "restart mcptrust");
    }
  }
}

/** The CORE_FAILURE deny. */
function failed(subject: Subject): Decision {
  return { allow: false, code: "CORE_FAILURE", subject, rule: -1, ruleKey: "" };
}

const ITEM_NOUNS: Record<number, string> = {
  [C.KIND_TOOL]: "tool",
  [C.KIND_PROMPT]: "prompt",
  [C.KIND_RESOURCE]: "resource",
  [C.KIND_TEMPLATE]: "resource template",
};

const URI_PROBLEMS: Record<number, string> = {
  [C.URI_BAD_ESCAPE]: "a `%` not followed by two hex digits",
  [C.URI_DOUBLE_ENCODED]: "a percent-escape that is itself percent-encoded",
  [C.URI_BAD_CHAR]: "a control character or backslash",
  [C.URI_BAD_UTF8]: "bytes that are not UTF-8",
  [C.URI_EMPTY_SEGMENT]: "an empty path segment (`//`)",
  [C.URI_ENCODED_AUTHORITY]: "a percent-escape in the authority",
  [C.URI_DOT_SEGMENT]: "a `.` or `..` path segment",
};

/** The PolicyCoreError for a TPL_* / LOAD_* code from allow_add or allow_commit. */
function loadError(code: number, kind: number, key: string, pos: number, detail: number): PolicyCoreError {
  const what = `${ITEM_NOUNS[kind] ?? "item"} ${JSON.stringify(key)}`;
  const at = pos >= 0 ? ` at offset ${pos}` : "";
  const fixTemplate =
    "remove the template from the lockfile, or have the server use `{name}` / `{+name}` path " +
    "variables, one per segment, then re-run `mcptrust lock`";
  switch (code) {
    case C.TPL_NO_SCHEME:
      return new PolicyCoreError(`${what} does not start with a literal scheme (RFC 3986 §3.1)`, fixTemplate);
    case C.TPL_UNSUPPORTED_OPERATOR:
      return new PolicyCoreError(
        `${what} uses an RFC 6570 operator${at} that mcptrust cannot enforce (only {name} and {+name} are supported)`,
        fixTemplate,
      );
    case C.TPL_UNSUPPORTED_MODIFIER:
      return new PolicyCoreError(
        `${what} uses a prefix or explode modifier${at} (RFC 6570 §2.4)`,
        fixTemplate,
      );
    case C.TPL_VARIABLE_LIST:
      return new PolicyCoreError(
        `${what} has a variable list${at}; one variable per expression`,
        fixTemplate,
      );
    case C.TPL_BAD_EXPRESSION:
      return new PolicyCoreError(
        `${what} has a malformed expression${at} (RFC 6570 §2.2, §2.3)`,
        fixTemplate,
      );
    case C.TPL_VARIABLE_IN_QUERY:
      return new PolicyCoreError(`${what} has a variable in its query or fragment`, fixTemplate);
    case C.TPL_TWO_VARIABLES:
      return new PolicyCoreError(
        `${what} has two variables in one path segment or in the authority; where one ends would be ambiguous`,
        fixTemplate,
      );
    case C.TPL_RESERVED_IN_AUTHORITY:
      return new PolicyCoreError(
        `${what} has {+name} in its authority, which would let a value change the host`,
        fixTemplate,
      );
    case C.TPL_BAD_LITERAL:
      return new PolicyCoreError(
        `${what} has ${URI_PROBLEMS[detail] ?? "a literal part"} that no normalized request URI can match`,
        fixTemplate,
      );
    case C.LOAD_DUPLICATE:
      return new PolicyCoreError(
        `${what} appears twice in the lockfile`,
        "remove the duplicate and re-run `mcptrust lock`",
      );
    case C.LOAD_TOO_MANY:
      return new PolicyCoreError("the lockfile has too many items for the policy core", "lock fewer items");
    case C.LOAD_INVALID_TEXT:
      return new PolicyCoreError(
        `${what} is not well-formed Unicode or is longer than ${MAX_INPUT_UNITS} characters`,
        "re-run `mcptrust lock` against the server",
      );
    default:
      return new PolicyCoreError(`the policy core rejected ${what} with code ${code}`, REINSTALL_HINT);
  }
}

// -- known-answer self-test --------------------------------------------------------------------

/** A fixed allowlist and the decisions the core must give for it, in order (state carries over). */
const SELF_TEST_ALLOWLIST: Allowlist = {
  tools: [{ name: "echo", fingerprint: "fp-echo" }],
  prompts: [{ name: "greet", fingerprint: "fp-greet" }],
  resources: [{ uri: "mem://notes/1", fingerprint: "fp-note" }],
  templates: [{ uriTemplate: "file:///srv/data/{path}", fingerprint: "fp-files" }],
};

const TPL = "file:///srv/data/{path}";

/** [what, decision to make, expected code, expected ruleKey ("" for none)]. */
const SELF_TEST: [string, (c: PolicyCore) => Decision, DecisionCode, string][] = [
  ["call before list", (c) => c.decideToolCall("echo"), "NOT_OFFERED", "echo"],
  ["verify tool", (c) => c.verifyListItem("tool", "echo", "fp-echo"), "VERIFIED", "echo"],
  ["call verified tool", (c) => c.decideToolCall("echo"), "LOCKED", "echo"],
  ["call unlocked tool", (c) => c.decideToolCall("exec_shell"), "NOT_LOCKED", ""],
  ["verify template", (c) => c.verifyListItem("template", TPL, "fp-files"), "VERIFIED", TPL],
  ["read under template", (c) => c.decideResourceUri("FILE:///srv/data/a/./b.txt"), "TEMPLATE_MATCH", TPL],
  [
    "read traversal",
    (c) => c.decideResourceUri("file:///srv/data/%2e%2e/%2E%2E/etc/passwd"),
    "NOT_LOCKED",
    "",
  ],
  ["read double-encoded", (c) => c.decideResourceUri("file:///srv/data/%252e/x"), "URI_DOUBLE_ENCODED", ""],
  ["prompt drift", (c) => c.verifyListItem("prompt", "greet", "changed"), "DRIFTED", "greet"],
  ["get drifted prompt", (c) => c.decideMethod("prompts/get", { name: "greet" }), "DRIFTED", "greet"],
  ["initialize", (c) => c.decideMethod("initialize", {}), "PASS", "initialize"],
  [
    "server sends tools/call",
    (c) => c.decideMethod("tools/call", { name: "echo" }, "server"),
    "WRONG_DIRECTION",
    "tools/call",
  ],
  ["unknown method", (c) => c.decideMethod("shell/exec", {}), "UNKNOWN_METHOD", ""],
  // MCP 2026-07-28
  ["discover", (c) => c.decideMethod("server/discover", {}), "PASS", "server/discover"],
  [
    "server sends discover",
    (c) => c.decideMethod("server/discover", {}, "server"),
    "WRONG_DIRECTION",
    "server/discover",
  ],
  [
    "listen to list changes",
    (c) => c.decideMethod("subscriptions/listen", { notifications: { toolsListChanged: true } }),
    "PASS",
    "subscriptions/listen",
  ],
  [
    "listen under template",
    (c) =>
      c.decideMethod("subscriptions/listen", {
        notifications: { resourceSubscriptions: ["file:///srv/data/a"] },
      }),
    "TEMPLATE_MATCH",
    TPL,
  ],
  [
    "listen with one unlocked uri",
    (c) =>
      c.decideMethod("subscriptions/listen", {
        notifications: { resourceSubscriptions: ["file:///srv/data/a", "file:///etc/passwd"] },
      }),
    "NOT_LOCKED",
    "",
  ],
  [
    "listen malformed",
    (c) => c.decideMethod("subscriptions/listen", { notifications: { resourceSubscriptions: "x" } }),
    "INVALID_PARAMS",
    "",
  ],
];

/** Runs the known-answer tests, then empties the allowlist. Throws PolicyCoreError on any mismatch. */
function selfTest(core: PolicyCore): void {
  const fail = (what: string) => {
    throw new PolicyCoreError(`the policy core failed its self-test: ${what}`, REINSTALL_HINT);
  };
  core.setAllowlist(SELF_TEST_ALLOWLIST);
  for (const [name, run, code, ruleKey] of SELF_TEST) {
    const d = run(core);
    if (d.code !== code || d.ruleKey !== ruleKey || d.allow !== isAllowCode(CODE_NAMES.indexOf(code))) {
      const got = `${d.code} ${JSON.stringify(d.ruleKey)}${core.failure ? ` (${core.failure})` : ""}`;
      fail(`${name}: expected ${code} ${JSON.stringify(ruleKey)}, got ${got}`);
    }
  }
  const n = core.normalizeUri("HTTP://h/a/./b/../c%7e%41?q=%2e#f");
  if (!n.ok || n.uri !== "http://h/a/c~A?q=%2e#f") fail(`normalize: got ${JSON.stringify(n)}`);
  core.setAllowlist({});
}
