/**
 * Bounded reads of the files the trust chain consumes (keys, lockfiles, .sig files, bundles), with
 * errors that name the file and say what to do.
 *
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { McpTrustError } from "../errors.ts";

/**
 * Reads a whole regular file, refusing anything larger than `maxBytes`.
 *
 * @param path file path as the user gave it (used verbatim in messages)
 * @param what what the file is, for messages: "public key", "lockfile", "signature", ...
 * @param maxBytes size cap in bytes; a larger file is refused before it is read
 * @param hint next step to suggest when the file does not exist
 * @returns the file's bytes
 * @throws {McpTrustError} exit 2: missing, unreadable, not a regular file, or over `maxBytes`
 */
export function readInputFile(path: string, what: string, maxBytes: number, hint?: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw ioError(err, path, what, hint);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new McpTrustError(`cannot read ${what} ${path}: not a regular file`, { hint });
    if (st.size > maxBytes) {
      throw new McpTrustError(
        `cannot read ${what} ${path}: ${st.size} bytes is over the ${maxBytes}-byte limit for a ${what}`,
        { hint: `check that ${path} is the right file` },
      );
    }
    // Read up to maxBytes + 1 so a file that grows while we read is still caught.
    const buf = new Uint8Array(Math.min(maxBytes + 1, Math.max(st.size, 0) + 1));
    let off = 0;
    for (;;) {
      if (off === buf.length) break;
      const n = readSync(fd, buf, off, buf.length - off, null);
      if (n === 0) break;
      off += n;
    }
    if (off > maxBytes || off > st.size) {
      throw new McpTrustError(`cannot read ${what} ${path}: the file changed while it was being read`, {
        hint: "run the command again once nothing is writing to the file",
      });
    }
    return buf.subarray(0, off);
  } catch (err) {
    if (err instanceof McpTrustError) throw err;
    throw ioError(err, path, what, hint);
  } finally {
    closeSync(fd);
  }
}

function ioError(err: unknown, path: string, what: string, hint?: string): McpTrustError {
  const code = (err as { code?: string }).code;
  const reason = code === "ENOENT"
    ? "no such file"
    : code === "EACCES" || code === "EPERM"
    ? "permission denied"
    : code === "EISDIR"
    ? "it is a directory"
    : (err as Error).message;
  return new McpTrustError(`cannot read ${what} ${path}: ${reason}`, {
    hint: code === "ENOENT" ? hint : undefined,
    cause: err,
  });
}

/**
 * Decodes UTF-8 text strictly: invalid sequences are an error, not U+FFFD, and a byte-order mark is
 * kept (so JSON.parse rejects it, as Go's encoding/json does).
 *
 * @throws {McpTrustError} exit 2 naming `path` when the bytes are not valid UTF-8
 */
export function decodeUtf8(bytes: Uint8Array, path: string, what: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new McpTrustError(`${what} ${path} is not valid UTF-8 text`, {
      hint: `check that ${path} is the right file and was not damaged in transfer`,
    });
  }
}
