import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { foldKey, keyCollision, requestCollision } from "./collisions.ts";

const call = (params: string) => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${params}}`;
const check = (text: string) => requestCollision(text, JSON.parse(text));

test("the published collision classes are refused: case, Unicode normalization, trailing NUL, repeats", () => {
  const cases = [
    call('{"name":"read_file","Name":"exec"}'),
    call('{"name":"read_file","NAME":"exec"}'),
    call('{"name":"read_file","ｎａｍｅ":"exec"}'),
    call('{"name":"read_file","name\\u0000":"exec"}'),
    call('{"name":"read_file","arguments":{"path":"/srv/a","Path":"/etc/passwd"}}'),
    call('{"name":"read_file","arguments":{"path":"/srv/a","path\\u0000":"/etc/passwd"}}'),
    call('{"name":"read_file","arguments":{"\\u212Aey":1,"key":2}}'), // Kelvin sign K
    call('{"name":"read_file","name":"exec"}'),
    call('{"name":"read_file","na\\u006de":"exec"}'),
    call('{"name":"read_file","arguments":{"path":"/srv/a","path":"/etc/passwd"}}'),
    call('{"name":"read_file","arguments":{"path":"/srv/a","pa\\/th":"x","pa/th":"y"}}'),
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"tools/list","params":{"name":"x"}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"params":{"name":"y"}}',
  ];
  for (const text of cases) assert.ok(check(text), `not refused: ${text}`);
  // A repeated id or method is refused earlier, by the id scan (top_level_test.ts), with the same -32600.
  assert.match(check(call('{"name":"a","Name":"b"}'))!, /"name" and "Name" of params collide/);
});

test("ordinary requests pass, including values that repeat a key's text and escapes in values", () => {
  const ok = [
    call('{"name":"read_file","arguments":{"path":"/srv/data/a.txt"}}'),
    call('{"name":"name","arguments":{"name":"name","text":"line\\nline \\u00e9"}}'),
    call('{"name":"echo","arguments":{"nested":{"a":1,"A":2},"list":[{"k":1},{"k":2}]}}'),
    '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}',
  ];
  for (const text of ok) assert.equal(check(text), undefined, text);
});

test("property: any two keys that fold alike are refused; distinct folds pass", () => {
  const variant = (k: string) =>
    fc.constantFrom(
      k.toUpperCase(),
      k + "\u0000",
      k.normalize("NFKD"),
      toFullWidth(k),
      k[0].toUpperCase() + k.slice(1),
    );
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z][a-z_]{0,10}$/).chain((k) => fc.tuple(fc.constant(k), variant(k))),
      fc.boolean(),
      ([k, v], inArgs) => {
        fc.pre(k !== v);
        const obj = JSON.stringify({ [k]: 1, [v]: 2 });
        const text = inArgs ? call(`{"name":"t","arguments":${obj}}`) : call(obj.replace("{", '{"name2":0,'));
        assert.ok(check(text), text);
      },
    ),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9_]{1,8}$/), { maxLength: 8 }), (keys) => {
      assert.equal(keyCollision(keys, "params"), undefined);
    }),
  );
});

test("property: a repeated member, plain or escaped, anywhere in params or arguments is refused", () => {
  const escape = (k: string, mask: number) =>
    [...k].map((c, i) => (mask >> i) & 1 ? "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0") : c).join(
      "",
    );
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z]{1,8}$/),
      fc.nat(255),
      fc.jsonValue(),
      fc.jsonValue(),
      fc.boolean(),
      (k, mask, a, b, inArgs) => {
        const obj = `{"${k}":${JSON.stringify(a)},"${escape(k, mask)}":${JSON.stringify(b)}}`;
        const text = inArgs ? call(`{"name":"t","arguments":${obj}}`) : call(obj);
        assert.ok(check(text), text);
      },
    ),
    { numRuns: 500 },
  );
});

test("foldKey: NFKC, lowercase, trailing NULs gone; plain ASCII is unchanged", () => {
  assert.equal(foldKey("path"), "path");
  assert.equal(foldKey("PaTh\u0000\u0000"), "path");
  assert.equal(foldKey("ｐａｔｈ"), "path");
  assert.equal(foldKey("\u212Aey"), "key");
});

function toFullWidth(s: string): string {
  return [...s].map((c) => c >= "!" && c <= "~" ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c).join("");
}

test("a 2026-07-28 envelope spelling a params key (clientInfo.name) is expected; a repeat beside it is still refused", () => {
  const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
    `"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"h","version":"1"}}`;
  const ok =
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"name":"x"},${meta}}}`;
  assert.equal(requestCollision(ok, JSON.parse(ok)), undefined);
  const repeated =
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"exec",${meta}}}`;
  assert.match(requestCollision(repeated, JSON.parse(repeated))!, /params repeats a member/);
  // The envelope itself repeating a key is not a routing member; the name of the tool is.
  fc.assert(
    fc.property(fc.constantFrom("name", "arguments", "_meta"), fc.jsonValue(), (k, v) => {
      const text =
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{},${meta},` +
        `"${k}":${JSON.stringify(v)}}}`;
      assert.ok(requestCollision(text, JSON.parse(text)), text);
    }),
    { numRuns: 200 },
  );
});
