#!/usr/bin/env bash
# make release: one self-contained binary per target plus SHA256SUMS in dist/release/.
# Bun fetches each target's runtime from the npm registry the first time (then caches it).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?version}
commit=${2:?commit}
out=dist/release
mkdir -p "$out"
for target in linux-x64 linux-arm64 darwin-x64 darwin-arm64 windows-x64; do
  ext=""
  [[ $target == windows-* ]] && ext=".exe"
  echo "building $target"
  # The same flags as `make build` (see the Makefile for why --splitting and no identifier minification).
  tools/node_modules/.bin/bun build --compile --bytecode --splitting --format=esm \
    --minify-syntax --minify-whitespace --target="bun-$target" main.ts \
    --no-compile-autoload-bunfig --no-compile-autoload-dotenv \
    --no-compile-autoload-tsconfig --no-compile-autoload-package-json \
    --outfile "$out/mcptrust-$version-$target$ext" \
    --define "__MCPTRUST_VERSION__=\"$version\"" --define "__MCPTRUST_COMMIT__=\"$commit\""
done
(cd "$out" && sha256sum mcptrust-* > SHA256SUMS)
cat "$out/SHA256SUMS"
