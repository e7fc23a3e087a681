/**
 * The command registry main.ts builds from: a command is reachable only under its registered name.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMANDS } from "./registry.ts";

test("each command is registered under its own name (main.ts builds only the command a run names)", () => {
  for (const [name, build] of Object.entries(COMMANDS)) assert.equal(build().name(), name);
});
