/**
 * Atomic file writes: the bytes go to a temp file in the target's directory, are flushed, and the temp
 * file is renamed over the target. A crash or a full disk leaves either the old file or the new one,
 * never half of one (design invariant "nothing is written half").
 *
 * @module
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Options for {@link atomicWriteFile}. */
export interface AtomicWriteOptions {
  /** File mode for a new file, e.g. 0o600 for private keys. Default 0o644 (before umask). */
  mode?: number;
  /** Refuse (throw EEXIST) if the target already exists, instead of replacing it. */
  exclusive?: boolean;
}

/**
 * Writes `data` to `path` atomically.
 *
 * @param path target file path
 * @param data bytes or UTF-8 text
 * @throws the underlying fs error (e.g. ENOENT for a missing directory, EEXIST with `exclusive`);
 *   the temp file is removed on failure
 */
export function atomicWriteFile(
  path: string,
  data: Uint8Array | string,
  opts: AtomicWriteOptions = {},
): void {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  // Web Crypto's CSPRNG: node:crypto costs ~2 ms to load in the binary, and this runs on every lock.
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  const tmp = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  const fd = openSync(tmp, "wx", opts.mode ?? 0o644);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    if (opts.exclusive) {
      // link() fails with EEXIST if the target exists, so two writers cannot both "create" it.
      linkSync(tmp, path);
      unlinkSync(tmp);
    } else {
      renameSync(tmp, path);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch { /* already gone */ }
    throw err;
  }
}
