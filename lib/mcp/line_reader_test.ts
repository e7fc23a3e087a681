import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LineReader } from "./line_reader.ts";

function collect(max = 1024) {
  const lines: string[] = [];
  const oversize: number[] = [];
  const r = new LineReader({ onLine: (l) => lines.push(l), onOversize: (n) => oversize.push(n) }, max);
  return { r, lines, oversize };
}

test("lines split across chunks are joined; CRLF is stripped; a final unterminated line is delivered at end", () => {
  const { r, lines } = collect();
  r.push('{"a":1}\n{"b"');
  r.push(':2}\r\n\n{"c":3}');
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', ""]);
  r.end();
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', "", '{"c":3}']);
});

test("the cap is in UTF-8 bytes: a line of few code units but many bytes is dropped whole, the stream stays in sync", () => {
  const { r, lines, oversize } = collect(10);
  r.push("0123456789\n"); // exactly the cap: accepted
  r.push("ééééé\n"); // 5 units, 10 bytes: accepted
  r.push("éééééé\nok\n"); // 6 units, 12 bytes: dropped
  r.push("0123456789A");
  r.push("BCDEF\nlast\n");
  assert.deepEqual(lines, ["0123456789", "ééééé", "ok", "last"]);
  assert.deepEqual(oversize, [12, 16]);
});

test("an oversize line still open at end of stream is reported, not delivered", () => {
  const { r, lines, oversize } = collect(4);
  r.push("abcdefgh");
  r.end();
  assert.deepEqual(lines, []);
  assert.equal(oversize.length, 1);
});

/**
 * The reference: split the whole text on LF, strip one trailing CR, drop the lines over the cap in UTF-8
 * bytes (a final empty piece after the last LF is no line).
 */
function reference(text: string, max: number): { lines: string[]; oversize: number } {
  const pieces = text.split("\n");
  if (pieces[pieces.length - 1] === "") pieces.pop();
  const lines: string[] = [];
  let oversize = 0;
  for (const p of pieces) {
    if (new TextEncoder().encode(p).length > max) oversize++;
    else lines.push(p.endsWith("\r") ? p.slice(0, -1) : p);
  }
  return { lines, oversize };
}

test("property: any chunking of any text gives the reference's lines, and drops the same oversize ones", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.string({ unit: "grapheme" }), fc.constantFrom("\n", "\r\n", "é\n", "😀")), {
        maxLength: 30,
      }),
      fc.array(fc.nat(40), { maxLength: 10 }),
      fc.integer({ min: 1, max: 64 }),
      (pieces, cuts, max) => {
        const text = pieces.join("");
        const fromText = collect(max);
        const sorted = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
        let at = 0;
        for (const c of [...sorted, text.length]) {
          // Never cut inside a surrogate pair: the stream decoder never does either.
          const cut = c > 0 && c < text.length && (text.charCodeAt(c - 1) & 0xfc00) === 0xd800 ? c + 1 : c;
          if (cut > at) fromText.r.push(text.slice(at, cut));
          at = Math.max(at, cut);
        }
        fromText.r.end();
        const want = reference(text, max);
        assert.deepEqual(fromText.lines, want.lines);
        assert.equal(fromText.oversize.length, want.oversize);
      },
    ),
    { numRuns: 400 },
  );
});
