/**
 * A bounded Server-Sent Events parser (WHATWG HTML "Server-sent events: Interpreting an event stream"),
 * for the Streamable HTTP and the old HTTP+SSE transports.
 *
 * Lines end with CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are one
 * line end); a leading BOM is dropped; `:` lines are comments; a field's value loses one leading space;
 * `data` lines are joined with LF; `id` sets the last event id (unless it contains NUL) and persists
 * across events; a blank line dispatches the event (type `message` unless `event` named one), but only
 * if it has data; an unterminated event at the end of the stream is discarded.
 *
 * An event whose data (plus the line being read) passes the cap is dropped whole up to its blank line and
 * reported once, as the line readers do for stdio, so a hostile server cannot make us buffer without limit.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { MAX_LINE_BYTES } from "../line_reader.ts";

/** One dispatched event. */
export interface SseEvent {
  /** The event type: `message` unless the stream named another. */
  event: string;
  /** The data lines joined with LF. */
  data: string;
  /** The last event id seen on the stream so far (it persists across events), or undefined. */
  id: string | undefined;
}

/** Callbacks of an {@link SseParser}. */
export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** An event passed the cap and was dropped; `bytes` is (at least) how many UTF-8 bytes of it were seen. */
  onOversize?(bytes: number): void;
}

const LINE_END = /[\r\n]/g;

/**
 * Incremental SSE parser over decoded text.
 *
 * @example
 * const p = new SseParser({ onEvent: (e) => console.log(e.event, e.data) });
 * p.push("event: endpoint\ndata: /message?sessionId=1\n\n");
 */
export class SseParser {
  readonly #h: SseHandlers;
  readonly #max: number;
  /** The line being read (not yet terminated). */
  #line = "";
  #lineBytes = 0;
  #data: string[] = [];
  #bytes = 0; // UTF-8 bytes of the event's data so far
  #type = "";
  #lastId: string | undefined;
  /** Inside an oversize event: lines are dropped until the blank line. */
  #skipping = false;
  /** While skipping: the current line already had content (so its end is not a blank line). */
  #skipLineHasContent = false;
  #skipped = 0;
  #afterCR = false;
  #started = false;

  constructor(handlers: SseHandlers, maxEventBytes: number = MAX_LINE_BYTES) {
    this.#h = handlers;
    this.#max = maxEventBytes;
  }

  /** The last event id seen (for a `Last-Event-ID` header on reconnection). */
  get lastEventId(): string | undefined {
    return this.#lastId;
  }

  /** Feeds decoded text. */
  push(chunk: string): void {
    let start = 0;
    if (!this.#started && chunk.length > 0) {
      this.#started = true;
      if (chunk.charCodeAt(0) === 0xfeff) start = 1;
    }
    if (this.#afterCR && start < chunk.length) {
      if (chunk.charCodeAt(start) === 0x0a) start++;
      this.#afterCR = false;
    }
    LINE_END.lastIndex = start;
    for (;;) {
      const m = LINE_END.exec(chunk);
      if (!m) break;
      const end = m.index;
      this.#append(chunk, start, end);
      this.#endLine();
      start = end + 1;
      if (chunk.charCodeAt(end) === 0x0d) {
        if (start < chunk.length) {
          if (chunk.charCodeAt(start) === 0x0a) start++;
        } else this.#afterCR = true;
      }
      LINE_END.lastIndex = start;
    }
    this.#append(chunk, start, chunk.length);
  }

  /** Ends the stream: an event without its blank line is discarded (an oversize one is still reported). */
  end(): void {
    if (this.#skipping) this.#h.onOversize?.(this.#skipped);
    this.#reset();
    this.#line = "";
    this.#lineBytes = 0;
  }

  #append(chunk: string, from: number, to: number): void {
    if (from >= to) return;
    const piece = chunk.slice(from, to);
    if (this.#skipping) {
      this.#skipLineHasContent = true;
      this.#skipped += piece.length;
      return;
    }
    this.#line += piece;
    this.#lineBytes += Buffer.byteLength(piece, "utf8");
    if (this.#bytes + this.#lineBytes > this.#max) {
      this.#startSkip(this.#bytes + this.#lineBytes);
      this.#skipLineHasContent = true;
    }
  }

  #startSkip(seen: number): void {
    this.#skipping = true;
    this.#skipped = seen;
    this.#data = [];
    this.#bytes = 0;
    this.#line = "";
    this.#lineBytes = 0;
  }

  #endLine(): void {
    if (this.#skipping) {
      if (this.#skipLineHasContent) {
        this.#skipLineHasContent = false;
        this.#skipped++;
        return;
      }
      // The blank line that ends the oversize event.
      this.#h.onOversize?.(this.#skipped);
      this.#reset();
      return;
    }
    const line = this.#line;
    this.#line = "";
    this.#lineBytes = 0;
    if (line === "") return this.#dispatch();
    if (line.charCodeAt(0) === 0x3a) return; // ":" comment
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case "event":
        this.#type = value;
        break;
      case "data":
        this.#data.push(value);
        this.#bytes += Buffer.byteLength(value, "utf8") + 1;
        if (this.#bytes > this.#max) this.#startSkip(this.#bytes);
        break;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        break;
      default:
        // "retry" and unknown fields: nothing to do for us.
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const type = this.#type;
    this.#reset();
    if (data.length === 0) return;
    this.#h.onEvent({ event: type === "" ? "message" : type, data: data.join("\n"), id: this.#lastId });
  }

  #reset(): void {
    this.#data = [];
    this.#bytes = 0;
    this.#type = "";
    this.#skipping = false;
    this.#skipLineHasContent = false;
    this.#skipped = 0;
  }
}
