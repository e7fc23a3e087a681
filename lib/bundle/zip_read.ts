/**
 * Reading an approval bundle's ZIP safely. Bundles come from elsewhere (that is their point), so the
 * reader trusts nothing in them and accepts only the narrow shape our writer produces:
 *
 * - one archive filling the whole file: the end-of-central-directory record (EOCD, APPNOTE 4.3.16) is the
 *   last 22 bytes (no archive comment), single disk, no ZIP64; entries sit back to back from offset 0 up
 *   to the central directory, in central-directory order, so no bytes are hidden or shared between
 *   entries (overlapping entries are a classic zip bomb);
 * - each entry: a safe name (entry_name.ts), unique also case-insensitively; DEFLATE (8) or stored (0);
 *   not encrypted; no extra fields or comments; a regular file (Unix made-by: S_IFREG, never a symlink;
 *   DOS: not a directory); local header agreeing with the central directory; data descriptor, when
 *   flagged, agreeing too;
 * - caps checked on the declared sizes before anything is inflated: entry count, each entry's size,
 *   total size, and the compression ratio of entries over {@link ZipLimits.ratioFloorBytes}; then
 *   enforced again while inflating (output is counted per 16 KiB of compressed input, and inflating stops
 *   as soon as an entry yields more than it declared), and each entry's size and CRC-32 must match.
 *
 * @module
 */
import { Inflate } from "fflate";
import { Crc32 } from "./crc32.ts";
import { collisionKey, unsafeEntryNameReason } from "./entry_name.ts";

/** Caps against zip bombs and oversized bundles. */
export interface ZipLimits {
  /** Most entries in one archive. */
  maxEntries: number;
  /** Largest uncompressed size of one entry, in bytes. */
  maxEntryBytes: number;
  /** Largest total uncompressed size of all entries, in bytes. */
  maxTotalBytes: number;
  /** Highest uncompressed:compressed ratio for an entry larger than `ratioFloorBytes`. */
  maxRatio: number;
  /** Entries up to this many uncompressed bytes are exempt from the ratio cap. */
  ratioFloorBytes: number;
}

/** The caps `bundle export` and `bundle verify` use. */
export const BUNDLE_ZIP_LIMITS: ZipLimits = {
  maxEntries: 1000,
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  maxRatio: 100,
  ratioFloorBytes: 1024 * 1024,
};

/** The input is not a ZIP archive at all (exit 2 territory: unusable input). */
export class NotAZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotAZipError";
  }
}

/** The input is a ZIP archive, but an unsafe or inconsistent one (exit 1 territory: invalid bundle). */
export class UnsafeZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafeZipError";
  }
}

