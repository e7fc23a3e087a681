/**
 * The run cache: verified tarballs by content, and extracted trees by pin.
 *
 * Layout (default `$XDG_CACHE_HOME/mcptrust`, else `~/.cache/mcptrust`; `--cache-dir` replaces it):
 * ```
 * tarballs/<sha512 hex>          the tarball bytes (0644), named by their pinned sha512
 * trees/<tree key>/manifest.json what was extracted: packages, and every file's path, mode, size, sha256
 * trees/<tree key>/root/         the tree: node_modules/<server>, node_modules/<dep>, ...
 * ```
 * The cache directory and its subdirectories are 0700 and must belong to us and not be group/world
 * writable (else refused: someone else could swap what we run).
 *
 * Nothing in the cache is trusted as it stands: a tarball is hashed again on every use (a file that no
 * longer matches is discarded and downloaded again), and a tree is checked against its manifest before
 * every use. The manifest is written from the extracted files right after extraction of verified
 * tarballs: every directory, and every file's path, mode, size and sha256, plus a fingerprint of the
 * tree's metadata (every entry's inode, size, mode, mtime and ctime, in nanoseconds).
 *
 * The check on use, cheap first: walk the tree and compare the metadata fingerprint. Any write to a file
 * changes its mtime and ctime; restoring the mtime (utimes) sets the ctime to now, and the ctime cannot be
 * set back without root (or changing the clock); replacing a file changes its inode. So an unchanged
 * fingerprint means unchanged files, and costs an lstat per entry. If the fingerprint differs (the tree
 * was touched, or copied: `cp -a` keeps mtimes, not ctimes or inodes), every file is hashed again and
 * compared with the manifest; if all match, the fingerprint is renewed, else the tree is extracted again.
 * Measured (scripts/bench_run.ts) on server-filesystem's tree (4132 files, 23 MiB): hashing every file
 * takes ~117 ms, re-extracting from the cached tarballs ~1.4 s, the fingerprint ~15-20 ms. The manifest
 * lives in the same private cache as the tree: whoever can rewrite one can rewrite the other, so the
 * check guards against changes made without the manifest (an edit, a server writing into its own tree
 * without the sandbox, a partial copy), not against our own user rewriting both. Where the runtime or the
 * file system reports times in whole milliseconds or coarser, there is no fingerprint: every use hashes.
 *
 * Writes are atomic: tarballs go to a temp file and are renamed; a tree is extracted into a private
 * staging directory and renamed into place whole, so a crash never leaves a half tree under its key.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { atomicWriteFile } from "../atomic_write.ts";
import { McpTrustError } from "../errors.ts";

/** The default cache directory: `$XDG_CACHE_HOME/mcptrust`, else `~/.cache/mcptrust`. */
export function defaultCacheDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith("/") ? xdg : join(home, ".cache"), "mcptrust");
}

/** One package of a tree, as recorded when it was extracted. */
export interface ManifestPackage {
  path: string;
  name: string;
  version: string;
  /** The pinned SRI the tarball was verified against. */
  integrity: string;
  /** sha256 hex of the tarball bytes that were extracted. */
  sha256: string;
  /** Tarball size in bytes. */
  size: number;
}

/** A tree's manifest. Paths are relative to `root/`, `/`-separated. */
export interface TreeManifest {
  schema: 1;
  key: string;
  created_at: string;
  packages: ManifestPackage[];
  /** Directories, sorted. */
  dirs: string[];
  /** Files, sorted by path: [path, mode (permission bits), size, sha256 hex]. */
  files: [string, number, number, string][];
  /** sha256 of the tree's metadata (see {@link statFingerprint}), when recorded. */
  stat?: string;
}

/** The result of {@link verifyTree}. */
export type TreeCheck =
  /** `checked`: by the metadata fingerprint, or by hashing every file (then the fingerprint was renewed). */
  | { ok: true; manifest: TreeManifest; checked: "metadata" | "content" }
  | { ok: false; reason: string };

function refuseDir(path: string, why: string): McpTrustError {
  return new McpTrustError(`refused to use the cache directory ${path}: ${why}`, {
    hint: "use a directory only you can write (chmod 700), or pass --cache-dir DIR",
  });
}

