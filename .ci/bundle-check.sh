#!/usr/bin/env bash
# The Claude Desktop bundle and the MCP Registry entry, checked with the Linux binary CI built:
#   bash .ci/bundle-check.sh target/release/solvapay-mcp
# 1. `mcpb validate` the manifest; its version is Cargo.toml's.
# 2. Build the linux-x86_64 bundle with packaging/mcpb/build.sh, `mcpb unpack` it, and check the
#    unpacked binary is byte-identical to BINARY and executable.
# 3. Run it as Claude Desktop would — the manifest's command and env with ${__dirname}, ${HOME} and
#    ${user_config.*} substituted, every option left at its default (an empty key: the local
#    sandbox) — through initialize + tools/list over stdio; the manifest's tools are the binary's.
#    Then once more with options filled in (toolsets, read-only, refund caps): it starts and lists
#    fewer tools.
# 4. check-jsonschema the committed server.json and the release server.json made from that bundle
#    by packaging/registry/server-json.sh against the vendored registry schema; server.json's
#    version is Cargo.toml's, its cargo package is this crate, and README.md's `mcp-name:` line
#    names it.
# Installs what it needs (idempotent): `npm ci` in packaging/mcpb, a virtualenv with
# check-jsonschema in packaging/registry/.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
binary=$(realpath "${1:?usage: .ci/bundle-check.sh BINARY}")
t0=$(date +%s)
log() { echo "bundle-check: $*"; }
die() { echo "bundle-check: FAIL: $*" >&2; exit 1; }
[[ -x "$binary" ]] || die "no executable at $binary"

mcpb_dir="$root/packaging/mcpb"
reg_dir="$root/packaging/registry"
mcpb="$mcpb_dir/node_modules/.bin/mcpb"
stamp="$mcpb_dir/node_modules/.lock-stamp"
if [[ ! -x "$mcpb" ]] || ! cmp -s "$mcpb_dir/package-lock.json" "$stamp"; then
  log "npm ci in packaging/mcpb (@anthropic-ai/mcpb, pinned)"
  (cd "$mcpb_dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci"
  cp "$mcpb_dir/package-lock.json" "$stamp"
fi
vstamp="$reg_dir/.venv/.req-stamp"
if [[ ! -f "$vstamp" ]] || ! cmp -s "$vstamp" "$reg_dir/requirements.txt"; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    log "installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
      || die "apt-get install python3-venv"
  fi
  log "python venv + check-jsonschema (packaging/registry/requirements.txt)"
  python3 -m venv "$reg_dir/.venv" || die "python3 -m venv"
  "$reg_dir/.venv/bin/pip" install -q --disable-pip-version-check -r "$reg_dir/requirements.txt" || die "pip install"
  cp "$reg_dir/requirements.txt" "$vstamp"
fi
check_jsonschema="$reg_dir/.venv/bin/check-jsonschema"
t_setup=$(date +%s)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }
cargo_name=$(awk '/^\[/{p = ($0 == "[package]")} p && /^name *=/ {gsub(/.*= *"|".*/, ""); print; exit}' Cargo.toml)
cargo_version=$(awk '/^\[/{p = ($0 == "[package]")} p && /^version *=/ {gsub(/.*= *"|".*/, ""); print; exit}' Cargo.toml)

log "1. mcpb validate packaging/mcpb/manifest.json"
"$mcpb" validate "$mcpb_dir/manifest.json" || die "mcpb validate"
manifest_version=$(json "$mcpb_dir/manifest.json" 'd["version"]')
[[ "$manifest_version" == "$cargo_version" ]] \
  || die "manifest.json version $manifest_version is not Cargo.toml's $cargo_version"

log "2. build, unpack, compare the binary"
bash "$mcpb_dir/build.sh" "$binary" linux-x86_64 "$tmp/dist/solvapay-mcp-linux-x86_64.mcpb" 2>"$tmp/build.log" \
  || { cat "$tmp/build.log" >&2; die "build.sh"; }
tail -n 1 "$tmp/build.log"
"$mcpb" unpack "$tmp/dist/solvapay-mcp-linux-x86_64.mcpb" "$tmp/unpacked" >/dev/null || die "mcpb unpack"
unpacked="$tmp/unpacked/server/solvapay-mcp"
cmp -s "$binary" "$unpacked" || die "the unpacked binary differs from $binary"
[[ -x "$unpacked" ]] || die "the unpacked binary is not executable"
[[ $(json "$tmp/unpacked/manifest.json" 'd["compatibility"]["platforms"]') == "['linux']" ]] \
  || die "the linux bundle's compatibility.platforms is not [linux]"
[[ $(json "$tmp/unpacked/manifest.json" 'd["version"]') == "$cargo_version" ]] || die "the bundle's version"
log "   unpacked server/solvapay-mcp: identical, executable"

