/**
 * Resource URI matching in the policy core: traversal and encoding tricks against RFC 6570 templates,
 * and the canonical form normalizeUri reports. The rules are in wasm/uri.ts.
 *
 * Query and fragment: kept raw, never decoded; a URI with a query or fragment matches only a template
 * with exactly that literal query or fragment (variables there are refused at load). An encoded `?`
 * (`%3F`) in the path is path data.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PolicyCore } from "./core.ts";

const TEMPLATES = [
  "file:///srv/data/{path}", // 0
  "users://{id}/profile", // 1
  "repo://x/{owner}/issues/{n}", // 2
  "docs:///v1/{page}.md", // 3
  "note:{id}", // 4
  "api://endpoint/{p}?format=json", // 5
  "git:///repo/{+path}", // 6
  "db://{id}", // 7 (the Go proxy's test lockfile)
];

function verifiedCore(): PolicyCore {
  const c = PolicyCore.load();
  const templates = TEMPLATES.map((uriTemplate) => ({ uriTemplate, fingerprint: "f" }));
  c.setAllowlist({ templates });
  c.verifyList("template", templates.map((t) => ({ key: t.uriTemplate, fingerprint: "f" })));
  return c;
}

/** [uri, expected code, template index for a match]. */
type Case = [string, string, number?];

const MATCHES: Case[] = [
  ["file:///srv/data/a.txt", "TEMPLATE_MATCH", 0],
  ["file:///srv/data/a/b/c.txt", "TEMPLATE_MATCH", 0], // final variable spans segments
  ["FILE:///srv/data/a.txt", "TEMPLATE_MATCH", 0], // scheme is case-insensitive
  ["File:///srv/data/a.txt", "TEMPLATE_MATCH", 0],
  ["file:///srv/data/a%20b.txt", "TEMPLATE_MATCH", 0],
  ["file:///srv/data/a%2Fb", "TEMPLATE_MATCH", 0], // one decode: an encoded slash is a slash
  ["file:///srv/data/x/../y.txt", "TEMPLATE_MATCH", 0], // stays inside after normalization
  ["file:///srv/data/./y.txt", "TEMPLATE_MATCH", 0],
  ["file:///srv/data/%C3%A9t%C3%A9.txt", "TEMPLATE_MATCH", 0],
  ["file:///srv/data/été.txt", "TEMPLATE_MATCH", 0],
  ["file:///srv/data/dir/", "TEMPLATE_MATCH", 0],
  ["file:///srv/data/a%3Fb", "TEMPLATE_MATCH", 0], // encoded '?' is data, not a query
  ["file:///srv/data/100%25%20sure", "TEMPLATE_MATCH", 0], // a literal '%' encoded once
  ["users://alice/profile", "TEMPLATE_MATCH", 1],
  ["USERS://alice/profile", "TEMPLATE_MATCH", 1],
  ["repo://x/acme/issues/42", "TEMPLATE_MATCH", 2],
  ["docs:///v1/intro.md", "TEMPLATE_MATCH", 3],
  ["docs:///v1/guide/intro.md", "TEMPLATE_MATCH", 3],
  ["note:abc", "TEMPLATE_MATCH", 4],
  ["note:a/b", "TEMPLATE_MATCH", 4],
  ["api://endpoint/users?format=json", "TEMPLATE_MATCH", 5],
  ["git:///repo/src/main.ts", "TEMPLATE_MATCH", 6],
  ["db://123", "TEMPLATE_MATCH", 7],
];

