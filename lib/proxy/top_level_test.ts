/**
 * Property-based tests of the top-level JSON scan the proxy uses to read and replace ids exactly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { quickIdSpan, scanMessage, scanTopLevel, splice } from "./top_level.ts";

const ws = fc.stringMatching(/^[ \t\r\n]{0,3}$/);

/** A key written as JSON string text, each code unit either as itself or as a \uXXXX escape. */
function keyText(key: string, escapeMask: boolean[]): string {
  let out = '"';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const must = c === 0x22 || c === 0x5c || c < 0x20;
    out += must || escapeMask[i % Math.max(1, escapeMask.length)]
      ? "\\u" + c.toString(16).padStart(4, "0")
      : key[i];
  }
  return out + '"';
}

/** An object text with random whitespace, random key escapes and randomly indented values. */
const objectText = fc
  .uniqueArray(fc.tuple(fc.string({ unit: "binary", maxLength: 8 }), fc.jsonValue()), {
    selector: ([k]) => k,
    maxLength: 8,
  })
  .chain((members) =>
    fc.tuple(
      fc.constant(members),
      fc.array(
        fc.tuple(
          ws,
          ws,
          ws,
          ws,
          fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 0, max: 2 }),
        ),
        {
          minLength: members.length,
          maxLength: members.length,
        },
      ),
      ws,
      ws,
    )
  )
  .map(([members, layout, lead, trail]) => {
    const parts = members.map(([k, v], i) => {
      const [w1, w2, w3, w4, mask, indent] = layout[i];
      return `${w1}${keyText(k, mask)}${w2}:${w3}${JSON.stringify(v, null, indent)}${w4}`;
    });
    return {
      text: `${lead}{${parts.join(",")}${parts.length ? "" : " "}}${trail}`,
      keys: members.map(([k]) => k),
    };
  });

test("for random JSON objects, each key's span parses to the value JSON.parse gives", () => {
  fc.assert(
    fc.property(objectText, ({ text, keys }) => {
      const parsed = JSON.parse(text);
      const spans = scanTopLevel(text);
      assert.ok(spans, `rejected a valid object: ${text}`);
      assert.deepEqual([...spans.keys()].sort(), [...keys].sort());
      for (const [key, [start, end]] of spans) {
        const piece = text.slice(start, end);
        assert.equal(piece, piece.trim(), "a span includes whitespace");
        assert.deepEqual(
          JSON.parse(piece),
          Object.getOwnPropertyDescriptor(parsed, key)?.value,
          `key ${JSON.stringify(key)}`,
        );
      }
    }),
    { numRuns: 500 },
  );
});

test("splicing a span replaces exactly that member's value", () => {
  fc.assert(
    fc.property(
      objectText.filter(({ keys }) => keys.length > 0),
      fc.nat(),
      fc.jsonValue(),
      ({ text, keys }, pick, value) => {
        const key = keys[pick % keys.length];
        const spans = scanTopLevel(text)!;
        const out = splice(text, spans.get(key)!, JSON.stringify(value));
        const before = JSON.parse(text);
        const after = JSON.parse(out);
        for (const k of keys) {
          const expected = k === key
            ? JSON.parse(JSON.stringify(value))
            : Object.getOwnPropertyDescriptor(before, k)?.value;
          assert.deepEqual(Object.getOwnPropertyDescriptor(after, k)?.value, expected);
        }
      },
    ),
  );
});

test("large integer ids keep every digit: the span is the literal as written", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), ws, (n, w) => {
      const literal = n.toString();
      const text = `{"jsonrpc":"2.0",${w}"id"${w}:${w}${literal}${w},"method":"ping"}`;
      const [s, e] = scanTopLevel(text)!.get("id")!;
      assert.equal(text.slice(s, e), literal);
    }),
  );
});

test("texts with a duplicate top-level key are rejected, however the key is escaped", () => {
  fc.assert(
    fc.property(
      objectText.filter(({ keys }) => keys.length > 0),
      fc.nat(),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
      fc.jsonValue(),
      fc.boolean(),
      ({ text, keys }, pick, mask, value, atEnd) => {
        const key = keys[pick % keys.length];
        const extra = `${keyText(key, mask)}:${JSON.stringify(value)}`;
        const body = text.trim();
        const dup = atEnd ? `${body.slice(0, -1)},${extra}}` : `{${extra},${body.slice(1)}`;
        assert.equal(scanTopLevel(dup), undefined, dup);
      },
    ),
  );
  assert.equal(scanTopLevel('{"id":1,"\\u0069d":2}'), undefined);
  assert.ok(scanTopLevel('{"id":1,"x":{"id":2,"id":3}}'), "only top-level keys count");
});

test("anything but one complete object is rejected: other JSON values, truncations, trailing text", () => {
  fc.assert(
    fc.property(
      fc.jsonValue().filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
      (v) => {
        assert.equal(scanTopLevel(JSON.stringify(v)), undefined);
      },
    ),
  );
  fc.assert(
    fc.property(objectText, fc.nat(), ({ text }, cut) => {
      const body = text.trimEnd();
      const prefix = body.slice(0, cut % body.length);
      assert.equal(scanTopLevel(prefix), undefined, prefix);
    }),
  );
  fc.assert(
    fc.property(objectText, fc.constantFrom("x", "{}", ",", "]", "}", '"', "1"), ({ text }, junk) => {
      assert.equal(scanTopLevel(text + junk), undefined);
    }),
  );
});

