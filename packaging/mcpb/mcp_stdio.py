#!/usr/bin/env python3
"""A dependency-free MCP client over stdio (JSON lines): starts a server command, sends
`initialize`, `notifications/initialized` and `tools/list` (following `nextCursor`), and prints
one JSON object on stdout: {"serverInfo": ..., "protocolVersion": ..., "tools": [...]}.

    mcp_stdio.py [--clear-env] [--env-file FILE] -- COMMAND [ARGS...]
    mcp_stdio.py [--clear-env] --config RESOLVED.json

--env-file: a JSON object of variables set for the server (on top of PATH and HOME when
--clear-env is given, else on top of this process's environment). --config: the command, args and
env of a client configuration (desktop_config.py's output). Used by
packaging/mcpb/update-tools.sh and .ci/bundle-check.sh; no part of the server.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

PROTOCOL = "2025-06-18"
TIMEOUT_S = 30


def fail(msg: str) -> None:
    print(f"mcp_stdio: {msg}", file=sys.stderr)
    sys.exit(1)


class Session:
    def __init__(self, argv: list, env: dict):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
        )
        self.stderr: list = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.next_id = 1

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)

    def send(self, msg: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            code = self.proc.wait()
            time.sleep(0.1)  # the last stderr lines
            fail(f"the server exited ({code}) before {msg.get('method')}; stderr:\n{''.join(self.stderr)}")

    def request(self, method: str, params: dict) -> dict:
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        result: dict = {}

        def read() -> None:
            for line in self.proc.stdout:
                try:
                    msg = json.loads(line)
                except ValueError:
                    result["error"] = f"stdout line is not JSON: {line[:200]!r}"
                    return
                if msg.get("id") == rid and ("result" in msg or "error" in msg):
                    result["msg"] = msg
                    return
            result["error"] = "stdout closed"

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(TIMEOUT_S)
        if reader.is_alive():
            self.kill()
            fail(f"no answer to {method} in {TIMEOUT_S} s; stderr:\n{''.join(self.stderr)}")
        if "error" in result:
            self.kill()
            fail(f"{method}: {result['error']}; stderr:\n{''.join(self.stderr)}")
        msg = result["msg"]
        if "error" in msg:
            self.kill()
            fail(f"{method} failed: {msg['error']}")
        return msg["result"]

    def close(self) -> int:
        self.proc.stdin.close()
        try:
            return self.proc.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            fail("the server did not exit after stdin closed")
        return 1

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file")
    parser.add_argument("--clear-env", action="store_true")
    parser.add_argument("--config")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    extra: dict = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
        argv = [config["command"], *config.get("args", [])]
        extra.update(config.get("env", {}))
    if not argv:
        fail("no server command given")
    if args.clear_env:
        env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    else:
        env = dict(os.environ)
    if args.env_file:
        with open(args.env_file, encoding="utf-8") as f:
            extra.update(json.load(f))
    env.update({k: str(v) for k, v in extra.items()})

    session = Session(argv, env)
    init = session.request(
        "initialize",
        {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "solvapay-mcp-bundle-check", "version": "0"},
        },
    )
    session.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    tools: list = []
    cursor = None
    while True:
        page = session.request("tools/list", {"cursor": cursor} if cursor else {})
        tools.extend(page.get("tools", []))
        cursor = page.get("nextCursor")
        if not cursor:
            break
    code = session.close()
    if code != 0:
        fail(f"the server exited with {code} after stdin closed; stderr:\n{''.join(session.stderr)}")
    json.dump(
        {
            "protocolVersion": init.get("protocolVersion"),
            "serverInfo": init.get("serverInfo"),
            "tools": tools,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
