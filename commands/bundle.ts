/**
 * `mcptrust bundle export` and `mcptrust bundle verify`: deterministic approval bundles for auditors.
 *
 * @module
 */
import process from "node:process";
import { Command, Option } from "@commander-js/extra-typings";
import { McpTrustError } from "../lib/errors.ts";
import { out, outJsonFailure, parseFormat } from "./options.ts";
import { DEFAULT_LOCKFILE } from "./sign.ts";
import { DEFAULT_PUBLIC_KEY, identityOptions, trustFlagsFrom, type TrustOptionValues } from "./verify.ts";

function oneOf(
  name: string,
  alias: string,
  a: string | undefined,
  b: string | undefined,
): string | undefined {
  if (a !== undefined && b !== undefined && a !== b) {
    throw new McpTrustError(`--${name} and --${alias} name different files`, { hint: `give --${name} once` });
  }
  return a ?? b;
}

function exportCommand() {
  const cmd = new Command("export")
    .description("Verify a signed lockfile and pack it, with its signature and key, into an approval bundle.")
    .option("-o, --output <file>", "where to write the bundle", "approval.zip")
    .option("--lock <file>", `the signed lockfile (default ${DEFAULT_LOCKFILE})`)
    .addOption(new Option("-l, --lockfile <file>").hideHelp())
    .option("--sig <file>", "its signature (default <lockfile>.sig)")
    .addOption(new Option("-s, --signature <file>").hideHelp())
    .option(
      "-k, --key <file>",
      `the signer's Ed25519 public key, checked and packed (default ${DEFAULT_PUBLIC_KEY})`,
    )
    .option("--policy <file>", "a policy file to pack as policy.yaml")
    .option("--include <files...>", "evidence files to pack as evidence/<name>");
  for (const o of identityOptions()) cmd.addOption(o);
  return cmd
    .addHelpText(
      "after",
      `
The lockfile's signature is verified first (--key, or the Sigstore identity flags); an unverified lockfile
is never bundled. The same inputs always give the same bytes (fixed order, 1980-01-01 timestamps, mode
0644, fixed compression), whatever the machine, time zone or umask.

Example:
  mcptrust bundle export --key mcptrust.pub --policy policy.yaml --include scan-report.json -o approval.zip`,
    )
    .action(async (opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { atomicWriteFile },
        { safeText },
        { describeSigner },
        { readInputFile },
        { MAX_LOCKFILE_BYTES },
        { MAX_SIGNATURE_BYTES },
        { buildBundle },
        { BUNDLE_ZIP_LIMITS },
      ] = await Promise.all([
        import("../lib/atomic_write.ts"),
        import("../lib/crypto/display.ts"),
        import("../lib/crypto/report.ts"),
        import("../lib/crypto/read_input.ts"),
        import("../lib/crypto/signed_document.ts"),
        import("../lib/crypto/verifier.ts"),
        import("../lib/bundle/export.ts"),
        import("../lib/bundle/zip_read.ts"),
      ]);
      const o = opts as typeof opts & TrustOptionValues;
      const lockPath = oneOf("lock", "lockfile", o.lock, o.lockfile) ?? DEFAULT_LOCKFILE;
      const sigPath = oneOf("sig", "signature", o.sig, o.signature) ?? `${lockPath}.sig`;
      const flags = trustFlagsFrom(o);
      const res = await buildBundle({
        lockfile: { path: lockPath, bytes: readInputFile(lockPath, "lockfile", MAX_LOCKFILE_BYTES) },
        signature: {
          path: sigPath,
          bytes: readInputFile(
            sigPath,
            "signature",
            MAX_SIGNATURE_BYTES,
            "sign the lockfile first: `mcptrust sign`",
          ),
        },
        flags,
        defaultKeyPath: DEFAULT_PUBLIC_KEY,
        policy: o.policy === undefined
          ? undefined
          : { path: o.policy, bytes: readInputFile(o.policy, "policy", 16 * 1024 * 1024) },
        includes: (o.include ?? []).map((path) => ({
          path,
          bytes: readInputFile(path, "included file", BUNDLE_ZIP_LIMITS.maxEntryBytes),
        })),
      });
      try {
        atomicWriteFile(o.output, res.zip, { mode: 0o644 });
      } catch (err) {
        throw new McpTrustError(`cannot write the bundle ${o.output}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const packed = res.manifest.files.map((f) => f.name).join(", ");
      await out(
        `wrote ${safeText(o.output)} (sha256 ${res.sha256}, ${res.manifest.files.length + 1} entries)\n` +
          `  signature verified: ${describeSigner(res.verified.signer)}\n` +
          `  lockfile sha256:    ${res.verified.lockfile.sha256}\n` +
          `  entries:            manifest.json, ${safeText(packed)}\n`,
      );
    });
}

function verifyBundleZipCommand() {
  const cmd = new Command("verify")
    .description("Check an approval bundle offline and print what it approves.")
    .argument("<bundle>", "the approval bundle (ZIP) to check")
    .option("-k, --key <file>", "the signer's Ed25519 public key, obtained independently of the bundle")
    .addOption(
      new Option("--format <format>", "text or json").argParser(parseFormat).default("text" as const),
    );
  for (const o of identityOptions()) cmd.addOption(o);
  return cmd
    .addHelpText(
      "after",
      `
Checked, without network access: the archive is well-formed and safe to unpack (no absolute, "..",
backslash or drive-letter names, no duplicates or symlinks, size and compression-ratio caps); every entry
is listed in manifest.json with a matching SHA-256 and size, and nothing else is present (manifest.json
itself is the only unlisted entry); the lockfile's signature verifies; README.txt matches the lockfile.
policy.yaml and evidence files are hash-checked but not covered by the signature.

Without --key the public key inside the bundle is used, with a warning: it only shows the bundle is
consistent with itself. Pass --key (or --certificate-identity/--certificate-oidc-issuer) to check who signed.

Exit codes: 0 valid, 1 invalid (altered, unsafe, incomplete, or another signer), 2 unusable input.`,
    )
    .action(async (bundlePath, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { readInputFile },
        { bundleReportJson, bundleReportText },
        { verifyBundle },
        { BUNDLE_ZIP_LIMITS },
      ] = await Promise.all([
        import("../lib/crypto/read_input.ts"),
        import("../lib/bundle/report.ts"),
        import("../lib/bundle/verify.ts"),
        import("../lib/bundle/zip_read.ts"),
      ]);
      const o = opts as typeof opts & TrustOptionValues;
      try {
        const flags = trustFlagsFrom(o);
        const bytes = readInputFile(bundlePath, "bundle", BUNDLE_ZIP_LIMITS.maxTotalBytes + 1024 * 1024);
        const report = await verifyBundle({ bundle: { path: bundlePath, bytes }, flags });
        for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
        await out(
          o.format === "json"
            ? JSON.stringify(bundleReportJson(report), null, 2) + "\n"
            : bundleReportText(report),
        );
      } catch (err) {
        if (o.format === "json" && err instanceof McpTrustError) {
          await outJsonFailure(err, { valid: false, bundle: { path: bundlePath } });
        }
        throw err;
      }
    });
}

/** Builds the `bundle` command with its `export` and `verify` subcommands. */
export function bundleCommand() {
  return new Command("bundle")
    .description("Approval bundles for auditors: export a verified, deterministic ZIP; verify one offline.")
    .addCommand(exportCommand())
    .addCommand(verifyBundleZipCommand());
}
