/**
 * Reading a host's config file: its servers, each with what it runs and where its `command` and `args`
 * sit in the text, so a rewrite touches those two values and nothing else.
 *
 * JSON and JSONC are parsed with jsonc-parser (`parseTree` keeps every node's offset); Codex's TOML
 * with toml-eslint-parser (every node has its range). A file that does not parse is refused with its
 * path, line and column.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { type AST, getStaticTOMLValue, parseTOML } from "toml-eslint-parser";
import { McpTrustError } from "../errors.ts";
import { type HostKind, HOSTS } from "./kinds.ts";

/** A range of the file's text (UTF-16 code units, as JavaScript strings index). */
export interface Span {
  offset: number;
  length: number;
}

/** Where a server's `command` and `args` are, and how to add `args` when there are none. */
export interface EditSite {
  /** The `command` value. */
  command: Span;
  /** The `args` value, when present. */
  args?: Span;
  /** With no `args`: insert `prefix + <array>` at `offset`. */
  addArgs: { offset: number; prefix: string };
  /** The `args` array spans several lines (a rewrite keeps it so). */
  argsMultiline: boolean;
  /** Indentation of the items and of the closing bracket of a multi-line `args`. */
  argsIndent?: { item: string; close: string };
}

/** How the host reaches a server. */
export type Transport = "stdio" | "http" | "sse" | "invalid";

/** One server of a config file. */
export interface ServerEntry {
  host: HostKind;
  /** "user", "project", or "local" (Claude Code's per-project section of ~/.claude.json). */
  scope: "user" | "project" | "local";
  /** The project a local-scope section belongs to. */
  project?: string;
  file: string;
  name: string;
  /** The keys leading to the server's value, e.g. ["mcpServers", "memory"]. */
  path: string[];
  /** The server's value as parsed. */
  value: unknown;
  transport: Transport;
  command?: string;
  /** Undefined when the entry has no `args`. */
  args?: string[];
  url?: string;
  /** Why the entry cannot be wrapped, when it cannot (besides being remote). */
  problem?: string;
  /** Where command/args are; present for stdio entries without a problem. */
  site?: EditSite;
}

/** A parsed config file. */
export interface ConfigDoc {
  host: HostKind;
  /** The scope of the file's top-level servers ("user" or "project"). */
  scope: "user" | "project";
  path: string;
  text: string;
  eol: string;
  servers: ServerEntry[];
}

/** 1-based line and column of `offset` in `text`. */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

function malformed(path: string, line: number, column: number, why: string): McpTrustError {
  return new McpTrustError(`${path}:${line}:${column}: not a valid config file: ${why}`, {
    hint: "fix the file (your host would not read it either), then run again; nothing was changed",
  });
}

/**
 * Reads and parses a host's config file.
 *
 * @returns the parsed file, or undefined if it does not exist
 * @throws {McpTrustError} (exit 2) if it cannot be read or does not parse (message: path:line:column)
 */
export function readConfig(host: HostKind, scope: "user" | "project", path: string): ConfigDoc | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new McpTrustError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseConfig(host, scope, path, text);
}

/**
 * Parses a config file's text.
 *
 * @throws {McpTrustError} (exit 2) naming path, line and column of the first syntax error, or the key
 *   whose value has the wrong type
 */
export function parseConfig(
  host: HostKind,
  scope: "user" | "project",
  path: string,
  text: string,
): ConfigDoc {
  if (text.charCodeAt(0) === 0xfeff) {
    throw malformed(path, 1, 1, "it starts with a byte order mark; save it as UTF-8 without BOM");
  }
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const doc: ConfigDoc = { host, scope, path, text, eol, servers: [] };
  if (HOSTS[host].format === "toml") doc.servers = tomlServers(doc);
  else doc.servers = jsonServers(doc);
  return doc;
}

// ---------------------------------------------------------------------------------------------- JSON

