/**
 * `urlHosts(value)`: the hosts of every http(s) URL found in any string inside a JSON-like value (keys
 * included, at any depth), as the WHATWG URL Standard's parser sees them: lowercased, IDNs in punycode,
 * IPv4 in dotted decimal (`http://0x7f.1` is `127.0.0.1`), IPv6 in brackets, one trailing `.` dropped.
 * The one CEL function mcptrust adds to the standard library, so a proxy call rule can allow only some
 * hosts: `urlHosts(args).all(h, h in ["api.example.com"])`.
 *
 * What counts as a URL, conservatively (a host too many denies a call; a host too few lets one through):
 * - a whole string that parses as an absolute http(s) URL (WHATWG drops tabs and newlines anywhere and
 *   spaces at the ends, so `" ht\ntps://evil.example"` counts);
 * - every `http:` or `https:` (any case, anywhere, even inside a word or another URL's query) up to the
 *   next whitespace, quote, backtick, `<` or `>`; `https:evil.example` and `https:\\evil.example` are
 *   URLs to WHATWG, so they count too. Trailing `)]}.,;:!?*` is dropped first (prose and Markdown).
 *   A candidate that does not parse yields the host `""`, which no allowlist holds.
 *
 * Bounded: it walks at most {@link URL_HOSTS_LIMITS}.maxNodes values and parses at most `maxUrls` URLs
 * (more is an error, so the rule fails), and charges the rule's cost meter for every value, every 64
 * characters scanned and every URL parsed.
 *
 * @module
 */
import { isCelList, isCelMap } from "@bufbuild/cel";

/** Bounds of one `urlHosts` call. */
export const URL_HOSTS_LIMITS = {
  /** Values (strings, lists, maps, scalars) visited. */
  maxNodes: 100_000,
  /** URL candidates parsed. */
  maxUrls: 1_000,
} as const;

/** Cost units charged per URL parsed (a parse is worth a few hundred characters scanned). */
export const COST_PER_URL = 8;

const CANDIDATE = /https?:/gi;
/** A string whose first character after C0 controls and spaces is an "h": it may parse as a whole. */
// deno-lint-ignore no-control-regex
const LEADING_H = /^[\x00-\x20]*h/i;
/** Ends a URL candidate inside text. */
const DELIMITER = /[\s"'`<>]/;
/** Characters of one URL candidate parsed (its host comes first; a longer one is cut, and a host cut
 * short does not parse, which yields ""). */
const MAX_URL_CHARS = 8192;
/** Punctuation that ends a sentence or a Markdown link rather than the URL. */
const TRAILING = new Set(")]}.,;:!?*");

/** `s` without trailing {@link TRAILING} punctuation (a loop: a regex `[...]+$` can be quadratic). */
function trimTrailing(s: string): string {
  let end = s.length;
  while (end > 0 && TRAILING.has(s[end - 1])) end--;
  return s.slice(0, end);
}

type UrlParser = (s: string) => URL | null;
const parseUrl: UrlParser = typeof (URL as { parse?: UrlParser }).parse === "function"
  ? (s) => (URL as unknown as { parse: UrlParser }).parse(s)
  : (s) => {
    try {
      return new URL(s);
    } catch {
      return null;
    }
  };

/**
 * Lists the hosts (module note).
 *
 * @param value a CEL value (list, map, string, ...) or plain JSON (arrays, objects, Maps)
 * @param charge called with cost units as the walk goes; may throw to stop it (the cost limit)
 * @returns distinct hosts in the order found
 * @throws {Error} over {@link URL_HOSTS_LIMITS}
 */
export function urlHosts(value: unknown, charge: (units: number) => void = () => {}): string[] {
  const hosts = new Set<string>();
  let nodes = 0;
  let urls = 0;
  /** The host of `candidate` if it parses as an http(s) URL. */
  const hostOf = (candidate: string): string | undefined => {
    if (++urls > URL_HOSTS_LIMITS.maxUrls) {
      throw new Error(`urlHosts: more than ${URL_HOSTS_LIMITS.maxUrls} URLs`);
    }
    charge(COST_PER_URL);
    const u = parseUrl(candidate);
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) return undefined;
    return u.hostname.endsWith(".") ? u.hostname.slice(0, -1) : u.hostname;
  };
  const whole = (s: string): void => {
    const h = hostOf(s);
    if (h !== undefined) hosts.add(h);
  };
  const scan = (s: string): void => {
    charge(Math.ceil(s.length / 64));
    CANDIDATE.lastIndex = 0;
    if (!CANDIDATE.test(s)) {
      // No "http:"/"https:" as such, but WHATWG drops tabs and newlines: "ht\ntps://x" is a URL.
      if (/[\t\n\r]/.test(s) && /h[\t\n\r]*t[\t\n\r]*t[\t\n\r]*p/i.test(s)) whole(s);
      return;
    }
    CANDIDATE.lastIndex = 0;
    let first = true;
    for (let m = CANDIDATE.exec(s); m !== null; m = CANDIDATE.exec(s)) {
      const window = s.slice(m.index, m.index + MAX_URL_CHARS);
      const stop = window.slice(m[0].length).search(DELIMITER);
      const candidate = stop === -1 ? window : window.slice(0, m[0].length + stop);
      if (first) {
        first = false;
        // The whole string, as a server passing it to `new URL()` would see it (WHATWG drops leading
        // C0 controls and spaces, and tabs and newlines anywhere): only a string that starts with the
        // scheme can parse, and one that is exactly this candidate is parsed below.
        if (candidate !== s && LEADING_H.test(s)) whole(s);
      }
      charge(Math.ceil(candidate.length / 64));
      if (candidate.length === m[0].length) continue; // "https:" alone names no host
      // Trailing punctuation first goes (WHATWG would keep a ")" in a host), then, if that does not
      // parse, stays (an IPv6 host ends with "]").
      const trimmed = trimTrailing(candidate);
      let h = trimmed.length > m[0].length ? hostOf(trimmed) : undefined;
      if (h === undefined && trimmed !== candidate) h = hostOf(candidate);
      hosts.add(h ?? "");
    }
  };
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (++nodes > URL_HOSTS_LIMITS.maxNodes) {
      throw new Error(`urlHosts: more than ${URL_HOSTS_LIMITS.maxNodes} values`);
    }
    charge(1);
    if (typeof v === "string") scan(v);
    else if (typeof v !== "object" || v === null) continue;
    else if (isCelList(v) || Array.isArray(v)) { for (const x of v as Iterable<unknown>) stack.push(x); }
    else if (isCelMap(v) || v instanceof Map) {
      for (const [k, x] of v as Iterable<[unknown, unknown]>) stack.push(k, x);
    } else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
      for (const [k, x] of Object.entries(v)) stack.push(k, x);
    }
  }
  return [...hosts];
}
