/**
 * The numbers the policy core and its TypeScript host agree on: decision codes, subjects, item kinds,
 * item states, directions, operand types and allowlist load errors.
 *
 * This file is both AssemblyScript (compiled into the core by wasm/policy.ts) and TypeScript (imported
 * by lib/policy/), so it holds nothing but integer constants. Changing a number here changes the core's
 * ABI: rebuild the wasm (`make wasm`) and the embedded bytes together.
 *
 * A decision is one i32: `code | subject << 8 | (rule + 1) << 12`. `rule` is the index of the allowlist
 * item (or the method id) that decided, or -1 for none, so at most RULE_LIMIT - 1 items fit.
 *
 * @module
 */

// -- decision codes: 1..15 allow, 16.. deny; 0 is never a valid decision (the host reads it as a failure)
/** A protocol method that passes unchecked (initialize, ping, notifications, ...). */
export const PASS = 1;
/** A list method: passes, and the host verifies each item of its result. */
export const LIST = 2;
/** A locked item in state VERIFIED (tool, prompt, static resource, completion target). */
export const LOCKED = 3;
/** A resource URI matching a locked resource template in state VERIFIED. */
export const TEMPLATE_MATCH = 4;
/** A list item whose fingerprint equals the locked one. */
export const VERIFIED = 5;
/** Highest allow code. */
export const LAST_ALLOW = 15;

/** The core trapped, threw, or returned something outside this table (set by the host only). */
export const CORE_FAILURE = 16;
/** A JSON-RPC method the core does not know. */
export const UNKNOWN_METHOD = 17;
/** A known method sent in a direction MCP does not allow (e.g. a server sending tools/call). */
export const WRONG_DIRECTION = 18;
/** The params an enforced method needs (name, uri, ref) are missing or not strings. */
export const INVALID_PARAMS = 19;
/** A string that is not well-formed Unicode (a lone UTF-16 surrogate). */
export const INVALID_TEXT = 20;
/** A string longer than the host's input limit. */
export const INPUT_TOO_LONG = 21;
/** The item is not in the lockfile. */
export const NOT_LOCKED = 22;
/** The item is locked but no list has shown it yet (state UNSEEN). */
export const NOT_OFFERED = 23;
/** The live item's fingerprint differs from the locked one (state DRIFTED). */
export const DRIFTED = 24;
/** The server announced list_changed after the item was verified (state STALE). */
export const STALE = 25;
/** The same key appeared twice in one list result. */
export const DUPLICATE_IN_LIST = 26;
// URI rejections (resources/read, subscribe, unsubscribe): the URI is ambiguous, so no match is tried.
/** No scheme, or a scheme with characters RFC 3986 §3.1 does not allow. */
export const URI_MALFORMED = 32;
/** A `%` not followed by two hex digits (RFC 3986 §2.1). */
export const URI_BAD_ESCAPE = 33;
/** A percent-escape left after one round of decoding: the URI was encoded twice. */
export const URI_DOUBLE_ENCODED = 34;
/** A control character (C0, DEL, C1, NUL) or a backslash, raw or percent-encoded. */
export const URI_BAD_CHAR = 35;
/** Bytes (raw or percent-decoded) that are not valid UTF-8, including overlong forms. */
export const URI_BAD_UTF8 = 36;
/** An empty path segment (`//`), which servers resolve differently. */
export const URI_EMPTY_SEGMENT = 37;
/** A `..` segment that climbs above the root of the path. */
export const URI_ABOVE_ROOT = 38;
/** A percent-escape in the authority (host) part. */
export const URI_ENCODED_AUTHORITY = 39;
/** A `.` or `..` segment that cannot be resolved safely (in a path not starting with `/`). */
export const URI_DOT_SEGMENT = 40;
/** Highest code in use. */
export const LAST_CODE = 40;

// -- subjects: what a decision is about
export const SUBJECT_NONE = 0;
export const SUBJECT_TOOL = 1;
export const SUBJECT_PROMPT = 2;
export const SUBJECT_RESOURCE = 3;
export const SUBJECT_TEMPLATE = 4;
export const SUBJECT_METHOD = 5;
export const LAST_SUBJECT = 5;

// -- allowlist item kinds (the same numbers as the matching subjects)
export const KIND_TOOL = 1;
export const KIND_PROMPT = 2;
export const KIND_RESOURCE = 3;
export const KIND_TEMPLATE = 4;

