/**
 * `mcptrust verify-bundle`: verifies a Sigstore bundle over an artifact's bytes, offline.
 *
 * Flags -> lib/crypto/sigstore.ts -> rendering. Exit 0 verified, 1 does not verify, 2 unusable input.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import process from "node:process";
import { Command, Option } from "@commander-js/extra-typings";
import { errorMessage, McpTrustError } from "../lib/errors.ts";
import type { ArtifactDigest, IdentityPolicy, SigstoreVerified } from "../lib/crypto/sigstore.ts";

// The Sigstore libraries are loaded when the command runs, not when the CLI starts.
const loadSigstore = () => import("../lib/crypto/sigstore.ts");

const HELP_AFTER = `
What is checked, offline (no network):
  the bundle covers the artifact's exact bytes; the signing certificate chains to a trusted Fulcio CA
  (with CT log proofs) at the time recorded by the Rekor transparency log or a timestamp authority;
  the log entry proves this signature was logged; the signature verifies; and the certificate
  identity and OIDC issuer are the ones you name. There is no default identity: name the signer.

The artifact may be given by its digest instead, as sha256:<64 hex digits> (the sigstore-conformance
form): the bundle must sign exactly that digest (ECDSA signatures), or name it as an in-toto subject.
A name of that form that is also an existing file is refused as ambiguous; write ./sha256:... for the file.

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

  # the same check, given only the artifact's SHA-256
  mcptrust verify-bundle --bundle server.tgz.sigstore.json --artifact "sha256:$(sha256sum server.tgz | cut -c1-64)" \\
    --certificate-identity https://github.com/acme/mcp-server/.github/workflows/release.yml@refs/heads/main \\
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
    .requiredOption(
      "--artifact <file|digest>",
      "the signed file (its exact bytes are checked), or its digest as sha256:<64 hex digits>",
    )
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
        const { artifactIsDigest: _, ...facts } = result; // JSON: `artifact` is as given, file or digest
        write(format === "json" ? JSON.stringify({ verified: true, ...facts }) + "\n" : renderText(result));
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
  /** True when --artifact was a digest, not a file. */
  artifactIsDigest: boolean;
}

async function run(o: Flags): Promise<Result> {
  const { parseBundleJSON, verifySigstoreBundle } = await loadSigstore();
  const { policy, publicKeyPem } = signerFromFlags(o);
  const bundle = parseBundleJSON(readInput(o.bundle, "--bundle"), `bundle ${o.bundle}`);
  const artifact = await artifactFromFlag(o.artifact);
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
  const isDigest = !(artifact instanceof Uint8Array);
  return {
    ...verified,
    bundle: o.bundle,
    artifact: o.artifact,
    artifactSha256: isDigest
      ? Buffer.from(artifact.digest).toString("hex")
      : (await import("node:crypto")).createHash("sha256").update(artifact).digest("hex"),
    artifactIsDigest: isDigest,
  };
}

/**
 * `--artifact` is a file, or a digest. The sigstore-conformance CLI protocol (docs/cli_protocol.md,
 * FILE_OR_DIGEST) reads it as a digest when it starts with `sha256:`, has the length of a hex SHA-256
 * and is not a path on disk, and as a file path otherwise. Two deliberate differences, both failing
 * closed: text that starts with a hash name and a colon (`sha256:`, `sha512:`, `md5:`) but is not an
 * existing file is parsed as a digest, so a malformed one is reported as such (exit 2) instead of as a
 * missing file; and text in the exact digest form that is also an existing file is refused as
 * ambiguous (exit 2) rather than silently checked as the file, since the user may have meant the
 * digest. `./sha256:...` names such a file unambiguously.
 */
async function artifactFromFlag(value: string): Promise<Uint8Array | ArtifactDigest> {
  const { isArtifactDigestForm, looksLikeArtifactDigest, parseArtifactDigest } = await loadSigstore();
  if (!looksLikeArtifactDigest(value)) return readInput(value, "--artifact");
  if (existsSync(value)) {
    if (!isArtifactDigestForm(value)) return readInput(value, "--artifact");
    throw new McpTrustError(
      `--artifact ${value} is ambiguous: it is a sha256 digest and also the name of an existing file`,
      {
        hint:
          `write ./${value} to verify the file; to verify the digest, run from a directory without that file`,
      },
    );
  }
  return parseArtifactDigest(value, "--artifact");
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
  const lines = [
    r.artifactIsDigest
      ? `Verified: digest sha256:${r.artifactSha256}`
      : `Verified: ${r.artifact} (sha256:${r.artifactSha256})`,
  ];
  if (r.kind === "certificate") {
    lines.push(`  signed by:  ${r.identity}`, `  issuer:     ${r.issuer}`);
  } else {
    lines.push(`  signed by:  public key ${r.identity}`);
  }
  lines.push(`  signed at:  ${r.signedAt ?? "unknown"}`, `  bundle:     ${r.bundle}`);
  return lines.join("\n") + "\n";
}
