#!/usr/bin/env python3
"""The server command an MCPB client (Claude Desktop) derives from an unpacked bundle, the way
@anthropic-ai/mcpb's getMcpConfigForManifest does: the platform override merged in (its command,
args and env each replacing the base's), then `${__dirname}`, `${HOME}`, `${/}` … and
`${user_config.KEY}` substituted — KEY's value given by the person, else the manifest's `default`
(booleans as "true"/"false"). A placeholder with neither stays as it is, as the client leaves it;
so this exits 1 if any `${…}` is left, which is how a missing default is caught.

    desktop_config.py UNPACKED_DIR HOME [USER_CONFIG_JSON] > resolved.json

Prints {"command": …, "args": […], "env": {…}} (mcp_stdio.py --config reads it).
"""

import json
import os
import re
import sys

PLATFORMS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}


def platform() -> str:
    return "win32" if sys.platform.startswith("win") else PLATFORMS.get(sys.platform, sys.platform)


def substitute(value, variables: dict):
    if isinstance(value, str):
        for key, replacement in variables.items():
            value = value.replace("${" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    bundle, home = os.path.abspath(sys.argv[1]), sys.argv[2]
    given = json.loads(sys.argv[3]) if len(sys.argv) == 4 else {}
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    base = manifest["server"]["mcp_config"]
    config = {k: base.get(k) for k in ("command", "args", "env")}
    override = base.get("platform_overrides", {}).get(platform(), {})
    for key in ("command", "args", "env"):
        if override.get(key):
            config[key] = override[key]
    config["args"] = config["args"] or []
    config["env"] = config["env"] or {}

    unknown = set(given) - set(manifest.get("user_config", {}))
    if unknown:
        sys.exit(f"desktop_config.py: not in the manifest's user_config: {sorted(unknown)}")
    variables = {
        "__dirname": bundle,
        "HOME": home,
        "DESKTOP": os.path.join(home, "Desktop"),
        "DOCUMENTS": os.path.join(home, "Documents"),
        "DOWNLOADS": os.path.join(home, "Downloads"),
        "pathSeparator": os.sep,
        "/": os.sep,
    }
    for key, option in manifest.get("user_config", {}).items():
        value = given.get(key, option.get("default"))
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        variables[f"user_config.{key}"] = str(value)
    resolved = substitute(config, variables)

    left = sorted(set(re.findall(r"\$\{[^}]*\}", json.dumps(resolved))))
    if left:
        sys.exit(f"desktop_config.py: left unsubstituted (give the option a default): {left}")
    json.dump(resolved, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