/** Creates `path` (0700) if missing; checks it is a directory we own that others cannot write. */
function ensurePrivateDir(path: string, follow: boolean): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new McpTrustError(`cannot create the cache directory ${path}: ${(err as Error).message}`, {
      hint: "pass --cache-dir DIR with a writable directory",
    });
  }
  const st = follow ? statSync(path) : lstatSync(path);
  if (!st.isDirectory()) throw refuseDir(path, "it is not a directory");
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw refuseDir(path, `it belongs to uid ${st.uid}, not to you`);
  if ((st.mode & 0o022) !== 0) {
    throw refuseDir(path, `others can write to it (mode ${(st.mode & 0o777).toString(8)})`);
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Walks a tree and records every directory and file (content hashed).
 *
 * @throws McpTrustError (exit 2) for a link or special file (extraction never makes one)
 */
export function scanTree(root: string): { dirs: string[]; files: TreeManifest["files"] } {
  const dirs: string[] = [];
  const files: TreeManifest["files"] = [];
  const walk = (rel: string) => {
    const abs = rel === "" ? root : join(root, rel);
    for (const name of readdirSync(abs).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(join(abs, name));
      if (st.isDirectory()) {
        dirs.push(r);
        walk(r);
      } else if (st.isFile()) {
        files.push([r, st.mode & 0o7777, st.size, sha256Hex(readFileSync(join(abs, name)))]);
      } else {
        throw new McpTrustError(`${join(abs, name)} is neither a file nor a directory`);
      }
    }
  };
  walk("");
  dirs.sort();
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { dirs, files };
}

/**
 * A fingerprint of a tree's metadata: sha256 over every entry (sorted) of its path, type, inode, size,
 * mode, mtime and ctime in nanoseconds (lstat, links not followed).
 *
 * @returns the fingerprint, or undefined where times are coarse (whole milliseconds: Deno's node:fs gives
 *   ctime in seconds; some file systems): there a write could keep every field, so only hashing will do
 * @throws the fs error if the tree cannot be read
 */
export function statFingerprint(root: string): string | undefined {
  const top = lstatSync(root, { bigint: true });
  if (top.ctimeNs % 1_000_000n === 0n && top.mtimeNs % 1_000_000n === 0n) return undefined;
  const h = createHash("sha256");
  const walk = (rel: string) => {
    const abs = rel === "" ? root : join(root, rel);
    for (const name of readdirSync(abs).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(join(abs, name), { bigint: true });
      const type = st.isDirectory() ? "d" : st.isFile() ? "f" : "o";
      h.update(`${r}\0${type}\0${st.ino}\0${st.size}\0${st.mode}\0${st.mtimeNs}\0${st.ctimeNs}\n`);
      if (type === "d") walk(r);
    }
  };
  walk("");
  return h.digest("hex");
}

/**
 * Checks a cached tree against its manifest (module note): the metadata fingerprint first; if it differs,
 * the full check (same directories, same files with the same mode, size and content, nothing else, no
 * links), after which a good tree's fingerprint is renewed.
 *
 * @param treeDir `trees/<key>` (holding manifest.json and root/)
 * @param key the expected tree key
 * @returns ok with the manifest (and how it was checked), or the first difference found
 */
export function verifyTree(treeDir: string, key: string): TreeCheck {
  let manifest: TreeManifest;
  try {
    manifest = JSON.parse(readFileSync(join(treeDir, "manifest.json"), "utf8"));
  } catch (err) {
    return { ok: false, reason: `its manifest is unreadable (${(err as Error).message})` };
  }
  if (manifest?.schema !== 1 || manifest.key !== key || !Array.isArray(manifest.files)) {
    return { ok: false, reason: "its manifest is not for this pin" };
  }
  const root = join(treeDir, "root");
  if (typeof manifest.stat === "string") {
    try {
      if (statFingerprint(root) === manifest.stat) return { ok: true, manifest, checked: "metadata" };
    } catch { /* unreadable: the full check says what */ }
  }
  const full = verifyTreeContent(root, manifest);
  if (!full.ok) return full;
  // Every file is what was extracted: renew the fingerprint (best effort; the next run checks again).
  try {
    manifest.stat = statFingerprint(root);
    if (manifest.stat === undefined) return full;
    atomicWriteFile(join(treeDir, "manifest.json"), JSON.stringify(manifest) + "\n", { mode: 0o644 });
  } catch { /* a read-only cache still works, at the full check's cost */ }
  return full;
}

function verifyTreeContent(root: string, manifest: TreeManifest): TreeCheck {
  const want = new Map(manifest.files.map((f) => [f[0], f]));
  const wantDirs = new Set(manifest.dirs);
  let seenFiles = 0;
  let seenDirs = 0;
  let failure: string | undefined;
  const walk = (rel: string): void => {
    const abs = rel === "" ? root : join(root, rel);
    for (const name of readdirSync(abs)) {
      if (failure) return;
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(join(abs, name));
      if (st.isDirectory()) {
        if (!wantDirs.has(r)) {
          failure = `directory ${r} was added`;
          return;
        }
        seenDirs++;
        walk(r);
      } else if (st.isFile()) {
        const f = want.get(r);
        if (!f) failure = `file ${r} was added`;
        else if ((st.mode & 0o7777) !== f[1]) failure = `file ${r} changed mode`;
        else if (st.size !== f[2]) failure = `file ${r} changed size`;
        else if (sha256Hex(readFileSync(join(abs, name))) !== f[3]) failure = `file ${r} changed content`;
        else seenFiles++;
      } else {
        failure = `${r} is a link or special file`;
      }
    }
  };
  try {
    walk("");
  } catch (err) {
    return { ok: false, reason: `it cannot be read (${(err as Error).message})` };
  }
  if (failure) return { ok: false, reason: failure };
  if (seenFiles !== want.size || seenDirs !== wantDirs.size) {
    return { ok: false, reason: "files were removed" };
  }
  return { ok: true, manifest, checked: "content" };
}

/** The cache directory, opened (created and checked). */
export class RunCache {
  /** The cache directory. */
  readonly dir: string;
  /** `tarballs/` */
  readonly tarballs: string;
  /** `trees/` */
  readonly trees: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.tarballs = join(dir, "tarballs");
    this.trees = join(dir, "trees");
  }

  /**
   * Opens (and creates, 0700) the cache at `dir`.
   *
   * @throws McpTrustError (exit 2) if it cannot be created, is not ours, or others can write to it
   */
  static open(dir: string): RunCache {
    const c = new RunCache(dir);
    ensurePrivateDir(dir, true);
    ensurePrivateDir(c.tarballs, false);
    ensurePrivateDir(c.trees, false);
    return c;
  }

  /** Where the tarball with this sha512 (hex) is kept. */
  tarballPath(sha512Hex: string): string {
    if (!/^[0-9a-f]{128}$/.test(sha512Hex)) throw new McpTrustError(`internal: bad cache key ${sha512Hex}`);
    return join(this.tarballs, sha512Hex);
  }

  /** The cached bytes, or undefined if absent. The caller hashes them before any use. */
  readTarball(sha512Hex: string): Uint8Array | undefined {
    try {
      return new Uint8Array(readFileSync(this.tarballPath(sha512Hex)));
    } catch {
      return undefined;
    }
  }

  /** Stores verified bytes (atomically; a concurrent writer of the same key writes the same bytes). */
  writeTarball(sha512Hex: string, bytes: Uint8Array): void {
    try {
      atomicWriteFile(this.tarballPath(sha512Hex), bytes, { mode: 0o644 });
    } catch (err) {
      throw new McpTrustError(`cannot write to the cache ${this.tarballs}: ${(err as Error).message}`, {
        hint: "free some disk space, or pass --cache-dir DIR",
      });
    }
  }

  /** Removes a cached tarball (it no longer matches its name). */
  discardTarball(sha512Hex: string): void {
    try {
      unlinkSync(this.tarballPath(sha512Hex));
    } catch { /* already gone */ }
  }

  /** `trees/<key>` */
  treePath(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new McpTrustError(`internal: bad tree key ${key}`);
    return join(this.trees, key);
  }

  /** A new private (0700) staging directory for extracting a tree. */
  stageTree(key: string): string {
    return mkdtempSync(join(this.trees, `.staging-${key.slice(0, 16)}-`));
  }

  /**
   * Moves a finished staging directory to `trees/<key>`.
   *
   * @returns true if it was moved; false if another run put a tree there first (the staging
   *   directory is then removed, and the caller checks and uses that tree)
   */
  commitTree(staging: string, key: string): boolean {
    try {
      renameSync(staging, this.treePath(key));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      rmSync(staging, { recursive: true, force: true });
      if (code === "ENOTEMPTY" || code === "EEXIST") return false;
      throw new McpTrustError(`cannot write to the cache ${this.trees}: ${(err as Error).message}`);
    }
  }

  /** Removes `trees/<key>` (renamed away first, so no run sees half of it). */
  discardTree(key: string): void {
    const trash = join(this.trees, `.trash-${key.slice(0, 16)}-${process.pid}-${Date.now()}`);
    try {
      renameSync(this.treePath(key), trash);
    } catch {
      return;
    }
    rmSync(trash, { recursive: true, force: true });
  }
}