function jsonServers(doc: ConfigDoc): ServerEntry[] {
  const { text, path, host } = doc;
  const info = HOSTS[host];
  if (text.trim() === "") return [];
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, {
    allowTrailingComma: info.jsonc,
    disallowComments: !info.jsonc,
    allowEmptyContent: true,
  });
  if (errors.length > 0) {
    const e = errors[0];
    const { line, column } = lineCol(text, e.offset);
    throw malformed(path, line, column, describeJsonError(printParseErrorCode(e.error)));
  }
  if (!root) return [];
  if (root.type !== "object") {
    const { line, column } = lineCol(text, root.offset);
    throw malformed(path, line, column, "the top level is not a JSON object");
  }
  const out: ServerEntry[] = [];
  const section = (obj: Node, keys: string[], scope: ServerEntry["scope"], project?: string) => {
    const node = child(obj, keys[keys.length - 1]);
    if (!node) return;
    if (node.type !== "object") {
      const { line, column } = lineCol(text, node.offset);
      throw malformed(path, line, column, `"${keys.join(".")}" is not an object`);
    }
    const names = new Map<string, number>();
    for (const p of node.children ?? []) {
      const n = p.children![0].value as string;
      names.set(n, (names.get(n) ?? 0) + 1);
    }
    for (const p of node.children ?? []) {
      const name = p.children![0].value as string;
      const e = jsonEntry(doc, p, [...keys, name], scope, project);
      if (names.get(name)! > 1) e.problem ??= `the name ${JSON.stringify(name)} appears more than once`;
      out.push(e);
    }
  };
  section(root, [info.serversKey], doc.scope);
  if (host === "claude-code" && doc.scope === "user") {
    const projects = child(root, "projects");
    if (projects?.type === "object") {
      for (const p of projects.children ?? []) {
        const dir = p.children![0].value as string;
        const v = p.children![1];
        if (v.type === "object") section(v, ["projects", dir, info.serversKey], "local", dir);
      }
    }
  }
  return out;
}

function describeJsonError(code: string): string {
  const words: Record<string, string> = {
    InvalidSymbol: "unexpected character",
    InvalidNumberFormat: "invalid number",
    PropertyNameExpected: "a property name was expected (a trailing comma?)",
    ValueExpected: "a value was expected (a trailing comma?)",
    ColonExpected: "':' expected",
    CommaExpected: "',' expected",
    CloseBraceExpected: "'}' expected",
    CloseBracketExpected: "']' expected",
    EndOfFileExpected: "unexpected text after the end",
    InvalidCommentToken: "comments are not allowed in this file",
    UnexpectedEndOfComment: "unterminated comment",
    UnexpectedEndOfString: "unterminated string",
    UnexpectedEndOfNumber: "unterminated number",
    InvalidUnicode: "invalid \\u escape",
    InvalidEscapeCharacter: "invalid escape",
    InvalidCharacter: "invalid character in a string",
  };
  return words[code] ?? code;
}

function child(obj: Node, key: string): Node | undefined {
  let found: Node | undefined;
  for (const p of obj.children ?? []) {
    // The last occurrence wins, as JSON.parse does.
    if (p.children?.[0].value === key) found = p.children[1];
  }
  return found;
}

function nodeValue(n: Node): unknown {
  switch (n.type) {
    case "object": {
      const o: Record<string, unknown> = {};
      for (const p of n.children ?? []) {
        if (p.children?.[1]) o[p.children[0].value as string] = nodeValue(p.children[1]);
      }
      return o;
    }
    case "array":
      return (n.children ?? []).map(nodeValue);
    default:
      return n.value;
  }
}

function indentOf(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  const m = /^[ \t]*/.exec(text.slice(start, offset));
  return m ? m[0] : "";
}

function jsonEntry(
  doc: ConfigDoc,
  prop: Node,
  path: string[],
  scope: ServerEntry["scope"],
  project: string | undefined,
): ServerEntry {
  const { text } = doc;
  const valueNode = prop.children![1];
  const value = nodeValue(valueNode);
  const entry = classify(doc, path, scope, project, value);
  if (entry.transport !== "stdio" || entry.problem) return entry;
  const cmdProp = (valueNode.children ?? []).findLast((p) => p.children?.[0].value === "command")!;
  const cmd = cmdProp.children![1];
  const argsNode = child(valueNode, "args");
  const multiline = (n: Node) => text.slice(n.offset, n.offset + n.length).includes("\n");
  const objectMultiline = multiline(valueNode);
  const site: EditSite = {
    command: { offset: cmd.offset, length: cmd.length },
    addArgs: {
      offset: cmd.offset + cmd.length,
      prefix: objectMultiline ? `,${doc.eol}${indentOf(text, cmdProp.offset)}"args": ` : `, "args": `,
    },
    argsMultiline: false,
  };
  if (argsNode) {
    site.args = { offset: argsNode.offset, length: argsNode.length };
    site.argsMultiline = multiline(argsNode);
    if (site.argsMultiline) {
      const first = argsNode.children?.[0];
      const close = argsNode.offset + argsNode.length - 1;
      site.argsIndent = {
        item: first ? indentOf(text, first.offset) : indentOf(text, close) + "  ",
        close: indentOf(text, close),
      };
    }
  }
  entry.site = site;
  return entry;
}

// ---------------------------------------------------------------------------------------------- TOML

interface TomlKv {
  kv: AST.TOMLKeyValue;
  inline: boolean;
}

