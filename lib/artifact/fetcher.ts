/**
 * The hardened HTTPS fetcher. Every network read of the supply-chain code (packuments, tarballs,
 * attestations, registry keys) goes through {@link fetchHardened}, so the rules below hold everywhere:
 *
 * - HTTPS only. `http:` URLs, URLs with credentials and https->http redirects are refused.
 * - At most 5 redirects (`maxRedirects`); each hop is validated again from scratch.
 * - SSRF guard: a host name is resolved once (`node:dns` `lookup({all:true})`), every address is
 *   classified ({@link classifyAddress}), and the socket is opened through a custom `lookup` that only
 *   returns those checked addresses, so a second DNS answer (DNS rebinding) never reaches `connect`.
 *   TLS SNI, certificate verification and the Host header keep the name. Loopback, private,
 *   link-local, CGNAT, unique-local, multicast, unspecified, reserved, documentation, benchmarking and
 *   tunnel ranges are refused unless the host is named exactly in `allowHosts` (an internal registry;
 *   `onWarning` then receives a line for the caller to print).
 * - Size cap (default 200 MiB): a Content-Length over the cap is refused before the body is read, and
 *   the bytes are counted while streaming; a body shorter than its Content-Length is refused.
 * - Total and idle timeouts; `Accept-Encoding: identity`, so the bytes hashed are the bytes served.
 * - Secrets: `authToken` is sent as `Authorization: Bearer` only while the redirect chain stays on the
 *   host it was given for; it is dropped for good on the first hop to another host (npm's rule in
 *   npm-registry-fetch). Tokens and URL query strings never appear in errors or warnings.
 * - No proxy: `HTTPS_PROXY` is ignored, because a proxy would connect to addresses we never checked.
 *
 * Every refusal is a {@link FetchError} (an McpTrustError, exit 2) saying what was refused, why, and
 * what to do. Integrity failures on the bytes are the caller's CheckFailedError (lib/artifact/integrity).
 *
 * Behaviour follows the Go reference's `netutil/tarball.go` (reference/mcptrust-go.md §6.3) with its
 * gaps closed: all resolved addresses checked, NAT64/6to4/documentation ranges covered, size cap while
 * streaming, and the same client for API calls and tarballs.
 *
 * @module
 */
