import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { Header } from "tar/header";
import { Pax } from "tar/pax";
import { CheckFailedError, EXIT_CHECK_FAILED, McpTrustError } from "../errors.ts";
import { extractTarball, inspectTarball, UnsafeTarballError } from "./extract.ts";

/** One tar entry to build; `pax` puts the path in a pax extended header (how long names travel). */
interface Spec {
  path: string;
  type?: string;
  body?: string | Uint8Array;
  size?: number;
  mode?: number;
  linkpath?: string;
  pax?: boolean;
}

/** Builds a tar with tar's own Header/Pax encoders (valid checksums), gzipped. */
function tgz(specs: Spec[], opts: { gzip?: boolean; trailer?: Uint8Array } = {}): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const s of specs) {
    const body = typeof s.body === "string" ? Buffer.from(s.body) : s.body ?? new Uint8Array(0);
    const type = s.type ?? (s.path.endsWith("/") ? "Directory" : "File");
    const size = s.size ?? (type === "File" ? body.length : 0);
    const data = {
      path: s.path,
      type,
      size,
      mode: s.mode ?? (type === "Directory" ? 0o755 : 0o644),
      mtime: new Date(0),
    };
    if (s.linkpath) Object.assign(data, { linkpath: s.linkpath });
    if (s.pax) {
      blocks.push(new Pax({ path: s.path, size: undefined } as never).encode());
      data.path = "placeholder";
    }
    const h = new Header(data as never);
    const block = Buffer.alloc(512);
    h.encode(block);
    blocks.push(block);
    if (body.length) {
      blocks.push(body, new Uint8Array((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(new Uint8Array(1024));
  if (opts.trailer) blocks.push(opts.trailer);
  const tar = Buffer.concat(blocks);
  return opts.gzip === false ? tar : gzipSync(tar);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "mcptrust-extract-"));
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      out.push(relative(dir, p) + (lstatSync(p).isDirectory() ? "/" : ""));
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const GOOD: Spec[] = [
  { path: "package/" },
  { path: "package/package.json", body: '{"name":"x","version":"1.0.0","bin":{"x":"bin/x.js"}}' },
  { path: "package/bin/x.js", body: "#!/usr/bin/env node\nconsole.log(1)\n", mode: 0o4755 },
  { path: "package/lib/deep/a.js", body: "a" },
  { path: "package/empty.txt", body: "" },
  { path: "package/README.md", body: "# x\n" },
];

test("extracts an npm tarball: prefix stripped, 0700 root, 0644 files, 0755 executables, setuid dropped", async () => {
  const root = tmp();
  try {
    const dest = join(root, "pkg");
    const r = await extractTarball(tgz(GOOD), dest, "x@1.0.0");
    assert.deepEqual(listTree(dest), [
      "README.md",
      "bin/",
      "bin/x.js",
      "empty.txt",
      "lib/",
      "lib/deep/",
      "lib/deep/a.js",
      "package.json",
    ]);
    assert.equal(statSync(dest).mode & 0o7777, 0o700);
    assert.equal(statSync(join(dest, "bin/x.js")).mode & 0o7777, 0o755);
    assert.equal(statSync(join(dest, "package.json")).mode & 0o7777, 0o644);
    assert.equal(statSync(join(dest, "lib/deep")).mode & 0o7777, 0o755);
    assert.equal(readFileSync(join(dest, "bin/x.js"), "utf8"), "#!/usr/bin/env node\nconsole.log(1)\n");
    assert.equal(readFileSync(join(dest, "empty.txt")).length, 0);
    assert.equal(r.entries.length, 5);
    assert.equal(r.totalBytes, GOOD.reduce((n, s) => n + Buffer.byteLength((s.body as string) ?? ""), 0));
    assert.deepEqual(r.entries.find((e) => e.path === "bin/x.js")?.executable, true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a real package's files come out byte for byte, long names through pax headers included", async () => {
  const src = join("node_modules", "@modelcontextprotocol", "server-memory");
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (lstatSync(p).isDirectory()) walk(p);
      else if (lstatSync(p).isFile()) files.push(relative(src, p));
    }
  };
  walk(src);
  const long = `${"d".repeat(90)}/${"f".repeat(90)}.js`;
  const specs: Spec[] = files.map((f) => ({ path: `package/${f}`, body: readFileSync(join(src, f)) }));
  specs.push({ path: `package/${long}`, body: "long", pax: true });
  const root = tmp();
  try {
    const dest = join(root, "pkg");
    const r = await extractTarball(tgz(specs), dest, "server-memory");
    assert.equal(r.entries.length, files.length + 1);
    for (const f of files) assert.deepEqual(readFileSync(join(dest, f)), readFileSync(join(src, f)), f);
    assert.equal(readFileSync(join(dest, long), "utf8"), "long");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// Each malicious archive: [name, extra entries after a good prefix, expected message]
const MALICIOUS: [string, Spec[], RegExp][] = [
  ["absolute path", [{ path: "/etc/cron.d/x", body: "x" }], /absolute path/],
  ["parent traversal", [{ path: "package/../../evil.sh", body: "x" }], /climbs out/],
  ["traversal hidden in a pax header", [{ path: "package/../evil.sh", body: "x", pax: true }], /climbs out/],
  ["backslash", [{ path: "package\\..\\evil.sh", body: "x" }], /backslash/],
  ["drive letter", [{ path: "package/C:evil", body: "x" }], /drive letter/],
  ["dot component", [{ path: "package/./x", body: "x" }], /empty or \. path component/],
  ["empty component", [{ path: "package//x", body: "x" }], /empty or \. path component/],
  ["control character", [{ path: "package/a\nb", body: "x" }], /control character/],
  ["symlink", [{ path: "package/link", type: "SymbolicLink", linkpath: "/etc/passwd" }], /symbolic link/],
  ["hard link", [{ path: "package/hard", type: "Link", linkpath: "package/package.json" }], /hard link/],
  ["character device", [{ path: "package/tty", type: "CharacterDevice" }], /is a device/],
  ["block device", [{ path: "package/sda", type: "BlockDevice" }], /is a device/],
  ["fifo", [{ path: "package/pipe", type: "FIFO" }], /is a FIFO/],
  ["duplicate file", [{ path: "package/README.md", body: "again" }], /repeats or case\/Unicode-collides/],
  ["case collision", [{ path: "package/readme.md", body: "x" }], /collides/],
  ["file under a file", [{ path: "package/README.md/x", body: "x" }], /under a path that is a file/],
  ["file where a directory is", [{ path: "package/lib", body: "x" }], /file where a directory is/],
  ["top-level file", [{ path: "evil.sh", body: "x" }], /top level/],
  ["deep nesting", [{ path: `package/${"a/".repeat(70)}x`, body: "x", pax: true }], /deeper than 64/],
];

test("every malicious entry kind is refused as a failed check, and nothing is written", async () => {
  for (const [name, extra, why] of MALICIOUS) {
    const root = tmp();
    try {
      const dest = join(root, "pkg");
      // The bad entry comes last: a streaming extractor would already have written the good ones.
      const bytes = tgz([...GOOD, ...extra]);
      await assert.rejects(extractTarball(bytes, dest, "evil@1.0.0"), (e: unknown) => {
        assert.ok(e instanceof UnsafeTarballError, `${name}: ${e}`);
        assert.ok(e instanceof CheckFailedError);
        assert.equal(e.exitCode, EXIT_CHECK_FAILED);
        assert.match(e.message, why, name);
        assert.match(e.message, /evil@1\.0\.0/);
        return true;
      });
      assert.ok(!existsSync(dest), `${name}: nothing written`);
      assert.deepEqual(readdirSync(root), [], name);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
});

test("Unicode names that fold together (NFC vs NFD) are refused", async () => {
  const nfc = "package/caf\u00e9.js";
  const nfd = "package/cafe\u0301.js";
  await assert.rejects(
    inspectTarball(tgz([{ path: nfc, body: "1" }, { path: nfd, body: "2" }]), "u"),
    /collides/,
  );
});

test("caps: entries, per-file size, total size; a gzip bomb stops at the decompression cap", async () => {
  await assert.rejects(inspectTarball(tgz(GOOD), "x", { maxEntries: 3 }), /more than 3 entries/);
  await assert.rejects(
    inspectTarball(tgz([{ path: "package/big", body: "x".repeat(5000) }]), "x", { maxFileBytes: 4096 }),
    /over the 4096-byte cap per file/,
  );
  await assert.rejects(
    inspectTarball(
      tgz([{ path: "package/a", body: "x".repeat(3000) }, { path: "package/b", body: "y".repeat(3000) }]),
      "x",
      {
        maxTotalBytes: 5000,
      },
    ),
    /over the 5000-byte cap/,
  );
  // 8 MiB of zeros after the end-of-archive blocks: a small gzip, a large output.
  const bomb = tgz(GOOD, { trailer: new Uint8Array(8 * 1024 * 1024) });
  assert.ok(bomb.length < 64 * 1024);
  await assert.rejects(
    inspectTarball(bomb, "bomb", { maxTotalBytes: 1024 * 1024, maxEntries: 10 }),
    /decompresses to more than/,
  );
});

test("not gzip, compressed twice, corrupt or truncated archives are refused", async () => {
  await assert.rejects(inspectTarball(tgz(GOOD, { gzip: false }), "x"), /not gzip-compressed/);
  await assert.rejects(inspectTarball(gzipSync(tgz(GOOD)), "x"), /compressed twice/);
  const good = tgz(GOOD);
  await assert.rejects(
    inspectTarball(good.subarray(0, good.length - 30), "x"),
    (e: unknown) => e instanceof UnsafeTarballError,
  );
  await assert.rejects(
    inspectTarball(gzipSync(Buffer.from("not a tar at all".repeat(64))), "x"),
    UnsafeTarballError,
  );
  const corrupt = Buffer.from(tgz(GOOD, { gzip: false }));
  corrupt[148] ^= 0xff; // first header's checksum field
  await assert.rejects(inspectTarball(gzipSync(corrupt), "x"), UnsafeTarballError);
});

test("an existing destination (even a symlink to elsewhere) is refused, and its target untouched", async () => {
  const root = tmp();
  try {
    const elsewhere = join(root, "elsewhere");
    const dest = join(root, "pkg");
    symlinkSync(elsewhere, dest);
    await assert.rejects(extractTarball(tgz(GOOD), dest, "x"), (e: unknown) => {
      assert.ok(e instanceof McpTrustError && !(e instanceof CheckFailedError));
      assert.match(e.message, /cannot create/);
      return true;
    });
    assert.ok(!existsSync(elsewhere));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
