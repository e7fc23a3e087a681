import { test } from "node:test";
import assert from "node:assert/strict";
import { type SseEvent, SseParser } from "./sse_parser.ts";

function parse(chunks: string[], max?: number): { events: SseEvent[]; oversize: number[] } {
  const events: SseEvent[] = [];
  const oversize: number[] = [];
  const p = new SseParser({ onEvent: (e) => events.push(e), onOversize: (n) => oversize.push(n) }, max);
  for (const c of chunks) p.push(c);
  p.end();
  return { events, oversize };
}

test("SSE: event, data and id fields; type defaults to message; one leading space is dropped", () => {
  const { events } = parse([
    'event: message\nid: 7\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n',
    "data:no-space\n\n",
    "data:  two spaces\n\n",
  ]);
  assert.deepEqual(events, [
    { event: "message", data: '{"jsonrpc":"2.0","id":1,"result":{}}', id: "7" },
    { event: "message", data: "no-space", id: "7" }, // the last event id persists
    { event: "message", data: " two spaces", id: "7" },
  ]);
});

test("SSE: multi-line data is joined with LF; the endpoint event of the old transport", () => {
  const { events } = parse([
    "event: endpoint\ndata: /message?sessionId=abc\n\n",
    'data: {\ndata: "a": 1\ndata: }\n\n',
  ]);
  assert.deepEqual(events.map((e) => [e.event, e.data]), [
    ["endpoint", "/message?sessionId=abc"],
    ["message", '{\n"a": 1\n}'],
  ]);
});

test("SSE: CRLF, CR and LF line ends, also split across chunks; a BOM at the start is dropped", () => {
  const { events } = parse(["\uFEFFdata: a\r", "\ndata: b\r\r", "data: c\n", "\n", "data: d\r", "\r"]);
  assert.deepEqual(events.map((e) => e.data), ["a\nb", "c", "d"]);
});

test("SSE: one character at a time gives the same events", () => {
  const text = 'event: message\r\nid: x-1\r\ndata: {"a":"é€😀"}\r\n\r\n: comment\n\ndata: two\n\n';
  const whole = parse([text]).events;
  const bytes = parse([...text]).events;
  assert.equal(whole.length, 2);
  assert.deepEqual(bytes, whole);
});

test("SSE: comments, unknown fields, retry and a field without colon are ignored; an event without data is not dispatched", () => {
  const { events } = parse([": keep-alive\n\nretry: 1000\nfoo: bar\nevent: nothing\n\ndata\n\nid: 9\n\n"]);
  // `data` without a colon is a data field with an empty value: dispatched as "".
  assert.deepEqual(events, [{ event: "message", data: "", id: undefined }]);
});

test("SSE: an id with NUL is ignored; an id line alone updates the last event id", () => {
  const p = new SseParser({ onEvent: () => {} });
  p.push("id: good\n\nid: ba\0d\n\n");
  assert.equal(p.lastEventId, "good");
  p.push("id: next\n\n");
  assert.equal(p.lastEventId, "next");
});

test("SSE: an unterminated event at the end of the stream is discarded", () => {
  const { events } = parse(["data: complete\n\ndata: cut off\n"]);
  assert.deepEqual(events.map((e) => e.data), ["complete"]);
});

test("SSE: an event over the cap is dropped whole and reported once; the stream stays in sync", () => {
  const big = "x".repeat(100);
  // Over the cap across data lines, and over the cap inside one line split across chunks.
  const { events, oversize } = parse([
    `data: ${big}\ndata: ${big}\n\n`,
    "data: small\n\n",
    `data: ${big.slice(0, 60)}`,
    `${big}\n`,
    "data: more of the big one\n\n",
    "data: after\n\n",
  ], 150);
  assert.deepEqual(events.map((e) => e.data), ["small", "after"]);
  assert.equal(oversize.length, 2);
  assert.ok(oversize.every((n) => n > 150), JSON.stringify(oversize));
});

test("SSE: the cap counts UTF-8 bytes, not characters", () => {
  const { events, oversize } = parse([`data: ${"€".repeat(40)}\n\n`], 100); // 120 bytes
  assert.equal(events.length, 0);
  assert.equal(oversize.length, 1);
});
