/**
 * Release archives, deterministic: the same binary and timestamp give the same bytes on every machine,
 * so anyone can rebuild a release and compare SHA256SUMS.
 *
 * - `.tar.gz` (Linux, macOS): one POSIX ustar entry, the binary, mode 0755, owner and group 0 with no
 *   names, mtime from the caller (SOURCE_DATE_EPOCH: the commit time), then the two zero blocks and
 *   padding to a 10240-byte record as tar writes it; gzip by fflate at level 9 with no name and no
 *   timestamp in the gzip header (RFC 1952 MTIME = 0).
 * - `.zip` (Windows): lib/bundle/zip_write.ts's deterministic ZIP (fixed 1980 date, fixed attributes).
 *
 * @module
 */
import { gzipSync } from "fflate";
import { writeDeterministicZip } from "../bundle/zip_write.ts";

const BLOCK = 512;
const RECORD = 20 * BLOCK;

function putString(h: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > length) throw new Error(`tar header field too long: ${JSON.stringify(text)}`);
  h.set(bytes, offset);
}

/** An octal field of `length` bytes: digits zero-padded to length - 1, then NUL (POSIX ustar). */
function putOctal(h: Uint8Array, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1 || value < 0 || !Number.isInteger(value)) {
    throw new Error(`tar header value out of range: ${value}`);
  }
  putString(h, offset, length, digits.padStart(length - 1, "0"));
}

/**
 * A ustar archive holding one regular file.
 *
 * @param name the entry name (at most 100 bytes, no directories needed here)
 * @param mode permission bits, e.g. 0o755
 * @param mtime modification time, seconds since the epoch
 * @returns the uncompressed tar bytes
 */
export function tarOneFile(name: string, data: Uint8Array, mode: number, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, mode);
  putOctal(h, 108, 8, 0); // uid
  putOctal(h, 116, 8, 0); // gid
  putOctal(h, 124, 12, data.length);
  putOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h[156] = 0x30; // typeflag '0': regular file
  putString(h, 257, 6, "ustar\0");
  putString(h, 263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  const dataBlocks = Math.ceil(data.length / BLOCK) * BLOCK;
  const used = BLOCK + dataBlocks + 2 * BLOCK;
  const out = new Uint8Array(Math.ceil(used / RECORD) * RECORD);
  out.set(h, 0);
  out.set(data, BLOCK);
  return out;
}

/** `tarOneFile` gzipped deterministically (level 9, no name, no timestamp). */
export function tarGzOneFile(name: string, data: Uint8Array, mode: number, mtime: number): Uint8Array {
  return gzipSync(tarOneFile(name, data, mode, mtime), { level: 9, mtime: 0 });
}

/** A deterministic ZIP holding one file (for Windows). */
export function zipOneFile(name: string, data: Uint8Array): Uint8Array {
  return writeDeterministicZip([{ name, data }]);
}
