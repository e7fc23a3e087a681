/**
 * `mcptrust verify-bundle`: verifies a Sigstore bundle over an artifact's bytes, offline.
 *
 * Flags -> lib/crypto/sigstore.ts -> rendering. Exit 0 verified, 1 does not verify, 2 unusable input.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import process from "node:process";
import { Command, Option } from "@commander-js/extra-typings";
import { errorMessage, McpTrustError } from "../lib/errors.ts";
import type { IdentityPolicy, SigstoreVerified } from "../lib/crypto/sigstore.ts";

// The Sigstore libraries are loaded when the command runs, not when the CLI starts.
const loadSigstore = () => import("../lib/crypto/sigstore.ts");

const HELP_AFTER = `
What is checked, offline (no network):
  the bundle covers the artifact's exact bytes; the signing certificate chains to a trusted Fulcio CA
  (with CT log proofs) at the time recorded by the Rekor transparency log or a timestamp authority;
  the log entry proves this signature was logged; the signature verifies; and the certificate
  identity and OIDC issuer are the ones you name. There is no default identity: name the signer.

Trust: the Sigstore public-good trusted root is built in. For a private Sigstore deployment, or keys
rotated after this build, pass --trusted-root <trusted_root.json>.

Exit codes: 0 verified, 1 does not verify (the reason is printed), 2 unusable input.

Examples:
  # a release artifact signed keylessly by a GitHub Actions workflow (cosign sign-blob --bundle)
  mcptrust verify-bundle --bundle server.tgz.sigstore.json --artifact server.tgz \\
    --certificate-identity https://github.com/acme/mcp-server/.github/workflows/release.yml@refs/heads/main \\
    --certificate-oidc-issuer https://token.actions.githubusercontent.com

  # any workflow of that repository (the regexp must match the whole identity)
  mcptrust verify-bundle --bundle server.tgz.sigstore.json --artifact server.tgz \\
    --certificate-identity-regexp 'https://github\\.com/acme/mcp-server/\\.github/workflows/.*' \\
    --certificate-oidc-issuer https://token.actions.githubusercontent.com

  # a bundle made with a managed key (cosign sign-blob --key), as JSON
  mcptrust verify-bundle --bundle b.sigstore.json --artifact file.bin --key cosign.pub --format json

verify-bundle checks the artifact byte for byte. For lockfile signatures (mcp-lock.json.sig), use
\`mcptrust verify\`, which checks the lockfile's canonical form.
`;

/**
 * Builds the `verify-bundle` command.
 *
 * @param write where the result goes (default: stdout); errors are thrown for main.ts to report
 * @returns the commander command, to register with `program.addCommand`
 */
export function verifyBundleCommand(write: (s: string) => void = (s) => void process.stdout.write(s)) {
  return new Command("verify-bundle")
    .description("Verify a Sigstore bundle over an artifact, offline, for a named signer.")
    .requiredOption("--bundle <file>", "Sigstore bundle (JSON, e.g. from cosign sign-blob --bundle)")
    .requiredOption("--artifact <file>", "the signed file; its exact bytes are checked")
    .option(
      "--certificate-identity <identity>",
      "expected signer identity, exact (e.g. a workflow URI or email)",
    )
    .option(
      "--certificate-identity-regexp <regexp>",
      "expected signer identity as a JavaScript regexp matching the whole identity",
    )
    .option(
      "--certificate-oidc-issuer <issuer>",
      "expected OIDC issuer, exact (e.g. https://token.actions.githubusercontent.com)",
    )
    .option("--key <file>", "PEM public key, for bundles signed with a managed key instead of a certificate")
    .option(
      "--trusted-root <file>",
      "Sigstore trusted_root.json to trust instead of the built-in public-good root",
    )
    .addOption(
      new Option("--format <format>", "output format").choices(["text", "json"] as const).default("text"),
    )
    .addHelpText("after", HELP_AFTER)
    .action(async (o) => {
      const format = o.format;
      try {
        const result = await run(o);
        write(format === "json" ? JSON.stringify({ verified: true, ...result }) + "\n" : renderText(result));
      } catch (err) {
        if (format === "json" && err instanceof McpTrustError) {
          const { SigstoreCheckFailedError } = await loadSigstore();
          write(
            JSON.stringify({
              verified: false,
              bundle: o.bundle,
              artifact: o.artifact,
              ...(err instanceof SigstoreCheckFailedError ? { failedCheck: err.check } : {}),
              error: err.message,
              exitCode: err.exitCode,
            }) + "\n",
          );
        }
        throw err;
      }
    });
}

