/**
 * urlHosts: every http(s) URL in any string of a value, hosts as a WHATWG parser (fetch) sees them, so
 * a call rule's host allowlist is not fooled by spellings the server's URL parser accepts; bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { COST_PER_URL, URL_HOSTS_LIMITS, urlHosts } from "./url_hosts.ts";

test("finds the hosts of URLs in strings at any depth, keys included, in order and without repeats", () => {
  assert.deepEqual(urlHosts("https://api.example.com/v1?q=1"), ["api.example.com"]);
  const hosts = urlHosts({
    url: "https://a.example/x",
    nested: [{ deep: ["no url", "http://127.0.0.1:8080/"] }, "https://a.example/again"],
  });
  assert.deepEqual(hosts.sort(), ["127.0.0.1", "a.example"]);
  assert.deepEqual(urlHosts(new Map([["https://key.example/", 1]])), ["key.example"]);
  assert.deepEqual(urlHosts({ "http://obj-key.example": true }), ["obj-key.example"]);
  for (const none of ["no urls here", "use https: everywhere", "ftp://ftp.example/", 42, null, true, []]) {
    assert.deepEqual(urlHosts(none), [], JSON.stringify(none));
  }
});

test("URLs inside prose, Markdown and other URLs all count", () => {
  assert.deepEqual(urlHosts("see https://A.Example.com/x. and (http://b.example.org)"), [
    "a.example.com",
    "b.example.org",
  ]);
  assert.deepEqual(urlHosts("[docs](https://docs.example.com/page)"), ["docs.example.com"]);
  assert.deepEqual(urlHosts("<https://angle.example/>, 'https://quoted.example'"), [
    "angle.example",
    "quoted.example",
  ]);
  // An open redirect carries a second host: both are listed.
  assert.deepEqual(urlHosts("https://good.example/?next=https://evil.example/"), [
    "good.example",
    "evil.example",
  ]);
  assert.deepEqual(urlHosts("xhttps://embedded.example"), ["embedded.example"]);
});

test("spellings WHATWG (and so fetch) accepts give the host fetch would connect to", () => {
  const cases: [string, string][] = [
    [" ht\ntps://split.example ", "split.example"], // tabs and newlines are removed anywhere
    ["HTTPS:no-slashes.example/p", "no-slashes.example"],
    ["https:\\\\backslash.example\\p", "backslash.example"],
    ["http://0x7f.1/", "127.0.0.1"],
    ["http://2130706433/", "127.0.0.1"],
    ["https://bücher.example/", "xn--bcher-kva.example"],
    ["https://Trailing.Example./", "trailing.example"],
    ["https://user:pw@real.example/", "real.example"],
    ["https://[::1]:8443/", "[::1]"],
    ["https://%65vil.example/", "evil.example"],
  ];
  for (const [text, host] of cases) assert.deepEqual(urlHosts(text), [host], JSON.stringify(text));
});

test('a candidate that does not parse yields "", which no allowlist holds', () => {
  assert.deepEqual(urlHosts("https://"), [""]);
  assert.deepEqual(urlHosts("https://[::1/"), [""]);
  assert.deepEqual(urlHosts("fine https://ok.example then https://%zz"), ["ok.example", ""]);
});

test("reads CEL lists and maps as the rule engine passes them", async () => {
  const { celList, celMap } = await import("@bufbuild/cel");
  const v = celMap(
    new Map<string, unknown>([[
      "a",
      celList(["https://l.example", new Map([["b", "http://m.example"]])]),
    ]]) as never,
  );
  assert.deepEqual(urlHosts(v).sort(), ["l.example", "m.example"]);
});

test("bounded: charges as it goes, and refuses more than the limits", () => {
  let units = 0;
  urlHosts(["https://a.example", "x".repeat(6400)], (n) => units += n);
  assert.ok(units >= 100 + COST_PER_URL, `charged ${units}`);
  assert.throws(
    () => urlHosts(Array.from({ length: URL_HOSTS_LIMITS.maxUrls + 1 }, (_, i) => `https://h${i}.example`)),
    /more than 1000 URLs/,
  );
  assert.throws(() => urlHosts(new Array(URL_HOSTS_LIMITS.maxNodes).fill(0)), /more than 100000 values/);
  // The meter may stop the walk (the rule's cost limit).
  assert.throws(() =>
    urlHosts(["https://a.example"], () => {
      throw new Error("cost limit");
    }), /cost limit/);
  // A long string without whitespace: each candidate is cut at 8192 characters, the host still found.
  assert.deepEqual(urlHosts(("https://a.example/" + "y".repeat(20_000)).repeat(50)), ["a.example"]);
});
