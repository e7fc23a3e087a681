/**
 * The lockfile's hash functions, byte-compatible with the Go MCPTrust v3 (reference §2.3).
 * Every hash is `"sha256:" + lowercase hex`.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { canonicalize, compareCodePoints } from "./canonical.ts";

const encoder = new TextEncoder();

/** `sha256:<hex>` of raw bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return "sha256:" + bytesToHex(sha256(bytes));
}

/** Hash of the raw UTF-8 of `text`, without normalization (Go `HashString`); "" hashes to sha256(""). */
export function hashString(text: string): string {
  return sha256Digest(encoder.encode(text));
}

/**
 * Line-ending and trailing-whitespace normalization (Go `HashNormalizedString`): CRLF and CR become LF,
 * then trailing spaces and tabs are trimmed from each line.
 */
export function normalizeText(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(/\r/g, "\n").split("\n").map((l) => l.replace(/[ \t]+$/, ""))
    .join("\n");
}

/** Hash of {@link normalizeText}(text) (Go `HashNormalizedString`). */
export function hashNormalizedString(text: string): string {
  return hashString(normalizeText(text));
}

/**
 * Hash of a JSON value in canonical form v1 (Go `HashJSON`). `undefined`, `null` and `{}` hash to ""
 * (the Go tool writes an empty string rather than a hash for a missing or empty schema).
 */
export function hashJson(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) return "";
  return hashString(canonicalize(value, "v1"));
}

/** A prompt argument as listed by prompts/list (MCP `PromptArgument`). */
export interface PromptArgumentLike {
  name: string;
  description?: string;
  required?: boolean;
}

/**
 * Hash of a prompt's arguments (Go `HashPromptArguments`): sorted by name (bytewise), each reduced to
 * `{name, description if non-empty, required: true if true}`, as canonical v2. No arguments -> hash of `[]`.
 */
export function hashPromptArguments(args: readonly PromptArgumentLike[] | undefined): string {
  const reduced = [...(args ?? [])]
    .sort((a, b) => compareCodePoints(String(a.name), String(b.name)))
    .map((a) => {
      const o: Record<string, unknown> = { name: String(a.name ?? "") };
      if (typeof a.description === "string" && a.description !== "") o.description = a.description;
      if (a.required === true) o.required = true;
      return o;
    });
  return hashString(canonicalize(reduced, "v2"));
}

/** Hash of a resource template's identity (Go `HashTemplate`): `{uriTemplate, mimeType if non-empty}`, v2. */
export function hashTemplate(uriTemplate: string, mimeType?: string): string {
  const o: Record<string, string> = { uriTemplate };
  if (mimeType) o.mimeType = mimeType;
  return hashString(canonicalize(o, "v2"));
}