// -- item states
export const STATE_UNSEEN = 0;
export const STATE_VERIFIED = 1;
export const STATE_DRIFTED = 2;
export const STATE_STALE = 3;

// -- message directions
/** Host (client) to server. */
export const FROM_HOST = 1;
/** Server to host (client). */
export const FROM_SERVER = 2;

// -- method table rows (method_info): `directions | class << METHOD_CLASS_SHIFT | kind << METHOD_KIND_SHIFT`
/** Protocol method: passes unchecked. */
export const METHOD_PASS = 1;
/** List method: passes; the host verifies each item of its result. */
export const METHOD_LIST = 2;
/** Decided by `params.name` (tools/call, prompts/get). */
export const METHOD_BY_NAME = 3;
/** Decided by `params.uri` (resources/read, subscribe, unsubscribe). */
export const METHOD_BY_URI = 4;
/** Decided by `params.ref` (completion/complete). */
export const METHOD_BY_REF = 5;
/**
 * Decided by each URI of `params.notifications.resourceSubscriptions` (subscriptions/listen, MCP
 * 2026-07-28): the host asks once per URI (OPERAND_URI), each decided like resources/read; a listen
 * without resource subscriptions (only list_changed flags) is asked once with OPERAND_NONE and passes.
 */
export const METHOD_BY_URI_SET = 6;
export const METHOD_CLASS_SHIFT = 4;
export const METHOD_KIND_SHIFT = 8;

// -- operands: what the host extracted from a request's params for decide_request
export const OPERAND_NONE = 0;
/** `params.name` (tools/call, prompts/get). */
export const OPERAND_NAME = 1;
/** `params.uri` (resources/read, subscribe, unsubscribe). */
export const OPERAND_URI = 2;
/** `params.ref` of type ref/prompt: its `name`. */
export const OPERAND_PROMPT_REF = 3;
/** `params.ref` of type ref/resource: its `uri`. */
export const OPERAND_RESOURCE_REF = 4;
/** The params the method needs are missing or have the wrong type. */
export const OPERAND_MALFORMED = 5;

// -- string lengths the host passes instead of a byte count
/** The string is not well-formed UTF-16 (lone surrogate). */
export const LEN_ILL_FORMED = -1;
/** The string is longer than the host's input limit. */
export const LEN_TOO_LONG = -2;

// -- decision packing
export const CODE_BITS = 8;
export const SUBJECT_SHIFT = 8;
export const RULE_SHIFT = 12;
/** Rules are stored plus one in 19 bits, so the result stays a positive i32. */
export const RULE_LIMIT = 0x7ffff;

// -- allowlist load errors (allow_add / allow_commit return their negation)
/** The template has no literal `scheme:` at its start (RFC 3986 §3.1). */
export const TPL_NO_SCHEME = 1;
/** An RFC 6570 operator other than `+` (`{#x} {.x} {/x} {;x} {?x} {&x}` and the reserved `= , ! @ |`). */
export const TPL_UNSUPPORTED_OPERATOR = 2;
/** A prefix (`{x:3}`) or explode (`{x*}`) modifier (RFC 6570 §2.4). */
export const TPL_UNSUPPORTED_MODIFIER = 3;
/** More than one variable in one expression (`{x,y}`). */
export const TPL_VARIABLE_LIST = 4;
/** An empty, unclosed or nested expression, a stray `}` or a bad variable name (RFC 6570 §2.3). */
export const TPL_BAD_EXPRESSION = 5;
/** A variable after `?` or `#`: queries and fragments must be literal. */
export const TPL_VARIABLE_IN_QUERY = 6;
/** Two variables in one path segment or in the authority (their boundary would be ambiguous). */
export const TPL_TWO_VARIABLES = 7;
/** `{+x}` in the authority: the value could rewrite the host. */
export const TPL_RESERVED_IN_AUTHORITY = 8;
/** A literal part a request URI could never match after normalization (see URI_* codes). */
export const TPL_BAD_LITERAL = 9;
/** The same key twice for one kind. */
export const LOAD_DUPLICATE = 10;
/** More items than RULE_LIMIT - 1. */
export const LOAD_TOO_MANY = 11;
/** A key or fingerprint that is not well-formed Unicode. */
export const LOAD_INVALID_TEXT = 12;
/** An unknown item kind (a host bug). */
export const LOAD_BAD_KIND = 13;
