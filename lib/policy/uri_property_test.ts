/**
 * Property tests (fast-check) for URI matching in the policy core, against an independent model of
 * what a server does with the URI: decode once, resolve like `path.posix.normalize`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { posix } from "node:path";
import fc from "fast-check";
import { PolicyCore } from "./core.ts";

const PREFIX = "/srv/data/";
const TEMPLATE = `file://${PREFIX}{path}`;
const RUNS = 2_000;

function verifiedCore(): PolicyCore {
  const c = PolicyCore.load();
  c.setAllowlist({ templates: [{ uriTemplate: TEMPLATE, fingerprint: "f" }] });
  c.verifyListItem("template", TEMPLATE, "f");
  return c;
}

/**
 * One path segment a value may contain: printable text without `/`, `%` or `\` (a literal `%`
 * followed by hex digits reads as double encoding and is refused by design), never `.` or `..`.
 */
const segment = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@ ?#[]\"<>{}|^`"),
      fc.constantFrom("é", "ß", "中", "😀", "\u00a0", "\u200b"),
    ),
    minLength: 1,
    maxLength: 8,
  })
  .filter((s) => s !== "." && s !== "..");

/** RFC 6570 §3.2.2 simple expansion: everything outside unreserved is percent-encoded (so is `/`). */
function simpleExpansion(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** RFC 6570 §3.2.3 reserved expansion: reserved characters such as `/` stay as they are. */
function reservedExpansion(value: string): string {
  return encodeURI(value).replace(/%5B/g, "[").replace(/%5D/g, "]").replace(/[?#]/g, encodeURIComponent);
}

test("any value free of dot segments, expanded into the template, matches it", () => {
  const c = verifiedCore();
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.boolean(), (segments, reserved) => {
      const value = segments.join("/");
      const uri = `file://${PREFIX}${reserved ? reservedExpansion(value) : simpleExpansion(value)}`;
      const d = c.decideResourceUri(uri);
      assert.equal(d.code, "TEMPLATE_MATCH", `${uri} -> ${d.code}`);
    }),
    { numRuns: RUNS },
  );
});

/** Pieces of hostile paths: dot segments in every encoding, slashes, backslashes, escapes. */
const hostilePiece = fc.constantFrom(
  "..",
  ".",
  "%2e%2e",
  "%2E%2E",
  ".%2e",
  "%2e.",
  "%2e",
  "/",
  "%2f",
  "%2F",
  "//",
  "\\",
  "%5c",
  "%25",
  "%252e",
  "%252f",
  "%00",
  "%",
  "srv",
  "data",
  "etc",
  "passwd",
  "x",
  "%C0%AE",
);

/** What a server would read: the path decoded once (null if it cannot be), resolved like path.join. */
function serverView(uri: string): string | null {
  const m = /^file:\/\/(\/[^?#]*)$/i.exec(uri);
  if (!m) return null;
  try {
    return posix.normalize(decodeURIComponent(m[1]));
  } catch {
    return null;
  }
}

test("a URI whose path leaves the template's literal prefix never matches", () => {
  const c = verifiedCore();
  let allowed = 0;
  fc.assert(
    fc.property(fc.array(hostilePiece, { maxLength: 10 }), fc.boolean(), (pieces, fromPrefix) => {
      const uri = `file://${fromPrefix ? PREFIX : "/"}${pieces.join("")}`;
      const d = c.decideResourceUri(uri);
      if (!d.allow) return;
      allowed++;
      const seen = serverView(uri);
      assert.ok(seen !== null, `allowed ${uri} that a server cannot decode`);
      assert.ok(
        seen.startsWith(PREFIX) && seen.length > PREFIX.length,
        `allowed ${uri}, server reads ${seen}`,
      );
      assert.ok(!seen.includes("\\") && !seen.includes("\u0000"), `allowed ${uri}`);
    }),
    { numRuns: RUNS * 5 },
  );
  // Not vacuous: plenty of generated paths stay inside and are allowed.
  assert.ok(allowed > RUNS / 10, `only ${allowed} allowed`);
});

/** URI-ish strings: a scheme, an optional authority, and hostile or ordinary path pieces. */
const uriLike = fc
  .tuple(
    fc.constantFrom("file:", "FILE:", "File:", "db:", "note:", "x-y.z+w:", "1bad:", ""),
    fc.constantFrom("", "//", "//host", "//Host:8080", "//u@h", "//%41"),
    fc.array(fc.oneof(hostilePiece, segment, fc.constantFrom("?q=1", "#f", "?", "#", "%41", "%7e")), {
      maxLength: 8,
    }),
  )
  .map(([scheme, auth, pieces]) => `${scheme}${auth}${pieces.join("")}`);

test("normalization is idempotent and preserves the decision", () => {
  const c = verifiedCore();
  let normalized = 0;
  fc.assert(
    fc.property(fc.oneof(uriLike, fc.string({ maxLength: 40 })), (uri) => {
      const once = c.normalizeUri(uri);
      if (!once.ok) return;
      normalized++;
      const twice = c.normalizeUri(once.uri);
      assert.deepEqual(twice, once, `normalize(${JSON.stringify(uri)}) is not a fixed point`);
      assert.equal(c.decideResourceUri(once.uri).code, c.decideResourceUri(uri).code, uri);
    }),
    { numRuns: RUNS * 5 },
  );
  assert.ok(normalized > RUNS / 2, `only ${normalized} URIs normalized`);
});

test("URIs the core refuses are refused by the decision too, never matched", () => {
  const c = verifiedCore();
  fc.assert(
    fc.property(uriLike, (uri) => {
      const n = c.normalizeUri(uri);
      const d = c.decideResourceUri(uri);
      if (!n.ok) assert.equal(d.code, n.code, uri);
      if (d.allow) assert.ok(n.ok && n.uri.toLowerCase().startsWith(`file://${PREFIX}`), uri);
    }),
    { numRuns: RUNS * 5 },
  );
});
