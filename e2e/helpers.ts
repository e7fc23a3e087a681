/**
 * Helpers for end-to-end tests: run the compiled binary (MCPTRUST_BIN, default dist/mcptrust) and build
 * server argvs for the real npm servers and the fixture servers.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

/** Repository root. */
export const ROOT = resolve(new URL("..", import.meta.url).pathname);
/** The binary under test. */
export const BIN = process.env.MCPTRUST_BIN ?? join(ROOT, "dist/mcptrust");

/** The result of one CLI run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mcptrust <args>` and collects its exit code and output. Never throws on a non-zero exit. */
export function run(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(BIN, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      const code = err
        ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 255)
        : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** argv of a fixture server scenario (testdata/servers/scenarios/<name>.json). */
export function fixture(name: string): string[] {
  return [
    "node",
    join(ROOT, "testdata/servers/fixture_server.mjs"),
    join(ROOT, `testdata/servers/scenarios/${name}.json`),
  ];
}

/** argv of @modelcontextprotocol/server-everything (stdio). */
export function serverEverything(): string[] {
  return ["node", join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js"), "stdio"];
}

/** argv of @modelcontextprotocol/server-filesystem serving `dirs`. */
export function serverFilesystem(...dirs: string[]): string[] {
  return ["node", join(ROOT, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js"), ...dirs];
}

/** argv of @modelcontextprotocol/server-memory. */
export function serverMemory(): string[] {
  return ["node", join(ROOT, "node_modules/@modelcontextprotocol/server-memory/dist/index.js")];
}

/** A fresh temp directory. */
export function tempDir(prefix = "mcptrust-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
