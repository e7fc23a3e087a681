/**
 * mcptrust runs in checkouts it does not trust (CI on a pull request). The compiled binary is a Bun
 * runtime: unless built otherwise it reads bunfig.toml (whose `preload` runs code before main) and .env
 * (whose variables reach every server it starts) from the current directory. The build turns both off.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture, run, tempDir } from "./helpers.ts";

test("bunfig.toml, .env, tsconfig.json and package.json in the working directory are not read", async () => {
  const dir = tempDir("mcptrust-untrusted-");
  const marker = join(dir, "PRELOADED");
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.js"]\n');
  writeFileSync(join(dir, "preload.js"), `require("fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
  writeFileSync(join(dir, ".env"), "MCPTRUST_E2E_DOTENV=leaked\n");
  writeFileSync(join(dir, "tsconfig.json"), '{"compilerOptions":{"paths":{"commander":["./preload.js"]}}}\n');
  writeFileSync(join(dir, "package.json"), '{"type":"commonjs","imports":{"#x":"./preload.js"}}\n');

  const version = await run(["--version"], { cwd: dir });
  assert.equal(version.code, 0, version.stderr);
  const lock = join(dir, "mcp-lock.json");
  const locked = await run(["lock", "-o", lock, "--", ...fixture("base")], { cwd: dir });
  assert.equal(locked.code, 0, locked.stderr);
  assert.equal(existsSync(marker), false, "bunfig.toml preload ran");

  // A server started from there does not see the .env variables.
  const envOut = join(dir, "env.txt");
  await run(
    [
      "scan",
      "-t",
      "2s",
      "--",
      "node",
      "-e",
      `require("fs").writeFileSync(${JSON.stringify(envOut)}, String(process.env.MCPTRUST_E2E_DOTENV))`,
    ],
    { cwd: dir },
  );
  assert.equal(readFileSync(envOut, "utf8"), "undefined");
});
