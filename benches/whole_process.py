#!/usr/bin/env python3
"""Whole-process benchmarks of the release binary over stdio against a local upstream (stdlib only).

  cargo build --release --bin solvapay-mcp --example floor
  python3 benches/whole_process.py [target/release/solvapay-mcp] [--floor target/release/examples/floor] [--json out.json]

Figures (targets from issue 7):
  - spawn → `initialize` answer, median / p95 of 30 starts (target < 10 ms median), with a key
    (external upstream) and without one (in-process local sandbox, SQLite opened at start)
  - tools/list: bytes and ~tokens (bytes / 4); description + inputSchema bytes per tool (< 650 avg)
  - per-call overhead vs a zero-latency upstream: MCP round trip − direct HTTP round trip, p50 / p95
    of 2000 sequential `get_customer` calls (target < 0.3 ms p50)
  - the per-call floor (issue 12): the same `get_customer` calls, alternating one by one with a bare
    rmcp 3.11 server doing the same GET (benches/floor.rs); our median ≤ 1.25× the floor's
  - 100 concurrent `get_customer` calls against a 50 ms upstream: total time vs one call (< 2×)
  - `record_bulk_usage` of 10,000 events: upstream requests (≤ 10) and events per second
  - peak RSS (VmHWM) of the server after all of the above (target < 15 MiB)
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))

INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Upstream:
    """benches/fake_upstream.py in its own process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_upstream.py")], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        self.port = int(line.split("=", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port)

    def request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        self.conn.request(method, path, body=body, headers={"authorization": "Bearer sk_test_x"})
        return self.conn.getresponse().read()

    def control(self, method: str, path: str) -> dict:
        return json.loads(self.request(method, path))

    def stop(self) -> None:
        self.conn.close()
        self.proc.terminate()
        self.proc.wait()


