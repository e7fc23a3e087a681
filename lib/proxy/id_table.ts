/**
 * Request-id translation with a bounded, expiring table (reference §5.3; design "Protocol invariants").
 *
 * Every request forwarded across the proxy gets a fresh, unguessable id; the original id is kept here
 * and restored on the matching response. So a peer never sees the other side's ids, and a response
 * is only delivered if it answers a request that is still pending: unknown, duplicate and late
 * responses find no entry and are dropped.
 *
 * @module
 */
import type { JsonRpcId } from "../mcp/jsonrpc.ts";

/** One pending request. */
export interface PendingEntry<M = unknown> {
  /** The id the sender used, restored on the response. */
  originalId: JsonRpcId;
  /** The request's method (decides how the response is handled). */
  method: string;
  /** Absolute expiry time (ms since epoch). */
  expiresAt: number;
  /** Whatever the owner needs to handle the response. */
  meta?: M;
}

/** Thrown when the table is full: the caller answers -32002 MCPTRUST_OVERLOADED. */
export class TableFullError extends Error {
  constructor(max: number) {
    super(`pending-request table is full (${max} requests waiting for an answer)`);
    this.name = "TableFullError";
  }
}

/** Two hex digits for each byte value. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/**
 * Random bytes drawn from the platform CSPRNG (crypto.getRandomValues) 4 KiB at a time: one syscall-
 * backed draw serves 256 ids. Each byte is used once. If the RNG throws, the error propagates and the
 * caller denies the request (fail closed).
 */
export class RandomPool {
  readonly #buf = new Uint8Array(4096);
  #pos = this.#buf.length;

  take16(): Uint8Array {
    if (this.#pos + 16 > this.#buf.length) {
      crypto.getRandomValues(this.#buf);
      this.#pos = 0;
    }
    const out = this.#buf.subarray(this.#pos, this.#pos + 16);
    this.#pos += 16;
    return out;
  }
}

/** A fresh id: prefix + 128 random bits (16 bytes, by default from a new CSPRNG draw), as 32 hex digits. */
export function freshId(prefix: string, bytes: Uint8Array = new RandomPool().take16()): string {
  let s = prefix;
  for (let i = 0; i < 16; i++) s += HEX_BYTE[bytes[i]];
  return s;
}

/**
 * A bounded map from proxy-issued ids to pending requests, with expiry.
 *
 * @example
 * const t = new IdTable("mcpt-", { max: 1024, ttlMs: 300_000 });
 * const proxyId = t.add(hostId, "tools/call");
 * const entry = t.take(proxyId); // undefined if unknown, duplicate or expired
 */
export class IdTable<M = unknown> {
  readonly #prefix: string;
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, PendingEntry<M>>();
  readonly #pool = new RandomPool();
  /** Ids in this table carry this prefix, so a foreign id is rejected without a lookup. */
  get prefix(): string {
    return this.#prefix;
  }

  constructor(prefix: string, opts: { max: number; ttlMs: number }) {
    this.#prefix = prefix;
    this.#max = opts.max;
    this.#ttlMs = opts.ttlMs;
  }

  /** Number of pending entries. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Registers a request and returns the id to forward it with.
   *
   * @param ttlMs this entry's lifetime, default the table's; `Infinity` for a request answered only when
   *   it ends (subscriptions/listen), which still counts against `max`
   * @throws {TableFullError} when `max` entries are pending
   * @throws whatever the RNG throws (the caller must deny)
   */
  add(
    originalId: JsonRpcId,
    method: string,
    meta?: M,
    now: number = Date.now(),
    ttlMs = this.#ttlMs,
  ): string {
    if (this.#entries.size >= this.#max) throw new TableFullError(this.#max);
    let id = freshId(this.#prefix, this.#pool.take16());
    // 128 random bits do not collide in practice; the loop makes it a guarantee.
    while (this.#entries.has(id)) id = freshId(this.#prefix, this.#pool.take16());
    this.#entries.set(id, { originalId, method, expiresAt: now + ttlMs, meta });
    return id;
  }

  /** Removes and returns the entry for `id`, or undefined if there is none (unknown or already answered). */
  take(id: unknown): PendingEntry<M> | undefined {
    if (typeof id !== "string") return undefined;
    const e = this.#entries.get(id);
    if (e) this.#entries.delete(id);
    return e;
  }

  /** The entry for `id` without removing it. */
  peek(id: string): PendingEntry<M> | undefined {
    return this.#entries.get(id);
  }

  /** Finds the proxy id of a pending request by its original id (for notifications/cancelled). */
  findByOriginal(originalId: JsonRpcId): string | undefined {
    for (const [id, e] of this.#entries) if (e.originalId === originalId) return id;
    return undefined;
  }

  /** Removes and returns every entry that expired at `now`. */
  expire(now: number = Date.now()): [string, PendingEntry<M>][] {
    const out: [string, PendingEntry<M>][] = [];
    for (const [id, e] of this.#entries) {
      if (e.expiresAt <= now) {
        out.push([id, e]);
        this.#entries.delete(id);
      }
    }
    return out;
  }

  /** Removes and returns every entry (on shutdown). */
  drain(): [string, PendingEntry<M>][] {
    const out = [...this.#entries];
    this.#entries.clear();
    return out;
  }
}
