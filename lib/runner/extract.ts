/**
 * Safe extraction of an npm package tarball (gzip tar) into a fresh private directory.
 *
 * The tar format is read by `tar` v7's `Parser` (npm's own tar implementation, used by pacote to unpack
 * every package npm installs: same handling of pax headers, GNU long names and old npm tarballs). Only
 * its stream parser is used: it sees bytes and emits entries, and never touches the filesystem; every
 * write is ours. (tar-stream 3 also parses without the filesystem but depends on bare-fs/streamx and is
 * not what npm reads with; nanotar parses whole buffers only and skips pax/GNU edge cases.)
 *
 * Our own checks, all made in a first pass over the whole archive, so a refused tarball writes nothing:
 * - the first path component (`package/` in npm tarballs) is stripped, as npm does (`strip: 1`);
 * - refused: absolute paths, `..`, `.` and empty components, backslashes, drive letters, control
 *   characters, paths over 1024 bytes or 64 levels, duplicates and names that collide after Unicode NFC
 *   and case folding (they would overwrite each other on macOS/Windows), a file where a directory is;
 * - refused: symlinks and hardlinks (npm tarballs never need them), character/block devices, FIFOs and
 *   every other non-file, non-directory type;
 * - caps on entries, on each file's size and on the total, and on the decompressed tar stream itself
 *   (a gzip bomb stops at the cap), and nested compression is refused.
 * The second pass writes: the destination is created with mode 0700 (it must not exist), directories
 * 0755, files with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0644, or 0755 if any execute bit was set
 * (setuid/setgid/sticky dropped), so nothing already there is followed or overwritten. The second pass
 * must see the same entries as the first, or it stops.
 *
 * @module
 */
import { Parser } from "tar/parse";
import type { ReadEntry } from "tar/read-entry";
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { Buffer } from "node:buffer";
import { chmodSync, closeSync, constants, fchmodSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CheckFailedError, McpTrustError } from "../errors.ts";

/** Limits for {@link extractTarball}. Sizes in bytes. */
export interface ExtractLimits {
  /** Most entries (files and directories). Default 50 000. */
  maxEntries?: number;
  /** Largest single file. Default 128 MiB. */
  maxFileBytes?: number;
  /** Largest sum of file sizes. Default 512 MiB. */
  maxTotalBytes?: number;
}

/** Defaults for {@link ExtractLimits}. */
export const DEFAULT_EXTRACT_LIMITS: Readonly<Required<ExtractLimits>> = {
  maxEntries: 50_000,
  maxFileBytes: 128 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
};

const MAX_PATH_BYTES = 1024;
const MAX_DEPTH = 64;

/** One entry that passed the checks. */
export interface TarEntry {
  /** Path relative to the package root (first component stripped), `/`-separated, no trailing slash. */
  path: string;
  type: "file" | "directory";
  /** File size in bytes (0 for directories). */
  size: number;
  /** True if any execute bit was set (the file is written 0755). */
  executable: boolean;
}

/** The result of {@link extractTarball}. */
export interface ExtractResult {
  /** The destination directory (mode 0700). */
  dir: string;
  /** Entries written, in archive order. */
  entries: TarEntry[];
  /** Sum of file sizes, in bytes. */
  totalBytes: number;
}

/** A tarball refused by the checks, or unreadable: a failed check (exit 1); nothing was written. */
export class UnsafeTarballError extends CheckFailedError {
  /** The entry concerned, as written in the archive, if any. */
  readonly entry?: string;
  constructor(message: string, entry?: string) {
    super(message, {
      hint: "do not run this package; if the tarball is what its publisher shipped, report it to them",
    });
    this.name = "UnsafeTarballError";
    this.entry = entry;
  }
}

interface RawEntry {
  path: string;
  type: string;
  size: number;
  mode: number;
}

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
const LINK_TYPES = new Set(["SymbolicLink", "Link"]);
const DEVICE_TYPES = new Set(["CharacterDevice", "BlockDevice", "FIFO"]);

