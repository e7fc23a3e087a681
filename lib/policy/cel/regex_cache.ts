/**
 * A compiled-regex cache for CEL's `matches()`. `@bufbuild/cel` recompiles the pattern on every call by
 * default; it accepts a replacement RE2 engine (`celEnv({ re2 })`), which is how this cache is plugged in.
 * Patterns are compiled with `@bufbuild/re2` (RE2 syntax, linear-time matching: no catastrophic
 * backtracking), the same engine `@bufbuild/cel` uses.
 *
 * Patterns written in rules are compiled when the policy loads (a pattern RE2 rejects is a load error) and
 * pinned; patterns that only appear at run time (taken from the input) go through a bounded LRU.
 *
 * @module
 */
import { RE2JS } from "@bufbuild/re2";

/** What `@bufbuild/cel`'s `re2` option expects of a compiled pattern. */
export interface Matcher {
  test(text: string): boolean;
}

/** The default number of run-time patterns kept. */
export const DEFAULT_REGEX_CACHE_SIZE = 256;

/** Compiled RE2 patterns: pinned (from rule text) plus an LRU of run-time patterns. */
export class RegexCache {
  readonly #pinned = new Map<string, Matcher>();
  readonly #lru = new Map<string, Matcher>();
  readonly #max: number;
  /** Number of compilations performed (for tests and benchmarks). */
  compiles = 0;

  /** @param maxEntries how many run-time patterns to keep (pinned patterns do not count) */
  constructor(maxEntries = DEFAULT_REGEX_CACHE_SIZE) {
    this.#max = Math.max(1, maxEntries);
  }

  /**
   * Compiles `pattern` and keeps it for the life of the cache (rule literals).
   *
   * @throws {Error} with RE2's reason if the pattern is not valid RE2 (lookaround, backreferences, ...)
   */
  pin(pattern: string): Matcher {
    const hit = this.#pinned.get(pattern);
    if (hit) return hit;
    const m = this.#compile(pattern);
    this.#pinned.set(pattern, m);
    this.#lru.delete(pattern);
    return m;
  }

  /**
   * Returns the compiled `pattern`, compiling it on first use. Used by `matches()` at run time.
   *
   * @throws {Error} if the pattern is not valid RE2 (the CEL call then yields an error, failing the rule)
   */
  compile(pattern: string): Matcher {
    const pinned = this.#pinned.get(pattern);
    if (pinned) return pinned;
    const hit = this.#lru.get(pattern);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order.
      this.#lru.delete(pattern);
      this.#lru.set(pattern, hit);
      return hit;
    }
    const m = this.#compile(pattern);
    this.#lru.set(pattern, m);
    if (this.#lru.size > this.#max) this.#lru.delete(this.#lru.keys().next().value as string);
    return m;
  }

  #compile(pattern: string): Matcher {
    this.compiles++;
    const re = RE2JS.compile(pattern);
    // CEL matches() is a partial match (RE2 "find"), as in cel-go; RE2JS.test is that.
    return { test: (text: string) => re.test(text) };
  }
}
