/**
 * Bounded newline-delimited JSON framing (MCP stdio transport: "messages are delimited by newlines"),
 * over decoded text: the stream decodes each chunk once (`setEncoding("utf8")`, which also joins UTF-8
 * sequences split across chunks), and lines are cut from the text with `indexOf`, so no line is copied
 * into bytes and decoded again (the proxy's per-message path and the scans share this reader).
 *
 * The cap is in UTF-8 bytes: a line longer than the cap is dropped whole (up to the next newline) and
 * reported once, so a hostile peer cannot make us buffer without limit and the stream stays in sync.
 * The exact byte length is only computed for lines long enough to matter (a UTF-16 code unit is at most
 * 3 UTF-8 bytes, and at least 1). A trailing CR is stripped.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** Default line cap: 10 MiB, the Go MCPTrust's MaxNDJSONLineSize (reference §5.2). */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/** Callbacks of a {@link LineReader}. */
export interface LineHandlers {
  /** A complete line without its newline (and without a trailing CR). */
  onLine(line: string): void;
  /** A line exceeded the cap; `bytes` is (at least) how many UTF-8 bytes of it were seen. */
  onOversize?(bytes: number): void;
}

/**
 * Splits decoded text into lines of at most `maxBytes` UTF-8 bytes (content, excluding the newline).
 *
 * @example
 * const r = new LineReader({ onLine: (l) => console.log(l) });
 * r.push('{"a":1}\n{"b"');
 * r.push(':2}\n');
 */
export class LineReader {
  readonly #handlers: LineHandlers;
  readonly #max: number;
  #parts: string[] = [];
  #partLen = 0; // UTF-16 code units buffered
  #skipping = false; // inside an oversize line: discard until newline
  #skipped = 0;

  constructor(handlers: LineHandlers, maxBytes: number = MAX_LINE_BYTES) {
    this.#handlers = handlers;
    this.#max = maxBytes;
  }

  /** Feeds a chunk of text; calls onLine for each complete line in it. */
  push(chunk: string): void {
    let start = 0;
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf("\n", start);
      const end = nl === -1 ? n : nl;
      if (this.#skipping) {
        this.#skipped += end - start;
        if (nl !== -1) this.#endSkip();
      } else if (nl === -1) {
        this.#append(chunk.slice(start, end));
      } else if (this.#partLen === 0) {
        this.#emit(start === 0 && end === n ? chunk : chunk.slice(start, end));
      } else {
        this.#append(chunk.slice(start, end));
        if (this.#skipping) this.#endSkip();
        else this.#emit(this.#take());
      }
      start = end + 1;
    }
  }

  /** Ends the stream: a final unterminated line is delivered (or reported as oversize). */
  end(): void {
    if (this.#skipping) this.#endSkip();
    else if (this.#partLen > 0) this.#emit(this.#take());
    this.#parts = [];
    this.#partLen = 0;
  }

  #endSkip(): void {
    this.#skipping = false;
    this.#handlers.onOversize?.(this.#skipped);
    this.#skipped = 0;
  }

  #append(piece: string): void {
    // Code units never outnumber UTF-8 bytes, so over the cap in units is over the cap in bytes.
    if (this.#partLen + piece.length > this.#max) {
      this.#skipping = true;
      this.#skipped = this.#partLen + piece.length;
      this.#parts = [];
      this.#partLen = 0;
      return;
    }
    this.#parts.push(piece);
    this.#partLen += piece.length;
  }

  #take(): string {
    const line = this.#parts.length === 1 ? this.#parts[0] : this.#parts.join("");
    this.#parts = [];
    this.#partLen = 0;
    return line;
  }

  #emit(line: string): void {
    const n = line.length;
    // Only a line of more than max/3 code units can be over the cap in bytes.
    if (n * 3 > this.#max) {
      const bytes = Buffer.byteLength(line, "utf8");
      if (bytes > this.#max) {
        this.#handlers.onOversize?.(bytes);
        return;
      }
    }
    this.#handlers.onLine(n > 0 && line.charCodeAt(n - 1) === 0x0d ? line.slice(0, n - 1) : line);
  }
}