/** Checks one entry's type, path and size; returns it stripped, or null for the top directory itself. */
function checkEntry(raw: RawEntry, label: string, limits: Required<ExtractLimits>): TarEntry | null {
  const shown = JSON.stringify(raw.path);
  const refuse = (why: string) =>
    new UnsafeTarballError(`refused to extract ${label}: entry ${shown} ${why}`, raw.path);
  if (LINK_TYPES.has(raw.type)) {
    throw refuse(`is a ${raw.type === "Link" ? "hard link" : "symbolic link"} (links are never extracted)`);
  }
  if (DEVICE_TYPES.has(raw.type)) throw refuse(`is a ${raw.type === "FIFO" ? "FIFO" : "device"}`);
  const isFile = FILE_TYPES.has(raw.type);
  if (!isFile && raw.type !== "Directory") throw refuse(`has an unsupported type (${raw.type})`);
  const p = raw.path;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) throw refuse("has a control character in its name");
  if (p.includes("\\")) throw refuse("has a backslash in its path");
  if (p.startsWith("/")) throw refuse("has an absolute path");
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) throw refuse(`has a path over ${MAX_PATH_BYTES} bytes`);
  const parts = p.split("/");
  if (parts.length > 1 && parts.at(-1) === "" && raw.type === "Directory") parts.pop();
  for (const c of parts) {
    if (c === "..") throw refuse("climbs out of the package with ..");
    if (c === "" || c === ".") throw refuse("has an empty or . path component");
    if (/^[A-Za-z]:/.test(c)) throw refuse("has a drive letter");
  }
  if (parts.length > MAX_DEPTH + 1) throw refuse(`is nested deeper than ${MAX_DEPTH} levels`);
  const rel = parts.slice(1).join("/");
  if (rel === "") {
    if (isFile) throw refuse("is a file at the top level, outside the package directory");
    return null;
  }
  const size = isFile ? raw.size : 0;
  if (size > limits.maxFileBytes) {
    throw refuse(`is ${size} bytes, over the ${limits.maxFileBytes}-byte cap per file`);
  }
  return {
    path: rel,
    type: isFile ? "file" : "directory",
    size,
    executable: isFile && (raw.mode & 0o111) !== 0,
  };
}

/** The collision key: names equal after NFC and case folding land on one file on macOS and Windows. */
function foldKey(path: string): string {
  return path.normalize("NFC").toLowerCase();
}

/** Tracks paths across the archive: duplicates, collisions, file/directory conflicts, counts and totals. */
class Ledger {
  private readonly kinds = new Map<string, "file" | "directory">();
  entries: TarEntry[] = [];
  totalBytes = 0;
  count = 0;
  constructor(private readonly label: string, private readonly limits: Required<ExtractLimits>) {}

  add(e: TarEntry, raw: string): void {
    const refuse = (why: string) =>
      new UnsafeTarballError(`refused to extract ${this.label}: entry ${JSON.stringify(raw)} ${why}`, raw);
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const k = foldKey(parts.slice(0, i).join("/"));
      if (this.kinds.get(k) === "file") throw refuse("lies under a path that is a file");
      this.kinds.set(k, "directory");
    }
    const key = foldKey(e.path);
    const had = this.kinds.get(key);
    if (e.type === "file" && had !== undefined) {
      throw refuse(
        had === "file"
          ? "repeats or case/Unicode-collides with another file"
          : "is a file where a directory is",
      );
    }
    if (e.type === "directory" && had === "file") throw refuse("is a directory where a file is");
    this.kinds.set(key, e.type);
    this.totalBytes += e.size;
    if (this.totalBytes > this.limits.maxTotalBytes) {
      throw refuse(`brings the unpacked size over the ${this.limits.maxTotalBytes}-byte cap`);
    }
    this.entries.push(e);
  }

  countEntry(raw: string): void {
    if (++this.count > this.limits.maxEntries) {
      throw new UnsafeTarballError(
        `refused to extract ${this.label}: more than ${this.limits.maxEntries} entries`,
        raw,
      );
    }
  }
}

