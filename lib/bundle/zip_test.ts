import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync, unzipSync } from "fflate";
import { crc32 } from "./crc32.ts";
import {
  BUNDLE_ZIP_LIMITS,
  extractEntry,
  NotAZipError,
  readZipDirectory,
  UnsafeZipError,
  type ZipLimits,
} from "./zip_read.ts";
import {
  DOS_DATE_1980,
  DOS_TIME_1980,
  REGULAR_FILE_0644,
  writeDeterministicZip,
  zipEpochLocal,
} from "./zip_write.ts";

const enc = new TextEncoder();

interface RawEntry {
  name: string;
  data: Uint8Array;
  method?: 0 | 8;
  /** Method number written in the headers, when it should differ from how the data is encoded. */
  methodField?: number;
  madeBy?: number;
  attrs?: number;
  flags?: number;
  /** Overrides of the declared sizes/CRC (central and local). */
  size?: number;
  compressedSize?: number;
  crc?: number;
  extra?: Uint8Array;
}

/**
 * A hand-built ZIP for attack cases our writer refuses to make: arbitrary names, attributes, methods and
 * declared sizes. Layout per APPNOTE 4.3.7/4.3.12/4.3.16, no data descriptors.
 */
function rawZip(entries: RawEntry[], opts: { comment?: Uint8Array; trailing?: Uint8Array } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const method = e.method ?? 8;
    const body = method === 8 ? deflateSync(e.data) : e.data;
    const extra = e.extra ?? new Uint8Array(0);
    const crc = e.crc ?? crc32(e.data);
    const csize = e.compressedSize ?? body.length;
    const size = e.size ?? e.data.length;
    const flags = e.flags ?? 0x0800;
    const local = new Uint8Array(30 + name.length + extra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, e.methodField ?? method, true);
    lv.setUint16(12, DOS_DATE_1980, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, csize, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extra.length, true);
    local.set(name, 30);
    local.set(extra, 30 + name.length);
    const cd = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, ((e.madeBy ?? 3) << 8) | 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, e.methodField ?? method, true);
    cv.setUint16(14, DOS_DATE_1980, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, csize, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(38, e.attrs ?? REGULAR_FILE_0644, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    cd.set(extra, 46 + name.length);
    parts.push(local, body);
    central.push(cd);
    offset += local.length + body.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const comment = opts.comment ?? new Uint8Array(0);
  const eocd = new Uint8Array(22 + comment.length);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  ev.setUint16(20, comment.length, true);
  eocd.set(comment, 22);
  const all = [...parts, ...central, eocd, opts.trailing ?? new Uint8Array(0)];
  const out = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of all) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

function readAll(zip: Uint8Array, limits?: ZipLimits): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readZipDirectory(zip, limits)) out[e.name] = new TextDecoder().decode(extractEntry(zip, e));
  return out;
}

const file = (name: string, text = "x") => ({ name, data: enc.encode(text) });

test("crc32 matches the standard check value", () => {
  assert.equal(crc32(enc.encode("123456789")), 0xcbf43926);
});

test("the writer keeps entry order (even integer-like names), and standard unzip reads it back", () => {
  const entries = [
    file("manifest.json", "{}"),
    file("10", "ten"),
    file("2", "two"),
    file("evidence/a.log", "log"),
  ];
  const zip = writeDeterministicZip(entries);
  assert.deepEqual(readZipDirectory(zip).map((e) => e.name), ["manifest.json", "10", "2", "evidence/a.log"]);
  assert.deepEqual(readAll(zip), { "manifest.json": "{}", "10": "ten", "2": "two", "evidence/a.log": "log" });
  const viaFflate = unzipSync(zip);
  assert.equal(new TextDecoder().decode(viaFflate["evidence/a.log"]), "log");
});

test("every entry gets DOS time 1980-01-01 00:00, Unix made-by and mode 0644; output is reproducible", () => {
  const entries = [file("a", "1".repeat(5000)), file("b", "")];
  const zip = writeDeterministicZip(entries);
  for (const e of readZipDirectory(zip)) {
    assert.equal(e.dosTime, DOS_TIME_1980);
    assert.equal(e.dosDate, DOS_DATE_1980);
    assert.equal(e.madeBy, 3);
    assert.equal(e.externalAttrs >>> 16, 0o100644);
    assert.equal(e.method, 8);
  }
  assert.deepEqual(writeDeterministicZip(entries), zip);
  const d = zipEpochLocal();
  assert.deepEqual([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()], [
    1980,
    0,
    1,
    0,
    0,
  ]);
});

test("the writer refuses unsafe and duplicate names", () => {
  for (const name of ["/abs", "../up", "a/../b", "a\\b", "C:x", "dir/", "a//b", "", "./a", "a\u0000b"]) {
    assert.throws(() => writeDeterministicZip([file(name)]), /cannot add/, JSON.stringify(name));
  }
  assert.throws(() => writeDeterministicZip([file("a"), file("a")]), /twice/);
});

