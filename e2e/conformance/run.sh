#!/usr/bin/env bash
# The MCP conformance suite against `solvapay-mcp serve --http` (the anonymous in-process sandbox on
# loopback: the suite's client sends no credential), in both protocol eras:
#   2025-11-25 with @modelcontextprotocol/conformance 0.1.16 (npm alias conformance-2025)
#   2026-07-28 with @modelcontextprotocol/conformance 0.2.0-alpha.12 (npm alias conformance-2026)
# For each: the suite's server scenarios must be exactly scenarios-<era>.txt (every one pinned, run
# or skipped with a reason), the scenarios run must be exactly its `run` lines, and the results must
# match expected-failures-<era>.yaml through the suite's own --expected-failures baseline (an
# unexpected failure and a stale entry both fail).
# Usage: e2e/conformance/run.sh <solvapay-mcp binary>   (needs `npm ci` in e2e/)
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
E2E="$(dirname "$HERE")"
BIN="${1:?usage: $0 <solvapay-mcp binary>}"
NODE="$E2E/node_modules/.bin/node"

dir="$(mktemp -d /tmp/solvapay-e2e-conformance.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# dns-rebinding-protection sends the server's own localhost Origin and expects it accepted; every
# Origin must be listed (--allowed-origin), so the suite's page origin is.
env -i PATH="$PATH" HOME="$dir" RUST_LOG=warn \
  "$BIN" serve --http "127.0.0.1:$port" --sandbox --demo --data-dir "$dir/data" \
  --allowed-origin "http://127.0.0.1:$port,http://localhost:$port" 2>"$dir/server.log" &
server_pid=$!
for _ in $(seq 100); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "FAIL: the server exited"; cat "$dir/server.log"; exit 1; }
  sleep 0.1
done
url="http://127.0.0.1:$port/mcp"

fail=0
for era in 2025-11-25 2026-07-28; do
  case $era in
    2025-11-25) suite="$E2E/node_modules/conformance-2025/dist/index.js" ;;
    2026-07-28) suite="$E2E/node_modules/conformance-2026/dist/index.js" ;;
  esac
  pinned="$HERE/scenarios-$era.txt"
  echo "-- conformance $("$NODE" "$suite" --version) at $era"
  # 1. The pinned list is the suite's list: every server scenario, then those of this era.
  if ! diff <("$NODE" "$suite" list --server | sed -n 's/^  - \([^ ]*\).*/\1/p' | sort) \
            <(awk '$1 == "run" || $1 == "skip" { print $2 }' "$pinned" | sort) >"$dir/diff"; then
    echo "FAIL: the suite's server scenarios are not those of $(basename "$pinned") (< suite, > pinned):"
    cat "$dir/diff"; fail=1; continue
  fi
  if ! diff <("$NODE" "$suite" list --server --spec-version "$era" | sed -n 's/^  - \([^ ]*\).*/\1/p' | sort) \
            <(awk '$1 == "run" { print $2 }' "$pinned" | sort) >"$dir/diff"; then
    echo "FAIL: the suite's $era scenarios are not the run lines of $(basename "$pinned") (< suite, > pinned):"
    cat "$dir/diff"; fail=1; continue
  fi
  # 2. Run them all, judged by the expected-failures baseline.
  out="$dir/out-$era"
  "$NODE" "$suite" server --url "$url" --suite all --spec-version "$era" \
    --expected-failures "$HERE/expected-failures-$era.yaml" -o "$out" >"$dir/run-$era.log" 2>&1
  code=$?
  # The whole summary when it failed; else the totals and the baseline's verdict.
  if [[ $code -eq 0 ]]; then
    grep -E '^(Total:|.*Baseline check)' "$dir/run-$era.log" | sed 's/\x1b\[[0-9;]*m//g'
  else
    sed -n '/=== SUMMARY ===/,$p' "$dir/run-$era.log" | sed 's/\x1b\[[0-9;]*m//g'
    echo "FAIL: conformance $era (exit $code)"; fail=1
  fi
  # 3. Every pinned scenario ran (the output has one directory per scenario run).
  if ! diff <(ls "$out" | sed -E 's/^server-//; s/-[0-9]{4}-[0-9]{2}-[0-9]{2}T.*$//' | sort) \
            <(awk '$1 == "run" { print $2 }' "$pinned" | sort) >"$dir/diff"; then
    echo "FAIL: the scenarios run are not the pinned ones (< run, > pinned):"
    cat "$dir/diff"; fail=1
  fi
done
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL: the server did not survive the suite"; cat "$dir/server.log"; fail=1
fi
exit $fail