import https from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { clearTimeout, setTimeout } from "node:timers";
import { McpTrustError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { classifyAddress, isIpLiteral } from "./address.ts";

/** Default size cap for one response body: 200 MiB. */
export const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;
/** Default cap on redirects followed for one fetch. */
export const DEFAULT_MAX_REDIRECTS = 5;
/** Default total timeout for one fetch (all hops and the whole body), in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 300_000;
/** Default idle timeout (no bytes received), in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** One address a host name resolves to. */
export interface ResolvedAddress {
  /** IPv4 dotted quad or IPv6 text. */
  address: string;
  /** 4 or 6. */
  family: 4 | 6;
}

/** Resolves a host name to every address it has. Tests inject one; the default is the system's. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver: `node:dns` `lookup(name, {all: true, verbatim: true})` (getaddrinfo, /etc/hosts). */
export const systemResolver: Resolver = async (hostname) => {
  const found: LookupAddress[] = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** Options for {@link fetchHardened}. All sizes in bytes, all times in milliseconds. */
export interface FetchOptions {
  /** Extra request headers (e.g. `Accept`). Must not carry credentials: use `authToken`. */
  headers?: Readonly<Record<string, string>>;
  /** Registry token, sent as `Authorization: Bearer <token>` to the first URL's host only. */
  authToken?: string;
  /** Body size cap. Default {@link DEFAULT_MAX_BYTES}. */
  maxBytes?: number;
  /** Total timeout. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Idle timeout. Default {@link DEFAULT_IDLE_TIMEOUT_MS}. */
  idleTimeoutMs?: number;
  /** Redirect cap. Default {@link DEFAULT_MAX_REDIRECTS}. */
  maxRedirects?: number;
  /** Host names (or IP literals), matched exactly and case-insensitively, allowed to be non-public. */
  allowHosts?: readonly string[];
  /** Trusted CA certificates (PEM). Replaces the default roots; for tests and private registries. */
  ca?: string | readonly string[];
  /** Name resolution. Default {@link systemResolver}. */
  resolve?: Resolver;
  /** Cancels the fetch. */
  signal?: AbortSignal;
  /** Receives one line per warning (e.g. an allowHosts entry let a private address through). */
  onWarning?: (line: string) => void;
}

/** A response whose status was 200, with its body still to be read. */
export interface HardenedResponse {
  /** The final URL after redirects (may carry a query string: do not print it, use {@link displayUrl}). */
  url: string;
  /** Always 200. */
  status: number;
  /** Response headers, names lowercased, repeated values joined with ", ". */
  headers: Readonly<Record<string, string>>;
  /** The declared Content-Length, if any (already checked against the cap). */
  contentLength?: number;
  /** The remote address the socket connected to (a checked one). */
  remoteAddress?: string;
  /**
   * The body, chunk by chunk; single use. Throws a {@link FetchError} on the cap, a timeout, a reset or
   * a short body. Leaving the loop early releases the connection.
   */
  body: AsyncIterable<Uint8Array>;
  /** Releases the connection without reading the body. */
  cancel(): void;
}

/** The result of {@link fetchBytes}. */
export interface FetchedBytes {
  /** The final URL after redirects. */
  url: string;
  /** Response headers (lowercased names). */
  headers: Readonly<Record<string, string>>;
  /** The whole body. */
  bytes: Uint8Array;
}

/** Base class of every fetcher refusal and failure: an operational error (exit 2). */
export class FetchError extends McpTrustError {
  /** The URL concerned, without query string or fragment. */
  readonly url: string;
  constructor(message: string, url: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts);
    this.name = "FetchError";
    this.url = url;
  }
}

/** The URL itself is refused: not https, carries credentials, or does not parse. */
export class UnsafeUrlError extends FetchError {
  constructor(message: string, url: string, opts: { hint?: string } = {}) {
    super(message, url, opts);
    this.name = "UnsafeUrlError";
  }
}

/** A host is, or resolves to, an address the SSRF guard refuses. */
export class BlockedAddressError extends FetchError {
  /** The host name or literal from the URL. */
  readonly host: string;
  /** The refused address. */
  readonly address: string;
  /** Its range name (see {@link classifyAddress}). */
  readonly range: string;
  constructor(message: string, url: string, host: string, address: string, range: string, hint: string) {
    super(message, url, { hint });
    this.name = "BlockedAddressError";
    this.host = host;
    this.address = address;
    this.range = range;
  }
}

/** A redirect is refused: downgrade to http, too many hops, or no usable Location. */
export class RedirectRefusedError extends FetchError {
  constructor(message: string, url: string, opts: { hint?: string } = {}) {
    super(message, url, opts);
    this.name = "RedirectRefusedError";
  }
}

/** The body is larger than the cap (declared or counted). */
export class ResponseTooLargeError extends FetchError {
  /** The cap, in bytes. */
  readonly maxBytes: number;
  constructor(message: string, url: string, maxBytes: number, hint: string) {
    super(message, url, { hint });
    this.name = "ResponseTooLargeError";
    this.maxBytes = maxBytes;
  }
}

/** The total or idle timeout fired. */
export class FetchTimeoutError extends FetchError {
  constructor(message: string, url: string, hint: string) {
    super(message, url, { hint });
    this.name = "FetchTimeoutError";
  }
}

/** The server answered with a status other than 200 or a followable redirect. */
export class HttpStatusError extends FetchError {
  /** The HTTP status code. */
  readonly status: number;
  constructor(message: string, url: string, status: number, hint: string) {
    super(message, url, { hint });
    this.name = "HttpStatusError";
    this.status = status;
  }
}

/** DNS, connection, TLS or transfer failure (including a body shorter than its Content-Length). */
export class FetchNetworkError extends FetchError {
  /** The system error code, e.g. ENOTFOUND, ECONNREFUSED, or a TLS code. */
  readonly code?: string;
  constructor(message: string, url: string, opts: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, url, opts);
    this.name = "FetchNetworkError";
    this.code = opts.code;
  }
}

/**
 * A URL for messages: origin and path only. Query strings may carry signatures or tokens (pre-signed
 * tarball URLs), so they are replaced by `?…`; fragments and credentials are dropped.
 */
