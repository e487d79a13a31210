"""Shared helpers of the Python end-to-end checks: server parameters, a check counter, result access."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from typing import Any, Awaitable, Callable

from mcp import StdioServerParameters

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(HERE, "artifacts")
NODE = os.path.join(HERE, "node_modules", ".bin", "node")
os.makedirs(ARTIFACTS, exist_ok=True)


class Checks:
    """Counts checks; prints one line per check."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.failures = 0

    def check(self, name: str, cond: bool, detail: Any = "") -> bool:
        if cond:
            print(f"  ok   {name}", flush=True)
        else:
            self.failures += 1
            print(f"  FAIL {name}: {detail}", flush=True)
        return cond

    def done(self) -> int:
        if self.failures:
            print(f"{self.title}: {self.failures} check(s) failed", flush=True)
            return 1
        print(f"{self.title}: all checks passed", flush=True)
        return 0


def server_params(binary: str, *, demo: bool = True, data_dir: str | None = None) -> StdioServerParameters:
    """The release binary in local-sandbox mode (no key), with a fresh data dir."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SOLVAPAY_DATA_DIR": data_dir or tempfile.mkdtemp(prefix="solvapay-e2e-py-"),
        "RUST_LOG": "warn",
    }
    return StdioServerParameters(command=binary, args=["--demo"] if demo else [], env=env)


def sc(result: Any) -> dict[str, Any]:
    """structuredContent of a CallToolResult (the 2.x client names it structured_content)."""
    value = getattr(result, "structured_content", None)
    if value is None:
        value = getattr(result, "structuredContent", None)
    return value if isinstance(value, dict) else {}


def is_error(result: Any) -> bool:
    value = getattr(result, "is_error", None)
    if value is None:
        value = getattr(result, "isError", None)
    return bool(value)


def envelope(result: Any) -> dict[str, Any]:
    """SolvaPay's error envelope of a failed call: from the text block (always there), else structuredContent."""
    for t in texts(result):
        try:
            value = json.loads(t)
        except ValueError:
            continue
        if isinstance(value, dict) and "error" in value:
            return value
    return sc(result)


def texts(result: Any) -> list[str]:
    return [c.text for c in result.content if getattr(c, "type", None) == "text"]


def brief(result: Any) -> str:
    return json.dumps({"isError": is_error(result), "structured": sc(result), "text": texts(result)[:1]})[:600]


def binary_arg() -> str:
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} <solvapay-mcp binary>", file=sys.stderr)
        sys.exit(2)
    return os.path.abspath(sys.argv[1])


Run = Callable[[Checks, str], Awaitable[None]]


def run_suite(title: str, runs: list[tuple[str, Run]], timeout: float = 120) -> int:
    """The suite's exit code: each run given the binary from the command line, within `timeout`
    seconds; a run that raises or times out is one failed check, and the next run still goes."""

    async def all_runs() -> int:
        binary = binary_arg()
        c = Checks(title)
        for name, run in runs:
            try:
                await asyncio.wait_for(run(c, binary), timeout=timeout)
            except Exception as e:  # noqa: BLE001 - any failure of a run is a failed check
                c.check(f"[{name}] run completed", False, repr(e))
        return c.done()

    return asyncio.run(all_runs())


async def node(script: str, *args: str) -> tuple[int, dict]:
    """Runs e2e/`script` on Node 22 with `args`: its exit code and the JSON of its last stdout line
    (or the tail of its output, when that is not JSON)."""
    proc = await asyncio.create_subprocess_exec(
        NODE, os.path.join(HERE, script), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    try:
        data = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        data = {"stdout": out.decode()[-500:], "stderr": err.decode()[-1500:]}
    return proc.returncode or 0, data
