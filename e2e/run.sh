#!/usr/bin/env bash
# End-to-end checks of the release binary in local-sandbox mode, with real clients:
#   1. MCP Inspector CLI 2.12.0 (Node 22 from the `node@22` npm package)
#   2. Python `mcp` 2.3.0, legacy era (initialize) and 2026-07-28 era (Client mode="auto"), and
#      confirmation on 2026-07-28 (MRTR) with an elicitation callback
#   3. prompts and completion through the Python `mcp` client, both eras: prompts/list, prompts/get
#      of each prompt, completion/complete of customer/product/plan/payment arguments on the demo
#      sandbox (e2e/prompts.py; the Inspector CLI checks prompts too, but has no completion/complete)
#   4. headless Chromium (Debian's /usr/bin/chromium, playwright-core): checkout Pay, portal cancel;
#      and the sandbox dashboard (e2e/dashboard_flow.py + dashboard.mjs): each panel's figures against
#      the API's, the clock moved from its form
#   5. the MCP conformance suite (0.1.16 at 2025-11-25, 0.2.0-alpha.12 at 2026-07-28) against
#      `serve --http` (e2e/conformance/)
#   6. a real deployment: PostgreSQL, two `serve --http` replicas, nginx (deploy/nginx.conf) in
#      front, the Python client in both eras through it (e2e/deploy/)
#   7. the MCP Apps review forms: a minimal host page (@modelcontextprotocol/ext-apps's AppBridge,
#      bundled by esbuild) renders the ui://solvapay/review/… forms in headless Chromium; a click
#      moves once, a second submit is refused; and the get_revenue_metrics chart: figures and bars
#      against the result (e2e/apps/)
# Installs what it needs (idempotent): `npm ci` in e2e/, a virtualenv in e2e/.venv, Debian chromium,
# nginx and postgresql.
# Usage: e2e/run.sh [path/to/solvapay-mcp]   (default: target/release/solvapay-mcp, built if missing)
# Env: E2E_SKIP_INSTALL=1 to skip the installs;
#      E2E_ONLY="inspector python confirm prompts browser dashboard conformance deploy apps" to pick suites.
set -uo pipefail
E2E="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$E2E")"
BIN="${1:-$ROOT/target/release/solvapay-mcp}"
ONLY="${E2E_ONLY:-inspector python confirm prompts browser dashboard conformance deploy apps}"
start=$(date +%s)

log() { printf '== e2e: %s\n' "$*"; }
die() { printf 'FAIL e2e setup: %s\n' "$*"; exit 1; }

if [[ ! -x "$BIN" ]]; then
  log "building the release binary"
  (cd "$ROOT" && cargo build --release --locked) || die "cargo build --release"
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

if [[ "${E2E_SKIP_INSTALL:-0}" != 1 ]]; then
  export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
  if [[ ! -x "$CHROMIUM" && "$CHROMIUM" == /usr/bin/chromium ]]; then
    log "installing Debian chromium"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null \
      || die "apt-get install chromium"
  fi
  # The deployment's nginx and PostgreSQL (Debian packages), when that suite runs.
  if [[ " $ONLY " == *" deploy "* ]]; then
    pkgs=()
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || pkgs+=(nginx)
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || pkgs+=(postgresql)
    if [[ ${#pkgs[@]} -gt 0 ]]; then
      log "installing ${pkgs[*]}"
      SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
      $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
        || die "apt-get install ${pkgs[*]}"
    fi
  fi
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    log "installing python3-venv"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null \
      || die "apt-get install python3-venv"
  fi
  # node_modules is reused while package-lock.json is unchanged.
  stamp="$E2E/node_modules/.lock-stamp"
  if [[ ! -f "$stamp" ]] || ! cmp -s "$stamp" "$E2E/package-lock.json"; then
    log "npm ci (node@22, @modelcontextprotocol/inspector@2.12.0, conformance 0.1.16 + 0.2.0-alpha.12, playwright-core, ext-apps, sdk, esbuild)"
    (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci"
    cp "$E2E/package-lock.json" "$stamp"
  fi
  vstamp="$E2E/.venv/.req-stamp"
  if [[ ! -f "$vstamp" ]] || ! cmp -s "$vstamp" "$E2E/requirements.txt"; then
    log "python venv + pip install -r requirements.txt"
    python3 -m venv "$E2E/.venv" || die "python3 -m venv (install python3-venv)"
    "$E2E/.venv/bin/pip" install -q --disable-pip-version-check -r "$E2E/requirements.txt" || die "pip install"
    cp "$E2E/requirements.txt" "$vstamp"
  fi
fi

NODE="$E2E/node_modules/.bin/node"
PY="$E2E/.venv/bin/python"
[[ -x "$NODE" ]] || die "no $NODE (run npm ci in e2e/)"
[[ -x "$PY" ]] || die "no $PY (python venv)"
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || die "no Chromium at ${CHROMIUM:-/usr/bin/chromium}"
"$NODE" --version | grep -q '^v22\.' || die "node in e2e/node_modules is not v22"
mkdir -p "$E2E/artifacts"
rm -f "$E2E"/artifacts/*.png

declare -a results=()
fail=0
run() {
  local name="$1"; shift
  local t0; t0=$(date +%s)
  log "$name"
  if (cd "$E2E" && "$@"); then
    results+=("PASS $name ($(( $(date +%s) - t0 )) s)")
  else
    results+=("FAIL $name ($(( $(date +%s) - t0 )) s)")
    fail=1
  fi
}

for suite in $ONLY; do
  case "$suite" in
    inspector) run "inspector-cli" "$NODE" inspector.mjs "$BIN" ;;
    python) run "python-mcp-client (legacy + 2026-07-28)" "$PY" client.py "$BIN" ;;
    confirm) run "python-mcp-client confirmation (2026-07-28 MRTR)" "$PY" confirm.py "$BIN" ;;
    prompts) run "python-mcp-client prompts + completion (legacy + 2026-07-28)" "$PY" prompts.py "$BIN" ;;
    browser) run "chromium checkout + portal" "$PY" browser_flow.py "$BIN" ;;
    dashboard) run "chromium sandbox dashboard (panels vs API, clock form)" "$PY" dashboard_flow.py "$BIN" ;;
    conformance) run "MCP conformance (0.1.16 at 2025-11-25, 0.2.0-alpha.12 at 2026-07-28)" bash conformance/run.sh "$BIN" ;;
    deploy) run "deployment: PostgreSQL + 2 replicas + nginx (both eras)" bash deploy/run.sh "$BIN" "$PY" ;;
    apps) run "MCP Apps review form (ext-apps host bridge, chromium)" "$NODE" apps/review.mjs "$BIN"
      run "MCP Apps revenue chart (ext-apps host bridge, chromium)" "$NODE" apps/metrics.mjs "$BIN" ;;
    *) die "unknown suite $suite" ;;
  esac
done

echo "== e2e summary ($(( $(date +%s) - start )) s; screenshots in e2e/artifacts/)"
printf '%s\n' "${results[@]}"
exit $fail
