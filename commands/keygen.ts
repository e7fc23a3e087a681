/**
 * `mcptrust keygen`: create an Ed25519 key pair for signing lockfiles.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { out } from "./options.ts";

/** Builds the `keygen` command. */
export function keygenCommand() {
  return new Command("keygen")
    .description("Create an Ed25519 key pair for signing lockfiles (private key 0600, public key 0644).")
    .option("--private <file>", "where to write the private key", "mcptrust.key")
    .option("--public <file>", "where to write the public key", "mcptrust.pub")
    .addOption(
      new Option(
        "--format <format>",
        "pem: PKCS#8/SPKI (OpenSSL-compatible); raw: the Go MCPTrust's ED25519 PEM blocks",
      )
        .choices(["pem", "raw"] as const)
        .default("pem" as const),
    )
    .addHelpText(
      "after",
      `
Existing files are never overwritten. Both formats are read by sign, verify and bundle.
Publish the public key (or its fingerprint) where verifiers can get it independently of the lockfile.

Examples:
  mcptrust keygen
  mcptrust keygen --private ci.key --public ci.pub --format raw
  openssl pkey -pubin -in mcptrust.pub -outform DER | sha256sum   # the fingerprint, recomputed`,
    )
    .action(async (opts) => {
      const { writeNewKeyPair } = await import("../lib/crypto/keygen.ts"); // loaded when the command runs
      const key = writeNewKeyPair({
        privatePath: opts.private,
        publicPath: opts.public,
        format: opts.format,
      });
      const kind = opts.format === "pem" ? "PKCS#8/SPKI PEM" : "Go raw ED25519 PEM";
      await out(
        `wrote private key ${opts.private} (mode 0600, ${kind}): keep it secret, never commit it\n` +
          `wrote public key  ${opts.public} (mode 0644): publish it for verifiers\n` +
          `key fingerprint   ${key.publicKey.fingerprint}\n`,
      );
    });
}
