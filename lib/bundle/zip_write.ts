/**
 * Deterministic ZIP writing with fflate: the same entries give the same bytes on every machine, runtime
 * and time zone.
 *
 * What is fixed, and why:
 * - entry order: exactly as given (fflate's streaming `Zip` API keeps it; `zipSync` would reorder
 *   integer-like names);
 * - timestamps: DOS date 1980-01-01 00:00:00, the ZIP epoch. fflate converts `mtime` to DOS fields with
 *   the *local* time zone getters, so the date is built with local-time semantics
 *   (`new Date(1980, 0, 1)`), checked to read back as exactly that, and the written DOS fields are
 *   checked again after writing;
 * - attributes: "made by" Unix (os 3), external attributes = regular file, mode 0644;
 * - compression: DEFLATE level 6 with a fixed memory level, each entry pushed as one chunk (chunking
 *   changes DEFLATE block boundaries);
 * - no extra fields, comments or archive comment.
 *
 * @module
 */
import { Zip, ZipDeflate } from "fflate";
import { unsafeEntryNameReason } from "./entry_name.ts";

/** One file to put in the archive. */
export interface ZipInput {
  name: string;
  data: Uint8Array;
}

/** DEFLATE level used for every entry (fflate/zlib scale 0-9). */
export const DEFLATE_LEVEL = 6;
/** fflate memory level (0-12), fixed so it does not depend on input size. */
export const DEFLATE_MEM = 8;
/** External attributes: S_IFREG | 0644 in the high 16 bits (APPNOTE 4.4.15, Unix made-by). */
export const REGULAR_FILE_0644 = 0o100644 * 0x10000;
/** "Version made by" host: 3 = Unix (APPNOTE 4.4.2.2). */
export const MADE_BY_UNIX = 3;
/** DOS time and date fields of 1980-01-01 00:00:00 (APPNOTE 4.4.6). */
export const DOS_TIME_1980 = 0;
export const DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1;

/**
 * The Date whose local-time fields are 1980-01-01 00:00:00, which fflate turns into the DOS fields.
 *
 * @throws {Error} if this machine's time zone has no such local time (never observed; fail rather than
 *   write a machine-dependent date)
 */
export function zipEpochLocal(): Date {
  const d = new Date(1980, 0, 1, 0, 0, 0, 0);
  if (
    d.getFullYear() !== 1980 || d.getMonth() !== 0 || d.getDate() !== 1 || d.getHours() !== 0 ||
    d.getMinutes() !== 0 || d.getSeconds() !== 0
  ) {
    throw new Error("this time zone has no local time 1980-01-01 00:00:00; run with TZ=UTC");
  }
  return d;
}

/**
 * Writes `entries` into a ZIP archive, deterministically (see the module note).
 *
 * @returns the archive bytes
 * @throws {Error} on an unsafe or duplicate entry name, or if fflate reports an error
 */
export function writeDeterministicZip(entries: readonly ZipInput[]): Uint8Array {
  const seen = new Set<string>();
  for (const e of entries) {
    const reason = unsafeEntryNameReason(e.name);
    if (reason) throw new Error(`cannot add ${JSON.stringify(e.name)} to a bundle: ${reason}`);
    if (seen.has(e.name)) throw new Error(`cannot add ${JSON.stringify(e.name)} to a bundle twice`);
    seen.add(e.name);
  }
  const mtime = zipEpochLocal();
  const chunks: Uint8Array[] = [];
  let failure: Error | null = null;
  let done = false;
  const zip = new Zip((err, chunk, final) => {
    if (err) failure = err;
    else chunks.push(chunk);
    if (final) done = true;
  });
  for (const e of entries) {
    const file = new ZipDeflate(e.name, { level: DEFLATE_LEVEL, mem: DEFLATE_MEM });
    file.mtime = mtime;
    file.os = MADE_BY_UNIX;
    file.attrs = REGULAR_FILE_0644;
    zip.add(file);
    file.push(e.data, true);
  }
  zip.end();
  if (failure) throw failure;
  // ZipDeflate is synchronous, so the archive is complete here; anything else is a bug.
  if (!done) throw new Error("internal error: the ZIP writer did not finish");
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
