/**
 * Redaction of secrets in what we log: command lines (ours and the server's), HTTP headers, environment
 * maps and URLs. Every log line, receipt and trace attribute that carries an argv or headers goes
 * through this module (docs/LOGGING.md "Redaction").
 *
 * The rules over-redact rather than leak: a value is replaced by {@link REDACTED} when
 * - it follows (`--name value` or `--name=value`) an option whose name says secret (token, secret,
 *   password, key, auth, credential, cookie, session, signature, bearer; `--key <path>` keeps a path,
 *   since a key file's path is not the key);
 * - it is a `--header`/`-H` value or looks like a header `Name: value` of a credential-bearing header
 *   (the name is kept: `Authorization: [redacted]`);
 * - it is the value of an environment assignment `NAME=value` (upper-case NAME: always; other names
 *   when they say secret), as given to `env`, `docker -e` or a host config;
 * - it is URL userinfo (`https://user:pass@host`: both parts), or a query parameter whose name says
 *   secret (`?token=`, `access_token`, `sig`, `X-Amz-Signature`, ...);
 * - it has the shape of a well-known credential (GitHub, GitLab, npm, Slack, OpenAI/Anthropic, Stripe,
 *   Google API keys, AWS access key ids, JWTs, `Bearer`/`Basic` credentials).
 *
 * Pure functions; the input is never changed.
 *
 * @module
 */

/** What a redacted value is replaced with. */
export const REDACTED = "[redacted]";

/**
 * True if a name (option, header, variable, query parameter) says its value is a secret. Case and
 * separators are ignored: `GITHUB_TOKEN`, `api-key`, `apiKey`, `X-Api-Key`, `client_secret`,
 * `AWS_SECRET_ACCESS_KEY`, `password`, `Authorization`, `Cookie`, `MCP-Session-Id`, `sig`.
 */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (n === "") return false;
  if (SECRET_WORDS.some((w) => n.includes(w))) return true;
  // "key" only as a suffix (apikey, privatekey, OPENAI_API_KEY, keys), so "keygen" or "keyword" pass.
  if (/keys?$/.test(n) || n === "sig" || n.endsWith("sig") || n === "pat") return true;
  return false;
}

const SECRET_WORDS = [
  "token",
  "secret",
  "password",
  "passwd",
  "passphrase",
  "apikey",
  "accesskey",
  "privatekey",
  "auth",
  "credential",
  "cookie",
  "session",
  "signature",
  "bearer",
  "jwt",
];

/** Options whose value is an HTTP header `Name: value` (ours, curl's, many CLIs'). */
const HEADER_OPTIONS = new Set(["--header", "-H", "--headers"]);

/** Headers whose value is a credential whatever the name says (RFC 9110 §11.6, RFC 6265). */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

/**
 * Credential shapes worth catching wherever they stand (a token passed as a bare argument).
 * Sources: the vendors' documented prefixes (GitHub `ghp_`/`github_pat_`, GitLab `glpat-`, npm `npm_`,
 * Slack `xox?-`, OpenAI/Anthropic `sk-`, Stripe `sk_live_`/`rk_live_`, Google `AIza`, AWS `AKIA`/`ASIA`),
 * JWTs (RFC 7519 compact form) and HTTP `Bearer`/`Basic` credentials (RFC 6750, RFC 7617).
 */
const TOKEN_SHAPES: RegExp[] = [
  /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
  /\bglpat-[A-Za-z0-9_-]{16,}/g,
  /\bnpm_[A-Za-z0-9]{30,}/g,
  /\bxox[abprse]-[A-Za-z0-9-]{10,}/g,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}/g,
  /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

/** Replaces well-known credential shapes inside a free text. */
export function redactTokens(text: string): string {
  let out = text;
  for (const re of TOKEN_SHAPES) {
    re.lastIndex = 0;
    out = out.replace(
      re,
      (_m, scheme?: string) =>
        typeof scheme === "string" && /^(bearer|basic|token)$/i.test(scheme)
          ? `${scheme} ${REDACTED}`
          : REDACTED,
    );
  }
  return out;
}

/**
 * Redacts URL userinfo (user and password) and secret-named query parameters in every `scheme://`
 * URL inside `text`; the rest of the text is kept byte for byte.
 */