log "3. run the bundle as Claude Desktop would: initialize + tools/list"
mkdir -p "$tmp/home"
python3 "$mcpb_dir/desktop_config.py" "$tmp/unpacked" "$tmp/home" >"$tmp/defaults.json" || die "desktop_config.py"
HOME="$tmp/home" python3 "$mcpb_dir/mcp_stdio.py" --clear-env --config "$tmp/defaults.json" >"$tmp/listed.json" \
  || die "the bundle's server did not answer initialize + tools/list with the default options"
log "   $(json "$tmp/listed.json" '"server %s %s, protocol %s, %d tools" % (d["serverInfo"]["name"], d["serverInfo"]["version"], d["protocolVersion"], len(d["tools"]))')"
[[ $(json "$tmp/listed.json" 'd["serverInfo"]["version"]') == "$cargo_version" ]] || die "serverInfo.version"
python3 "$mcpb_dir/tools.py" check "$mcpb_dir/manifest.json" "$tmp/listed.json" || die "manifest tools differ from the binary's"
python3 "$mcpb_dir/desktop_config.py" "$tmp/unpacked" "$tmp/home" \
  '{"toolsets": "customers,catalog,payments", "read_only": true, "max_refund_amount": "5000", "max_refund_total": "20000"}' \
  >"$tmp/filled.json" || die "desktop_config.py (filled in)"
HOME="$tmp/home" python3 "$mcpb_dir/mcp_stdio.py" --clear-env --config "$tmp/filled.json" >"$tmp/listed-filled.json" \
  || die "the bundle's server did not start with options filled in"
python3 - "$tmp/listed.json" "$tmp/listed-filled.json" <<'PY' || die "options filled in did not narrow the tools"
import json, sys
every, narrowed = ({t["name"] for t in json.load(open(p))["tools"]} for p in sys.argv[1:])
assert narrowed and narrowed < every, (sorted(narrowed), len(every))
print(f"bundle-check:    with toolsets customers,catalog,payments + read-only: {len(narrowed)} of {len(every)} tools")
PY

log "4. server.json against the registry schema (2025-12-11)"
"$check_jsonschema" --schemafile "$reg_dir/server.schema.json" server.json || die "server.json"
bash "$reg_dir/server-json.sh" "$cargo_version" "$tmp/dist" "$tmp/server.release.json" 2>/dev/null || die "server-json.sh"
"$check_jsonschema" --schemafile "$reg_dir/server.schema.json" "$tmp/server.release.json" || die "release server.json"
python3 - server.json "$tmp/server.release.json" "$tmp/dist/solvapay-mcp-linux-x86_64.mcpb" "$cargo_name" "$cargo_version" <<'PY' || die "server.json"
import hashlib, json, re, sys
committed, release, bundle, crate, version = sys.argv[1:]
server = json.load(open(committed))
assert server["version"] == version, f"server.json version {server['version']} is not Cargo.toml's {version}"
cargo = [p for p in server["packages"] if p["registryType"] == "cargo"]
assert len(cargo) == 1 and cargo[0]["identifier"] == crate and cargo[0]["version"] == version, cargo
names = {e["name"] for e in cargo[0]["environmentVariables"]}
key = [e for e in cargo[0]["environmentVariables"] if e["name"] == "SOLVAPAY_SECRET_KEY"]
assert key and key[0]["isSecret"] and not key[0]["isRequired"], key
readme = open("README.md", encoding="utf-8").read()
# Visible text (crates.io strips HTML comments), the token followed by a boundary.
visible = re.sub(r"<!--.*?-->", "", readme, flags=re.S)
found = re.findall(r"mcp-name: ([A-Za-z0-9.-]+/[A-Za-z0-9._-]+)(?=[\s`<]|$)", visible)
assert found == [server["name"]], f"README.md mcp-name lines {found} != server.json name {server['name']!r}"
rel = json.load(open(release))
mcpb = [p for p in rel["packages"] if p["registryType"] == "mcpb"]
digest = hashlib.sha256(open(bundle, "rb").read()).hexdigest()
url = f"https://github.com/solvapay/solvapay-mcp/releases/download/v{version}/solvapay-mcp-linux-x86_64.mcpb"
assert [(p["identifier"], p["fileSha256"]) for p in mcpb] == [(url, digest)], mcpb
manifest_env = set(json.load(open("packaging/mcpb/manifest.json"))["server"]["mcp_config"]["env"])
assert manifest_env <= names, f"bundle variables not described in server.json: {sorted(manifest_env - names)}"
print(f"bundle-check:    {server['name']} {version}: cargo {crate} + mcpb (sha256 {digest[:12]}…); README mcp-name matches")
PY

t1=$(date +%s)
log "PASS in $((t1 - t0)) s (installs $((t_setup - t0)) s, checks $((t1 - t_setup)) s)"
