/**
 * Shared fixtures for the trust-chain tests and benchmarks (not used by the CLI): a realistic signed v3
 * lockfile built from the Go tool's golden vector, and temp directories.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

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
