/**
 * User-facing text for policy decisions: what was refused, why, and what to do. The core returns
 * only codes; every sentence lives here so it can be reviewed and translated in one place.
 *
 * @module
 */
import type { Decision, Subject } from "./decision.ts";

/** Identifiers longer than this are cut in messages (they come from the host or the server). */
const MAX_SHOWN = 200;

/** JSON-quoted, length-bounded identifier: control characters cannot reach a terminal or log raw. */
function quote(s: string): string {
  return JSON.stringify(s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s);
}

const NOUNS: Record<Subject, string> = {
  none: "request",
  tool: "tool",
  prompt: "prompt",
  resource: "resource URI",
  template: "resource template",
  method: "method",
};

const LIST_METHOD: Record<Subject, string> = {
  none: "the list",
  tool: "tools/list",
  prompt: "prompts/list",
  resource: "resources/list",
  template: "resources/templates/list",
  method: "the list",
};

const RELOCK = "re-run `mcptrust lock` after review if it should be allowed";

const URI_WHY: Record<string, string> = {
  URI_MALFORMED: "it has no valid scheme (RFC 3986 §3.1)",
  URI_BAD_ESCAPE: "it has a `%` not followed by two hex digits",
  URI_DOUBLE_ENCODED:
    "it is percent-encoded twice (a server decoding again would see a path mcptrust never checked)",
  URI_BAD_CHAR: "it contains a control character, NUL or backslash (raw or percent-encoded)",
  URI_BAD_UTF8: "it decodes to bytes that are not valid UTF-8",
  URI_EMPTY_SEGMENT: "its path has an empty segment (`//`), which servers resolve differently",
  URI_ABOVE_ROOT: "its path climbs above the root with `..`",
  URI_ENCODED_AUTHORITY: "its authority (host part) is percent-encoded",
  URI_DOT_SEGMENT: "it has a `.` or `..` segment in a path that does not start with `/`",
};

/**
 * One sentence for a decision: what was decided about `identifier`, why, and for denies what to do.
 *
 * @param decision from PolicyCore
 * @param identifier what the request named: tool or prompt name, resource URI, method, list key
 * @example
 * reasonFor(core.decideToolCall("exec_shell"), "exec_shell");
 * // 'tool "exec_shell" is not in the lockfile; re-run `mcptrust lock` after review if it should be allowed'
 */
export function reasonFor(decision: Decision, identifier: string): string {
  const noun = NOUNS[decision.subject];
  const what = `${noun} ${quote(identifier)}`;
  const via = decision.subject === "resource" && decision.ruleKey !== "" && decision.ruleKey !== identifier
    ? ` (via resource template ${quote(decision.ruleKey)})`
    : "";
  const list = LIST_METHOD[decision.subject === "resource" && via !== "" ? "template" : decision.subject];
  switch (decision.code) {
    case "PASS":
      return `method ${quote(identifier)} is an MCP protocol method and passes`;
    case "LIST":
      return `method ${quote(identifier)} passes; each item of its result is checked against the lockfile`;
    case "LOCKED":
      return `${what} is locked and verified in this session`;
    case "TEMPLATE_MATCH":
      return `${what} matches locked resource template ${quote(decision.ruleKey)}`;
    case "VERIFIED":
      return `${what} matches the lockfile`;
    case "CORE_FAILURE":
      return `the policy core failed, so ${what} is refused, as is everything until mcptrust restarts; ` +
        "restart it, and reinstall mcptrust if this repeats";
    case "UNKNOWN_METHOD":
      return `method ${quote(identifier)} is not an MCP method mcptrust knows, so it is refused; ` +
        "if it is a newer MCP method, upgrade mcptrust";
    case "WRONG_DIRECTION":
      return `method ${quote(identifier)} was sent in a direction MCP does not allow ` +
        "(a server sending a host request, or the reverse), so it is refused";
    case "INVALID_PARAMS":
      return decision.subject === "none"
        ? `completion request ${quote(identifier)} has no valid params.ref ({type: "ref/prompt", name} or ` +
          `{type: "ref/resource", uri}), so it is refused`
        : `${noun} request ${quote(identifier)} lacks a string params.${
          decision.subject === "resource" ? "uri" : "name"
        }, so it is refused`;
    case "INVALID_TEXT":
      return `${what} is not well-formed Unicode (a lone surrogate), so it is refused`;
    case "INPUT_TOO_LONG":
      return `${noun} ${quote(identifier)} is too long to check, so it is refused`;
    case "NOT_LOCKED":
      return decision.subject === "resource"
        ? `${what} matches no locked resource or resource template; ${RELOCK}`
        : `${what} is not in the lockfile; ${RELOCK}`;
    case "NOT_OFFERED":
      return `${what}${via} is locked but the server has not listed it in this session; ` +
        `the host must receive it through ${list} (where mcptrust verifies it) before using it`;
    case "DRIFTED":
      return `${what}${via} differs from the lockfile (the server's definition changed); ` +
        "review the change with `mcptrust check`, then re-lock if it is intended";
    case "STALE":
      return `${what}${via} may have changed: the server announced a list change after it was verified; ` +
        `it is allowed again once ${list} shows it still matching the lockfile`;
    case "DUPLICATE_IN_LIST":
      return `the server listed ${what} more than once in one result; it is refused until a list shows it ` +
        "once and matching the lockfile";
    default:
      return `${what} is refused: ${URI_WHY[decision.code] ?? decision.code}; ` +
        "send it percent-encoded once, with no dot segments or control characters";
  }
}
