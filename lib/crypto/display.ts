/**
 * Making untrusted strings safe to show on a terminal or in a text report. Names in a lockfile, entry
 * names in a bundle and identities in a certificate come from whoever made them; control characters
 * (ANSI escapes, carriage returns, newlines) or Unicode bidi overrides in them could rewrite what an
 * auditor sees. They are shown as `\u{...}` escapes instead.
 *
 * @module
 */

// C0 and C1 controls, DEL, bidi marks/embeddings/overrides/isolates, line and paragraph separators.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control or bidi character replaced by a visible `\u{hex}` escape. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}
