/**
 * Writing host config files safely, and the wrap record kept beside each lockfile.
 *
 * A config is rewritten only after a timestamped backup of it is written next to it; the new text goes
 * to a temp file in the same directory and is renamed over the file (lib/atomic_write.ts), with the
 * file's mode kept (~/.claude.json holds credentials) and a symlinked config written through to its
 * target. Just before the rename the file is read again: if the host changed it meanwhile, nothing is
 * written.
 *
 * @module
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { dirname } from "node:path";
import * as v from "valibot";
import { atomicWriteFile } from "../atomic_write.ts";
import { McpTrustError } from "../errors.ts";
import type { EntryTexts } from "./edit.ts";
import type { HostKind } from "./kinds.ts";

/**
 * What `wrap` records beside a lockfile (`<lock>.wrap.json`), so `unwrap` can put the entry's original
 * text back byte for byte. Holds the entry's command and args (no env).
 */
export interface WrapRecord {
  format: "mcptrust-wrap-record/1";
  host: HostKind;
  file: string;
  server: string;
  /** Keys leading to the entry. */
  path: string[];
  lock: string;
  /** The original command and args. */
  argv: string[];
  texts: EntryTexts;
  wrappedAt: string;
}

const RecordSchema = v.object({
  format: v.literal("mcptrust-wrap-record/1"),
  host: v.string(),
  file: v.string(),
  server: v.string(),
  path: v.array(v.string()),
  lock: v.string(),
  argv: v.array(v.string()),
  texts: v.object({
    original: v.object({ command: v.string(), args: v.nullable(v.string()) }),
    wrapped: v.object({ command: v.string(), args: v.string(), argsInsert: v.nullable(v.string()) }),
  }),
  wrappedAt: v.string(),
});

/**
 * Reads a wrap record.
 *
 * @returns the record, or undefined if there is none or it is not one of ours (unwrap then restores
 *   from the wrapped args alone)
 */
export function readRecord(path: string): WrapRecord | undefined {
  try {
    const raw = JSON.parse(readFileSync(path, "utf8"));
    const r = v.safeParse(RecordSchema, raw);
    return r.success ? (r.output as WrapRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a wrap record (0600: args may hold tokens). */
export function writeRecord(path: string, record: WrapRecord): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  atomicWriteFile(path, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
}

/** Removes a wrap record if present. */
export function removeRecord(path: string): void {
  try {
    unlinkSync(path);
  } catch { /* already gone */ }
}

/** `20260102T030405Z` */
export function stamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

/**
 * Rewrites a config file: backup, check that it still holds `expected`, atomic write.
 *
 * @param path the config file (a symlink is followed)
 * @param expected the text the new text was computed from
 * @param text the new text
 * @returns the backup's path
 * @throws {McpTrustError} (exit 2) if the file changed since it was read, or on an I/O error
 */
export function rewriteConfig(path: string, expected: string, text: string, when: Date = new Date()): string {
  const target = realpathSync(path);
  const mode = statSync(target).mode & 0o777;
  let backup = `${target}.mcptrust-backup-${stamp(when)}`;
  for (let i = 1; existsQuiet(backup); i++) backup = `${target}.mcptrust-backup-${stamp(when)}-${i}`;
  const now = readFileSync(target, "utf8");
  if (now !== expected) {
    throw new McpTrustError(`${path} changed while mcptrust was working on it; it was not rewritten`, {
      hint: "run the command again (a host may have saved the file just now)",
    });
  }
  copyFileSync(target, backup);
  chmodSync(backup, mode);
  atomicWriteFile(target, text, { mode });
  // atomicWriteFile's mode is subject to the umask; give the file back exactly its old mode.
  chmodSync(target, mode);
  return backup;
}

function existsQuiet(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