test("a hand-built well-formed archive is accepted (the test builder itself is sound)", () => {
  assert.deepEqual(readAll(rawZip([file("a.txt", "hello"), { ...file("b.txt", "stored"), method: 0 }])), {
    "a.txt": "hello",
    "b.txt": "stored",
  });
});

test("unsafe archives are refused before anything is extracted", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["absolute path", rawZip([file("/etc/passwd")]), /unsafe name: an absolute path/],
    ["dot-dot", rawZip([file("evidence/../../x")]), /unsafe name: a "\.\." path segment/],
    ["backslash", rawZip([file("..\\x")]), /unsafe name: a backslash/],
    ["drive letter", rawZip([file("C:/x")]), /unsafe name: a drive letter/],
    ["directory entry", rawZip([file("dir/", "")]), /unsafe name: a directory entry/],
    ["duplicate", rawZip([file("a"), file("a")]), /appears twice/],
    ["case-insensitive duplicate", rawZip([file("README.txt"), file("readme.TXT")]), /appears twice/],
    ["symlink", rawZip([{ ...file("link", "/etc/passwd"), attrs: 0o120777 * 0x10000 }]), /symbolic link/],
    ["DOS directory attribute", rawZip([{ ...file("d"), madeBy: 0, attrs: 0x10 }]), /is a directory/],
    ["encrypted", rawZip([{ ...file("e"), flags: 0x0801 }]), /encrypted/],
    [
      "unsupported method (bzip2)",
      rawZip([{ ...file("m"), methodField: 12 }]),
      /unsupported compression method 12/,
    ],
    ["extra field", rawZip([{ ...file("x"), extra: Uint8Array.of(0x55, 0x54, 1, 0, 0) }]), /extra fields/],
    ["archive comment", rawZip([file("a")], { comment: enc.encode("hi") }), /comment/],
    ["trailing bytes", rawZip([file("a")], { trailing: enc.encode("junk") }), /after its end record/],
  ];
  for (const [what, zip, re] of cases) {
    assert.throws(
      () => readZipDirectory(zip),
      (err: unknown) => err instanceof UnsafeZipError && re.test(err.message),
      what,
    );
  }
});

test("not a ZIP at all is told apart from an unsafe ZIP", () => {
  for (const bytes of [new Uint8Array(0), enc.encode("just text, not an archive")]) {
    assert.throws(() => readZipDirectory(bytes), NotAZipError);
  }
});

test("overlapping or gapped entries (hidden or shared bytes) are refused", () => {
  const zip = rawZip([file("a", "aaaa"), file("b", "bbbb")]);
  // Point entry b's local header offset back at entry a: two names for the same bytes.
  const cdStart = new DataView(zip.buffer).getUint32(zip.length - 6, true);
  const secondCd = cdStart + 46 + 1;
  const forged = zip.slice();
  new DataView(forged.buffer).setUint32(secondCd + 42, 0, true);
  assert.throws(() => readZipDirectory(forged), /does not start right after the previous entry/);
});

test("zip bombs: declared caps are checked before inflating, and declared sizes are enforced while inflating", () => {
  const zeros = new Uint8Array(3 * 1024 * 1024);
  assert.throws(
    () => readZipDirectory(rawZip([{ name: "bomb", data: zeros }])),
    /compression ratio above 100:1/,
  );
  const small: ZipLimits = { ...BUNDLE_ZIP_LIMITS, maxEntries: 2, maxEntryBytes: 1000, maxTotalBytes: 1500 };
  assert.throws(
    () => readZipDirectory(rawZip([file("a"), file("b"), file("c")]), small),
    /3 entries; at most 2/,
  );
  assert.throws(() => readZipDirectory(rawZip([file("a", "x".repeat(1001))]), small), /declares 1001 bytes/);
  assert.throws(
    () => readZipDirectory(rawZip([file("a", "x".repeat(800)), file("b", "y".repeat(800))]), small),
    /more than 1500 bytes in total/,
  );
  // An entry that lies about its size: declares 100 bytes, inflates to 1 MiB.
  const liar = rawZip([{ name: "liar", data: new Uint8Array(1024 * 1024), size: 100 }]);
  const [entry] = readZipDirectory(liar);
  assert.throws(() => extractEntry(liar, entry), /inflates to more than its declared 100 bytes/);
});

test("corrupt data and wrong CRCs are refused", () => {
  const zip = rawZip([{ ...file("a", "hello world"), crc: 1234 }]);
  const [e] = readZipDirectory(zip);
  assert.throws(() => extractEntry(zip, e), /CRC-32/);
  const short = rawZip([{ ...file("a", "hello world"), size: 5 }]);
  assert.throws(() => extractEntry(short, readZipDirectory(short)[0]), /more than its declared 5 bytes/);
  const long = rawZip([{ ...file("a", "hello world"), size: 50 }]);
  assert.throws(
    () => extractEntry(long, readZipDirectory(long)[0]),
    /inflates to 11 bytes, not the declared 50/,
  );
});
