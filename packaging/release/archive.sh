#!/usr/bin/env bash
# One release archive, named as `cargo binstall` looks for it ([package.metadata.binstall] in
# Cargo.toml; .ci/release-check.sh checks that the two agree):
#   solvapay-mcp-<TARGET>-v<VERSION>.tar.gz   (.zip for Windows targets)
# holding solvapay-mcp-<TARGET>-v<VERSION>/{solvapay-mcp[.exe],README.md,LICENSE-MIT,LICENSE-APACHE}.
# Usage: packaging/release/archive.sh TARGET VERSION BINARY OUT_DIR   (prints the archive's path)
# Runs on Linux (the release workflow packs every target there): needs tar, gzip and zip.
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: $0 TARGET VERSION BINARY OUT_DIR" >&2; exit 2; }
target=$1 version=$2 binary=$3 out=$4
root="$(cd "$(dirname "$0")/../.." && pwd)"
name="solvapay-mcp-${target}-v${version}"
case "$target" in
  *-windows-*) ext=.exe format=zip ;;
  *) ext="" format=tar.gz ;;
esac
[[ -f "$binary" ]] || { echo "no binary at $binary" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
# Workflow artifacts lose the execute bit: set the modes here.
install -m 0755 "$binary" "$stage/$name/solvapay-mcp$ext"
install -m 0644 "$root/README.md" "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$stage/$name/"
archive="$out/$name.$format"
rm -f "$archive"
# Fixed order, owner and times, so the same inputs give the same archive.
mtime="@${SOURCE_DATE_EPOCH:-0}"
touch -d "$mtime" "$stage/$name" "$stage/$name"/*
if [[ $format == zip ]]; then
  (cd "$stage" && zip -qrX "$archive" "$name")
else
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -cf - "$name" \
    | gzip -9n >"$archive"
fi
echo "$archive"