function tomlServers(doc: ConfigDoc): ServerEntry[] {
  const { text, path } = doc;
  let ast: AST.TOMLProgram;
  try {
    ast = parseTOML(text);
  } catch (err) {
    const e = err as { lineNumber?: number; column?: number; message?: string };
    // toml-eslint-parser counts columns from 0, as ESLint does.
    throw malformed(
      path,
      e.lineNumber ?? 1,
      (e.column ?? 0) + 1,
      (e.message ?? String(err)).replace(/\.$/, ""),
    );
  }
  const data = getStaticTOMLValue(ast) as Record<string, unknown>;
  // Every key/value with its full key path, through tables, dotted keys and inline tables.
  const kvs = new Map<string, TomlKv>();
  const walk = (body: AST.TOMLKeyValue[], prefix: (string | number)[], inline: boolean) => {
    for (const kv of body) {
      const keys = [...prefix, ...kv.key.keys.map((k) => k.type === "TOMLBare" ? k.name : k.value)];
      kvs.set(keys.join("\0"), { kv, inline });
      if (kv.value.type === "TOMLInlineTable") walk(kv.value.body, keys, true);
    }
  };
  for (const top of ast.body[0].body) {
    if (top.type === "TOMLTable") walk(top.body, top.resolvedKey, false);
    else walk([top], [], false);
  }
  const servers = data[HOSTS[doc.host].serversKey];
  if (servers === undefined) return [];
  if (typeof servers !== "object" || servers === null || Array.isArray(servers)) {
    throw malformed(path, 1, 1, `"${HOSTS[doc.host].serversKey}" is not a table`);
  }
  const out: ServerEntry[] = [];
  for (const [name, value] of Object.entries(servers)) {
    const keyPath = [HOSTS[doc.host].serversKey, name];
    const entry = classify(doc, keyPath, doc.scope, undefined, value);
    out.push(entry);
    if (entry.transport !== "stdio" || entry.problem) continue;
    const cmd = kvs.get([...keyPath, "command"].join("\0"))!;
    const args = kvs.get([...keyPath, "args"].join("\0"));
    const keys = cmd.kv.key.keys;
    // `docs.command = ...` under [mcp_servers] adds `docs.args = ...`.
    const keyPrefix = text.slice(cmd.kv.key.range[0], keys[keys.length - 1].range[0]);
    let addArgs: EditSite["addArgs"];
    if (cmd.inline) {
      addArgs = { offset: cmd.kv.value.range[1], prefix: `, ${keyPrefix}args = ` };
    } else {
      const nl = text.indexOf("\n", cmd.kv.range[1]);
      let at = nl === -1 ? text.length : nl;
      if (at > 0 && text[at - 1] === "\r") at--;
      addArgs = { offset: at, prefix: `${doc.eol}${indentOf(text, cmd.kv.range[0])}${keyPrefix}args = ` };
    }
    const span = (n: { range: [number, number] }): Span => ({
      offset: n.range[0],
      length: n.range[1] - n.range[0],
    });
    const site: EditSite = { command: span(cmd.kv.value), addArgs, argsMultiline: false };
    if (args) {
      site.args = span(args.kv.value);
      const v = args.kv.value as AST.TOMLArray;
      site.argsMultiline = text.slice(v.range[0], v.range[1]).includes("\n");
      if (site.argsMultiline) {
        const first = v.elements[0];
        site.argsIndent = {
          item: first ? indentOf(text, first.range[0]) : indentOf(text, v.range[1] - 1) + "  ",
          close: indentOf(text, v.range[1] - 1),
        };
      }
    }
    entry.site = site;
  }
  return out;
}

// ------------------------------------------------------------------------------------------- shared

function classify(
  doc: ConfigDoc,
  path: string[],
  scope: ServerEntry["scope"],
  project: string | undefined,
  value: unknown,
): ServerEntry {
  const entry: ServerEntry = {
    host: doc.host,
    scope,
    file: doc.path,
    name: path[path.length - 1],
    path,
    value,
    transport: "invalid",
  };
  if (project !== undefined) entry.project = project;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    entry.problem = "the entry is not an object";
    return entry;
  }
  const v = value as Record<string, unknown>;
  const type = typeof v.type === "string" ? v.type.toLowerCase() : undefined;
  const url = [v.url, v.serverUrl, v.httpUrl].find((u) => typeof u === "string") as string | undefined;
  if (url !== undefined || (type !== undefined && type !== "stdio")) {
    // Gemini CLI: `url` is SSE and `httpUrl` Streamable HTTP; elsewhere `type` says which.
    entry.transport = type === "sse" || (doc.host === "gemini" && typeof v.url === "string") ? "sse" : "http";
    if (url !== undefined) entry.url = url;
    return entry;
  }
  if (typeof v.command !== "string" || v.command === "") {
    entry.problem = "the entry has no command";
    return entry;
  }
  entry.transport = "stdio";
  entry.command = v.command;
  if (v.args !== undefined) {
    if (!Array.isArray(v.args) || !v.args.every((a) => typeof a === "string")) {
      entry.problem = "args is not a list of strings";
      return entry;
    }
    entry.args = v.args as string[];
  }
  return entry;
}
