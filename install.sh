#!/bin/sh
# install.sh: download an mcptrust release, verify it, install it. Fails closed: nothing is installed
# unless SHA256SUMS carries a valid Ed25519 signature by the release key embedded below AND the archive
# (and the binary in it) match SHA256SUMS.
#
#   curl --proto '=https' --tlsv1.2 -fsSL https://raw.githubusercontent.com/mcptrust/mcptrust/<SHA>/install.sh | sh
#   sh install.sh --version 0.1.0 --prefix "$HOME/.local"
#
# Options:
#   --version V       release to install (default: the version this install.sh was published with)
#   --prefix DIR      install DIR/bin/mcptrust (default: $HOME/.local)
#   --bin-dir DIR     install DIR/mcptrust (overrides --prefix)
#   --target OS-ARCH  linux-x64, linux-arm64, darwin-x64, darwin-arm64, windows-x64 (default: this machine)
#   --base-url URL    where the release files are (default: the GitHub release of --version); https only
#   --key FILE        verify with this Ed25519 public key (SPKI PEM) instead of the embedded release key
#
# Needs: sh, curl or wget, tar (unzip on Windows), and OpenSSL >= 1.1.1 (Ed25519 with `pkeyutl -rawin`;
# macOS's /usr/bin/openssl is LibreSSL and cannot: `brew install openssl@3`, found automatically, or set
# OPENSSL=/path/to/openssl).
# Exit codes: 0 installed; 1 verification failed (signature, checksum: nothing installed); 2 usage or
# operational error (platform, tools, download).
# POSIX sh: tested with dash and bash (e2e/action_test.ts); kept shellcheck-clean.
set -eu

MCPTRUST_DEFAULT_VERSION="0.1.0"
MCPTRUST_REPO="mcptrust/mcptrust"
# The release signing key (Ed25519, SubjectPublicKeyInfo PEM); the same key as lib/release/key.ts
# (lib/release/key_test.ts checks). Empty until the project has a release key: then --key is required.
# -- release key --
MCPTRUST_RELEASE_PUBKEY=''
# -- end release key --

say() { printf 'mcptrust install: %s\n' "$*" >&2; }
die() {
  code=$1
  shift
  say "$*"
  exit "$code"
}

version=$MCPTRUST_DEFAULT_VERSION
prefix=${HOME:-}/.local
bin_dir=""
target=""
base_url=""
key_file=""
while [ $# -gt 0 ]; do
  case $1 in
    --version | --prefix | --bin-dir | --target | --base-url | --key)
      [ $# -ge 2 ] || die 2 "$1 needs a value"
      case $1 in
        --version) version=$2 ;;
        --prefix) prefix=$2 ;;
        --bin-dir) bin_dir=$2 ;;
        --target) target=$2 ;;
        --base-url) base_url=$2 ;;
        --key) key_file=$2 ;;
      esac
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -eu/p' "$0" 2>/dev/null | sed -e '$d' -e 's/^# \{0,1\}//' >&2 ||
        say "usage: install.sh [--version V] [--prefix DIR] [--bin-dir DIR] [--target OS-ARCH] [--base-url URL] [--key FILE]"
      exit 0
      ;;
    *) die 2 "unknown option: $1 (run with --help)" ;;
  esac
done

case $version in
  v[0-9]*) version=${version#v} ;;
esac
case $version in
  '' | *[!0-9A-Za-z.+-]*) die 2 "not a version: '$version' (expected e.g. 0.1.0)" ;;
esac
[ -n "$bin_dir" ] || bin_dir=$prefix/bin
[ -n "$bin_dir" ] || die 2 "no install directory (set --prefix or --bin-dir)"