export function displayUrl(url: string | URL): string {
  try {
    const u = typeof url === "string" ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? "?…" : ""}`;
  } catch {
    return "<unparsable URL>";
  }
}

const SENSITIVE_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function hostOf(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

/**
 * Checks a URL before any connection: it parses, is https, has a host and no credentials.
 *
 * @throws UnsafeUrlError
 */
export function validateFetchUrl(url: string | URL): URL {
  let u: URL;
  try {
    u = typeof url === "string" ? new URL(url) : new URL(url.href);
  } catch {
    throw new UnsafeUrlError(`refused to fetch ${JSON.stringify(displayUrl(String(url)))}: not a URL`, "", {
      hint: "give an absolute https:// URL",
    });
  }
  const shown = displayUrl(u);
  if (u.protocol !== "https:") {
    throw new UnsafeUrlError(
      `refused to fetch ${shown}: only https is allowed (got ${u.protocol.replace(/:$/, "")})`,
      shown,
      { hint: "use the registry's https:// URL; plain http lets anyone on the path change the bytes" },
    );
  }
  if (u.username !== "" || u.password !== "") {
    throw new UnsafeUrlError(`refused to fetch ${shown}: the URL carries credentials`, shown, {
      hint: "put registry credentials in .npmrc (//host/:_authToken=...), not in the URL",
    });
  }
  if (hostOf(u) === "") throw new UnsafeUrlError(`refused to fetch ${shown}: no host`, shown);
  return u;
}

/** Per-fetch state shared by every hop: deadline, idle timer, the first failure. */
class Control {
  failure: FetchError | undefined;
  private total: ReturnType<typeof setTimeout> | undefined;
  private idle: ReturnType<typeof setTimeout> | undefined;
  private req: ClientRequest | undefined;
  private onAbort: (() => void) | undefined;
  private rejectFailed: ((err: FetchError) => void) | undefined;
  /** Rejects with the first failure; raced against steps that are not a request (name resolution). */
  readonly failed: Promise<never>;
  shown = "";

  constructor(
    private readonly opts: Required<Pick<FetchOptions, "timeoutMs" | "idleTimeoutMs">> & FetchOptions,
  ) {
    this.failed = new Promise<never>((_, reject) => this.rejectFailed = reject);
    this.failed.catch(() => {});
    this.total = setTimeout(() => {
      this.fail(
        new FetchTimeoutError(
          `fetching ${this.shown} took longer than ${opts.timeoutMs} ms: gave up`,
          this.shown,
          "check the network or the registry; a larger timeout can be configured",
        ),
      );
    }, opts.timeoutMs);
    // A pending socket keeps the process alive by itself; a forgotten response must not.
    this.total.unref();
    if (opts.signal) {
      const signal = opts.signal;
      this.onAbort = () => this.fail(new FetchError(`fetching ${this.shown} was cancelled`, this.shown));
      if (signal.aborted) this.onAbort();
      else signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  attach(req: ClientRequest): void {
    this.req = req;
    if (this.failure) req.destroy(this.failure);
    this.touch();
  }

  /** Restarts the idle timer: bytes (or a connection) arrived. */
  touch(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.fail(
        new FetchTimeoutError(
          `fetching ${this.shown}: no data for ${this.opts.idleTimeoutMs} ms: gave up`,
          this.shown,
          "the server stalled; check the network or the registry, then retry",
        ),
      );
    }, this.opts.idleTimeoutMs);
    this.idle.unref();
  }

  fail(err: FetchError): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.rejectFailed?.(err);
    }
    this.req?.destroy(this.failure);
  }

  done(): void {
    if (this.total !== undefined) clearTimeout(this.total);
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.total = this.idle = undefined;
    if (this.onAbort && this.opts.signal) this.opts.signal.removeEventListener("abort", this.onAbort);
    this.req?.destroy();
  }
}

function blockedHint(host: string): string {
  return `the registry must be a public host; if ${host} is your internal registry, allow it by name ` +
    `(--allow-host ${host})`;
}

/**
 * Resolves `u`'s host and checks every address.
 *
 * @returns the checked addresses, in resolver order
 * @throws BlockedAddressError if any address is not public and the host is not in allowHosts;
 *   FetchNetworkError if resolution fails or returns nothing
 */
async function checkedAddresses(u: URL, opts: FetchOptions): Promise<ResolvedAddress[]> {
  const host = hostOf(u);
  const shown = displayUrl(u);
  const allowed = (opts.allowHosts ?? []).some((h) => h.replace(/^\[(.*)\]$/, "$1").toLowerCase() === host);
  let addrs: ResolvedAddress[];
  if (isIpLiteral(host)) {
    addrs = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  } else {
    try {
      addrs = await (opts.resolve ?? systemResolver)(host);
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new FetchNetworkError(
        `cannot resolve ${host} (for ${shown}): ${code ?? "lookup failed"}`,
        shown,
        {
          code,
          hint: "check the registry URL and that this machine can resolve it",
        },
      );
    }
    if (addrs.length === 0) {
      throw new FetchNetworkError(`cannot resolve ${host} (for ${shown}): no addresses`, shown, {
        hint: "check the registry URL and that this machine can resolve it",
      });
    }
  }
  for (const a of addrs) {
    const c = classifyAddress(a.address);
    if (c.public) continue;
    if (!allowed) {
      const what = a.address === host ? `${host} is` : `${host} resolves to ${a.address}, which is`;
      throw new BlockedAddressError(
        `refused to fetch ${shown}: ${what} a ${c.description} address, not a public one`,
        shown,
        host,
        a.address,
        c.range,
        blockedHint(host),
      );
    }
    opts.onWarning?.(
      `warning: fetching from ${host} at ${c.description} address ${a.address}: allowed by --allow-host`,
    );
  }
  return addrs;
}

function flattenHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

function networkError(err: unknown, shown: string): FetchError {
  if (err instanceof FetchError) return err;
  const code = (err as { code?: string }).code;
  const msg = err instanceof Error ? err.message : String(err);
  const tls = /certificate|self.signed|altname|SSL|TLS|CERT/i.test(`${code ?? ""} ${msg}`);
  return new FetchNetworkError(
    tls ? `TLS verification failed for ${shown}: ${msg}` : `network error fetching ${shown}: ${code ?? msg}`,
    shown,
    {
      code,
      hint: tls
        ? "the server's certificate is not trusted for this name; check the registry URL (or its CA setting)"
        : "check the network and the registry, then retry",
    },
  );
}

/** Sends one GET to `u`, connecting only to `addrs`; resolves with the response headers received. */
function requestOnce(
  u: URL,
  addrs: ResolvedAddress[],
  headers: Record<string, string>,
  opts: FetchOptions,
  ctl: Control,
): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  const host = hostOf(u);
  const literal = isIpLiteral(host);
  return new Promise((resolve, reject) => {
    const lookup = (
      _name: string,
      o: { all?: boolean } | number | undefined,
      cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      if (typeof o === "object" && o?.all) {
        cb(null, addrs.map((a) => ({ address: a.address, family: a.family })));
      } else cb(null, addrs[0].address, addrs[0].family);
    };
    let req: ClientRequest;
    try {
      req = https.request({
        method: "GET",
        protocol: "https:",
        host,
        port: u.port === "" ? 443 : Number(u.port),
        path: `${u.pathname}${u.search}`,
        headers,
        agent: false,
        ca: opts.ca as string | string[] | undefined,
        ...(literal ? {} : { servername: host, lookup: lookup as never }),
      });
    } catch (err) {
      reject(networkError(err, ctl.shown));
      return;
    }
    req.on("error", (err) => reject(ctl.failure ?? networkError(err, ctl.shown)));
    req.on("response", (res) => {
      ctl.touch();
      resolve({ req, res });
    });
    ctl.attach(req);
    req.end();
  });
}

async function* readBody(
  res: IncomingMessage,
  ctl: Control,
  maxBytes: number,
  declared: number | undefined,
  shown: string,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  try {
    try {
      for await (const chunk of res as AsyncIterable<Uint8Array>) {
        if (ctl.failure) throw ctl.failure;
        received += chunk.byteLength;
        if (received > maxBytes) {
          throw new ResponseTooLargeError(
            `refused ${shown}: the body is larger than the ${maxBytes}-byte cap`,
            shown,
            maxBytes,
            "the artifact is larger than allowed; raise the size cap only if you expect a package this big",
          );
        }
        ctl.touch();
        yield chunk;
        ctl.touch();
      }
    } catch (err) {
      throw ctl.failure ?? networkError(err, shown);
    }
    if (ctl.failure) throw ctl.failure;
    if (declared !== undefined && received !== declared) {
      throw new FetchNetworkError(
        `the body of ${shown} ended after ${received} of ${declared} bytes`,
        shown,
        { hint: "the connection was cut; retry" },
      );
    }
  } finally {
    ctl.done();
  }
}

/**
 * GETs `url` under the hardened rules (see the module doc) and returns the 200 response with its body
 * still to be read, so a tarball can be hashed and written while it streams.
 *
 * @param url an https URL
 * @param options caps, timeouts, allowHosts, CA, token, resolver
 * @returns the response; its `body` enforces the size cap and timeouts while it is read
 * @throws UnsafeUrlError, BlockedAddressError, RedirectRefusedError, ResponseTooLargeError (declared
 *   Content-Length), FetchTimeoutError, HttpStatusError, FetchNetworkError: all FetchError, exit 2
 */
export async function fetchHardened(
  url: string | URL,
  options: FetchOptions = {},
): Promise<HardenedResponse> {
  const opts = {
    ...options,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
  };
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  for (const name of Object.keys(options.headers ?? {})) {
    if (SENSITIVE_HEADERS.has(name.toLowerCase())) {
      throw new McpTrustError(`internal: pass credentials as authToken, not as a ${name} header`);
    }
  }
  let current = validateFetchUrl(url);
  const ctl = new Control(opts);
  ctl.shown = displayUrl(current);
  const tokenHost = current.host;
  let tokenActive = options.authToken !== undefined && options.authToken !== "";
  let redirects = 0;
  try {
    for (;;) {
      ctl.shown = displayUrl(current);
      if (ctl.failure) throw ctl.failure;
      const addrs = await Promise.race([checkedAddresses(current, opts), ctl.failed]);
      if (ctl.failure) throw ctl.failure;
      tokenActive = tokenActive && current.host === tokenHost;
      const headers: Record<string, string> = {
        "user-agent": `mcptrust/${VERSION}`,
        accept: "*/*",
        ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        "accept-encoding": "identity",
      };
      if (tokenActive) headers.authorization = `Bearer ${options.authToken}`;
      const { req, res } = await requestOnce(current, addrs, headers, opts, ctl);
      const status = res.statusCode ?? 0;
      const shown = ctl.shown;
      if (REDIRECTS.has(status)) {
        res.resume();
        req.destroy();
        const location = res.headers.location;
        if (typeof location !== "string" || location === "") {
          throw new RedirectRefusedError(`${shown} answered ${status} without a Location`, shown, {
            hint: "the registry is misbehaving; retry later or report it",
          });
        }
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw new RedirectRefusedError(`${shown} redirected to an unparsable Location`, shown);
        }
        if (next.protocol !== "https:") {
          throw new RedirectRefusedError(
            `refused the redirect from ${shown} to ${displayUrl(next)}: it leaves https`,
            shown,
            { hint: "a registry must serve every hop over https; report the redirect to its operator" },
          );
        }
        redirects++;
        if (redirects > maxRedirects) {
          throw new RedirectRefusedError(
            `refused to follow ${shown} further: more than ${maxRedirects} redirects`,
            shown,
            { hint: "the registry redirects in a loop or too deep; check the registry URL" },
          );
        }
        current = validateFetchUrl(next);
        continue;
      }
      if (status !== 200) {
        res.resume();
        req.destroy();
        const why = status === 401 || status === 403
          ? "check the registry token in .npmrc (it is not shown here)"
          : status === 404
          ? "check the package name, version and registry URL"
          : "retry later; if it persists, the registry is failing";
        throw new HttpStatusError(
          `${shown} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""}`,
          shown,
          status,
          why,
        );
      }
      const encoding = res.headers["content-encoding"];
      if (encoding !== undefined && encoding.toLowerCase() !== "identity") {
        res.resume();
        req.destroy();
        throw new FetchNetworkError(
          `refused ${shown}: it was sent with Content-Encoding ${encoding} although identity was asked for`,
          shown,
          { hint: "the bytes hashed must be the bytes served; report this to the registry operator" },
        );
      }
      const lengthHeader = res.headers["content-length"];
      let declared: number | undefined;
      if (lengthHeader !== undefined) {
        if (!/^\d+$/.test(lengthHeader)) {
          res.resume();
          req.destroy();
          throw new FetchNetworkError(`refused ${shown}: malformed Content-Length`, shown);
        }
        declared = Number(lengthHeader);
        if (declared > maxBytes) {
          req.destroy();
          throw new ResponseTooLargeError(
            `refused ${shown}: Content-Length ${declared} is over the ${maxBytes}-byte cap`,
            shown,
            maxBytes,
            "the artifact is larger than allowed; raise the size cap only if you expect a package this big",
          );
        }
      }
      const finalUrl = current.href;
      const body = readBody(res, ctl, maxBytes, declared, shown);
      return {
        url: finalUrl,
        status,
        headers: flattenHeaders(res),
        contentLength: declared,
        remoteAddress: res.socket?.remoteAddress,
        body,
        cancel: () => {
          void body.return(undefined);
          ctl.done();
        },
      };
    }
  } catch (err) {
    ctl.done();
    throw ctl.failure ?? err;
  }
}

/**
 * GETs `url` under the hardened rules and reads the whole body into memory (packuments, attestations,
 * keys; stream tarballs with {@link fetchHardened} instead).
 *
 * @throws every FetchError of {@link fetchHardened}, including ResponseTooLargeError while reading
 */
export async function fetchBytes(url: string | URL, options: FetchOptions = {}): Promise<FetchedBytes> {
  const res = await fetchHardened(url, options);
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body) {
    chunks.push(c);
    n += c.byteLength;
  }
  const bytes = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.byteLength;
  }
  return { url: res.url, headers: res.headers, bytes };
}
