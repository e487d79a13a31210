#!/usr/bin/env bash
# Rewrites manifest.json's "tools" from what BINARY lists over stdio (tools/list, local sandbox,
# every toolset): run it after adding, renaming or re-describing a tool. .ci/bundle-check.sh fails
# while the two differ.
#   bash packaging/mcpb/update-tools.sh target/release/solvapay-mcp
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${1:?usage: update-tools.sh BINARY}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"SOLVAPAY_SECRET_KEY": "", "HOME": "%s"}\n' "$tmp" >"$tmp/env.json"
python3 "$here/mcp_stdio.py" --clear-env --env-file "$tmp/env.json" -- "$binary" >"$tmp/listed.json"
python3 "$here/tools.py" update "$here/manifest.json" "$tmp/listed.json"