export function redactUrls(text: string): string {
  if (!text.includes("://")) return text;
  return text.replace(/\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s"'<>]*)/g, (_m, scheme: string, rest: string) => {
    // Userinfo: everything before the last "@" of the authority.
    const authEnd = rest.search(/[/?#]/);
    const authority = authEnd === -1 ? rest : rest.slice(0, authEnd);
    let tail = authEnd === -1 ? "" : rest.slice(authEnd);
    const at = authority.lastIndexOf("@");
    const host = at === -1 ? authority : `${REDACTED}@${authority.slice(at + 1)}`;
    tail = tail.replace(/([?&])([^=&#]*)=([^&#]*)/g, (p, sep: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch { /* keep the raw name */ }
      return isSecretName(decoded) || QUERY_SECRETS.has(decoded.toLowerCase())
        ? `${sep}${name}=${REDACTED}`
        : p;
    });
    return scheme + host + tail;
  });
}

/** Query parameter names that carry credentials though their names do not say so. */
const QUERY_SECRETS = new Set(["code", "key", "sig", "x-amz-credential", "x-goog-credential", "pwd", "pass"]);

/**
 * Redacts a header value by the header's name: credential headers and secret-named headers
 * (`Authorization`, `Proxy-Authorization`, `Cookie`, `X-Api-Key`, `Mcp-Session-Id`, ...).
 */
export function redactHeaderValue(name: string, value: string): string {
  return CREDENTIAL_HEADERS.has(name.trim().toLowerCase()) || isSecretName(name)
    ? REDACTED
    : redactTokens(redactUrls(value));
}

/**
 * Redacts a headers map (a `Headers`, a record, or name/value pairs) by {@link redactHeaderValue}; the
 * result is a plain record with the names as given.
 */
export function redactHeaders(
  headers: Headers | Record<string, string | string[] | undefined> | Iterable<[string, string]>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: Iterable<[string, unknown]> = typeof (headers as Headers).forEach === "function" &&
      typeof (headers as Headers).get === "function"
    ? (headers as Headers).entries()
    : Symbol.iterator in (headers as object)
    ? headers as Iterable<[string, string]>
    : Object.entries(headers as Record<string, unknown>);
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    out[name] = redactHeaderValue(name, Array.isArray(value) ? value.join(", ") : String(value));
  }
  return out;
}

/** Redacts every value of an environment map (names are kept): env values are secrets until shown not. */
export function redactEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env)) if (env[name] !== undefined) out[name] = REDACTED;
  return out;
}

/** `Name: value` with the value redacted (all values: a --header value is never printed). */
function redactHeaderArg(text: string): string {
  const colon = text.indexOf(":");
  return colon === -1 ? REDACTED : `${text.slice(0, colon)}: ${REDACTED}`;
}

/** One argument on its own: env assignments, credential headers, URLs, token shapes. */
function redactWord(word: string): string {
  const assign = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(word);
  if (assign && assign[2] !== "" && (/^[A-Z_][A-Z0-9_]*$/.test(assign[1]) || isSecretName(assign[1]))) {
    return `${assign[1]}=${REDACTED}`;
  }
  const header = /^\s*([A-Za-z0-9-]+)\s*:\s*\S/.exec(word);
  if (header && (CREDENTIAL_HEADERS.has(header[1].toLowerCase()) || isSecretName(header[1]))) {
    return redactHeaderArg(word);
  }
  return redactTokens(redactUrls(word));
}

/** True if an option's value is a file path we keep (`--key mcptrust.pub`: a key file's path). */
function isKeyPath(option: string, value: string): boolean {
  return /^-(-key|k)$/.test(option) && (/[/\\]/.test(value) || /\.(pub|pem|key|json|der|crt)$/i.test(value));
}

/**
 * Redacts an argv (ours and a server's alike). Handles `--secret value`, `--secret=value`, `-H`/
 * `--header` values, env assignments, URLs and token shapes. The result has the same length, so
 * positions still line up with what was run.
 *
 * @example redactArgv(["--header", "Authorization: Bearer abc", "--token=xyz", "node", "s.js"])
 *   // ["--header", "Authorization: [redacted]", "--token=[redacted]", "node", "s.js"]
 */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    const opt = /^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)(?:=(.*))?$/s.exec(word);
    if (opt) {
      const [, name, inline] = opt;
      const bare = name.replace(/^--?/, "");
      const headerOpt = HEADER_OPTIONS.has(name);
      // `--bearer-token-env NAME`, `--key-file PATH`: the value says where the secret is, not what.
      const secret = !headerOpt && name.startsWith("--") && isSecretName(bare) &&
        !/[-_.](env|file|path|dir|name)$/i.test(bare);
      if (inline !== undefined) {
        out.push(
          headerOpt
            ? `${name}=${redactHeaderArg(inline)}`
            : secret && !isKeyPath(name, inline)
            ? `${name}=${REDACTED}`
            : `${name}=${redactWord(inline)}`,
        );
        continue;
      }
      out.push(word);
      const next = argv[i + 1];
      if (next !== undefined && (headerOpt || secret) && !(next.startsWith("-") && next.length > 1)) {
        out.push(headerOpt ? redactHeaderArg(next) : isKeyPath(name, next) ? next : REDACTED);
        i++;
      }
      continue;
    }
    out.push(redactWord(word));
  }
  return out;
}

/** Redacts a free text (an error message, a reason): URLs and token shapes. */
export function redactText(text: string): string {
  return redactTokens(redactUrls(text));
}
