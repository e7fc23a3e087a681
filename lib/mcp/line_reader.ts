/**
 * Bounded newline-delimited JSON framing (MCP stdio transport: "messages are delimited by newlines").
 *
 * A line longer than the cap is dropped whole (its bytes are discarded up to the next newline) and
 * reported once, so a hostile peer cannot make us buffer without limit and the stream stays in sync.
 * A trailing CR is stripped. Lines are delivered as byte views; a line that lies within one chunk is
 * delivered without copying.
 *
 * @module
 */

/** Default line cap: 10 MiB, the Go MCPTrust's MaxNDJSONLineSize (reference §5.2). */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/** Callbacks of a {@link LineReader}. */
export interface LineHandlers {
  /** A complete line without its newline (and without a trailing CR). The view is valid only during the call. */
  onLine(line: Uint8Array): void;
  /** A line exceeded the cap; `bytes` is how many bytes of it were seen before it was cut. */
  onOversize?(bytes: number): void;
}

const NL = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines of at most `maxBytes` bytes (content, excluding the newline).
 *
 * @example
 * const r = new LineReader({ onLine: (l) => console.log(new TextDecoder().decode(l)) });
 * r.push(new TextEncoder().encode('{"a":1}\n{"b"'));
 * r.push(new TextEncoder().encode(':2}\n'));
 */
export class LineReader {
  readonly #handlers: LineHandlers;
  readonly #max: number;
  #parts: Uint8Array[] = [];
  #partLen = 0;
  #skipping = false; // inside an oversize line: discard until newline
  #skipped = 0;

  constructor(handlers: LineHandlers, maxBytes: number = MAX_LINE_BYTES) {
    this.#handlers = handlers;
    this.#max = maxBytes;
  }

  /** Feeds a chunk; calls onLine for each complete line in it. */
  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.#skipping) {
        this.#skipped += end - start;
        if (nl !== -1) {
          this.#skipping = false;
          this.#handlers.onOversize?.(this.#skipped);
          this.#skipped = 0;
        }
      } else if (nl === -1) {
        this.#append(chunk.subarray(start, end));
      } else if (this.#partLen === 0) {
        if (end - start > this.#max) this.#handlers.onOversize?.(end - start);
        else this.#emit(chunk.subarray(start, end));
      } else {
        this.#append(chunk.subarray(start, end));
        if (!this.#skipping) {
          const line = this.#take();
          this.#emit(line);
        } else {
          this.#skipping = false;
          this.#handlers.onOversize?.(this.#skipped);
          this.#skipped = 0;
        }
      }
      start = end + 1;
    }
  }

  /** Ends the stream: a final unterminated line is delivered (or reported as oversize). */
  end(): void {
    if (this.#skipping) {
      this.#skipping = false;
      this.#handlers.onOversize?.(this.#skipped);
    } else if (this.#partLen > 0) {
      this.#emit(this.#take());
    }
    this.#parts = [];
    this.#partLen = 0;
  }

  #append(piece: Uint8Array): void {
    if (this.#partLen + piece.length > this.#max) {
      this.#skipping = true;
      this.#skipped = this.#partLen + piece.length;
      this.#parts = [];
      this.#partLen = 0;
      return;
    }
    // Copy: the caller may reuse the chunk's memory after push() returns.
    this.#parts.push(piece.slice());
    this.#partLen += piece.length;
  }

  #take(): Uint8Array {
    const line = this.#parts.length === 1 ? this.#parts[0] : concat(this.#parts, this.#partLen);
    this.#parts = [];
    this.#partLen = 0;
    return line;
  }

  #emit(line: Uint8Array): void {
    const n = line.length;
    this.#handlers.onLine(n > 0 && line[n - 1] === CR ? line.subarray(0, n - 1) : line);
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