# --- the target: OS and CPU of this machine -----------------------------------------------------------
if [ -z "$target" ]; then
  os=$(uname -s)
  arch=$(uname -m)
  case $os in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;;
    *) die 2 "no mcptrust release for this OS ($os): Linux, macOS and Windows only" ;;
  esac
  case $arch in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die 2 "no mcptrust release for this CPU ($arch): x64 and arm64 only" ;;
  esac
  # An x64 shell under Rosetta on Apple silicon: the native binary is the better one.
  if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
    arch=arm64
  fi
  if [ "$os" = linux ] && { [ -e /lib/ld-musl-x86_64.so.1 ] || [ -e /lib/ld-musl-aarch64.so.1 ]; } &&
    ! [ -e /lib64/ld-linux-x86-64.so.2 ] && ! [ -e /lib/ld-linux-aarch64.so.1 ]; then
    die 2 "this Linux uses musl libc (Alpine?); the release binaries need glibc (install gcompat, or use a glibc image)"
  fi
  target=$os-$arch
fi
case $target in
  linux-x64 | linux-arm64 | darwin-x64 | darwin-arm64) archive_ext=.tar.gz exe=mcptrust ;;
  windows-x64) archive_ext=.zip exe=mcptrust.exe ;;
  *) die 2 "no mcptrust release for target '$target' (linux-x64, linux-arm64, darwin-x64, darwin-arm64, windows-x64)" ;;
esac
binary=mcptrust-$version-$target
[ "$exe" = mcptrust.exe ] && binary=$binary.exe
archive=mcptrust-$version-$target$archive_ext
[ -n "$base_url" ] || base_url=https://github.com/$MCPTRUST_REPO/releases/download/v$version
base_url=${base_url%/}
case $base_url in
  https://*) ;;
  *) die 2 "refusing to download over anything but HTTPS: $base_url" ;;
esac

# --- tools --------------------------------------------------------------------------------------------
has_rawin() { "$1" pkeyutl -help 2>&1 | grep -q -- '-rawin'; }
openssl_bin=${OPENSSL:-}
if [ -z "$openssl_bin" ]; then
  for c in openssl /opt/homebrew/opt/openssl@3/bin/openssl /usr/local/opt/openssl@3/bin/openssl; do
    if command -v "$c" >/dev/null 2>&1 && has_rawin "$c"; then
      openssl_bin=$c
      break
    fi
  done
fi
if [ -z "$openssl_bin" ] || ! has_rawin "$openssl_bin"; then
  die 2 "no OpenSSL that can verify Ed25519 signatures: install.sh needs OpenSSL >= 1.1.1 (pkeyutl -rawin)" \
    "$(openssl version 2>/dev/null | sed 's/^/(found: /;s/$/)/')." \
    "On macOS: brew install openssl@3 (LibreSSL cannot). Or set OPENSSL=/path/to/openssl."
fi
if command -v curl >/dev/null 2>&1; then
  fetch() { curl --proto '=https' --proto-redir '=https' --tlsv1.2 -fsSL --retry 2 --max-time 900 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q --https-only --secure-protocol=TLSv1_2 --max-redirect=10 -O "$2" "$1"; }
else
  die 2 "neither curl nor wget is installed"
fi
if [ "$archive_ext" = .zip ]; then
  command -v unzip >/dev/null 2>&1 || die 2 "unzip is needed to unpack $archive"
else
  command -v tar >/dev/null 2>&1 || die 2 "tar is needed to unpack $archive"
fi

# --- work in a private temp dir; nothing outside it changes until everything verified ------------------
tmp=$(mktemp -d 2>/dev/null || mktemp -d -t mcptrust) || die 2 "cannot create a temp directory"
staged=""
cleanup() {
  rm -rf "$tmp"
  if [ -n "$staged" ]; then rm -f "$staged"; fi
}
trap cleanup EXIT
trap 'exit 2' HUP INT TERM

if [ -n "$key_file" ]; then
  [ -r "$key_file" ] || die 2 "cannot read the key $key_file"
  cp "$key_file" "$tmp/release.pub"
  say "verifying with $key_file instead of the embedded release key"
elif [ -n "$MCPTRUST_RELEASE_PUBKEY" ]; then
  printf '%s\n' "$MCPTRUST_RELEASE_PUBKEY" >"$tmp/release.pub"
else
  die 2 "this install.sh embeds no release key (the project has not published one yet); pass --key FILE" \
    "with the release public key, or verify by hand: docs/CI.md"
fi

