#!/usr/bin/env bash
# make release: in dist/release/, one self-contained binary per target, an archive of each (.tar.gz for
# Linux and macOS, .zip for Windows; deterministic), SHA256SUMS over binaries and archives, and
#   - SHA256SUMS.sig (Ed25519 over SHA256SUMS' bytes) when MCPTRUST_RELEASE_KEY names the release key
#     (PKCS#8 PEM, `mcptrust keygen`); without it the release is left unsigned and this says so;
#   - SHA256SUMS.sigstore.json (Sigstore bundle) when run in CI with an OIDC identity
#     (GitHub Actions with `permissions: id-token: write`; see .github/workflows/release.yml).
# Bun fetches each target's runtime from the npm registry the first time (then caches it). A target whose
# runtime cannot be had is reported and skipped; any other failure stops the release.
# MCPTRUST_RELEASE_OUT (default dist/release) and MCPTRUST_RELEASE_TARGETS (default all five) are for tests.
# See docs/CI.md ("Releases").
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?version}
commit=${2:?commit}
out=${MCPTRUST_RELEASE_OUT:-dist/release}
targets=${MCPTRUST_RELEASE_TARGETS:-linux-x64 linux-arm64 darwin-x64 darwin-arm64 windows-x64}
# Archive timestamps: the commit's time, so two builds of one commit give the same archives.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
mkdir -p "$out"
rm -f "$out"/mcptrust-* "$out"/SHA256SUMS*
skipped=()
for target in $targets; do
  ext=""
  [[ $target == windows-* ]] && ext=".exe"
  echo "building $target"
  # The same flags as `make build` (see the Makefile for why --splitting and no identifier minification).
  if ! tools/node_modules/.bin/bun build --compile --bytecode --splitting --format=esm \
    --minify-syntax --minify-whitespace --target="bun-$target" main.ts \
    --no-compile-autoload-bunfig --no-compile-autoload-dotenv \
    --no-compile-autoload-tsconfig --no-compile-autoload-package-json \
    --outfile "$out/mcptrust-$version-$target$ext" \
    --define "__MCPTRUST_VERSION__=\"$version\"" --define "__MCPTRUST_COMMIT__=\"$commit\"" \
    >"$out/.build-$target.log" 2>&1; then
    if grep -qiE 'download|fetch|network|registry|ENOTFOUND|ECONNREFUSED|failed to (get|find) .*(runtime|target)' \
      "$out/.build-$target.log"; then
      echo "skipped $target: its Bun runtime could not be downloaded (offline?):" >&2
      tail -n 3 "$out/.build-$target.log" >&2
      rm -f "$out/mcptrust-$version-$target$ext"
      skipped+=("$target")
      continue
    fi
    cat "$out/.build-$target.log" >&2
    exit 1
  fi
  rm -f "$out/.build-$target.log"
done
rm -f "$out"/.build-*.log
tools/node_modules/.bin/deno run -A scripts/release_assets.ts "$out" "$version"
cat "$out/SHA256SUMS"
if ((${#skipped[@]})); then
  echo "WARNING: not built (runtime unavailable): ${skipped[*]}" >&2
  # In CI a partial release is a failed release.
  [[ ${CI:-} == true ]] && exit 1
fi
exit 0