class Server:
    """The binary over stdio, speaking newline-delimited JSON-RPC."""

    def __init__(self, binary: str, env: dict[str, str], args: list[str] | None = None, sockets: bool = False) -> None:
        """`sockets`: stdin/stdout are socket pairs, the way Node-based clients (Claude Desktop, Cursor,
        the Inspector) launch servers; otherwise pipes, like Python's and most other launchers."""
        self.t_spawn = time.perf_counter()
        if sockets:
            ours_in, theirs_in = socket.socketpair()
            ours_out, theirs_out = socket.socketpair()
            self.proc = subprocess.Popen(
                [binary, *(args or [])], stdin=theirs_in.fileno(), stdout=theirs_out.fileno(), stderr=subprocess.DEVNULL, env=env
            )
            theirs_in.close()
            theirs_out.close()
            self.stdin = ours_in.makefile("wb")
            self.out = ours_out.makefile("rb")
            self._sockets = (ours_in, ours_out)
        else:
            self.proc = subprocess.Popen(
                [binary, *(args or [])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
            )
            self.stdin = self.proc.stdin
            self.out = self.proc.stdout
        self.next_id = 1

    def send(self, msg: dict) -> None:
        self.stdin.write((json.dumps(msg) + "\n").encode())
        self.stdin.flush()

    def read(self) -> tuple[dict, int]:
        while True:
            line = self.out.readline()
            if not line:
                raise RuntimeError("server closed stdout")
            msg = json.loads(line)
            if "id" in msg:
                return msg, len(line)

    def initialize(self) -> float:
        self.send(INIT)
        msg, _ = self.read()
        elapsed = time.perf_counter() - self.t_spawn
        assert "result" in msg, msg
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return elapsed

    def request(self, method: str, params: dict) -> tuple[dict, int]:
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        msg, size = self.read()
        assert msg.get("id") == rid, msg
        return msg, size

    def call(self, name: str, args: dict) -> dict:
        msg, _ = self.request("tools/call", {"name": name, "arguments": args})
        return msg["result"]

    def vm_hwm_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return -1

    def close(self) -> None:
        self.stdin.close()
        for sock in getattr(self, "_sockets", ()):
            sock.close()
        self.proc.wait(timeout=15)


def base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RUST_LOG": "warn", "SOLVAPAY_DATA_DIR": tempfile.mkdtemp(prefix="solvapay-bench-")}
    env.update(extra)
    return env


def startup(binary: str, env_fn, runs: int = 30) -> list[float]:
    times = []
    for _ in range(runs):
        s = Server(binary, env_fn())
        times.append(s.initialize() * 1000)
        s.close()
    return times


def step(what: str) -> None:
    print(f"  … {what}", file=sys.stderr, flush=True)


def main() -> int:
    argv = sys.argv[1:]
    value = lambda flag: argv[argv.index(flag) + 1] if flag in argv else None  # noqa: E731
    json_out = value("--json")
    args = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] not in ("--json", "--floor"))]
    binary = os.path.abspath(args[0] if args else os.path.join(ROOT, "target", "release", "solvapay-mcp"))
    floor_binary = os.path.abspath(value("--floor") or os.path.join(os.path.dirname(binary), "examples", "floor"))
    if not os.path.exists(floor_binary):
        print(f"no floor server at {floor_binary}: cargo build --release --example floor", file=sys.stderr)
        return 2
    up = Upstream()
    atexit.register(lambda: up.proc.poll() is None and up.proc.kill())
    keyed = lambda: base_env({"SOLVAPAY_SECRET_KEY": "sk_test_bench", "SOLVAPAY_API_BASE_URL": up.url})  # noqa: E731
    r: dict[str, object] = {}

    step("--version floor")
    # 0. floor: spawn → exit of `--version` (exec, dynamic loading, clap; no runtime)
    floor = []
    for _ in range(30):
        t0 = time.perf_counter()
        subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
        floor.append((time.perf_counter() - t0) * 1000)
    r["version_exit_ms_median"] = statistics.median(floor)

    step("spawn → initialize")
    # 1. spawn → initialize
    t = startup(binary, keyed)
    r["init_ms_median"], r["init_ms_p95"] = statistics.median(t), pct(t, 95)
    step("start without root certificates")
    # attribution: the same start with the system's root certificates hidden from rustls-native-certs
    # (one root, ISRG Root X1, instead of the ~146-file /etc/ssl/certs directory and bundle)
    empty_dir = tempfile.mkdtemp(prefix="solvapay-bench-nocerts-")
    one_root = "/etc/ssl/certs/ISRG_Root_X1.pem"
    t = startup(binary, lambda: {**keyed(), "SSL_CERT_FILE": one_root, "SSL_CERT_DIR": empty_dir}) if os.path.exists(one_root) else [float("nan")]
    r["init_no_native_certs_ms_median"] = statistics.median(t)
    t = startup(binary, lambda: base_env({"SOLVAPAY_SANDBOX_DB": ":memory:"}), runs=15)
    r["init_sandbox_ms_median"], r["init_sandbox_ms_p95"] = statistics.median(t), pct(t, 95)

    s = Server(binary, keyed())
    s.initialize()
    r["rss_after_init_kib"] = s.vm_hwm_kib()

    step("tools/list")
    # 2. tools/list size
    msg, size = s.request("tools/list", {})
    tools = msg["result"]["tools"]
    compact = lambda v: len(json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode())  # noqa: E731
    r["tools"] = len(tools)
    r["tools_list_bytes"] = size - 1
    r["tools_list_tokens_approx"] = (size - 1) // 4
    per_tool = [len(t.get("description", "").encode()) + compact(t["inputSchema"]) for t in tools]
    r["desc_input_bytes_per_tool_avg"] = statistics.mean(per_tool)
    r["desc_input_bytes_per_tool_max"] = max(per_tool)
    r["output_schema_bytes_total"] = sum(compact(t.get("outputSchema", {})) for t in tools)

    step("per-call overhead")
    # 3. per-call overhead against a zero-latency upstream
    for _ in range(200):
        s.call("get_customer", {"reference": "cus_A1B2C3D4"})
        up.request("GET", "/v1/sdk/customers/cus_A1B2C3D4")
    mcp, direct = [], []
    for _ in range(2000):
        t0 = time.perf_counter()
        res = s.call("get_customer", {"reference": "cus_A1B2C3D4"})
        mcp.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        up.request("GET", "/v1/sdk/customers/cus_A1B2C3D4")
        direct.append((time.perf_counter() - t0) * 1000)
    assert not res.get("isError"), res
    pings = []
    for _ in range(2000):
        t0 = time.perf_counter()
        s.request("ping", {})
        pings.append((time.perf_counter() - t0) * 1000)
    r["ping_ms_p50"], r["ping_ms_p95"] = statistics.median(pings), pct(pings, 95)
    r["call_ms_p50"], r["call_ms_p95"] = statistics.median(mcp), pct(mcp, 95)
    r["direct_http_ms_p50"], r["direct_http_ms_p95"] = statistics.median(direct), pct(direct, 95)
    r["overhead_ms_p50"] = r["call_ms_p50"] - r["direct_http_ms_p50"]
    r["overhead_ms_p95"] = r["call_ms_p95"] - r["direct_http_ms_p95"]
    # the same over socket pairs (Node-based clients), against the same direct figure
    ss = Server(binary, keyed(), sockets=True)
    ss.initialize()
    for _ in range(200):
        ss.call("get_customer", {"reference": "cus_A1B2C3D4"})
    viasock = []
    for _ in range(2000):
        t0 = time.perf_counter()
        ss.call("get_customer", {"reference": "cus_A1B2C3D4"})
        viasock.append((time.perf_counter() - t0) * 1000)
    ss.close()
    r["socket_overhead_ms_p50"] = statistics.median(viasock) - r["direct_http_ms_p50"]
    r["socket_overhead_ms_p95"] = pct(viasock, 95) - r["direct_http_ms_p95"]

    step("per-call floor (bare rmcp server)")
    # 3b. the floor: the same call to a bare rmcp server, alternating call by call with ours so
    # that both see the same machine (the figures of one run are compared, never across runs)
    fl = Server(floor_binary, keyed())
    fl.initialize()
    for _ in range(200):
        fl.call("get_customer", {"reference": "cus_A1B2C3D4"})
    ours, bare = [], []
    for _ in range(2000):
        t0 = time.perf_counter()
        s.call("get_customer", {"reference": "cus_A1B2C3D4"})
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        res = fl.call("get_customer", {"reference": "cus_A1B2C3D4"})
        bare.append((time.perf_counter() - t0) * 1000)
    assert not res.get("isError"), res
    fl.close()
    r["paired_call_ms_p50"], r["paired_call_ms_p95"] = statistics.median(ours), pct(ours, 95)
    r["floor_call_ms_p50"], r["floor_call_ms_p95"] = statistics.median(bare), pct(bare, 95)
    r["floor_ratio_p50"] = r["paired_call_ms_p50"] / r["floor_call_ms_p50"]

    step("concurrency")
    # 4. 100 concurrent calls against a 50 ms upstream
    up.control("POST", "/__delay?ms=50")
    singles = []
    for _ in range(10):
        t0 = time.perf_counter()
        s.call("get_customer", {"reference": "cus_A1B2C3D4"})
        singles.append((time.perf_counter() - t0) * 1000)
    r["single_call_50ms_ms"] = statistics.median(singles)

    def burst(n: int) -> float:
        batches = []
        for _ in range(3):
            first = s.next_id
            t0 = time.perf_counter()
            for i in range(n):
                s.send({"jsonrpc": "2.0", "id": first + i, "method": "tools/call", "params": {"name": "get_customer", "arguments": {"reference": "cus_A1B2C3D4"}}})
            s.next_id += n
            seen = set()
            while len(seen) < n:
                m, _ = s.read()
                assert not m["result"].get("isError"), m
                seen.add(m["id"])
            batches.append((time.perf_counter() - t0) * 1000)
        return statistics.median(batches)

    r["concurrent_16_ms"] = burst(16)
    r["concurrent_100_ms"] = burst(100)
    r["concurrent_ratio"] = r["concurrent_100_ms"] / r["single_call_50ms_ms"]
    r["upstream_peak_in_flight"] = up.control("GET", "/__stats").get("peak_in_flight")
    up.control("POST", "/__delay?ms=0")

    r["rss_before_bulk_kib"] = s.vm_hwm_kib()

    step("record_bulk_usage")
    # 5. record_bulk_usage of 10,000 events
    events = [
        {"customerRef": "cus_A1B2C3D4", "productRef": "prd_P9Q0R1S2", "requestId": f"bench-{i}", "units": 1}
        for i in range(10_000)
    ]
    up.control("POST", "/__reset")
    t0 = time.perf_counter()
    res = s.call("record_bulk_usage", {"events": events})
    elapsed = time.perf_counter() - t0
    sc = res.get("structuredContent", {})
    assert sc.get("recorded") == 10_000, {k: v for k, v in sc.items() if k != "events"}
    stats = up.control("GET", "/__stats")
    r["bulk_upstream_requests"] = stats.get("POST /v1/sdk/usages/bulk", 0)
    r["bulk_reported_requests"] = sc.get("requests")
    r["bulk_seconds"] = elapsed
    r["bulk_events_per_second"] = 10_000 / elapsed

    # 6. peak RSS
    r["peak_rss_kib"] = s.vm_hwm_kib()
    s.close()

    step("no-key mode")
    # no-key mode: the local sandbox in-process, a few calls, peak RSS
    s = Server(binary, base_env({"SOLVAPAY_SANDBOX_DB": ":memory:"}), ["--demo"])
    s.initialize()
    s.request("tools/list", {})
    for _ in range(200):
        s.call("get_customer", {"reference": "cus_A1B2C3D4"})
    r["peak_rss_sandbox_kib"] = s.vm_hwm_kib()
    s.close()
    up.stop()

    targets = [
        ("floor: spawn → exit of --version", f"{r['version_exit_ms_median']:.2f} ms", "", None),
        ("spawn → initialize answer, median", f"{r['init_ms_median']:.2f} ms (p95 {r['init_ms_p95']:.2f})", "< 10 ms", r["init_ms_median"] < 10),
        ("  … same, 1 root certificate instead of all", f"{r['init_no_native_certs_ms_median']:.2f} ms (SSL_CERT_FILE = one root, SSL_CERT_DIR empty)", "", None),
        ("  … no key (local sandbox, :memory:)", f"{r['init_sandbox_ms_median']:.2f} ms (p95 {r['init_sandbox_ms_p95']:.2f})", "", None),
        ("tools/list size", f"{r['tools_list_bytes']} B ≈ {r['tools_list_tokens_approx']} tokens ({r['tools']} tools)", "", None),
        ("description + inputSchema per tool", f"{r['desc_input_bytes_per_tool_avg']:.0f} B avg (max {r['desc_input_bytes_per_tool_max']})", "< 650 B", r["desc_input_bytes_per_tool_avg"] < 650),
        ("outputSchema, all tools", f"{r['output_schema_bytes_total']} B", "", None),
        ("MCP ping round trip (stdio floor)", f"p50 {r['ping_ms_p50']:.3f} / p95 {r['ping_ms_p95']:.3f} ms", "", None),
        ("get_customer round trip (MCP)", f"p50 {r['call_ms_p50']:.3f} / p95 {r['call_ms_p95']:.3f} ms", "", None),
        ("same GET straight to the upstream", f"p50 {r['direct_http_ms_p50']:.3f} / p95 {r['direct_http_ms_p95']:.3f} ms", "", None),
        ("per-call overhead", f"p50 {r['overhead_ms_p50']:.3f} / p95 {r['overhead_ms_p95']:.3f} ms", "< 0.3 ms p50", r["overhead_ms_p50"] < 0.3),
        ("get_customer: ours / bare rmcp floor, p50", f"{r['paired_call_ms_p50']:.3f} / {r['floor_call_ms_p50']:.3f} ms = {r['floor_ratio_p50']:.2f}× (p95 {r['paired_call_ms_p95']:.3f} / {r['floor_call_ms_p95']:.3f})", "≤ 1.25×", r["floor_ratio_p50"] <= 1.25),
        ("  … stdio over socket pairs (Node clients)", f"p50 {r['socket_overhead_ms_p50']:.3f} / p95 {r['socket_overhead_ms_p95']:.3f} ms", "", None),
        ("one call, 50 ms upstream", f"{r['single_call_50ms_ms']:.1f} ms", "", None),
        ("16 concurrent calls, 50 ms upstream", f"{r['concurrent_16_ms']:.1f} ms", "", None),
        ("100 concurrent calls, 50 ms upstream", f"{r['concurrent_100_ms']:.1f} ms ({r['concurrent_ratio']:.2f}× one; upstream saw ≤{r['upstream_peak_in_flight']} at once)", "< 2×", r["concurrent_ratio"] < 2),
        ("record_bulk_usage 10,000 events", f"{r['bulk_upstream_requests']} requests, {r['bulk_seconds'] * 1000:.0f} ms, {r['bulk_events_per_second']:.0f} events/s", "≤ 10 requests", r["bulk_upstream_requests"] <= 10),
        ("peak RSS (VmHWM), ordinary calls", f"{r['rss_before_bulk_kib'] / 1024:.1f} MiB (after initialize {r['rss_after_init_kib'] / 1024:.1f}; then tools/list, 2,400 calls, 100 at once)", "< 15 MiB", r["rss_before_bulk_kib"] < 15 * 1024),
        ("peak RSS, then one 10,000-event bulk call", f"{r['peak_rss_kib'] / 1024:.1f} MiB (a 1 MB request line)", "< 15 MiB", r["peak_rss_kib"] < 15 * 1024),
        ("peak RSS, no key (sandbox in-process)", f"{r['peak_rss_sandbox_kib'] / 1024:.1f} MiB", "", None),
    ]
    print(f"solvapay-mcp whole-process benchmarks — {binary}")
    for name, value, target, ok in targets:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"  {name:<40} {value:<62} {target:<14} {verdict}")
    if json_out:
        with open(json_out, "w") as f:
            json.dump(r, f, indent=2)
    return 0 if all(ok is not False for *_, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
