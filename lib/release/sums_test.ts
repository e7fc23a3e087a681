import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatSums, parseSums, sha256File, sha256Hex } from "./sums.ts";

const H = (c: string) => c.repeat(64);

test("SHA256SUMS we write is what sha256sum --check reads (GNU coreutils, the tool users run)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-sums-"));
  try {
    writeFileSync(join(dir, "b.tar.gz"), "bee");
    writeFileSync(join(dir, "a.zip"), "ay");
    const entries = [];
    for (const name of ["b.tar.gz", "a.zip"]) {
      entries.push({ name, sha256: await sha256File(join(dir, name)) });
    }
    const text = formatSums(entries);
    assert.equal(text.split("\n")[0].endsWith("  a.zip"), true, "sorted by name");
    writeFileSync(join(dir, "SHA256SUMS"), text);
    const ok = execFileSync("sha256sum", ["--check", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
    assert.match(ok, /a\.zip: OK\nb\.tar\.gz: OK/);
    assert.deepEqual(parseSums(text), [...entries].sort((x, y) => x.name.localeCompare(y.name)));
    assert.equal(entries[0].sha256, sha256Hex(new TextEncoder().encode("bee")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("parseSums reads sha256sum's text and binary markers and uppercase hex", () => {
  assert.deepEqual(parseSums(`${H("A")}  x\n${H("b")} *y\n`), [
    { name: "x", sha256: H("a") },
    { name: "y", sha256: H("b") },
  ]);
});

test("parseSums refuses anything that is not a plain checksum list", () => {
  const bad: [string, RegExp][] = [
    ["", /lists no files/],
    [`${H("a")}  x\n\n`, /line 2/],
    [`${H("a")} x\n`, /line 1 is not/], // one space and no marker
    [`${"a".repeat(63)}  x\n`, /line 1 is not/],
    [`${H("g")}  x\n`, /line 1 is not/],
    [`${H("a")}  dir/x\n`, /not a plain file name/],
    [`${H("a")}  ..\n`, /not a plain file name/],
    [`\\${H("a")}  x\\ny\n`, /line 1 is not/], // GNU escaped name
    [`${H("a")}  x\n${H("b")}  x\n`, /second time/],
    [`${H("a")}  x\r\n`, /line 1 is not/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseSums(text), re, JSON.stringify(text));
});
