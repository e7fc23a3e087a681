/**
 * `make release`, second half (scripts/release.sh runs it after building the binaries): archives,
 * SHA256SUMS, SHA256SUMS.sig and, in CI, SHA256SUMS.sigstore.json. See lib/release/assets.ts.
 *
 *   deno run -A scripts/release_assets.ts <dir> <version>
 *
 * Environment:
 *   MCPTRUST_RELEASE_KEY       path to the release key (Ed25519 PKCS#8 PEM); unset: SHA256SUMS is not signed
 *   SOURCE_DATE_EPOCH          archive entry mtime (release.sh sets the commit time); default 0
 *   MCPTRUST_RELEASE_SIGSTORE  1: make the Sigstore bundle (fails without an OIDC identity); 0: never;
 *                              unset: when an OIDC identity is at hand (GitHub Actions with id-token: write)
 *
 * @module
 */
import process from "node:process";
import { errorMessage, McpTrustError } from "../lib/errors.ts";
import { hasOidcIdentity, writeReleaseAssets } from "../lib/release/assets.ts";

const [dir, version] = process.argv.slice(2);
if (!dir || !version) {
  console.error("usage: release_assets.ts <dir> <version>");
  process.exit(2);
}
const epoch = process.env.SOURCE_DATE_EPOCH ?? "0";
if (!/^\d+$/.test(epoch)) {
  console.error(`release: SOURCE_DATE_EPOCH must be whole seconds, got ${JSON.stringify(epoch)}`);
  process.exit(2);
}
const sigstoreEnv = process.env.MCPTRUST_RELEASE_SIGSTORE;
const sigstore = sigstoreEnv === "1" ? true : sigstoreEnv === "0" ? false : hasOidcIdentity();
if (sigstoreEnv === undefined && !sigstore) {
  console.log("release: no OIDC identity (not in CI with id-token: write): no Sigstore bundle");
}
try {
  await writeReleaseAssets({
    dir,
    version,
    mtime: Number(epoch),
    keyPath: process.env.MCPTRUST_RELEASE_KEY || undefined,
    sigstore,
    log: (line) => console.log(`release: ${line}`),
  });
} catch (err) {
  console.error(`release: ${errorMessage(err)}`);
  if (err instanceof McpTrustError && err.hint) console.error(`  next: ${err.hint}`);
  process.exit(2);
}
