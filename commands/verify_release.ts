/**
 * `mcptrust verify-release`: check downloaded release files against the release's signed SHA256SUMS,
 * the same check install.sh makes before it installs anything.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { existsSync, statSync } from "node:fs";
import { CheckFailedError, EXIT_CHECK_FAILED, McpTrustError } from "../lib/errors.ts";
import { safeText } from "../lib/crypto/display.ts";
import { out } from "./options.ts";
import process from "node:process";

/** Builds the `verify-release` command. */
export function verifyReleaseCommand() {
  return new Command("verify-release")
    .description("Verify downloaded mcptrust release files against the signed SHA256SUMS (fails closed).")
    .argument("<file...>", "release files to check (binaries or archives, as downloaded or renamed)")
    .requiredOption("--sums <file>", "the release's SHA256SUMS")
    .option("--sig <file>", "the signature of SHA256SUMS (default <sums>.sig)")
    .option("-k, --key <file>", "the release public key (SPKI PEM); default: the key built into mcptrust")
    .addHelpText(
      "after",
      `
What is checked, in order: the Ed25519 signature in SHA256SUMS.sig over SHA256SUMS' exact bytes, with the
release key; then each file's SHA-256 against SHA256SUMS, by its name, or by its hash for a renamed file
(e.g. the mcptrust binary taken out of its archive). Nothing in SHA256SUMS is trusted before its
signature verifies, and an unsigned SHA256SUMS fails.

Examples:
  mcptrust verify-release --sums SHA256SUMS mcptrust-0.1.0-linux-x64.tar.gz
  mcptrust verify-release --key release.pub --sums SHA256SUMS --sig SHA256SUMS.sig ./mcptrust

The same check without mcptrust (OpenSSL >= 1.1.1):
  openssl pkeyutl -verify -pubin -inkey release.pub -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
  sha256sum --check --ignore-missing SHA256SUMS

A release made in CI also has SHA256SUMS.sigstore.json (keyless); see \`mcptrust verify-bundle --help\`.
Exit codes: 0 every file verified, 1 a signature or checksum check failed, 2 unusable input.`,
    )
    .action(async (files, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { readInputFile },
        { readPublicKeyFile },
        { embeddedReleaseKey },
        { MAX_SUMS_BYTES },
        { verifyRelease },
      ] = await Promise.all([
        import("../lib/crypto/read_input.ts"),
        import("../lib/crypto/keys.ts"),
        import("../lib/release/key.ts"),
        import("../lib/release/sums.ts"),
        import("../lib/release/verify.ts"),
      ]);
      const key = opts.key !== undefined ? readPublicKeyFile(opts.key) : embeddedReleaseKey();
      if (!key) {
        throw new McpTrustError("no release key: this build of mcptrust embeds none", {
          hint: 'pass the release public key with --key FILE (see docs/CI.md, "Release signing key")',
        });
      }
      for (const f of files) {
        if (!statSync(f, { throwIfNoEntry: false })?.isFile()) {
          throw new McpTrustError(`cannot read ${f}: no such file`, { hint: "name the downloaded files" });
        }
      }
      const sums = readInputFile(
        opts.sums,
        "SHA256SUMS",
        MAX_SUMS_BYTES,
        "download SHA256SUMS from the release",
      );
      const sigPath = opts.sig ?? `${opts.sums}.sig`;
      if (opts.sig === undefined && !existsSync(sigPath)) {
        // No signature beside SHA256SUMS: its checksums are unsigned, which is a failed check.
        throw new CheckFailedError(`SHA256SUMS is not signed: there is no ${sigPath}; refusing to trust it`, {
          hint: "download SHA256SUMS.sig from the release (or name it with --sig)",
        });
      }
      // A signature is 64 bytes; a little more is read so a wrong file is reported by its size.
      const sig = readInputFile(sigPath, "signature", 4096, "download SHA256SUMS.sig from the release");
      const check = await verifyRelease(sums, sig, key, files);
      const source = opts.key !== undefined ? safeText(opts.key) : "the built-in release key";
      const lines = [`SHA256SUMS signature: verified (Ed25519 key ${check.keyFingerprint}, ${source})`];
      for (const f of check.files) {
        lines.push(
          f.problem
            ? `FAIL  ${safeText(f.path)}: ${safeText(f.problem)}`
            : `ok    ${safeText(f.path)}${
              f.listedAs && !f.path.endsWith(f.listedAs) ? ` (as ${safeText(f.listedAs)})` : ""
            }  sha256:${f.sha256}`,
        );
      }
      const failed = check.files.filter((f) => f.problem).length;
      lines.push(
        failed
          ? `verify-release: FAIL (${failed} of ${check.files.length} file(s) do not match the signed SHA256SUMS; do not run them)`
          : `verify-release: OK (${check.files.length} file(s) match the signed SHA256SUMS)`,
      );
      await out(lines.join("\n") + "\n");
      if (failed) process.exitCode = EXIT_CHECK_FAILED;
    });
}
