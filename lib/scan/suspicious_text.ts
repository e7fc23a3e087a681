/**
 * Flags text that can hide instructions from a human reviewer while the model still reads them:
 * invisible, bidi-control and tag characters, ANSI escape sequences, names mixing scripts (homoglyphs),
 * unusually long descriptions and instruction-like phrases ("tool poisoning").
 *
 * @module
 */

/** One finding in one field. */
export interface TextFinding {
  /** The field, e.g. "name" or "description". */
  field: string;
  kind:
    | "invisible"
    | "bidi"
    | "tag"
    | "ansi"
    | "control"
    | "mixed-script"
    | "non-ascii-name"
    | "long"
    | "instruction";
  /** Human-readable detail, with code points in U+XXXX form so the report itself hides nothing. */
  detail: string;
}

/** Descriptions longer than this many characters are flagged. */
export const LONG_DESCRIPTION_CHARS = 2048;

const INVISIBLE = /[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff\ufe00-\ufe0f\u{E0100}-\u{E01EF}]/gu;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const TAG = /[\u{E0000}-\u{E007F}]/gu;
// deno-lint-ignore no-control-regex -- finding control characters is the point
const ANSI = /\u001b/gu;
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f-\u009f]/gu;
const INSTRUCTION = [
  /<\s*(important|system|instructions?)\s*>/i,
  /ignore (all )?(previous|prior|above) instructions/i,
  /do not (tell|inform|mention|reveal)[^.]{0,40}\buser\b/i,
  /before (using|calling) (this|any other) tool/i,
];
const SCRIPTS = ["Latin", "Cyrillic", "Greek", "Armenian", "Cherokee", "Coptic"] as const;
const SCRIPT_RE = Object.fromEntries(SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, "u")]));

function codePoints(matches: RegExpMatchArray[]): string {
  const uniq = [...new Set(matches.map((m) => m[0]))].slice(0, 5);
  return uniq.map((s) => "U+" + s.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")).join(", ");
}

/**
 * Checks one piece of text.
 *
 * @param field the field name to report ("name", "description", ...)
 * @param text the text; non-strings yield no findings
 * @param isName names also get the mixed-script and non-ASCII checks
 */
export function inspectText(field: string, text: unknown, isName = false): TextFinding[] {
  if (typeof text !== "string" || text === "") return [];
  const out: TextFinding[] = [];
  const check = (re: RegExp, kind: TextFinding["kind"], what: string) => {
    const m = [...text.matchAll(re)];
    if (m.length) out.push({ field, kind, detail: `${m.length} ${what} (${codePoints(m)})` });
  };
  check(INVISIBLE, "invisible", "invisible character(s)");
  check(BIDI, "bidi", "bidirectional control character(s)");
  check(TAG, "tag", "Unicode tag character(s) (can carry hidden ASCII)");
  check(ANSI, "ansi", "ANSI escape sequence(s)");
  check(CONTROL, "control", "control character(s)");
  if (isName) {
    const scripts = SCRIPTS.filter((s) => SCRIPT_RE[s].test(text));
    if (scripts.length > 1) {
      out.push({
        field,
        kind: "mixed-script",
        detail: `mixes ${scripts.join(" and ")} letters (possible homoglyph)`,
      });
    } else if (/[^\x20-\x7e]/.test(text)) {
      const m = [...text.matchAll(/[^\x20-\x7e]/gu)];
      out.push({
        field,
        kind: "non-ascii-name",
        detail: `contains non-ASCII character(s) (${codePoints(m)})`,
      });
    }
  } else {
    if (text.length > LONG_DESCRIPTION_CHARS) {
      out.push({ field, kind: "long", detail: `${text.length} characters (over ${LONG_DESCRIPTION_CHARS})` });
    }
    for (const re of INSTRUCTION) {
      const m = text.match(re);
      if (m) {
        out.push({ field, kind: "instruction", detail: `instruction-like text: ${JSON.stringify(m[0])}` });
        break;
      }
    }
  }
  return out;
}
