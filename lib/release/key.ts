/**
 * The release signing key's public half, as published with the project. It is the trust root of
 * `mcptrust verify-release` (when no --key is given) and must be byte-for-byte the key embedded in
 * install.sh (lib/release/key_test.ts checks); `make release` refuses to sign with any other key.
 *
 * Empty until the maintainers create the release key (docs/CI.md, "Release signing key"): until then
 * verify-release and install.sh need an explicit key and say so.
 *
 * @module
 */
import { parsePublicKey, type PublicKey } from "../crypto/keys.ts";

/** SubjectPublicKeyInfo PEM of the release key, or "" while the project has none. */
export const RELEASE_PUBLIC_KEY_PEM = "";

/** The embedded release key, or undefined while there is none. */
export function embeddedReleaseKey(): PublicKey | undefined {
  return RELEASE_PUBLIC_KEY_PEM.trim() === "" ? undefined : parsePublicKey(RELEASE_PUBLIC_KEY_PEM);
}