test("scanMessage agrees with scanTopLevel on the routing members of random objects", () => {
  const routed = fc.tuple(objectText, fc.subarray(["id", "method", "result", "error"]), fc.jsonValue()).map((
    [{ text }, extra, v],
  ) => {
    // Add routing members with escaped or plain keys, without repeating keys the object already has.
    const parsed = JSON.parse(text);
    const add = extra.filter((k) => !Object.hasOwn(parsed, k)).map((k, i) =>
      `${i % 2 ? `"${k}"` : keyText(k, [true])}:${JSON.stringify(v)}`
    );
    const inner = text.trim().slice(1, -1).trim();
    return `{${[inner, ...add].filter((p) => p !== "").join(",")}}`;
  });
  fc.assert(
    fc.property(routed, (text) => {
      const full = scanTopLevel(text);
      const shape = scanMessage(text);
      assert.ok(full && shape, text);
      assert.deepEqual(shape.id, full.get("id"));
      assert.equal(shape.hasMethod, full.has("method"));
      assert.equal(shape.hasResult, full.has("result"));
      assert.equal(shape.hasError, full.has("error"));
    }),
    { numRuns: 500 },
  );
  assert.equal(scanMessage('{"id":1,"\\u0069d":2}'), undefined, "an escaped repeat of id is ambiguous");
  assert.equal(scanMessage('{"result":1,"result":2,"id":3}'), undefined);
});

test("quickIdSpan: on any message JSON.parse accepts, it finds the id scanMessage finds, or defers to it", () => {
  const id = fc.oneof(
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constant(null),
  );
  const message = fc.tuple(objectText, id, fc.nat(3), fc.jsonValue(), fc.boolean()).map(
    ([{ text }, idValue, layout, dupValue, dup]) => {
      const inner = text.trim().slice(1, -1).trim();
      const parsed = JSON.parse(text);
      const rest = Object.hasOwn(parsed, "id") ? "" : inner;
      const idMember = `"id":${JSON.stringify(idValue)}`;
      const parts = layout === 0
        ? [idMember, rest]
        : layout === 1
        ? ['"jsonrpc":"2.0"', idMember, rest]
        : layout === 2
        ? [rest, idMember]
        : [rest, idMember, '"result":{}'];
      // Sometimes a repeated id, plain or escaped, before or after: where parsers may disagree.
      if (dup) parts.unshift(`${layout % 2 ? '"id"' : '"\\u0069d"'}:${JSON.stringify(dupValue)}`);
      return `{${parts.filter((p) => p !== "").join(",")}}`;
    },
  );
  fc.assert(
    fc.property(message, (text) => {
      const msg = JSON.parse(text);
      const quick = quickIdSpan(text, msg.id);
      if (quick === undefined) return;
      const scanned = scanMessage(text);
      if (scanned) return assert.deepEqual(quick, scanned.id, text);
      // The scan refuses repeated ids; the quick path may only accept a repeat every parser reads alike.
      const idText = text.slice(quick[0], quick[1]);
      const all = [...text.matchAll(/"id":("(?:[^"\\]|\\.)*"|[-0-9.eE+]+|null|true|false|[[{])/g)].map((m) =>
        m[1]
      );
      assert.ok(
        all.length >= 2 && all.every((v) => v === idText),
        `quick path accepted an ambiguous id: ${text}`,
      );
    }),
    { numRuns: 2000 },
  );
});

test("quickIdSpan takes the SDK layouts and refuses lookalikes", () => {
  const ok = (text: string) => {
    const span = quickIdSpan(text, JSON.parse(text).id);
    return span && text.slice(span[0], span[1]);
  };
  assert.equal(ok('{"jsonrpc":"2.0","id":"mcpt-ab","result":{"x":1}}'), '"mcpt-ab"');
  assert.equal(
    ok('{"result":{"content":[]},"jsonrpc":"2.0","id":12345678901234567890}'),
    "12345678901234567890",
  );
  assert.equal(ok('{"id":7,"method":"tools/call","params":{}}'), "7");
  // Another literal id key before a last-member id defers to the scan (it could be a top-level repeat).
  assert.equal(ok('{"result":{"id":"a"},"jsonrpc":"2.0","id":"a"}'), undefined);
  assert.equal(ok('{"\\u0069d":"a","result":{"id":"a"}}'), undefined);
  assert.equal(ok('{"jsonrpc":"2.0","id":"a\\"b","result":1}'), undefined);
  assert.equal(ok('{"jsonrpc":"2.0","id":1,"result":1,"result":2}'), undefined);
  assert.equal(ok('{"jsonrpc":"2.0","id":1,"result":1} '), undefined);
  // A first-wins parser would read 5 here: the last-member path must not take it.
  assert.equal(ok('{"id":5,"result":{"x":1},"jsonrpc":"2.0","id":"mcpt-a"}'), undefined);
});
