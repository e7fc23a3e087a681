/**
 * A remote MCP server's address and credentials, checked before anything is sent: `--url`, `--header`
 * and `--bearer-token-env` become an {@link HttpTarget}.
 *
 * Secrets never leave this module in clear text except as request headers: the URL stored in a lockfile
 * and shown in messages ({@link HttpTarget.display}) has no userinfo, query or fragment, and every error
 * text that may echo a request passes through {@link redact}.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import ipaddr from "ipaddr.js";
import { McpTrustError } from "../../errors.ts";

/** A checked remote server address with the headers to send on every request. */
export interface HttpTarget {
  /** The URL requests go to: the given one without userinfo and fragment (the query is kept). */
  url: URL;
  /** Extra request headers (lower-case names): --header values, Authorization from --bearer-token-env or userinfo. */
  headers: Record<string, string>;
  /** Texts that must never appear in output: header values, token, userinfo, query values. */
  secrets: string[];
  /**
   * scheme://host[:port]/path, without userinfo, query or fragment: safe to print, and what a lockfile
   * records as `server.url`.
   */
  display: string;
}

/** What the CLI gives {@link parseHttpTarget}. */
export interface HttpTargetInput {
  url: string;
  /** `Name: value` strings, as given to --header. */
  headers?: readonly string[];
  /** Name of an environment variable holding a bearer token. */
  bearerTokenEnv?: string;
  /** Allow http:// to a host that is not loopback. */
  allowInsecureHttp?: boolean;
  /** Environment to read the token from. Default: process.env. */
  env?: Record<string, string | undefined>;
}

/**
 * Headers the transport sets itself (MCP spec 2025-06-18 "Transports: Streamable HTTP"): a user value
 * would break the session or the framing.
 */
const MANAGED_HEADERS = new Set([
  "accept",
  "content-type",
  "content-length",
  "transfer-encoding",
  "connection",
  "host",
  "mcp-session-id",
  "mcp-protocol-version",
  "last-event-id",
]);

/** RFC 9110 §5.6.2 token: the characters a header name may use. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Checks the URL, headers and token and builds the target.
 *
 * Refuses (exit 2) a URL that is not http(s), http to a host that is not loopback unless
 * `allowInsecureHttp`, a malformed header, a header the transport manages, a header given twice, and a
 * token variable that is unset or empty. Messages name the header or variable, never its value.
 *
 * @throws {McpTrustError} (exit 2) naming what is wrong
 */
export function parseHttpTarget(input: HttpTargetInput): HttpTarget {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new McpTrustError("--url is not a valid URL", {
      hint: "give the server's full address, e.g. --url https://mcp.example.com/mcp",
    });
  }
  const secrets: string[] = [];
  const addSecret = (s: string) => {
    if (s.length >= 4 && !secrets.includes(s)) secrets.push(s);
  };
  const display = `${url.protocol}//${url.host}${url.pathname}`;
  if (input.url !== display) addSecret(input.url);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new McpTrustError(`--url must be an http or https URL, not ${url.protocol.replace(/:$/, "")}`, {
      hint: "Streamable HTTP servers are reached over https (or http on this machine)",
    });
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname) && !input.allowInsecureHttp) {
    throw new McpTrustError(
      `refusing plain http to ${url.host}: only loopback hosts may be reached without TLS`,
      {
        hint: "use https, or pass --allow-insecure-http if the network path is trusted",
      },
    );
  }
  const headers: Record<string, string> = {};
  for (const h of input.headers ?? []) {
    const colon = h.indexOf(":");
    const name = (colon === -1 ? h : h.slice(0, colon)).trim();
    if (colon === -1 || !TOKEN.test(name)) {
      throw new McpTrustError(
        `--header ${JSON.stringify(name.slice(0, 40))} is not of the form "Name: value"`,
        { hint: `e.g. --header "X-Api-Key: ..."` },
      );
    }
    const value = h.slice(colon + 1).trim();
    addSecret(value);
    const key = name.toLowerCase();
    if (/[\r\n\0]/.test(value)) {
      throw new McpTrustError(`--header ${name}: the value contains a line break or NUL`);
    }
    if (MANAGED_HEADERS.has(key)) {
      throw new McpTrustError(`--header ${name} cannot be set: mcptrust manages it for the MCP session`);
    }
    if (key in headers) throw new McpTrustError(`--header ${name} is given twice`);
    headers[key] = value;
  }
  if (input.bearerTokenEnv !== undefined) {
    const envName = input.bearerTokenEnv;
    const token = (input.env ?? process.env)[envName];
    if (token === undefined || token.trim() === "") {
      throw new McpTrustError(`--bearer-token-env: the environment variable ${envName} is not set or empty`, {
        hint: `export ${envName} with the token, or drop --bearer-token-env`,
      });
    }
    addSecret(token.trim());
    if (/[\r\n\0]/.test(token.trim())) {
      throw new McpTrustError(`--bearer-token-env: ${envName} contains a line break or NUL`);
    }
    if ("authorization" in headers) {
      throw new McpTrustError("give either --bearer-token-env or --header Authorization, not both");
    }
    headers.authorization = `Bearer ${token.trim()}`;
  }
  if (url.username !== "" || url.password !== "") {
    // Userinfo is a credential: sent as Basic authorization (RFC 7617), never stored or shown.
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    for (const s of [url.username, url.password, user, pass]) addSecret(s);
    if (!("authorization" in headers)) {
      const basic = Buffer.from(`${user}:${pass}`, "utf8").toString("base64");
      addSecret(basic);
      headers.authorization = `Basic ${basic}`;
    }
  }
  if (url.search !== "") {
    addSecret(url.search.slice(1));
    for (const [k, v] of url.searchParams) {
      addSecret(v);
      addSecret(`${k}=${v}`);
    }
    for (const part of url.search.slice(1).split("&")) addSecret(part.slice(part.indexOf("=") + 1));
  }
  const clean = new URL(url.href);
  clean.username = "";
  clean.password = "";
  clean.hash = "";
  // Longest first, so a secret that contains another is replaced whole.
  secrets.sort((a, b) => b.length - a.length);
  return { url: clean, headers, secrets, display };
}

/**
 * True for a host name that is this machine: `localhost`, 127.0.0.0/8, ::1 and IPv4-mapped loopback.
 * `hostname` is as URL gives it (IPv6 in brackets).
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (h === "localhost") return true;
  if (!ipaddr.isValid(h)) return false;
  let addr = ipaddr.parse(h);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr.range() === "loopback";
}

/** Replaces every occurrence of each secret in `text` with `[redacted]` (for error messages). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s !== "" && out.includes(s)) out = out.split(s).join("[redacted]");
  return out;
}
