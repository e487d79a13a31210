"""A real deployment, driven through nginx with the Python `mcp` 2.3 client.

Started here, each on its own loopback port, all in DIR (deploy/run.sh made it, and started
PostgreSQL at STATE_URL):
  - the standalone sandbox (`solvapay-mcp sandbox --demo`) as the fake SolvaPay;
  - two replicas, `solvapay-mcp serve --http`, sharing SOLVAPAY_STATE_URL and
    SOLVAPAY_REQUEST_STATE_KEY; callers bring the sandbox's key (`Authorization: Bearer sk_…`);
  - nginx, running deploy/nginx.conf with these ports filled in.
Checked:
  - 2025-11-25 through nginx (streamable_http_client + ClientSession): a refund confirmed by
    elicitation on that session, made once; a session started at one replica goes on at the other;
  - 2026-07-28 through nginx (Client mode="auto"): a refund confirmed by MRTR, made once (its rounds
    are spread over both replicas, so the state one sealed opens at the other);
  - identical refunds sent at the same time, one directly to each replica: the fake SolvaPay gets one;
  - a replica killed (SIGKILL) in the middle of a refund (the sandbox slowed): the call's start record
    is in the shared audit, reported as unfinished when the replica starts again, and a repeat of the
    refund through the other replica is not sent a second time;
  - no credential through nginx: 401 with a JSON body.
Usage: python deploy.py BIN DIR STATE_URL NGINX_CONF
"""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitResult

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import Checks, brief, is_error  # noqa: E402

