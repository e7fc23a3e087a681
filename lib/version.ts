/**
 * The tool's version and source commit. `make build` injects both with `bun build --define`;
 * under Deno (tests, development) they read "dev" and "unknown" unless MCPTRUST_VERSION /
 * MCPTRUST_COMMIT are set.
 *
 * @module
 */

declare const __MCPTRUST_VERSION__: string | undefined;
declare const __MCPTRUST_COMMIT__: string | undefined;

function injected(read: () => string | undefined): string | undefined {
  try {
    return read();
  } catch {
    return undefined; // not defined at build time
  }
}

/** The version string, e.g. "0.1.0", or "dev" in an unbuilt checkout. */
export const VERSION: string = injected(() => __MCPTRUST_VERSION__) ??
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .MCPTRUST_VERSION ??
  "dev";

/** The git commit the binary was built from, or "unknown". */
export const COMMIT: string = injected(() => __MCPTRUST_COMMIT__) ??
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .MCPTRUST_COMMIT ??
  "unknown";

/** The generator string written into lockfiles' meta.generator, e.g. "mcptrust 0.1.0". */
export const GENERATOR = `mcptrust ${VERSION}`;