/** Gunzips with a cap on the output, so a gzip bomb stops at the cap. */
async function* gunzipCapped(gz: Uint8Array, cap: number, label: string): AsyncGenerator<Buffer> {
  if (gz.length < 2 || gz[0] !== 0x1f || gz[1] !== 0x8b) {
    throw new UnsafeTarballError(`refused to extract ${label}: it is not gzip-compressed (npm tarballs are)`);
  }
  let total = 0;
  let first = true;
  const gunzip = Readable.from([Buffer.from(gz.buffer, gz.byteOffset, gz.byteLength)]).pipe(createGunzip());
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (first && chunk.length >= 2) {
        first = false;
        const zstd = chunk.length >= 4 && chunk.readUInt32LE(0) === 0xfd2fb528;
        if ((chunk[0] === 0x1f && chunk[1] === 0x8b) || zstd) {
          throw new UnsafeTarballError(`refused to extract ${label}: it is compressed twice`);
        }
      }
      total += chunk.length;
      if (total > cap) {
        throw new UnsafeTarballError(
          `refused to extract ${label}: it decompresses to more than ${cap} bytes`,
        );
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof UnsafeTarballError) throw err;
    throw new UnsafeTarballError(
      `cannot read ${label}: the gzip stream is corrupt (${(err as Error).message})`,
    );
  } finally {
    gunzip.destroy();
  }
}

/**
 * Runs the tar parser over the tarball; `onEntry` sees each entry's header and may return a sink for its
 * bytes. Any throw from a callback, the parser or the decompressor rejects, and no later entry is seen.
 */
function walk(
  tgz: Uint8Array,
  label: string,
  limits: Required<ExtractLimits>,
  onEntry: (raw: RawEntry) => { data?: (chunk: Buffer) => void; end?: () => void } | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: unknown;
    const fail = (err: unknown) => {
      if (failure !== undefined) return;
      failure = err instanceof McpTrustError ? err : new UnsafeTarballError(
        `cannot read ${label}: not a valid tar archive (${(err as Error)?.message ?? err})`,
      );
      parser.abort(failure as Error);
      reject(failure);
    };
    const parser: Parser = new Parser({
      strict: true,
      brotli: false,
      zstd: false,
      maxMetaEntrySize: 64 * 1024,
      onwarn: (_code: string, message: string | Error) => fail(new Error(String(message))),
    });
    parser.on("error", fail);
    parser.on("entry", (entry: ReadEntry) => {
      if (failure !== undefined) {
        entry.resume();
        return;
      }
      let sink: ReturnType<typeof onEntry>;
      try {
        sink = onEntry({ path: entry.path, type: entry.type, size: entry.size ?? 0, mode: entry.mode ?? 0 });
      } catch (err) {
        fail(err);
        entry.resume();
        return;
      }
      entry.on("data", (chunk: Buffer) => {
        if (failure !== undefined) return;
        try {
          sink?.data?.(chunk);
        } catch (err) {
          fail(err);
        }
      });
      entry.on("end", () => {
        if (failure !== undefined) return;
        try {
          sink?.end?.();
        } catch (err) {
          fail(err);
        }
      });
    });
    parser.on("end", () => {
      if (failure === undefined) resolve();
    });
    // The decompressed tar stream holds the file bytes plus headers, padding and pax records.
    const cap = limits.maxTotalBytes + limits.maxEntries * 2048 + 1024 * 1024;
    (async () => {
      for await (const chunk of gunzipCapped(tgz, cap, label)) {
        if (failure !== undefined) return;
        parser.write(chunk);
      }
      if (failure === undefined) parser.end();
    })().catch(fail);
  });
}

/**
 * Reads and checks every entry without writing anything.
 *
 * @param tgz the tarball bytes (already integrity-checked)
 * @param label what it is, for messages, e.g. `@scope/pkg@1.2.3`
 * @throws UnsafeTarballError (a CheckFailedError, exit 1) for any refused entry or unreadable archive
 */