/** An entry as described by the central directory, after all structural checks. */
export interface ZipEntryInfo {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the compressed data in the archive. */
  dataOffset: number;
  /** High byte of "version made by": 3 = Unix. */
  madeBy: number;
  externalAttrs: number;
  dosTime: number;
  dosDate: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_DESCRIPTOR = 0x08074b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const FLAG_MASKED_HEADERS = 0x2000;
/** Bits 1-2 only record the DEFLATE level used; harmless. */
const ALLOWED_FLAGS = FLAG_DESCRIPTOR | FLAG_UTF8 | 0x0006;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const DOS_DIRECTORY = 0x10;

/**
 * Parses and checks the archive structure without inflating anything (rules in the module note).
 *
 * @param zip the archive bytes
 * @returns the entries in central-directory (= file) order
 * @throws {NotAZipError} when there is no end-of-central-directory record at all
 * @throws {UnsafeZipError} for any other violation, naming the entry
 */
export function readZipDirectory(zip: Uint8Array, limits: ZipLimits = BUNDLE_ZIP_LIMITS): ZipEntryInfo[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const fail = (msg: string): never => {
    throw new UnsafeZipError(msg);
  };

  const eocd = zip.length - EOCD_SIZE;
  if (eocd < 0 || u32(eocd) !== SIG_EOCD) {
    // Tell "not a ZIP" apart from "a ZIP with a comment or trailing bytes".
    const tail = zip.subarray(Math.max(0, zip.length - 65_557));
    for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
      if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 0x05 && tail[i + 3] === 0x06) {
        fail("the archive has a comment or bytes after its end record (not written by mcptrust)");
      }
    }
    throw new NotAZipError(
      zip.length === 0 ? "the file is empty" : "not a ZIP archive (no end-of-central-directory record)",
    );
  }
  const disk = u16(eocd + 4);
  const cdDisk = u16(eocd + 6);
  const countOnDisk = u16(eocd + 8);
  const count = u16(eocd + 10);
  const cdSize = u32(eocd + 12);
  const cdOffset = u32(eocd + 16);
  if (u16(eocd + 20) !== 0) fail("the archive has a comment");
  if (disk !== 0 || cdDisk !== 0 || countOnDisk !== count) fail("multi-disk archives are not supported");
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    fail("ZIP64 archives are not supported");
  }
  if (count > limits.maxEntries) {
    fail(`the archive has ${count} entries; at most ${limits.maxEntries} are accepted`);
  }
  if (cdOffset + cdSize !== eocd) fail("the central directory does not end where the end record starts");

  const entries: ZipEntryInfo[] = [];
  const names = new Set<string>();
  let total = 0;
  let expectedLocal = 0;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > eocd || u32(p) !== SIG_CENTRAL) {
      fail(`central directory entry ${i + 1} is malformed`);
    }
    const madeBy = u16(p + 4) >> 8;
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const dosTime = u16(p + 12);
    const dosDate = u16(p + 14);
    const crc = u32(p + 16);
    const compressedSize = u32(p + 20);
    const size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    const diskStart = u16(p + 34);
    const externalAttrs = u32(p + 38);
    const localOffset = u32(p + 42);
    if (p + CENTRAL_SIZE + nameLen + extraLen + commentLen > eocd) {
      fail(`central directory entry ${i + 1} is truncated`);
    }
    const nameBytes = zip.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    const name = decodeName(nameBytes, flags, i + 1);
    const where = `entry ${JSON.stringify(name)}`;
    const reason = unsafeEntryNameReason(name);
    if (reason) fail(`${where} has an unsafe name: ${reason}`);
    const key = collisionKey(name);
    if (names.has(key)) fail(`${where} appears twice (names are compared case-insensitively)`);
    names.add(key);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS)) {
      fail(`${where} is encrypted`);
    }
    if (flags & ~ALLOWED_FLAGS) fail(`${where} uses unsupported ZIP flags 0x${flags.toString(16)}`);
    if (method !== 8 && method !== 0) fail(`${where} uses unsupported compression method ${method}`);
    if (extraLen !== 0 || commentLen !== 0) {
      fail(`${where} has extra fields or a comment (not written by mcptrust)`);
    }
    if (diskStart !== 0) fail(`${where} starts on another disk`);
    const mode = externalAttrs >>> 16;
    if (madeBy === 3 && mode !== 0 && (mode & S_IFMT) !== S_IFREG) {
      fail(`${where} is ${(mode & S_IFMT) === S_IFLNK ? "a symbolic link" : "not a regular file"}`);
    }
    if (externalAttrs & DOS_DIRECTORY) fail(`${where} is a directory`);
    if (method === 0 && compressedSize !== size) fail(`${where} is stored with two different sizes`);
    if (size > limits.maxEntryBytes) {
      fail(`${where} declares ${size} bytes; at most ${limits.maxEntryBytes} are accepted`);
    }
    total += size;
    if (total > limits.maxTotalBytes) {
      fail(`the entries declare more than ${limits.maxTotalBytes} bytes in total`);
    }
    if (size > limits.ratioFloorBytes && size > compressedSize * limits.maxRatio) {
      fail(`${where} declares a compression ratio above ${limits.maxRatio}:1 (a zip bomb?)`);
    }

    // The local header must sit exactly where the previous entry ended and agree with the directory.
    if (localOffset !== expectedLocal) {
      fail(`${where} does not start right after the previous entry (hidden or shared bytes)`);
    }
    const lp = localOffset;
    if (lp + LOCAL_SIZE > cdOffset || u32(lp) !== SIG_LOCAL) fail(`${where} has no local header`);
    const lFlags = u16(lp + 6);
    const lNameLen = u16(lp + 26);
    const lExtraLen = u16(lp + 28);
    if (lFlags !== flags || u16(lp + 8) !== method || lNameLen !== nameLen || lExtraLen !== 0) {
      fail(`${where}: the local header disagrees with the central directory`);
    }
    if (!equalBytes(zip.subarray(lp + LOCAL_SIZE, lp + LOCAL_SIZE + nameLen), nameBytes)) {
      fail(`${where}: the local header names another file`);
    }
    const dataOffset = lp + LOCAL_SIZE + nameLen;
    let end = dataOffset + compressedSize;
    if (flags & FLAG_DESCRIPTOR) {
      const lc = [u32(lp + 14), u32(lp + 18), u32(lp + 22)];
      if (lc.some((v, k) => v !== 0 && v !== [crc, compressedSize, size][k])) {
        fail(`${where}: the local header sizes disagree with the central directory`);
      }
      // Data descriptor (APPNOTE 4.3.9): optional signature, then CRC-32, compressed and real size.
      if (end + 16 <= cdOffset && u32(end) === SIG_DESCRIPTOR) end += 4;
      if (
        end + 12 > cdOffset || u32(end) !== crc || u32(end + 4) !== compressedSize || u32(end + 8) !== size
      ) {
        fail(`${where}: the data descriptor disagrees with the central directory`);
      }
      end += 12;
    } else if (u32(lp + 14) !== crc || u32(lp + 18) !== compressedSize || u32(lp + 22) !== size) {
      fail(`${where}: the local header sizes disagree with the central directory`);
    }
    if (end > cdOffset) fail(`${where} runs into the central directory`);
    expectedLocal = end;
    entries.push({
      name,
      method,
      crc32: crc,
      compressedSize,
      size,
      dataOffset,
      madeBy,
      externalAttrs,
      dosTime,
      dosDate,
    });
    p += CENTRAL_SIZE + nameLen;
  }
  if (p !== eocd) fail("the central directory has bytes after its last entry");
  if (expectedLocal !== cdOffset) {
    fail("the archive has bytes between its last entry and the central directory");
  }
  return entries;
}

