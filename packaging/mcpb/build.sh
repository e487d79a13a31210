#!/usr/bin/env bash
# Builds one MCPB bundle (Claude Desktop extension) for one platform:
#   bash packaging/mcpb/build.sh BINARY PLATFORM OUT
# BINARY   the built solvapay-mcp (solvapay-mcp.exe for win32)
# PLATFORM linux-x86_64 | linux-aarch64 | darwin-x86_64 | darwin-arm64 | win32-x86_64
# OUT      the .mcpb file to write (its directory is created)
#
# Stages manifest.json (version set from Cargo.toml, compatibility.platforms narrowed to PLATFORM's
# OS, entry_point the staged binary), the binary as server/solvapay-mcp[.exe], README.md and the
# licence files into a temporary directory and packs it with the pinned @anthropic-ai/mcpb CLI
# (package.json / package-lock.json beside this script; `npm ci` here on first use).
# Needs bash, python3, node and npm. Logs go to stderr.
set -euo pipefail

usage="usage: build.sh BINARY PLATFORM OUT"
binary=${1:?$usage}
platform=${2:?$usage}
out=${3:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
log() { echo "mcpb/build.sh: $*" >&2; }
die() { log "$*"; exit 1; }

case "$platform" in
  linux-x86_64 | linux-aarch64 | darwin-x86_64 | darwin-arm64) os=${platform%%-*}; exe=solvapay-mcp ;;
  win32-x86_64) os=win32; exe=solvapay-mcp.exe ;;
  *) die "unknown platform '$platform' (linux-x86_64, linux-aarch64, darwin-x86_64, darwin-arm64, win32-x86_64)" ;;
esac
[[ -f "$binary" ]] || die "no binary at $binary"

# The crate's version: the first `version = "…"` of Cargo.toml's [package] table.
version=$(awk '/^\[/{p = ($0 == "[package]")} p && /^version *=/ {gsub(/.*= *"|".*/, ""); print; exit}' "$root/Cargo.toml")
[[ -n "$version" ]] || die "no [package] version in $root/Cargo.toml"

# The pinned MCPB CLI, installed from the lockfile (reused while the lockfile is unchanged).
mcpb="$here/node_modules/.bin/mcpb"
stamp="$here/node_modules/.lock-stamp"
if [[ ! -x "$mcpb" ]] || ! cmp -s "$here/package-lock.json" "$stamp"; then
  log "npm ci (@anthropic-ai/mcpb, pinned in package-lock.json)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed"
  cp "$here/package-lock.json" "$stamp"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/server"
cp "$binary" "$stage/server/$exe"
chmod 755 "$stage/server/$exe"
for f in README.md LICENSE-MIT LICENSE-APACHE LICENSE; do
  if [[ -f "$root/$f" ]]; then cp "$root/$f" "$stage/"; fi
done

python3 - "$here/manifest.json" "$stage/manifest.json" "$version" "$os" "$exe" <<'PY'
import json, sys
src, dst, version, os_name, exe = sys.argv[1:]
with open(src, encoding="utf-8") as f:
    manifest = json.load(f)
manifest["version"] = version
manifest["compatibility"]["platforms"] = [os_name]
manifest["server"]["entry_point"] = f"server/{exe}"
with open(dst, "w", encoding="utf-8") as f:
    json.dump(manifest, f, indent=2, ensure_ascii=False)
    f.write("\n")
PY

mkdir -p "$(dirname "$out")"
"$mcpb" pack "$stage" "$out" >&2 || die "mcpb pack failed"
[[ -s "$out" ]] || die "mcpb pack wrote nothing at $out"
log "$out: solvapay-mcp $version for $platform ($(wc -c <"$out") bytes)"