export async function inspectTarball(
  tgz: Uint8Array,
  label: string,
  limits: ExtractLimits = {},
): Promise<{ entries: TarEntry[]; totalBytes: number }> {
  const lim = { ...DEFAULT_EXTRACT_LIMITS, ...limits };
  const ledger = new Ledger(label, lim);
  await walk(tgz, label, lim, (raw) => {
    ledger.countEntry(raw.path);
    const e = checkEntry(raw, label, lim);
    if (e) ledger.add(e, raw.path);
    return undefined;
  });
  return { entries: ledger.entries, totalBytes: ledger.totalBytes };
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * Checks the whole tarball (see {@link inspectTarball}), then extracts it into `dest`, which is created
 * with mode 0700 and must not exist.
 *
 * @param tgz the tarball bytes (already integrity-checked)
 * @param dest directory to create; its parent must exist
 * @param label what it is, for messages
 * @returns the entries written and their total size
 * @throws UnsafeTarballError (exit 1) for a refused or unreadable tarball (then nothing was written);
 *   McpTrustError (exit 2) if `dest` exists or cannot be created or written
 */
export async function extractTarball(
  tgz: Uint8Array,
  dest: string,
  label: string,
  limits: ExtractLimits = {},
): Promise<ExtractResult> {
  const lim = { ...DEFAULT_EXTRACT_LIMITS, ...limits };
  const checked = await inspectTarball(tgz, label, lim);
  try {
    mkdirSync(dest, { mode: 0o700 });
    chmodSync(dest, 0o700);
  } catch (err) {
    throw new McpTrustError(`cannot create ${dest} to extract ${label}: ${(err as Error).message}`, {
      hint: "extraction needs a new, empty directory",
    });
  }
  const made = new Set<string>([""]);
  const ensureDir = (rel: string) => {
    if (made.has(rel)) return;
    const i = rel.lastIndexOf("/");
    ensureDir(i < 0 ? "" : rel.slice(0, i));
    try {
      mkdirSync(join(dest, rel), { mode: 0o755 });
      chmodSync(join(dest, rel), 0o755);
    } catch (err) {
      throw new McpTrustError(`cannot create ${join(dest, rel)}: ${(err as Error).message}`);
    }
    made.add(rel);
  };
  const ledger = new Ledger(label, lim);
  let index = 0;
  try {
    await writeAll();
  } catch (err) {
    // Only our own files are in dest (it was created empty above): remove the partial tree.
    rmSync(dest, { recursive: true, force: true });
    throw err;
  }
  return { dir: dest, entries: ledger.entries, totalBytes: ledger.totalBytes };

  async function writeAll(): Promise<void> {
    await walk(tgz, label, lim, (raw) => {
      ledger.countEntry(raw.path);
      const e = checkEntry(raw, label, lim);
      if (!e) return undefined;
      ledger.add(e, raw.path);
      const expected = checked.entries[index++];
      if (!expected || expected.path !== e.path || expected.type !== e.type || expected.size !== e.size) {
        throw new UnsafeTarballError(
          `refused to extract ${label}: the archive changed between reads`,
          raw.path,
        );
      }
      if (e.type === "directory") {
        ensureDir(e.path);
        return undefined;
      }
      const slash = e.path.lastIndexOf("/");
      ensureDir(slash < 0 ? "" : e.path.slice(0, slash));
      const target = join(dest, e.path);
      const mode = e.executable ? 0o755 : 0o644;
      let fd: number;
      try {
        fd = openSync(target, WRITE_FLAGS, mode);
        fchmodSync(fd, mode);
      } catch (err) {
        throw new McpTrustError(`cannot create ${target}: ${(err as Error).message}`);
      }
      let written = 0;
      const close = () => {
        if (fd >= 0) closeSync(fd);
        fd = -1;
      };
      if (e.size === 0) close();
      return {
        data: (chunk) => {
          try {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
            written += chunk.length;
          } catch (err) {
            close();
            throw new McpTrustError(`cannot write ${target}: ${(err as Error).message}`);
          }
        },
        end: () => {
          close();
          if (written !== e.size) {
            throw new UnsafeTarballError(
              `cannot read ${label}: entry ${JSON.stringify(raw.path)} is truncated`,
            );
          }
        },
      };
    });
    if (index !== checked.entries.length) {
      throw new UnsafeTarballError(`refused to extract ${label}: the archive changed between reads`);
    }
  }
}
