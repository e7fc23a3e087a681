import { test } from "node:test";
import assert from "node:assert/strict";
import { LineReader } from "./line_reader.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function collect(max = 1024) {
  const lines: string[] = [];
  const oversize: number[] = [];
  const r = new LineReader({
    onLine: (l) => lines.push(new TextDecoder().decode(l)),
    onOversize: (n) => oversize.push(n),
  }, max);
  return { r, lines, oversize };
}

test("lines split across chunks are joined; CRLF is stripped; a final unterminated line is delivered at end", () => {
  const { r, lines } = collect();
  r.push(enc('{"a":1}\n{"b"'));
  r.push(enc(':2}\r\n\n{"c":3}'));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', ""]);
  r.end();
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', "", '{"c":3}']);
});

test("a line over the cap is dropped whole and reported, and the stream stays in sync", () => {
  const { r, lines, oversize } = collect(10);
  r.push(enc("0123456789\n")); // exactly the cap: accepted
  r.push(enc("0123456789A"));
  r.push(enc("BCDEF\nok\n"));
  assert.deepEqual(lines, ["0123456789", "ok"]);
  assert.deepEqual(oversize, [16]);
});

test("an oversize line inside a single chunk is dropped", () => {
  const { r, lines, oversize } = collect(4);
  r.push(enc("abcdefgh\nxy\n"));
  assert.deepEqual(lines, ["xy"]);
  assert.deepEqual(oversize, [8]);
});

test("an oversize line still open at end of stream is reported, not delivered", () => {
  const { r, lines, oversize } = collect(4);
  r.push(enc("abcdefgh"));
  r.end();
  assert.deepEqual(lines, []);
  assert.equal(oversize.length, 1);
});

test("chunk memory reused by the caller after push does not corrupt a buffered partial line", () => {
  const { r, lines } = collect();
  const buf = enc('{"x":"partial');
  r.push(buf);
  buf.fill(0x41);
  r.push(enc('"}\n'));
  assert.deepEqual(lines, ['{"x":"partial"}']);
});
