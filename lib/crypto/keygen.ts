/**
 * Writing a new key pair to disk safely: the private key is created 0600 through a temp file and an
 * exclusive link (never replacing an existing file, even in a race), the public key 0644.
 *
 * @module
 */
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { resolve } from "node:path";
import { atomicWriteFile } from "../atomic_write.ts";
import { McpTrustError } from "../errors.ts";
import {
  encodePrivateKey,
  encodePublicKey,
  generateKeyPair,
  type KeyFormat,
  type PrivateKey,
} from "./keys.ts";

/** Where and how to write a key pair. */
export interface KeygenOptions {
  privatePath: string;
  publicPath: string;
  format: KeyFormat;
}

function exists(path: string): boolean {
  try {
    lstatSync(path); // lstat: a dangling symlink counts as existing, and is never followed
    return true;
  } catch {
    return false;
  }
}

/**
 * Generates a key pair and writes it.
 *
 * @returns the generated key (its fingerprint is what users publish)
 * @throws {McpTrustError} exit 2: either file already exists (nothing is written), both paths are the
 *   same file, or a write fails (a private key written before the failure is removed again)
 */
export function writeNewKeyPair(opts: KeygenOptions): PrivateKey {
  if (resolve(opts.privatePath) === resolve(opts.publicPath)) {
    throw new McpTrustError("the private and public key paths are the same file", {
      hint: "pass different paths to --private and --public",
    });
  }
  for (const [path, what] of [[opts.privatePath, "private"], [opts.publicPath, "public"]]) {
    if (exists(path)) {
      throw new McpTrustError(`refusing to overwrite the existing ${what} key file ${path}`, {
        hint:
          `keep using the existing key pair, or move ${path} away first (a replaced private key cannot be ` +
          "recovered, and signatures made with it will no longer match a new public key)",
      });
    }
  }
  const key = generateKeyPair(opts.format);
  writeExclusive(opts.privatePath, encodePrivateKey(key), 0o600, "private");
  try {
    writeExclusive(opts.publicPath, encodePublicKey(key.publicKey), 0o644, "public");
    // The umask may have narrowed 0644; the public key is meant to be readable by everyone.
    chmodSync(opts.publicPath, 0o644);
  } catch (err) {
    unlinkSync(opts.privatePath);
    throw err;
  }
  return key;
}

function writeExclusive(path: string, text: string, mode: number, what: string): void {
  try {
    atomicWriteFile(path, text, { mode, exclusive: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new McpTrustError(
      code === "EEXIST"
        ? `refusing to overwrite the existing ${what} key file ${path} (it appeared while the key was generated)`
        : `cannot write the ${what} key ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
