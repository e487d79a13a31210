#!/usr/bin/env python3
"""The manifest's `tools` list, derived from what the binary lists (the output of mcp_stdio.py):
each tool's name and the first sentence of its description, sorted by name.

    tools.py update MANIFEST LISTED.json   rewrite MANIFEST's "tools" (update-tools.sh)
    tools.py check  MANIFEST LISTED.json   exit 1, naming the differences, unless they agree
"""

import json
import re
import sys


def entries(listed: dict) -> list:
    out = []
    for tool in listed["tools"]:
        text = " ".join(tool.get("description", "").split())
        # The first sentence: up to the first ". " (or the whole text).
        first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0]
        out.append({"name": tool["name"], "description": first})
    return sorted(out, key=lambda t: t["name"])


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] not in ("update", "check"):
        sys.exit(__doc__)
    mode, manifest_path, listed_path = sys.argv[1:]
    manifest = load(manifest_path)
    want = entries(load(listed_path))
    if mode == "update":
        manifest["tools"] = want
        with open(manifest_path, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"{manifest_path}: {len(want)} tools", file=sys.stderr)
        return
    have = manifest.get("tools", [])
    if have == want:
        print(f"manifest tools == binary tools ({len(want)})", file=sys.stderr)
        return
    have_names = {t["name"] for t in have}
    want_names = {t["name"] for t in want}
    for name in sorted(want_names - have_names):
        print(f"missing from the manifest: {name}", file=sys.stderr)
    for name in sorted(have_names - want_names):
        print(f"in the manifest, not listed by the binary: {name}", file=sys.stderr)
    by_name = {t["name"]: t for t in want}
    for t in have:
        if t["name"] in by_name and t != by_name[t["name"]]:
            print(f"description differs: {t['name']}", file=sys.stderr)
    print("run: bash packaging/mcpb/update-tools.sh BINARY", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
