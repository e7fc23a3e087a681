/**
 * Text edits that wrap and unwrap one server entry. Only the `command` value and the `args` value (or,
 * when there were no args, one inserted `args`) change; every other byte of the file stays as it was:
 * comments, key order, indentation, other servers, env, cwd and any other field.
 *
 * jsonc-parser's `modify` is not used for these edits: inserting into a one-line object reformats the
 * enclosing object, and an exact unwrap needs edits that stay inside the entry.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { applyEdits } from "jsonc-parser";
import { McpTrustError } from "../errors.ts";
import { type ConfigDoc, type EditSite, parseConfig, type ServerEntry } from "./config_file.ts";
import { HOSTS } from "./kinds.ts";
import { parseWrapped, wrappedArgs } from "./wrapped.ts";

/** Replace `length` characters at `offset` with `content`. */
export interface TextEdit {
  offset: number;
  length: number;
  content: string;
}

/** What a wrap changed in one entry, as text: enough to put the original text back exactly. */
export interface EntryTexts {
  original: { command: string; args: string | null };
  wrapped: { command: string; args: string; argsInsert: string | null };
}

/** A TOML basic string (TOML 1.0 §String): quotes, backslashes and control characters escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
    else if (c >= 0xd800 && c <= 0xdfff) {
      throw new McpTrustError("an argument holds a lone UTF-16 surrogate, which TOML cannot encode");
    } else out += ch;
  }
  return out + '"';
}

function stringLit(doc: ConfigDoc, s: string): string {
  return HOSTS[doc.host].format === "toml" ? tomlString(s) : JSON.stringify(s);
}

function arrayLit(doc: ConfigDoc, items: readonly string[], site: EditSite): string {
  const lits = items.map((s) => stringLit(doc, s));
  if (!site.argsMultiline || !site.argsIndent || lits.length === 0) return `[${lits.join(", ")}]`;
  const { item, close } = site.argsIndent;
  return `[${doc.eol}${lits.map((l) => item + l).join("," + doc.eol)}${doc.eol}${close}]`;
}

function slice(text: string, s: { offset: number; length: number }): string {
  return text.slice(s.offset, s.offset + s.length);
}

/**
 * The edits that make `entry` start `<self> proxy --lock <lock> -- <command> <args...>`.
 *
 * @throws {McpTrustError} if the entry cannot be edited (no edit site)
 */
export function wrapEdits(
  doc: ConfigDoc,
  entry: ServerEntry,
  self: string,
  lock: string,
): { edits: TextEdit[]; texts: EntryTexts } {
  const site = entry.site;
  if (!site || entry.command === undefined) {
    throw new McpTrustError(`${entry.file}: server ${JSON.stringify(entry.name)} cannot be wrapped`);
  }
  const argv = [entry.command, ...(entry.args ?? [])];
  const command = stringLit(doc, self);
  const args = arrayLit(doc, wrappedArgs(lock, argv), site);
  const edits: TextEdit[] = [{ ...site.command, content: command }];
  let argsInsert: string | null = null;
  if (site.args) {
    edits.push({ ...site.args, content: args });
  } else {
    argsInsert = site.addArgs.prefix + args;
    edits.push({ offset: site.addArgs.offset, length: 0, content: argsInsert });
  }
  return {
    edits,
    texts: {
      original: {
        command: slice(doc.text, site.command),
        args: site.args ? slice(doc.text, site.args) : null,
      },
      wrapped: { command, args, argsInsert },
    },
  };
}

/**
 * The edits that put a wrapped entry back. With the texts recorded at wrap time, and the entry as
 * mcptrust left it, the original text comes back byte for byte (`exact`). Otherwise (an entry wrapped
 * by hand, or edited since) the command and args after `--` become the entry's command and args again.
 *
 * @throws {McpTrustError} if the entry is not wrapped
 */
