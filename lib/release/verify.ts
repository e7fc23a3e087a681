/**
 * Checking downloaded release files against a signed SHA256SUMS, fail closed: first the signature over
 * SHA256SUMS (with the release key), then each file's SHA-256 against the list. Nothing in the list is
 * trusted before the signature verifies.
 *
 * @module
 */
import { basename } from "node:path";
import { CheckFailedError } from "../errors.ts";
import type { PublicKey } from "../crypto/keys.ts";
import { parseSums, sha256File, type SumEntry } from "./sums.ts";
import { sumsSignatureProblem } from "./signature.ts";

/** The outcome for one file. */
export interface FileCheck {
  /** The path as given. */
  path: string;
  /** Its SHA-256 (lowercase hex). */
  sha256: string;
  /** The SHA256SUMS entry it matched, when it did. */
  listedAs?: string;
  /** Why it failed, when it did. */
  problem?: string;
}

/** The outcome of {@link verifyRelease}: the signature verified; `files` says which files match. */
export interface ReleaseCheck {
  /** The verifying key's fingerprint (`sha256:` + hex of its SPKI DER). */
  keyFingerprint: string;
  /** Every entry of the verified SHA256SUMS. */
  entries: SumEntry[];
  files: FileCheck[];
  /** True when every file matched. */
  ok: boolean;
}

/**
 * Verifies `sig` over `sums` with `key`, then hashes each file and looks it up: by its file name, or,
 * for a file renamed after download (e.g. `mcptrust` taken out of its archive), by its hash.
 *
 * @param sums SHA256SUMS' bytes; @param sig SHA256SUMS.sig's bytes (64 raw bytes)
 * @returns per-file results (`ok` false when any file is unlisted or differs)
 * @throws {CheckFailedError} (exit 1) when the signature does not verify or SHA256SUMS is malformed:
 *   then no file is checked, because the list itself is not trusted
 * @throws the file system's error when a file cannot be read (the caller reports it, exit 2)
 */
export async function verifyRelease(
  sums: Uint8Array,
  sig: Uint8Array,
  key: PublicKey,
  files: readonly string[],
): Promise<ReleaseCheck> {
  const problem = sumsSignatureProblem(sums, sig, key);
  if (problem) {
    throw new CheckFailedError(`SHA256SUMS is not signed by the release key: ${problem}`, {
      hint:
        "download SHA256SUMS and SHA256SUMS.sig again from the release page; if they still fail, do not " +
        "run the files and report it",
    });
  }
  let entries: SumEntry[];
  try {
    entries = parseSums(new TextDecoder("utf-8", { fatal: true }).decode(sums));
  } catch (err) {
    throw new CheckFailedError(`SHA256SUMS is signed but malformed: ${(err as Error).message}`, {
      hint: "report it: a release's checksum list must be sha256sum output",
    });
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  const results: FileCheck[] = [];
  for (const path of files) {
    const sha256 = await sha256File(path);
    const named = byName.get(basename(path));
    if (named) {
      results.push(
        named.sha256 === sha256 ? { path, sha256, listedAs: named.name } : {
          path,
          sha256,
          problem:
            `its SHA-256 ${sha256} is not the released ${named.name}'s (${named.sha256}): the file was ` +
            "changed or the download is damaged",
        },
      );
      continue;
    }
    const same = entries.find((e) => e.sha256 === sha256);
    results.push(
      same
        ? { path, sha256, listedAs: same.name }
        : { path, sha256, problem: `neither its name nor its SHA-256 ${sha256} is in SHA256SUMS` },
    );
  }
  return { keyFingerprint: key.fingerprint, entries, files: results, ok: results.every((r) => !r.problem) };
}