interface Flags {
  bundle: string;
  artifact: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  key?: string;
  trustedRoot?: string;
}

interface Result extends SigstoreVerified {
  bundle: string;
  artifact: string;
  artifactSha256: string;
}

async function run(o: Flags): Promise<Result> {
  const { parseBundleJSON, verifySigstoreBundle } = await loadSigstore();
  const { policy, publicKeyPem } = signerFromFlags(o);
  const bundle = parseBundleJSON(readInput(o.bundle, "--bundle"), `bundle ${o.bundle}`);
  const artifact = readInput(o.artifact, "--artifact");
  let trustedRoot: unknown;
  if (o.trustedRoot !== undefined) {
    const text = new TextDecoder().decode(readInput(o.trustedRoot, "--trusted-root"));
    try {
      trustedRoot = JSON.parse(text);
    } catch (err) {
      throw new McpTrustError(`trusted root ${o.trustedRoot} is not valid JSON: ${errorMessage(err)}`, {
        hint: "pass a Sigstore trusted_root.json",
      });
    }
  }
  const verified = await verifySigstoreBundle(bundle, artifact, { policy, publicKeyPem, trustedRoot });
  return {
    ...verified,
    bundle: o.bundle,
    artifact: o.artifact,
    artifactSha256: createHash("sha256").update(artifact).digest("hex"),
  };
}

function signerFromFlags(o: Flags): { policy?: IdentityPolicy; publicKeyPem?: string } {
  const identityFlags = [
    o.certificateIdentity !== undefined && "--certificate-identity",
    o.certificateIdentityRegexp !== undefined && "--certificate-identity-regexp",
    o.certificateOidcIssuer !== undefined && "--certificate-oidc-issuer",
  ].filter((f): f is string => typeof f === "string");
  if (o.key !== undefined) {
    if (identityFlags.length > 0) {
      throw new McpTrustError(`--key cannot be combined with ${identityFlags.join(", ")}`, {
        hint:
          "use --key for bundles signed with a managed key, or the certificate identity flags for keyless bundles",
      });
    }
    return { publicKeyPem: new TextDecoder().decode(readInput(o.key, "--key")) };
  }
  if (o.certificateIdentity !== undefined && o.certificateIdentityRegexp !== undefined) {
    throw new McpTrustError("--certificate-identity and --certificate-identity-regexp are alternatives", {
      hint: "pass the exact identity, or a regexp that matches the whole identity, not both",
    });
  }
  if (o.certificateIdentity === undefined && o.certificateIdentityRegexp === undefined) {
    throw new McpTrustError(
      "no signer identity given: verify-bundle does not accept a signature from anyone",
      {
        hint:
          "pass --certificate-identity <identity> (or --certificate-identity-regexp <regexp>) and --certificate-oidc-issuer <issuer>; for a managed-key bundle pass --key <cosign.pub>",
      },
    );
  }
  if (o.certificateOidcIssuer === undefined) {
    throw new McpTrustError("no OIDC issuer given (--certificate-oidc-issuer)", {
      hint:
        "pass the issuer that vouched for the identity, e.g. https://token.actions.githubusercontent.com (GitHub Actions), https://accounts.google.com, https://github.com/login/oauth",
    });
  }
  return {
    policy: {
      identity: o.certificateIdentity,
      identityRegexp: o.certificateIdentityRegexp,
      issuer: o.certificateOidcIssuer,
    },
  };
}

function readInput(path: string, flag: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new McpTrustError(`cannot read ${flag} ${path}: ${code ?? errorMessage(err)}`, {
      hint: `check the path given to ${flag}`,
    });
  }
}

function renderText(r: Result): string {
  const lines = [`Verified: ${r.artifact} (sha256:${r.artifactSha256})`];
  if (r.kind === "certificate") {
    lines.push(`  signed by:  ${r.identity}`, `  issuer:     ${r.issuer}`);
  } else {
    lines.push(`  signed by:  public key ${r.identity}`);
  }
  lines.push(`  signed at:  ${r.signedAt ?? "unknown"}`, `  bundle:     ${r.bundle}`);
  return lines.join("\n") + "\n";
}