export function unwrapEdits(
  doc: ConfigDoc,
  entry: ServerEntry,
  texts: EntryTexts | undefined,
  recordedArgv: readonly string[] | undefined,
): { edits: TextEdit[]; exact: boolean; argv: string[] } {
  const w = parseWrapped(entry.command, entry.args);
  const site = entry.site;
  if (!w || !site) {
    throw new McpTrustError(`${entry.file}: server ${JSON.stringify(entry.name)} is not wrapped`);
  }
  const { text } = doc;
  if (texts && site.args && recordedArgv && isDeepStrictEqual(recordedArgv, w.argv)) {
    const cmdNow = slice(text, site.command);
    const argsNow = slice(text, site.args);
    const argsEnd = site.args.offset + site.args.length;
    if (cmdNow === texts.wrapped.command && argsNow === texts.wrapped.args) {
      const ins = texts.wrapped.argsInsert;
      if (ins === null && texts.original.args !== null) {
        return {
          edits: [
            { ...site.command, content: texts.original.command },
            { ...site.args, content: texts.original.args },
          ],
          exact: true,
          argv: w.argv,
        };
      }
      if (ins !== null && text.slice(argsEnd - ins.length, argsEnd) === ins) {
        return {
          edits: [
            { ...site.command, content: texts.original.command },
            { offset: argsEnd - ins.length, length: ins.length, content: "" },
          ],
          exact: true,
          argv: w.argv,
        };
      }
    }
  }
  const edits: TextEdit[] = [{ ...site.command, content: stringLit(doc, w.argv[0]) }];
  if (site.args) edits.push({ ...site.args, content: arrayLit(doc, w.argv.slice(1), site) });
  return { edits, exact: false, argv: w.argv };
}

/**
 * Applies edits to the file's text and checks the result: it must parse, every server named in
 * `expect` must have exactly the command and args given, and every other server must be unchanged.
 *
 * @throws {McpTrustError} (exit 2) if the check fails (nothing is written then)
 */
export function applyChecked(
  doc: ConfigDoc,
  edits: TextEdit[],
  expect: Map<string, { command: string; args: string[] }>,
): string {
  const sorted = [...edits].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].length) {
      throw new McpTrustError(`${doc.path}: internal error: overlapping edits`);
    }
  }
  const out = applyEdits(doc.text, edits);
  let after: ConfigDoc;
  try {
    after = parseConfig(doc.host, doc.scope, doc.path, out);
  } catch (err) {
    throw new McpTrustError(`${doc.path}: the rewritten file would not parse (${(err as Error).message})`, {
      hint: "nothing was written; please report this with the file's shape",
    });
  }
  const key = (e: ServerEntry) => JSON.stringify(e.path);
  const before = new Map(doc.servers.map((e) => [key(e), e]));
  const bad = (why: string) =>
    new McpTrustError(`${doc.path}: the rewritten file does not check out: ${why}`, {
      hint: "nothing was written; please report this with the file's shape",
    });
  if (after.servers.length !== doc.servers.length) throw bad("the number of servers changed");
  for (const e of after.servers) {
    const old = before.get(key(e));
    if (!old) throw bad(`server ${e.name} appeared`);
    const want = expect.get(key(e));
    if (!want) {
      if (!isDeepStrictEqual(old.value, e.value)) throw bad(`server ${e.name} changed`);
      continue;
    }
    const { command: _c, args: _a, ...restAfter } = e.value as Record<string, unknown>;
    const { command: _c2, args: _a2, ...restBefore } = old.value as Record<string, unknown>;
    if (!isDeepStrictEqual(restAfter, restBefore)) {
      throw bad(`server ${e.name}: a field besides command/args changed`);
    }
    if (e.command !== want.command || !isDeepStrictEqual(e.args ?? [], want.args)) {
      throw bad(`server ${e.name}: command/args are not what was intended`);
    }
  }
  return out;
}

/** The key `applyChecked` uses for an entry. */
export function entryKey(e: ServerEntry): string {
  return JSON.stringify(e.path);
}