/** Compressed bytes pushed to the inflater at a time: bounds how far one step can overshoot. */
const INFLATE_STEP = 16 * 1024;

/**
 * Inflates one entry, enforcing its declared size while inflating and checking size and CRC-32 after.
 *
 * @throws {UnsafeZipError} if the data is corrupt, yields more or fewer bytes than declared, or fails the CRC
 */
export function extractEntry(zip: Uint8Array, entry: ZipEntryInfo): Uint8Array {
  const where = `entry ${JSON.stringify(entry.name)}`;
  const data = zip.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  let out: Uint8Array;
  if (entry.method === 0) {
    out = data.slice();
  } else {
    out = new Uint8Array(entry.size);
    let produced = 0;
    const inflater = new Inflate((chunk) => {
      if (produced + chunk.length > entry.size) {
        throw new UnsafeZipError(
          `${where} inflates to more than its declared ${entry.size} bytes (a zip bomb?)`,
        );
      }
      out.set(chunk, produced);
      produced += chunk.length;
    });
    try {
      for (let off = 0; off < data.length || off === 0; off += INFLATE_STEP) {
        const last = off + INFLATE_STEP >= data.length;
        inflater.push(data.subarray(off, off + INFLATE_STEP), last);
        if (last) break;
      }
    } catch (err) {
      if (err instanceof UnsafeZipError) throw err;
      throw new UnsafeZipError(`${where} is corrupt: ${(err as Error).message}`);
    }
    if (produced !== entry.size) {
      throw new UnsafeZipError(`${where} inflates to ${produced} bytes, not the declared ${entry.size}`);
    }
  }
  if (new Crc32().update(out).value() !== entry.crc32) {
    throw new UnsafeZipError(`${where} fails its CRC-32 check`);
  }
  return out;
}

function decodeName(bytes: Uint8Array, flags: number, index: number): string {
  if (!(flags & FLAG_UTF8) && bytes.some((b) => b >= 0x80)) {
    throw new UnsafeZipError(`entry ${index} has a non-ASCII name without the UTF-8 flag`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UnsafeZipError(`entry ${index} has a name that is not valid UTF-8`);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
