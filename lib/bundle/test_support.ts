/**
 * Shared fixtures for the trust-chain tests and benchmarks (not used by the CLI): a realistic signed v3
 * lockfile built from the Go tool's golden vector, and temp directories.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { encodePublicKey, generateKeyPair, type PrivateKey } from "../crypto/keys.ts";
import { parseSignedDocument } from "../crypto/signed_document.ts";
import { signLockfile } from "../crypto/signer.ts";

/** Absolute path of a file under testdata/vectors/mcptrust/. */
export function vectorPath(rel: string): string {
  return new URL(`../../testdata/vectors/mcptrust/${rel}`, import.meta.url).pathname;
}

function digest(text: string): string {
  return "sha256:" + bytesToHex(sha256(new TextEncoder().encode(text)));
}

/**
 * The golden v3 lockfile (testdata/vectors/mcptrust/golden/mcp-lock.v3.json: prompts and resource
 * templates) with `toolCount` tools of mixed risk and an npm artifact pin added, so every section an
 * auditor reads is populated.
 */
export function goldenV3WithTools(toolCount = 3): Record<string, unknown> {
  const lock = JSON.parse(readFileSync(vectorPath("golden/mcp-lock.v3.json"), "utf8"));
  const risks = ["LOW", "MEDIUM", "HIGH"];
  const names = ["read_file", "write_file", "execute_command"];
  const tools: Record<string, unknown> = {};
  for (let i = 0; i < toolCount; i++) {
    const name = i < names.length ? names[i] : `tool_${String(i).padStart(3, "0")}`;
    tools[name] = {
      description_hash: digest(`description of ${name}`),
      input_schema_hash: digest(`{"properties":{"path":{"type":"string"}},"type":"object"}#${i}`),
      risk_level: risks[i % 3],
    };
  }
  lock.tools = tools;
  lock.server.artifact = {
    type: "npm",
    name: "@modelcontextprotocol/server-filesystem",
    version: "2026.8.31",
    registry: "https://registry.npmjs.org",
    integrity: "sha512-" + "A".repeat(86) + "==",
  };
  return lock;
}

/** Serializes a lockfile the way `mcptrust lock` writes one: 2-space indent, trailing newline. */
export function lockfileText(lock: unknown): string {
  return JSON.stringify(lock, null, 2) + "\n";
}

/** Runs `fn` with a fresh temp directory and removes the directory afterwards. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-test-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A signed lockfile on disk with its key pair, as `keygen` + `sign` would leave them. */
export interface SignedFixture {
  dir: string;
  lockPath: string;
  sigPath: string;
  pubPath: string;
  lockBytes: Uint8Array;
  sigBytes: Uint8Array;
  key: PrivateKey;
}

/** Writes a signed v3 lockfile (goldenV3WithTools), its .sig and the public key into `dir`. */
export async function writeSignedFixture(
  dir: string,
  lock: unknown = goldenV3WithTools(),
): Promise<SignedFixture> {
  const key = generateKeyPair();
  const lockBytes = new TextEncoder().encode(lockfileText(lock));
  const { envelope } = await signLockfile(parseSignedDocument(lockBytes, "mcp-lock.json"), "v1", {
    type: "ed25519",
    key,
    keySource: "test",
  });
  const sigBytes = new TextEncoder().encode(envelope);
  const f = {
    dir,
    lockPath: join(dir, "mcp-lock.json"),
    sigPath: join(dir, "mcp-lock.json.sig"),
    pubPath: join(dir, "mcptrust.pub"),
    lockBytes,
    sigBytes,
    key,
  };
  writeFileSync(f.lockPath, lockBytes);
  writeFileSync(f.sigPath, sigBytes);
  writeFileSync(f.pubPath, encodePublicKey(key.publicKey));
  return f;
}
