/**
 * Every top-level command: the name it is invoked by, and the function that builds its commander
 * definition. main.ts builds only the command a run names (all of them for the root help and for
 * anything it cannot place), so each key must be the name its builder gives the command
 * (registry_test.ts checks).
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
// -- command imports (one line per command file; keep sorted) --
import { bundleCommand } from "./bundle.ts";
import { checkCommand, diffCommand } from "./check.ts";
import { completionCommand } from "./completion.ts";
import { hostsCommand } from "./hosts.ts";
import { keygenCommand } from "./keygen.ts";
import { lockCommand } from "./lock.ts";
import { policyCommand } from "./policy.ts";
import { proxyCommand } from "./proxy.ts";
import { runCommand } from "./run.ts";
import { scanCommand } from "./scan.ts";
import { signCommand } from "./sign.ts";
import { verifyCommand } from "./verify.ts";
import { verifyBundleCommand } from "./verify_bundle.ts";
import { verifyReleaseCommand } from "./verify_release.ts";
import { unwrapCommand, wrapCommand } from "./wrap.ts";
// -- end command imports --

/** Command name -> builder, in the order the root help lists them. */
export const COMMANDS: Readonly<Record<string, () => CommandUnknownOpts>> = {
  // -- command registrations (one line per command; keep sorted) --
  bundle: bundleCommand,
  check: checkCommand,
  completion: completionCommand,
  diff: diffCommand,
  hosts: hostsCommand,
  keygen: keygenCommand,
  lock: lockCommand,
  policy: policyCommand,
  proxy: proxyCommand,
  run: runCommand,
  scan: scanCommand,
  sign: signCommand,
  unwrap: unwrapCommand,
  verify: verifyCommand,
  "verify-bundle": () => verifyBundleCommand(),
  "verify-release": verifyReleaseCommand,
  wrap: wrapCommand,
  // -- end command registrations --
};
