/**
 * SHA256SUMS: the checksum list published with every release, in the format `sha256sum` writes and
 * `sha256sum -c` reads (GNU coreutils): one line per file, `<64 lowercase hex> <space><space|*><name>`.
 *
 * Reading is strict, because the list decides what may run: every line must parse, names are plain file
 * names (no directories, no GNU backslash-escaped names), and a name listed twice is refused.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Buffer } from "node:buffer";

/** Largest SHA256SUMS accepted: a release lists tens of files, well under 1 MiB. */
export const MAX_SUMS_BYTES = 1 << 20;

/** One line of SHA256SUMS. */
export interface SumEntry {
  /** The file name, e.g. `mcptrust-0.1.0-linux-x64.tar.gz`. */
  name: string;
  /** Lowercase hex SHA-256 (64 characters). */
  sha256: string;
}

const LINE = /^([0-9a-fA-F]{64}) [ *]([^\r\n]+)$/;

/**
 * Parses SHA256SUMS text.
 *
 * @returns the entries in file order, hashes lowercased
 * @throws {Error} with a one-line reason naming the line: a malformed line, a name with a path or
 *   escape, a name listed twice, or no entries at all
 */
export function parseSums(text: string): SumEntry[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const entries: SumEntry[] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const m = LINE.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not "<sha256 hex>  <file name>"`);
    const name = m[2];
    if (name.includes("/") || name.includes("\\") || name === "." || name === "..") {
      throw new Error(`line ${i + 1} names ${JSON.stringify(name)}, not a plain file name`);
    }
    if (seen.has(name)) throw new Error(`line ${i + 1} lists ${JSON.stringify(name)} a second time`);
    seen.add(name);
    entries.push({ name, sha256: m[1].toLowerCase() });
  }
  if (!entries.length) throw new Error("it lists no files");
  return entries;
}

/** SHA256SUMS text for `entries`, sorted by name (byte order), `sha256sum`'s text-mode layout. */
export function formatSums(entries: readonly SumEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.map((e) => `${e.sha256}  ${e.name}\n`).join("");
}

/** Lowercase hex SHA-256 of a file, streamed (node:crypto: native speed on 100 MB binaries). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Uint8Array);
  return h.digest("hex");
}

/** Lowercase hex SHA-256 of bytes in memory. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).digest(
    "hex",
  );
}