say "downloading $archive ($base_url)"
fetch "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" || die 2 "cannot download $base_url/SHA256SUMS"
fetch "$base_url/SHA256SUMS.sig" "$tmp/SHA256SUMS.sig" ||
  die 1 "cannot download SHA256SUMS.sig: the release is unsigned or the download failed; refusing to install"
fetch "$base_url/$archive" "$tmp/$archive" || die 2 "cannot download $base_url/$archive"

# 1. The signature over SHA256SUMS (raw 64-byte Ed25519, pure, over the file's exact bytes).
sig_size=$(wc -c <"$tmp/SHA256SUMS.sig" | tr -d ' ')
[ "$sig_size" = 64 ] || die 1 "SHA256SUMS.sig is $sig_size bytes, not a 64-byte Ed25519 signature; refusing to install"
verdict=$("$openssl_bin" pkeyutl -verify -pubin -inkey "$tmp/release.pub" -rawin \
  -in "$tmp/SHA256SUMS" -sigfile "$tmp/SHA256SUMS.sig" 2>&1) || true
case $verdict in
  *"Signature Verified Successfully"*) ;;
  *) die 1 "SHA256SUMS is not signed by the release key (openssl: $(printf '%s' "$verdict" | head -n 1)); refusing to install" ;;
esac

# 2. The archive's SHA-256 against SHA256SUMS (now trusted): exactly one entry, equal hash.
sha256_of() { "$openssl_bin" dgst -sha256 -r "$1" | sed 's/ .*//' | tr 'A-F' 'a-f'; }
# listed NAME: the hash SHA256SUMS gives NAME; exit 1 when it does not list NAME, 3 when it lists it twice.
listed() {
  awk -v f="$1" '$2 == f || $2 == ("*" f) { h = tolower($1); n++ } END { if (n == 1) print h; exit (n == 0 ? 1 : n == 1 ? 0 : 3) }' \
    "$tmp/SHA256SUMS"
}
want=$(listed "$archive") || die 1 "$archive is not listed (exactly once) in SHA256SUMS; refusing to install"
got=$(sha256_of "$tmp/$archive")
if [ "${#want}" != 64 ] || [ "$got" != "$want" ]; then
  die 1 "$archive does not match SHA256SUMS (sha256 $got, expected $want); refusing to install"
fi

# 3. Unpack only the binary, and check it against its own entry when SHA256SUMS lists the bare binary.
mkdir "$tmp/x"
if [ "$archive_ext" = .zip ]; then
  unzip -q "$tmp/$archive" "$exe" -d "$tmp/x" || die 1 "cannot unpack $exe from $archive"
else
  tar -xzf "$tmp/$archive" -C "$tmp/x" "$exe" || die 1 "cannot unpack $exe from $archive"
fi
if [ ! -f "$tmp/x/$exe" ] || [ -L "$tmp/x/$exe" ]; then die 1 "$archive holds no regular file $exe"; fi
lrc=0
want_bin=$(listed "$binary") || lrc=$?
case $lrc in
  0) [ "$(sha256_of "$tmp/x/$exe")" = "$want_bin" ] || die 1 "the $exe in $archive does not match $binary in SHA256SUMS" ;;
  1) ;; # only the archive is listed: its hash covered the binary
  *) die 1 "$binary is listed more than once in SHA256SUMS; refusing to install" ;;
esac

# 4. Install: a temp file in the target directory, renamed over the old binary (never half a binary).
mkdir -p "$bin_dir" || die 2 "cannot create $bin_dir"
staged=$bin_dir/.$exe.install.$$
cp "$tmp/x/$exe" "$staged" || die 2 "cannot write to $bin_dir"
chmod 0755 "$staged"
mv -f "$staged" "$bin_dir/$exe" || die 2 "cannot install $bin_dir/$exe"
staged=""
say "installed mcptrust $version ($target) to $bin_dir/$exe (SHA256SUMS signature and checksums verified)"
case ":${PATH:-}:" in
  *":$bin_dir:"*) ;;
  *) say "note: $bin_dir is not on PATH" ;;
esac
printf '%s\n' "$bin_dir/$exe"
