"""Checks that `cargo binstall solvapay-mcp` finds what the release workflow publishes.

For every target of the release workflow's build matrix (.github/workflows/release.yml), the
archive that packaging/release/archive.sh makes (from a stand-in binary) must be the file that
Cargo.toml's [package.metadata.binstall] names: the same file name at the end of pkg-url, under
the repository's release download URL for tag v<version>, in the pkg-fmt format, with the binary
at bin-dir, executable.

Usage: python check_binstall.py   (from anywhere; needs PyYAML; exit 1 on a mismatch)
"""

import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github/workflows/release.yml"
ARCHIVE_SH = ROOT / "packaging/release/archive.sh"

# binstall's pkg-fmt values and how to read each.
FORMATS = {"tgz": "tar.gz", "tar.gz": "tar.gz", "zip": "zip"}


def render(template: str, values: dict[str, str]) -> str:
    """binstall's `{ key }` templates (spaces optional); an unknown key is an error."""

    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            raise KeyError(f"unknown template key {{ {key} }} in {template!r}")
        return values[key]

    return re.sub(r"\{\s*([a-z-]+)\s*\}", one, template)


def members(archive: Path, fmt: str) -> dict[str, int]:
    """Each file in the archive and its Unix mode."""
    if fmt == "zip":
        with zipfile.ZipFile(archive) as z:
            return {i.filename: (i.external_attr >> 16) & 0o7777 for i in z.infolist() if not i.is_dir()}
    with tarfile.open(archive, "r:gz") as t:
        return {m.name: m.mode for m in t.getmembers() if m.isfile()}


def main() -> int:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    package = cargo["package"]
    name, version, repo = package["name"], package["version"], package["repository"].rstrip("/")
    bins = [b["name"] for b in cargo.get("bin", [])] or [name]
    meta = package["metadata"]["binstall"]
    workflow = yaml.safe_load(WORKFLOW.read_text())
    targets = [leg["target"] for leg in workflow["jobs"]["build"]["strategy"]["matrix"]["include"]]
    problems: list[str] = []
    if repo != "https://github.com/solvapay/solvapay-mcp":
        problems.append(f"Cargo.toml repository is {repo!r}")
    for target in targets:
        before = len(problems)
        over = meta.get("overrides", {}).get(target, {})
        spec = {key: over.get(key, meta.get(key)) for key in ("pkg-url", "bin-dir", "pkg-fmt")}
        windows = "windows" in target
        values = {
            "name": name,
            "version": version,
            "target": target,
            "repo": repo,
            "binary-ext": ".exe" if windows else "",
            "bin": bins[0],
        }
        url = render(spec["pkg-url"], values)
        bin_dir = render(spec["bin-dir"], values)
        fmt = FORMATS.get(spec["pkg-fmt"] or "tgz")
        prefix = f"{repo}/releases/download/v{version}/"
        if not url.startswith(prefix):
            problems.append(f"{target}: pkg-url {url} is not under {prefix}")
        with tempfile.TemporaryDirectory() as tmp:
            stand_in = Path(tmp) / ("solvapay-mcp.exe" if windows else "solvapay-mcp")
            stand_in.write_bytes(b"stand-in binary\n")
            made = subprocess.run(
                ["bash", str(ARCHIVE_SH), target, version, str(stand_in), str(Path(tmp) / "out")],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            archive = Path(made)
            if archive.name != url.rsplit("/", 1)[-1]:
                problems.append(f"{target}: archive.sh makes {archive.name}, binstall fetches {url}")
                continue
            if fmt is None or not archive.name.endswith("." + fmt):
                problems.append(f"{target}: pkg-fmt {spec['pkg-fmt']!r} but the archive is {archive.name}")
                continue
            files = members(archive, fmt)
            mode = files.get(bin_dir)
            if mode is None:
                problems.append(f"{target}: no {bin_dir} in {archive.name} (it has {sorted(files)})")
            elif not windows and mode & 0o111 != 0o111:
                problems.append(f"{target}: {bin_dir} in {archive.name} is not executable ({oct(mode)})")
        if len(problems) == before:
            print(f"ok binstall {target}: {url} -> {bin_dir}")
    for p in problems:
        print(f"FAIL binstall: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