const TRAVERSALS: Case[] = [
  ["file:///srv/data/../../etc/passwd", "NOT_LOCKED"],
  ["file:///srv/data/%2e%2e/%2e%2e/etc/passwd", "NOT_LOCKED"],
  ["file:///srv/data/%2E%2E/%2E%2E/etc/passwd", "NOT_LOCKED"],
  ["file:///srv/data/..%2f..%2fetc/passwd", "NOT_LOCKED"],
  ["file:///srv/data/..%2F..%2Fetc%2Fpasswd", "NOT_LOCKED"],
  ["file:///srv/data/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "NOT_LOCKED"],
  ["file:///srv/data/.%2e/.%2E/etc/passwd", "NOT_LOCKED"],
  ["file:///srv/data/a/../../../etc/passwd", "NOT_LOCKED"],
  ["file:///srv/data/..", "NOT_LOCKED"],
  ["file:///srv/data/x/..", "NOT_LOCKED"], // normalizes to the bare prefix: empty value
  ["file:///srv/data/", "NOT_LOCKED"],
  ["file:///srv/data", "NOT_LOCKED"],
  ["file:///srv/database/x", "NOT_LOCKED"], // the prefix ends at a segment boundary
  ["file:///srv/data/../data2/x", "NOT_LOCKED"],
  ["file:///../srv/data/x", "URI_ABOVE_ROOT"], // servers joining to a base would climb out
  ["file:///srv/data/../../../x", "URI_ABOVE_ROOT"],
  ["file:////srv/data/x", "URI_EMPTY_SEGMENT"],
  ["file:///srv/data//etc/passwd", "URI_EMPTY_SEGMENT"],
  ["file:///srv/data/a//../../../etc/passwd", "URI_EMPTY_SEGMENT"], // "/a/" to RFC 3986, "/" to path.join
  ["file:///srv/data/a%2F%2Fb", "URI_EMPTY_SEGMENT"],
  ["users://../profile", "NOT_LOCKED"], // the authority is not dot-normalized: ".." is refused as a value
  ["users://./profile", "NOT_LOCKED"],
  ["users://a@evil/profile", "NOT_LOCKED"], // userinfo in an authority variable
  ["users://alice/profile/x", "NOT_LOCKED"],
  ["users:///profile", "NOT_LOCKED"],
  ["repo://x/acme/widgets/issues/42", "NOT_LOCKED"], // a non-final variable is one segment
  ["repo://x/acme%2Fwidgets/issues/42", "NOT_LOCKED"],
  ["docs:///v1/.md", "NOT_LOCKED"],
  ["docs:///v1/intro.txt", "NOT_LOCKED"],
  ["note:/etc/passwd", "NOT_LOCKED"], // a value never starts with '/'
  ["note:../x", "URI_DOT_SEGMENT"],
  ["note:a/./b", "URI_DOT_SEGMENT"],
  ["git:///repo/../etc/passwd", "NOT_LOCKED"],
  ["db://123/x/..", "NOT_LOCKED"], // the variable is the authority; no path may follow
  ["db://123/../../etc", "URI_ABOVE_ROOT"],
  ["db://a/b", "NOT_LOCKED"],
  ["db://", "NOT_LOCKED"],
];

const HOSTS_AND_SCHEMES: Case[] = [
  ["file://evil/srv/data/x", "NOT_LOCKED"],
  ["file://evil@/srv/data/x", "NOT_LOCKED"],
  ["file://localhost/srv/data/x", "NOT_LOCKED"], // exact authority, even where RFC 8089 says equivalent
  ["file:/srv/data/x", "NOT_LOCKED"], // no authority where the template has one
  ["http:///srv/data/x", "NOT_LOCKED"],
  ["files:///srv/data/x", "NOT_LOCKED"],
  ["fil:///srv/data/x", "NOT_LOCKED"],
  ["file://%65vil/srv/data/x", "URI_ENCODED_AUTHORITY"],
  ["users://%2e%2e/profile", "URI_ENCODED_AUTHORITY"],
  ["/srv/data/x", "URI_MALFORMED"],
  ["srv/data/x", "URI_MALFORMED"],
  ["", "URI_MALFORMED"],
  ["1file:///srv/data/x", "URI_MALFORMED"],
  [" file:///srv/data/x", "URI_MALFORMED"],
  ["fi le:///srv/data/x", "URI_MALFORMED"],
];

const QUERY_AND_FRAGMENT: Case[] = [
  ["file:///srv/data/x?y=1", "NOT_LOCKED"],
  ["file:///srv/data/x#frag", "NOT_LOCKED"],
  ["file:///srv/data/x?", "NOT_LOCKED"],
  ["api://endpoint/users", "NOT_LOCKED"],
  ["api://endpoint/users?format=xml", "NOT_LOCKED"],
  ["api://endpoint/users?format=json#x", "NOT_LOCKED"],
  ["api://endpoint/users?format=%6Ason", "NOT_LOCKED"], // query compared raw
  ["file:///srv/data/x?%zz", "URI_BAD_ESCAPE"],
  ["file:///srv/data/x#%g0", "URI_BAD_ESCAPE"],
];

const ENCODING: Case[] = [
  ["file:///srv/data/%252e%252e/etc/passwd", "URI_DOUBLE_ENCODED"],
  ["file:///srv/data/%252E%252E%252Fetc", "URI_DOUBLE_ENCODED"],
  ["file:///srv/data/..%252f..%252fetc", "URI_DOUBLE_ENCODED"],
  ["file:///srv/data/%255c", "URI_DOUBLE_ENCODED"],
  ["file:///srv/data/%2541", "URI_DOUBLE_ENCODED"], // any escape left after one decode
  ["file:///srv/data/%25%32%65", "URI_DOUBLE_ENCODED"], // %2e spelled with escapes
  ["file:///srv/data/a%5cb", "URI_BAD_CHAR"], // encoded backslash
  ["file:///srv/data/a%5C..%5C..%5Cetc", "URI_BAD_CHAR"],
  ["file:///srv/data/a\\b", "URI_BAD_CHAR"],
  ["file:///srv/data/..\\..\\etc\\passwd", "URI_BAD_CHAR"],
  ["file:///srv/data/a%00.txt", "URI_BAD_CHAR"],
  ["file:///srv/data/a\u0000.txt", "URI_BAD_CHAR"],
  ["file:///srv/data/a\n", "URI_BAD_CHAR"],
  ["file:///srv/data/a%0A", "URI_BAD_CHAR"],
  ["file:///srv/data/a%0d%0aSet-Cookie:x", "URI_BAD_CHAR"],
  ["file:///srv/data/a\u007f", "URI_BAD_CHAR"],
  ["file:///srv/data/a\u0085", "URI_BAD_CHAR"], // C1 control (NEL)
  ["file:///srv/data/a%C2%85", "URI_BAD_CHAR"],
  ["file:///srv/data/%zz", "URI_BAD_ESCAPE"],
  ["file:///srv/data/a%", "URI_BAD_ESCAPE"],
  ["file:///srv/data/a%2", "URI_BAD_ESCAPE"],
  ["file:///srv/data/a%%32%65", "URI_BAD_ESCAPE"],
  ["file:///srv/data/%C0%AE%C0%AE/x", "URI_BAD_UTF8"], // overlong '.'
  ["file:///srv/data/%E0%80%AE", "URI_BAD_UTF8"], // overlong '.' (3 bytes)
  ["file:///srv/data/%C0%AF", "URI_BAD_UTF8"], // overlong '/'
  ["file:///srv/data/%FF", "URI_BAD_UTF8"],
  ["file:///srv/data/%ED%A0%80", "URI_BAD_UTF8"], // UTF-16 surrogate
  ["file:///srv/data/%F4%90%80%80", "URI_BAD_UTF8"], // above U+10FFFF
  ["file:///srv/data/%C3", "URI_BAD_UTF8"], // truncated sequence
  ["file:///srv/data/a\ud800", "INVALID_TEXT"], // lone surrogate in the JSON string
];

function run(table: Case[]): void {
  const c = verifiedCore();
  for (const [uri, code, tpl] of table) {
    const d = c.decideResourceUri(uri);
    assert.equal(d.code, code, `${JSON.stringify(uri)} -> ${JSON.stringify(d)}`);
    assert.equal(d.allow, code === "TEMPLATE_MATCH", uri);
    if (tpl !== undefined) assert.equal(d.ruleKey, TEMPLATES[tpl], uri);
  }
}

test("URIs expanded from locked templates match", () => run(MATCHES));
test("traversal out of a template's literal prefix never matches", () => run(TRAVERSALS));
test("scheme and authority must match the template's exactly", () => run(HOSTS_AND_SCHEMES));
test("query and fragment are literal parts of the template", () => run(QUERY_AND_FRAGMENT));
test("ambiguous encodings are refused before matching", () => run(ENCODING));

test("normalizeUri gives the canonical form the core matched, or why it refused", () => {
  const c = PolicyCore.load();
  const cases: [string, string][] = [
    ["FILE:///srv/data/a/./b/../c", "file:///srv/data/a/c"],
    ["file:///srv/data/%7e%41%2f", "file:///srv/data/~A/"],
    ["file:///srv/data/a%20b", "file:///srv/data/a%20b"],
    ["file:///srv/data/a b", "file:///srv/data/a%20b"],
    ["file:///srv/data/été", "file:///srv/data/%C3%A9t%C3%A9"],
    ["file:///srv/data/a%3Fb", "file:///srv/data/a%3Fb"],
    ["file:///srv/data/100%25", "file:///srv/data/100%25"],
    ["Users://Alice/x?Q=%41#F", "users://Alice/x?Q=%41#F"],
    ["file:///a/..", "file:///"],
    ["note:a/b", "note:a/b"],
    ["urn:", "urn:"],
  ];
  for (const [input, canonical] of cases) {
    assert.deepEqual(c.normalizeUri(input), { ok: true, uri: canonical }, input);
  }
  assert.deepEqual(c.normalizeUri("file:///%252e"), { ok: false, code: "URI_DOUBLE_ENCODED" });
  assert.deepEqual(c.normalizeUri("file:///.."), { ok: false, code: "URI_ABOVE_ROOT" });
  assert.deepEqual(c.normalizeUri("nope"), { ok: false, code: "URI_MALFORMED" });
  assert.deepEqual(c.normalizeUri("x:\ud800"), { ok: false, code: "INVALID_TEXT" });
});