JANE_PAYMENT = "txn_D7E8F9G0"
# Refunds of Jane's $49.00 payment, one amount per check (an amount names an intent).
LEGACY_AMOUNT, MODERN_AMOUNT, RACE_AMOUNT, KILLED_AMOUNT = 1000, 1100, 1200, 500
NGINX_PORTS = {"127.0.0.1:8700": "nginx", "127.0.0.1:8701": "a", "127.0.0.1:8702": "b"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


class Proc:
    """A process of the deployment: its log in DIR, its pid in DIR/pids (for run.sh's backstop)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], root: Path) -> None:
        self.name, self.argv, self.env, self.root = name, argv, env, root
        self.log_path = root / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        (self.root / "pids" / f"{self.name}.pid").write_text(str(self.proc.pid))

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, sig: int = signal.SIGTERM, grace: float = 15) -> int | None:
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        (self.root / "pids" / f"{self.name}.pid").unlink(missing_ok=True)
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return bool(self.proc) and self.proc.poll() is None


def wait_for(what: str, proc: Proc, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{what} exited: {proc.log()[-2000:]}")
        if http("GET", url)[0] == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready at {url}: {proc.log()[-2000:]}")


class Deployment:
    def __init__(self, binary: str, root: Path, state_url: str, nginx_conf: Path) -> None:
        self.binary, self.root, self.state_url, self.nginx_conf = binary, root, state_url, nginx_conf
        self.procs: list[Proc] = []
        self.key = "sk_sandbox_e2e_" + secrets.token_hex(16)
        self.state_key = secrets.token_hex(32)
        self.sandbox_port, self.nginx_port = free_port(), free_port()
        self.ports = {"a": free_port(), "b": free_port()}
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.url = f"http://127.0.0.1:{self.nginx_port}/mcp"
        self.replicas: dict[str, Proc] = {}

    def base_env(self, name: str) -> dict[str, str]:
        home = self.root / f"home-{name}"
        home.mkdir(exist_ok=True)
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "RUST_LOG": "warn,solvapay_mcp=info"}

    def start(self) -> None:
        sandbox = Proc(
            "sandbox",
            [self.binary, "sandbox", "--port", str(self.sandbox_port), "--key", self.key, "--demo", "--db", str(self.root / "sandbox.sqlite")],
            self.base_env("sandbox"),
            self.root,
        )
        self.procs.append(sandbox)
        wait_for("the sandbox", sandbox, f"{self.sandbox_url}/healthz")
        for name in ("a", "b"):
            self.replicas[name] = self.replica(name)
        for name, proc in self.replicas.items():
            wait_for(f"replica {name}", proc, self.replica_url(name, "/readyz"))
        self.procs.append(self.nginx())
        wait_for("nginx", self.procs[-1], f"http://127.0.0.1:{self.nginx_port}/healthz")

    def replica(self, name: str, label: str = "") -> Proc:
        env = self.base_env(name) | {
            "SOLVAPAY_DATA_DIR": str(self.root / f"data-{name}"),
            "SOLVAPAY_API_BASE_URL": self.sandbox_url,
            "SOLVAPAY_STATE_URL": self.state_url,
            "SOLVAPAY_REQUEST_STATE_KEY": self.state_key,
        }
        proc = Proc(f"replica-{name}{label}", [self.binary, "serve", "--http", f"127.0.0.1:{self.ports[name]}"], env, self.root)
        self.procs.append(proc)
        return proc

    def replica_url(self, name: str, path: str = "/mcp") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def nginx(self) -> Proc:
        """deploy/nginx.conf as checked in, with this run's ports in place of its example ones."""
        prefix = self.root / "nginx"
        (prefix / "temp").mkdir(parents=True)
        conf = self.nginx_conf.read_text()
        ports = {"nginx": self.nginx_port, "a": self.ports["a"], "b": self.ports["b"]}
        for example, name in NGINX_PORTS.items():
            if conf.count(example) != 1:
                raise RuntimeError(f"{self.nginx_conf} no longer names {example} exactly once")
            conf = conf.replace(example, f"127.0.0.1:{ports[name]}")
        # A health route of nginx's own, for the readiness wait.
        conf = conf.replace("        location / {", "        location = /healthz { return 200 'ok'; }\n        location / {", 1)
        (prefix / "nginx.conf").write_text(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return Proc("nginx", [nginx, "-p", f"{prefix}/", "-e", "stderr", "-c", str(prefix / "nginx.conf")], self.base_env("nginx"), self.root)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def http_client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(headers=self.auth(), timeout=httpx2.Timeout(30, read=300))

    def refunds(self, amount: int) -> int:
        """Refunds of `amount` the fake SolvaPay has made (its own books, not the server's)."""
        status, body = http("GET", f"{self.sandbox_url}/v1/ui/transactions?transactionType=refund&limit=100", headers=self.auth())
        if status != 200:
            raise RuntimeError(f"sandbox transactions: {status} {body[:300]}")
        items = json.loads(body)
        items = items.get("transactions", items.get("data", [])) if isinstance(items, dict) else items
        return sum(1 for t in items if t.get("type") == "refund" and abs(int(t.get("amount", 0))) == amount)

    def latency(self, ms: int) -> None:
        status, body = http("POST", f"{self.sandbox_url}/v1/sandbox/latency", {"ms": ms}, self.auth())
        if status != 200:
            raise RuntimeError(f"sandbox latency: {status} {body}")

    def sql(self, query: str) -> str:
        """`query` run in the shared state's database (psql of the cluster's PostgreSQL)."""
        psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
        out = subprocess.run([psql, self.state_url, "-AtXc", query], capture_output=True, text=True, timeout=20, check=True)
        return out.stdout.strip()

    def open_refunds(self) -> int:
        """create_refund calls whose start is in the shared audit and whose outcome is not."""
        return int(self.sql("SELECT count(*) FROM solvapay_audit WHERE tool = 'create_refund' AND finished_at IS NULL"))


class Person:
    """Answers every confirmation with yes and remembers the questions."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.questions.append(getattr(params, "message", ""))
        return ElicitResult(action="accept", content={"confirm": True})


def refund_args(amount: int) -> dict[str, Any]:
    return {"sourceTransactionRef": JANE_PAYMENT, "amount": amount}


async def legacy_through_nginx(c: Checks, d: Deployment) -> None:
    person = Person()
    async with d.http_client() as client, streamable_http_client(d.url, http_client=client) as (read, write):
        async with ClientSession(read, write, elicitation_callback=person) as session:
            init = await session.initialize()
            c.check("[2025-11-25] initialize through nginx", init.protocol_version == "2025-11-25", init.protocol_version)
            tools = (await session.list_tools()).tools
            c.check("[2025-11-25] tools/list: 37 tools", len(tools) == 37, len(tools))
            r = await session.call_tool("create_refund", refund_args(LEGACY_AMOUNT))
            c.check("[2025-11-25] the refund was confirmed by elicitation on the session", len(person.questions) == 1, person.questions)
            c.check("[2025-11-25] the refund is made", not is_error(r), brief(r))
    c.check("[2025-11-25] the fake SolvaPay made it once", d.refunds(LEGACY_AMOUNT) == 1, d.refunds(LEGACY_AMOUNT))


async def modern_through_nginx(c: Checks, d: Deployment) -> None:
    person = Person()
    async with d.http_client() as client:
        transport = streamable_http_client(d.url, http_client=client)
        async with Client(transport, mode="auto", elicitation_callback=person) as session:
            c.check("[2026-07-28] negotiated through nginx", session.protocol_version == "2026-07-28", session.protocol_version)
            r = await session.call_tool("create_refund", refund_args(MODERN_AMOUNT))
            c.check("[2026-07-28] the refund was confirmed by MRTR", len(person.questions) == 1, person.questions)
            c.check("[2026-07-28] the refund is made", not is_error(r), brief(r))
    c.check("[2026-07-28] the fake SolvaPay made it once", d.refunds(MODERN_AMOUNT) == 1, d.refunds(MODERN_AMOUNT))


async def refund_at(d: Deployment, replica: str, amount: int, started: asyncio.Event | None = None) -> Any:
    """One refund on a 2025-11-25 session straight to `replica`, from a client that declares no
    elicitation (its own approval prompt is the confirmation)."""
    async with d.http_client() as client, streamable_http_client(d.replica_url(replica), http_client=client) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            if started:
                started.set()
            return await session.call_tool("create_refund", refund_args(amount))


async def identical_refunds_race(c: Checks, d: Deployment) -> None:
    results = await asyncio.gather(refund_at(d, "a", RACE_AMOUNT), refund_at(d, "b", RACE_AMOUNT), return_exceptions=True)
    made = d.refunds(RACE_AMOUNT)
    c.check("[race] identical refunds at both replicas reach the fake SolvaPay once", made == 1, f"{made} refunds; {[brief(r) if not isinstance(r, BaseException) else repr(r) for r in results]}")
    ok = [r for r in results if not isinstance(r, BaseException) and not is_error(r)]
    c.check("[race] one of the two calls succeeds", len(ok) == 1, [brief(r) if not isinstance(r, BaseException) else repr(r) for r in results])


async def replica_killed_mid_call(c: Checks, d: Deployment) -> None:
    d.latency(4000)
    call = asyncio.create_task(refund_at(d, "b", KILLED_AMOUNT))
    try:
        deadline = time.monotonic() + 20
        while d.open_refunds() < 1 and time.monotonic() < deadline and not call.done():
            await asyncio.sleep(0.05)
        c.check("[kill] the refund is running at replica b, its start in the shared audit", d.open_refunds() == 1 and not call.done(), "no open refund in solvapay_audit")
        d.replicas["b"].kill()
        c.check("[kill] after SIGKILL the start record is still there, with no outcome", d.open_refunds() == 1, d.open_refunds())
        try:
            result = await asyncio.wait_for(call, 30)
            c.check("[kill] the killed call does not report success", is_error(result), brief(result))
        except Exception:  # noqa: BLE001 - the connection dropping is the expected outcome
            c.check("[kill] the killed call's connection dropped", True)
    finally:
        d.latency(0)
    # The sandbox finishes what it was sent; then b starts again and reads the shared audit.
    await asyncio.sleep(4.5)
    d.replicas["b"] = d.replica("b", "-restarted")
    wait_for("replica b (restarted)", d.replicas["b"], d.replica_url("b", "/readyz"))
    deadline = time.monotonic() + 10
    while "create_refund" not in unfinished(d.replicas["b"].log()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    c.check("[kill] the restarted replica reports the interrupted refund from the shared audit", "create_refund" in unfinished(d.replicas["b"].log()), d.replicas["b"].log()[-1500:])
    outcome = d.sql("SELECT outcome FROM solvapay_audit WHERE tool = 'create_refund' AND message IS NOT NULL AND outcome = 'interrupted'")
    c.check("[kill] ... and marks it interrupted in the shared audit", outcome == "interrupted", outcome)
    again = await refund_at(d, "a", KILLED_AMOUNT)
    c.check("[kill] the fake SolvaPay made the killed call's refund once, and the same refund through replica a is not sent again", d.refunds(KILLED_AMOUNT) == 1, f"{d.refunds(KILLED_AMOUNT)} refunds; {brief(again)}")


def unfinished(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if "has no recorded outcome" in line)


def rpc(d: Deployment, replica: str, message: dict[str, Any], session: str | None) -> tuple[int, dict[str, str], Any]:
    """One raw JSON-RPC POST to `replica`: status, headers, and the JSON-RPC answer (from JSON or SSE)."""
    headers = d.auth() | {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    if session:
        headers["Mcp-Session-Id"] = session
    req = urllib.request.Request(d.replica_url(replica), data=json.dumps(message).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as res:
            status, got, body = res.status, {k.lower(): v for k, v in res.headers.items()}, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {}, e.read().decode()
    answers = [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:") and line[5:].strip()]
    return status, got, answers[-1] if answers else (json.loads(body) if body.strip() else None)


def session_moves_between_replicas(c: Checks, d: Deployment) -> None:
    """A 2025-11-25 session started at replica a goes on at replica b (restored from PostgreSQL)."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e-raw", "version": "1"}}}
    status, headers, _ = rpc(d, "a", init, None)
    session = headers.get("mcp-session-id")
    c.check("[sessions] initialize at replica a gives a session", status == 200 and bool(session), status)
    rpc(d, "b", {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_customer", "arguments": {"reference": "cus_A1B2C3D4"}}}
    status, _, answer = rpc(d, "b", call, session)
    result = answer.get("result", {}) if isinstance(answer, dict) else {}
    c.check("[sessions] the same session calls a tool at replica b", status == 200 and result.get("isError") is not True and "Jane" in json.dumps(result), f"{status} {str(answer)[:300]}")


def no_credential(c: Checks, d: Deployment) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}
    status, body = http("POST", d.url, init, {"Accept": "application/json, text/event-stream"})
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    c.check("[auth] no credential through nginx: 401 with a JSON body", status == 401 and isinstance(parsed, dict), f"{status} {body[:300]}")


async def main() -> int:
    # The client warns when a session's DELETE is answered 202 (accepted) rather than 200/204.
    logging.getLogger("mcp.client.streamable_http").setLevel(logging.ERROR)
    binary, root, state_url, nginx_conf = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    c = Checks("deploy (PostgreSQL + 2 replicas + nginx)")
    d = Deployment(os.path.abspath(binary), root, state_url, nginx_conf)
    try:
        d.start()
        no_credential(c, d)
        session_moves_between_replicas(c, d)
        for name, run in (
            ("2025-11-25", legacy_through_nginx),
            ("2026-07-28", modern_through_nginx),
            ("race", identical_refunds_race),
            ("kill", replica_killed_mid_call),
        ):
            try:
                await asyncio.wait_for(run(c, d), timeout=90)
            except Exception as e:  # noqa: BLE001 - any failure of a run is a failed check
                c.check(f"[{name}] run completed", False, repr(e))
        for name in ("a", "b"):
            code = d.replicas[name].stop()
            c.check(f"replica {name} stops cleanly on SIGTERM", code == 0, f"exit {code}: {d.replicas[name].log()[-800:]}")
    except Exception as e:  # noqa: BLE001
        c.check("the deployment started", False, repr(e))
    finally:
        d.stop()
    if c.failures:
        for proc in d.procs:
            print(f"---- {proc.name} log (tail)\n{proc.log()[-1500:]}", flush=True)
    return c.done()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
