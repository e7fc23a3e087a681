/**
 * `mcptrust sign`: sign a lockfile with an Ed25519 key or with Sigstore (keyless), writing the Go tool's
 * `.sig` envelope next to it.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { McpTrustError } from "../lib/errors.ts";
import type { SigningMethod } from "../lib/crypto/signer.ts";
import { out } from "./options.ts";

/** Default lockfile path, as in the Go tool. */
export const DEFAULT_LOCKFILE = "mcp-lock.json";

/**
 * The lockfile named by a positional argument and/or `-l/--lockfile` (the Go tool's flag).
 *
 * @throws {McpTrustError} exit 2 if both are given and differ
 */
export function lockfileArg(positional: string | undefined, flag: string | undefined): string {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new McpTrustError(`two different lockfiles given: ${positional} and --lockfile ${flag}`, {
      hint: "name the lockfile once",
    });
  }
  return positional ?? flag ?? DEFAULT_LOCKFILE;
}

/** Builds the `sign` command. */
export function signCommand() {
  return new Command("sign")
    .description("Sign a lockfile (Ed25519 key, or Sigstore keyless) and write <lockfile>.sig.")
    .argument("[lockfile]", `the lockfile to sign (default ${DEFAULT_LOCKFILE})`)
    .option("-l, --lockfile <file>", "the lockfile to sign (same as the argument; Go compatibility)")
    .option(
      "-k, --key <file>",
      "Ed25519 private key (PKCS#8 or the Go tool's raw PEM) (default mcptrust.key)",
    )
    .option("-o, --output <file>", "where to write the signature (default <lockfile>.sig)")
    .addOption(
      new Option("--canonicalization <version>", "v1: Go-compatible canonical JSON; v2: JCS-like")
        .choices(["v1", "v2"] as const)
        .default("v1" as const),
    )
    .option(
      "--sigstore",
      "sign keylessly with Sigstore (OIDC identity; needs network access to Fulcio and Rekor)",
    )
    .option("--fulcio-url <url>", "Fulcio URL for --sigstore (default https://fulcio.sigstore.dev)")
    .option("--rekor-url <url>", "Rekor URL for --sigstore (default https://rekor.sigstore.dev)")
    .option("--tsa-url <url>", "RFC 3161 timestamp authority for --sigstore (optional)")
    .option("--bundle-out <file>", "with --sigstore, also write the raw Sigstore bundle JSON here")
    .addHelpText(
      "after",
      `
What is signed: the canonical form of the lockfile's JSON (every field, including meta.updatedAt), so
reformatting the file keeps the signature valid while any change to a value breaks it.
The .sig is the Go MCPTrust's format, and the Go tool verifies it.

Sigstore: the OIDC token comes from SIGSTORE_ID_TOKEN, or GitHub Actions' ambient credentials
(permissions: id-token: write). Verifiers must name your identity (see \`mcptrust verify --help\`).

Examples:
  mcptrust sign --key mcptrust.key mcp-lock.json
  mcptrust sign --sigstore mcp-lock.json      # in GitHub Actions`,
    )
    .action(async (positional, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { atomicWriteFile },
        { safeText },
        { readPrivateKeyFile },
        { readSignedDocument },
        { signLockfile },
      ] = await Promise.all([
        import("../lib/atomic_write.ts"),
        import("../lib/crypto/display.ts"),
        import("../lib/crypto/keys.ts"),
        import("../lib/crypto/signed_document.ts"),
        import("../lib/crypto/signer.ts"),
      ]);
      const lockPath = lockfileArg(positional, opts.lockfile);
      const sigPath = opts.output ?? `${lockPath}.sig`;
      if (opts.sigstore && opts.key !== undefined) {
        throw new McpTrustError("--sigstore and --key cannot be used together", {
          hint: "use --key for an Ed25519 signature, or --sigstore for a keyless Sigstore signature",
        });
      }
      const sigstoreOnly: [string, string | undefined][] = [
        ["--fulcio-url", opts.fulcioUrl],
        ["--rekor-url", opts.rekorUrl],
        ["--tsa-url", opts.tsaUrl],
        ["--bundle-out", opts.bundleOut],
      ];
      for (const [flag, value] of sigstoreOnly) {
        if (!opts.sigstore && value !== undefined) {
          throw new McpTrustError(`${flag} only applies with --sigstore`);
        }
      }
      const doc = readSignedDocument(lockPath);
      const keyPath = opts.key ?? "mcptrust.key";
      const method: SigningMethod = opts.sigstore
        ? { type: "sigstore", fulcioURL: opts.fulcioUrl, rekorURL: opts.rekorUrl, tsaServerURL: opts.tsaUrl }
        : { type: "ed25519", key: readPrivateKeyFile(keyPath), keySource: keyPath };
      const res = await signLockfile(doc, opts.canonicalization, method);
      try {
        atomicWriteFile(sigPath, res.envelope, { mode: 0o644 });
        if (res.bundleJson !== undefined && opts.bundleOut !== undefined) {
          atomicWriteFile(opts.bundleOut, res.bundleJson, { mode: 0o644 });
        }
      } catch (err) {
        throw new McpTrustError(`cannot write the signature ${sigPath}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const signer = res.fingerprint
        ? `Ed25519 key ${res.fingerprint} (${safeText(keyPath)})`
        : "Sigstore (keyless)";
      await out(
        `signed ${safeText(lockPath)} -> ${safeText(sigPath)}\n` +
          `  signer:           ${signer}\n` +
          `  canonicalization: ${res.canonVersion}\n` +
          `  lockfile sha256:  ${doc.sha256}\n`,
      );
    });
}
