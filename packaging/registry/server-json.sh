#!/usr/bin/env bash
# Writes the release server.json for the MCP Registry:
#   bash packaging/registry/server-json.sh VERSION DIR_OF_MCPB_FILES OUT
# From the committed server.json (the cargo package and its environment variables), with VERSION
# (which must equal the committed version, i.e. Cargo.toml's) and one `mcpb` package per DIR/*.mcpb:
#   identifier https://github.com/solvapay/solvapay-mcp/releases/download/vVERSION/<file>
#   fileSha256 the file's SHA-256, and the same environment variables as the cargo package.
# Validate the result with check-jsonschema against server.schema.json beside this script
# (.ci/bundle-check.sh does).
set -euo pipefail
usage="usage: server-json.sh VERSION DIR_OF_MCPB_FILES OUT"
version=${1:?$usage}
version=${version#v}  # a tag (v0.1.0) is accepted too
dir=${2:?$usage}
out=${3:?$usage}
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ -d "$dir" ]] || { echo "server-json.sh: no directory $dir" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
python3 - "$root/server.json" "$version" "$dir" "$out" <<'PY'
import copy, hashlib, json, pathlib, sys

template, version, bundle_dir, out = sys.argv[1:]
RELEASES = "https://github.com/solvapay/solvapay-mcp/releases/download"
with open(template, encoding="utf-8") as f:
    server = json.load(f)
if server["version"] != version:
    sys.exit(f"server-json.sh: VERSION {version} is not server.json's version {server['version']} "
             "(Cargo.toml's; bump both together)")
cargo = [p for p in server["packages"] if p["registryType"] == "cargo"]
if len(cargo) != 1:
    sys.exit("server-json.sh: server.json must hold exactly one cargo package")
bundles = sorted(pathlib.Path(bundle_dir).glob("*.mcpb"))
if not bundles:
    sys.exit(f"server-json.sh: no .mcpb file in {bundle_dir}")
packages = [p for p in server["packages"] if p["registryType"] != "mcpb"]
for bundle in bundles:
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    package = {
        "registryType": "mcpb",
        "identifier": f"{RELEASES}/v{version}/{bundle.name}",
        "version": version,
        "fileSha256": digest,
        "transport": {"type": "stdio"},
    }
    if "environmentVariables" in cargo[0]:
        package["environmentVariables"] = copy.deepcopy(cargo[0]["environmentVariables"])
    packages.append(package)
    print(f"server-json.sh: {bundle.name} {digest}", file=sys.stderr)
server["packages"] = packages
with open(out, "w", encoding="utf-8") as f:
    json.dump(server, f, indent=2, ensure_ascii=False)
    f.write("\n")
print(f"server-json.sh: wrote {out} ({len(packages)} packages)", file=sys.stderr)
PY
