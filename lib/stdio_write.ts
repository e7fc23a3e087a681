/**
 * Synchronous writes to stdout and stderr that do not construct `process.stdout` / `process.stderr`.
 *
 * Why: in a Bun-compiled binary the first touch of `process.stdout` or `process.stderr` builds a Node
 * stream (and loads the tty and stream modules), about 3 ms, as long as the whole bare runtime start.
 * `mcptrust --version`, `--help` and usage errors print a line or a page and exit, so they write to the
 * file descriptor directly (see scripts/bench_startup.ts).
 *
 * Only for output written before any command has run (commander's help, version and usage errors): a
 * direct write could overtake text a stream still holds in its buffer.
 *
 * @module
 */
import { fstatSync, writeSync } from "node:fs";
import process from "node:process";

const encoder = new TextEncoder();

function writeFd(fd: 1 | 2, text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EPIPE") return; // the reader is gone (`mcptrust --help | head -1`): nothing to tell
    if (code !== "EAGAIN") throw err;
    // A full non-blocking pipe: the stream queues the rest and writes it when the reader catches up.
    (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(off));
  }
}

/**
 * Writes `text` (UTF-8) to stdout now; a full pipe's rest goes through `process.stdout`, a closed one is
 * ignored.
 *
 * @throws the write error, other than EAGAIN and EPIPE
 */
export function writeStdout(text: string): void {
  writeFd(1, text);
}

/** As {@link writeStdout}, to stderr. */
export function writeStderr(text: string): void {
  writeFd(2, text);
}

/**
 * Whether `fd` may be a terminal: a character device (a tty, or /dev/null). Pipes and files are not, so
 * callers can skip `process.stdout.isTTY` (and the stream it builds) for them.
 */
export function mayBeTerminal(fd: 1 | 2): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false; // closed
  }
}
