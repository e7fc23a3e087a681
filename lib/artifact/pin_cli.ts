/**
 * The `--pin` flags of `lock`, read and checked, and the lines `lock --pin` prints. Kept here so
 * commands/lock.ts stays a thin caller. The pinning code itself is imported when `--pin` is used, so
 * the CLI's start-up does not pay for it.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { McpTrustError } from "../errors.ts";
import type { ArtifactPin } from "../lockfile/types.ts";

/** The `lock` flags that belong to `--pin`. */
export interface PinFlags {
  pin?: boolean;
  registry?: string;
  allowHost?: string[];
  registryKeys?: string;
  ca?: string;
  verifyProvenance?: boolean;
  expectedSource?: string;
  requireProvenance?: boolean;
  force?: boolean;
}

/** Help texts of the `--pin` flags. */
export const PIN_HELP = {
  pin: "also pin the npm package the launcher command runs (npx, npm exec, bunx, pnpm dlx) and its whole " +
    "dependency tree in server.artifact, for `mcptrust run --lock`",
  registry: "with --pin: the registry to resolve from (default: .npmrc and npm_config_registry, as npm)",
  allowHost: "with --pin: a registry host allowed to resolve to a private address (repeatable)",
  registryKeys: "with --pin: npm registry signing keys (the JSON of <registry>/-/npm/v1/keys) instead of " +
    "the keys embedded from Sigstore's TUF seed",
  ca: "with --pin: trust these CA certificates (PEM) for the registry instead of the system roots",
  verifyProvenance:
    "with --pin: verify the registry's npm provenance attestations (Sigstore, offline against the " +
    "embedded trusted root) and record the build identity and bundles in server.artifact.provenance",
  expectedSource:
    "with --verify-provenance: the repository the package must be built from (github.com/<owner>/<repo>, " +
    "matched exactly)",
  requireProvenance: "with --pin: fail (exit 1) when the version has no verifiable provenance",
} as const;

/** Help text appended to `lock --help`. */
export const PIN_HELP_TEXT = `
Pinning (--pin): the package is resolved to one exact version (a range or dist-tag is resolved now), its
whole dependency tree is resolved by the runtime inside mcptrust (no install script runs), and every
tarball is downloaded over HTTPS and checked against its integrity before the server is started. The
registry signature of the version is checked against npm's keys and recorded. Registry tokens from
.npmrc are used for requests and never printed or written.
  mcptrust lock --pin -- npx -y @modelcontextprotocol/server-filesystem@^2026 /srv/data
Provenance (--verify-provenance): the registry's attestations are verified offline: every subject is the
package URL and the tarball's sha512, the publish attestation is signed by a registry key, the SLSA
provenance by a GitHub Actions workflow (issuer and --expected-source exact), its predicate matches the
certificate. Once recorded, provenance is checked on every later lock --pin: a version without it
(downgrade) or from another repository or issuer is refused unless --force.
  mcptrust lock --pin --verify-provenance --expected-source github.com/org/repo -- npx -y @org/server@1
Refused: a spec that resolves to nothing or is not a registry package, and network refusals (exit 2);
a tarball whose integrity does not match, a registry signature or attestation that does not verify, a
provenance downgrade or identity change (exit 1).`;

/**
 * Checks the `--pin` flags against each other.
 *
 * @throws McpTrustError (exit 2) when a pin flag comes without --pin, or --pin with --url
 */
export function checkPinFlags(flags: PinFlags, remote: boolean): void {
  const used = [
    flags.registry !== undefined && "--registry",
    (flags.allowHost?.length ?? 0) > 0 && "--allow-host",
    flags.registryKeys !== undefined && "--registry-keys",
    flags.ca !== undefined && "--ca",
    flags.verifyProvenance && "--verify-provenance",
    flags.expectedSource !== undefined && "--expected-source",
    flags.requireProvenance && "--require-provenance",
  ].filter(Boolean);
  if (!flags.pin && used.length > 0) {
    throw new McpTrustError(`${used.join(", ")} only apply with --pin`, {
      hint: "add --pin to pin the npm package, or drop the flag",
    });
  }
  if (flags.expectedSource !== undefined && !flags.verifyProvenance && !flags.requireProvenance) {
    throw new McpTrustError("--expected-source only applies with --verify-provenance", {
      hint: "add --verify-provenance",
    });
  }
  if (flags.pin && remote) {
    throw new McpTrustError(
      "--pin pins the npm package a launcher command runs; a remote server (--url) has none",
      {
        hint:
          "drop --pin, or lock the server by its command: mcptrust lock --pin -- npx -y <package>@<version>",
      },
    );
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new McpTrustError(`cannot read ${what} ${path}: ${(err as { code?: string }).code ?? err}`, {
      hint: `check the ${what} path`,
    });
  }
}

/** One line describing a pin, for the lock summary. */
export function summarizePin(pin: ArtifactPin): string {
  const deps = pin.dependencies ?? [];
  const optional = deps.filter((d) => d.optional).length;
  const sig = pin.registry_signature;
  return `Pinned ${pin.name}@${pin.version} (${pin.integrity}): ${deps.length} package(s)` +
    (optional ? ` (${optional} optional)` : "") +
    `, bin ${pin.launch?.bin} -> ${pin.launch?.entry}` +
    (sig ? `, registry signature ${sig.status}${sig.keyid ? ` (${sig.keyid})` : ""}` : "") +
    (pin.provenance?.verified
      ? `, provenance verified (${pin.provenance.source_repo}, ${pin.provenance.workflow_uri})`
      : "");
}

/**
 * Pins the artifact of `argv` for `lock --pin`: reads the CA and keys files, runs the pin, prints its
 * warnings and notes to stderr.
 *
 * @param previous the existing lockfile's artifact, if any (keeps the signature check time when unchanged)
 * @throws everything `pinNpmArtifact` (lib/artifact/pin.ts) throws; McpTrustError (exit 2) for unreadable files
 */
export async function pinForLock(
  argv: readonly string[],
  flags: PinFlags,
  previous: ArtifactPin | undefined,
): Promise<ArtifactPin> {
  const [{ pinNpmArtifact }, { loadRegistryKeysFile }] = await Promise.all([
    import("./pin.ts"),
    import("./registry_keys.ts"),
  ]);
  const caPem = flags.ca !== undefined ? readText(flags.ca, "--ca") : undefined;
  const registryKeys = flags.registryKeys !== undefined
    ? loadRegistryKeysFile(flags.registryKeys)
    : undefined;
  const expectedSource = flags.expectedSource !== undefined
    ? (await import("./provenance.ts")).normalizeExpectedSource(flags.expectedSource)
    : undefined;
  const r = await pinNpmArtifact(argv, {
    registry: flags.registry,
    allowHosts: flags.allowHost,
    caPem,
    registryKeys,
    previous,
    verifyProvenance: flags.verifyProvenance === true,
    expectedSource,
    requireProvenance: flags.requireProvenance === true,
    force: flags.force === true,
    onWarning: (line) => process.stderr.write(`${line.startsWith("warning:") ? line : `warning: ${line}`}\n`),
  });
  for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
  process.stderr.write(`resolved ${r.pin.name}@${r.command.spec} to ${r.pin.version} (${r.how})\n`);
  return r.pin;
}
