#!/usr/bin/env bash
# A real deployment of solvapay-mcp, checked end to end: a throwaway PostgreSQL cluster
# (.ci/postgres.sh), then e2e/deploy/deploy.py starts the standalone sandbox (the fake SolvaPay), two
# replicas of `serve --http` sharing SOLVAPAY_STATE_URL and SOLVAPAY_REQUEST_STATE_KEY, and nginx
# (deploy/nginx.conf) in front of them, and drives them with the Python `mcp` client.
# Everything runs on loopback ports in one temp dir and is stopped on exit, pass or fail.
# Usage: e2e/deploy/run.sh <solvapay-mcp binary> [python]   (python: default e2e/.venv/bin/python)
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${1:?usage: $0 <solvapay-mcp binary> [python]}"
PY="${2:-$ROOT/e2e/.venv/bin/python}"

command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || { echo "no nginx (apt-get install nginx)"; exit 1; }

dir="$(mktemp -d /tmp/solvapay-e2e-deploy.XXXXXX)"
chmod 755 "$dir"
cleanup() {
  # deploy.py stops what it started; this is the backstop for a crash or a kill: every process it
  # recorded in $dir/pids/, then the cluster.
  for pidfile in "$dir"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  bash "$ROOT/.ci/postgres.sh" stop "$dir/pg" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if ! url=$(bash "$ROOT/.ci/postgres.sh" start "$dir/pg" "$port"); then
  echo "FAIL: PostgreSQL did not start"
  exit 1
fi
mkdir -p "$dir/pids"
"$PY" "$HERE/deploy.py" "$BIN" "$dir" "$url" "$ROOT/deploy/nginx.conf"
