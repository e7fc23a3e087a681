/**
 * `mcptrust verify`: check a lockfile against its `.sig` (Ed25519 key or Sigstore identity).
 * Exit 0 valid, 1 the lockfile does not match the signature, 2 unusable input.
 *
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { McpTrustError } from "../lib/errors.ts";
import type { TrustFlags } from "../lib/crypto/trust.ts";
import { out, outJsonFailure, parseFormat } from "./options.ts";
import { lockfileArg } from "./sign.ts";

/** Default public key path for `verify`. */
export const DEFAULT_PUBLIC_KEY = "mcptrust.pub";

/** GitHub Actions' OIDC issuer, set by --github-actions. */
const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

/** The Sigstore identity options, shared by `verify`, `bundle export` and `bundle verify`. */
export function identityOptions(): Option[] {
  return [
    new Option("--certificate-identity <identity>", "Sigstore: the exact signer identity (certificate SAN)"),
    new Option(
      "--certificate-identity-regexp <regexp>",
      "Sigstore: a regexp the whole signer identity must match",
    ),
    new Option(
      "--certificate-oidc-issuer <url>",
      "Sigstore: the OIDC issuer that must have vouched for the signer",
    ),
    new Option("--github-actions", "Sigstore: the issuer is GitHub Actions (" + GITHUB_ACTIONS_ISSUER + ")"),
    new Option(
      "--trusted-root <file>",
      "Sigstore: trusted_root.json to use instead of the built-in public-good root",
    ),
    // The Go tool's names for the same flags.
    new Option("--identity <identity>").hideHelp(),
    new Option("--identity-regexp <regexp>").hideHelp(),
    new Option("--issuer <url>").hideHelp(),
  ];
}

/** Values of {@link identityOptions} plus `--key`, as commander stores them. */
export interface TrustOptionValues {
  key?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  githubActions?: boolean;
  trustedRoot?: string;
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
}

function merged(
  name: string,
  goName: string,
  a: string | undefined,
  b: string | undefined,
): string | undefined {
  if (a !== undefined && b !== undefined && a !== b) {
    throw new McpTrustError(`--${name} and --${goName} (its Go name) disagree`, {
      hint: `give --${name} once`,
    });
  }
  return a ?? b;
}

/**
 * The trust flags from parsed options, merging the Go aliases.
 *
 * @throws {McpTrustError} exit 2 if a flag and its Go alias disagree
 */
export function trustFlagsFrom(o: TrustOptionValues): TrustFlags {
  const issuer = merged("certificate-oidc-issuer", "issuer", o.certificateOidcIssuer, o.issuer) ??
    (o.githubActions ? GITHUB_ACTIONS_ISSUER : undefined);
  return {
    key: o.key,
    identity: merged("certificate-identity", "identity", o.certificateIdentity, o.identity),
    identityRegexp: merged(
      "certificate-identity-regexp",
      "identity-regexp",
      o.certificateIdentityRegexp,
      o.identityRegexp,
    ),
    issuer,
    trustedRoot: o.trustedRoot,
  };
}

/** Builds the `verify` command. */
export function verifyCommand() {
  const cmd = new Command("verify")
    .description("Check that a lockfile matches its signature and say who signed it.")
    .argument("[lockfile]", "the lockfile to check (default mcp-lock.json)")
    .option("-l, --lockfile <file>", "the lockfile to check (same as the argument; Go compatibility)")
    .option("-s, --signature <file>", "the signature (default <lockfile>.sig)")
    .option("-k, --key <file>", `Ed25519 public key of the signer (default ${DEFAULT_PUBLIC_KEY})`)
    .addOption(
      new Option("--format <format>", "text or json").argParser(parseFormat).default("text" as const),
    );
  for (const o of identityOptions()) cmd.addOption(o);
  return cmd
    .addHelpText(
      "after",
      `
Ed25519 signatures are checked with --key. Sigstore signatures need the signer named: exactly one of
--certificate-identity / --certificate-identity-regexp, plus --certificate-oidc-issuer (any identity is
never accepted by default). Verification is offline.

Exit codes: 0 the lockfile matches its signature, 1 it does not (changed after signing, or another
signer), 2 unusable input (missing or malformed lockfile, signature or key; missing flags).

Examples:
  mcptrust verify --key mcptrust.pub mcp-lock.json
  mcptrust verify mcp-lock.json --github-actions \\
    --certificate-identity https://github.com/acme/tools/.github/workflows/lock.yml@refs/heads/main`,
    )
    .action(async (positional, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { verificationJson, verificationText },
        { readSignatureBytes, verifyLockfile },
        { readInputFile },
        { MAX_LOCKFILE_BYTES },
      ] = await Promise.all([
        import("../lib/crypto/report.ts"),
        import("../lib/crypto/verifier.ts"),
        import("../lib/crypto/read_input.ts"),
        import("../lib/crypto/signed_document.ts"),
      ]);
      const o = opts as typeof opts & TrustOptionValues;
      const lockPath = lockfileArg(positional, o.lockfile);
      const sigPath = o.signature ?? `${lockPath}.sig`;
      try {
        const flags = trustFlagsFrom(o);
        const lockBytes = readInputFile(
          lockPath,
          "lockfile",
          MAX_LOCKFILE_BYTES,
          "name the lockfile to check",
        );
        const sigBytes = readSignatureBytes(sigPath);
        const res = await verifyLockfile({
          lockfile: { path: lockPath, bytes: lockBytes },
          signature: { path: sigPath, bytes: sigBytes },
          flags,
          trust: { fallbackKey: { kind: "path", path: DEFAULT_PUBLIC_KEY } },
        });
        await out(
          o.format === "json" ? JSON.stringify(verificationJson(res), null, 2) + "\n" : verificationText(res),
        );
      } catch (err) {
        if (o.format === "json" && err instanceof McpTrustError) {
          const fields = { verified: false, lockfile: { path: lockPath }, signature: { path: sigPath } };
          await outJsonFailure(err, fields);
        }
        throw err;
      }
    });
}
