/**
 * Reading and writing lockfiles. Reads v1, v2 and v3 (the version comes from `lockFileVersion`, else
 * `version`, as the Go tool detects it); writes v3 with sorted keys, 2-space indent and a trailing
 * newline, atomically.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { atomicWriteFile } from "../atomic_write.ts";
import { McpTrustError } from "../errors.ts";
import { compareCodePoints } from "./canonical.ts";
import { formatIssues, LockfileV2Schema, LockfileV3Schema } from "./schema.ts";
import type { LockfileV2, LockfileV3 } from "./types.ts";

/** A lockfile as read from disk. */
export type LoadedLockfile =
  | { version: "3"; lockfile: LockfileV3; path: string; bytes: Uint8Array }
  | { version: "1" | "2"; lockfile: LockfileV2; path: string; bytes: Uint8Array };

/**
 * Parses lockfile bytes.
 *
 * @param bytes the file's content
 * @param path used in error messages only
 * @throws {McpTrustError} (exit 2) on invalid JSON, an unknown version or a malformed field
 */
export function parseLockfile(bytes: Uint8Array, path: string): LoadedLockfile {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new McpTrustError(`lockfile ${path} is not valid JSON: ${(err as Error).message}`, {
      hint: "restore it from version control or re-create it with `mcptrust lock`",
    });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new McpTrustError(`lockfile ${path} is not a JSON object`);
  }
  const r = raw as Record<string, unknown>;
  const declared = typeof r.lockFileVersion === "string" && r.lockFileVersion !== ""
    ? r.lockFileVersion
    : typeof r.version === "string"
    ? r.version
    : "";
  if (declared.startsWith("3.")) {
    const res = v.safeParse(LockfileV3Schema, raw);
    if (!res.success) {
      throw new McpTrustError(`lockfile ${path} (v3) is malformed: ${formatIssues(res.issues)}`, {
        hint: "re-create it with `mcptrust lock --force` after reviewing the server",
      });
    }
    return { version: "3", lockfile: res.output as unknown as LockfileV3, path, bytes };
  }
  if (declared === "1.0" || declared === "2.0") {
    const res = v.safeParse(LockfileV2Schema, raw);
    if (!res.success) {
      throw new McpTrustError(`lockfile ${path} (v${declared}) is malformed: ${formatIssues(res.issues)}`);
    }
    return {
      version: declared === "1.0" ? "1" : "2",
      lockfile: res.output as unknown as LockfileV2,
      path,
      bytes,
    };
  }
  throw new McpTrustError(
    `lockfile ${path} has ${declared ? `unknown version ${JSON.stringify(declared)}` : "no version field"}`,
    { hint: "mcptrust reads lockfile versions 1.0, 2.0 and 3.0" },
  );
}

/**
 * Reads and parses a lockfile.
 *
 * @throws {McpTrustError} (exit 2) if the file cannot be read or parsed
 */
export function readLockfile(path: string): LoadedLockfile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new McpTrustError(
      `cannot read lockfile ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`,
      {
        hint: code === "ENOENT"
          ? "create it with `mcptrust lock -- <server command>`, or pass --lock PATH"
          : undefined,
      },
    );
  }
  return parseLockfile(bytes, path);
}

/** Serializes a lockfile: keys sorted by code point at every level, 2-space indent, trailing newline. */
export function serializeLockfile(lock: LockfileV3): string {
  return JSON.stringify(sortKeys(lock), null, 2) + "\n";
}

/** Writes a lockfile atomically (temp file + rename). */
export function writeLockfile(path: string, lock: LockfileV3): void {
  atomicWriteFile(path, serializeLockfile(lock));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort(compareCodePoints)) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}
