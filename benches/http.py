#!/usr/bin/env python3
"""HTTP benchmark (issue 14): `solvapay-mcp serve --http` beside a bare rmcp Streamable HTTP server.

  python3 benches/http.py [--no-build] [--rounds 3] [--duration 5] [--warmup 1] [--clients 1,16,64]
                          [--session] [--json out.json]

Builds (release) the binary and two cargo examples, then runs, in one process tree:
  - `http_load upstream` (benches/http_load.rs): a zero-latency upstream answering
    `GET /v1/sdk/customers/{ref}` with a small customer, in its own process;
  - ours: `solvapay-mcp serve --http 127.0.0.1:P` in caller-keys mode (each request brings
    `Authorization: Bearer sk_test_…`, the upstream is the fake), a fresh data dir;
  - the floor: `floor_http 127.0.0.1:Q` (benches/floor_http.rs), the same GET from one rmcp tool;
  - `http_load run` (benches/http_load.rs) against each: 1, 16 and 64 concurrent clients, each
    with its own connection, looping `tools/call get_customer` (2026-07-28 stateless requests) for
    `--duration` seconds after `--warmup`.
Both servers stay up for the whole run and are measured alternately: for each client count, each
round runs ours then the floor, or the floor then ours (the order flips every round), so both see
the same machine. The figures are the medians over the rounds; the CPU time per call comes from
each server's /proc/<pid>/stat over the measured window, RSS from /proc/<pid>/status.

Goals (issue 14), on the 2026-07-28 runs: at every client count, ours ≥ 0.8× the floor's calls/s
and ours p99 ≤ 2× the floor's p99; ours RSS ≤ 40 MiB with 64 clients (VmHWM after those runs). Exit 1 and say
which goal missed; exit 2 if any call failed (a benchmark whose calls fail measures nothing).
`--session` adds the 2025-11-25 session era (`initialize`, `Mcp-Session-Id`) as extra rows, no goals.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
KEY = "sk_test_bench"  # a test key: the upstream is the fake, and test mode needs no live-key guard
MIB = 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc: subprocess.Popen, port: int, what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} is not listening on {port}")


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(self.proc, port, name)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""


def run_load(load: str, server: Server, clients: int, era: str, args: argparse.Namespace) -> dict:
    out = subprocess.run(
        [load, "run", "--url", server.url, "--key", KEY, "--clients", str(clients), "--era", era,
         "--duration", str(args.duration), "--warmup", str(args.warmup), "--pid", str(server.proc.pid)],
        capture_output=True, text=True, check=True,
    )
    if out.stderr.strip():
        print(f"    [{server.name}] {out.stderr.strip()}", file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def med(runs: list[dict], key: str) -> float:
    xs = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(xs) if xs else float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-build", action="store_true", help="use the release binaries as they are")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=5.0, help="seconds measured per run")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of calls before measuring")
    p.add_argument("--clients", default="1,16,64")
    p.add_argument("--session", action="store_true", help="also the 2025-11-25 session era (no goals)")
    p.add_argument("--json", help="write every run's figures here")
    args = p.parse_args()
    levels = [int(c) for c in args.clients.split(",")]

    if not args.no_build:
        print("building (release) …", file=sys.stderr, flush=True)
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "--bin", "solvapay-mcp", "--example", "floor_http", "--example", "http_load"],
            cwd=ROOT, check=True,
        )
    ours_bin = os.path.join(RELEASE, "solvapay-mcp")
    floor_bin = os.path.join(RELEASE, "examples", "floor_http")
    load = os.path.join(RELEASE, "examples", "http_load")

    up = subprocess.Popen([load, "upstream"], stdout=subprocess.PIPE, text=True)
    up_port = int(up.stdout.readline().strip().split("=", 1)[1])
    upstream = f"http://127.0.0.1:{up_port}"
    data_dir = tempfile.mkdtemp(prefix="solvapay-bench-http-")
    # No SOLVAPAY_SECRET_KEY: caller-keys mode, each request's own key (the same key here).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RUST_LOG": "warn", "SOLVAPAY_API_BASE_URL": upstream, "SOLVAPAY_DATA_DIR": data_dir}
    servers: list[Server] = []
    load_start = loadavg()
    try:
        port = free_port()
        # The per-caller limits stay on (their checks are part of the cost) but set past any load here;
        # the defaults (8 at once, 600 a minute) would refuse the benchmark's own calls.
        servers.append(Server("ours", [ours_bin, "serve", "--http", f"127.0.0.1:{port}",
                                       "--caller-concurrency", "100000",
                                       "--caller-rate-per-minute", "1000000000"], env, port))
        port = free_port()
        servers.append(Server("floor", [floor_bin, f"127.0.0.1:{port}"], env, port))
        ours, floor = servers
        print(f"idle RSS: ours {proc_kib(ours.proc.pid, 'VmRSS:')} KiB, floor {proc_kib(floor.proc.pid, 'VmRSS:')} KiB; load average {load_start}", file=sys.stderr)

        runs: dict[tuple[str, str, int], list[dict]] = {}
        eras = ["stateless"] + (["session"] if args.session else [])
        for era in eras:
            for clients in levels:
                for r in range(args.rounds):
                    for server in (ours, floor) if r % 2 == 0 else (floor, ours):
                        print(f"  … {era}, {clients} clients, round {r + 1}: {server.name}", file=sys.stderr, flush=True)
                        runs.setdefault((era, server.name, clients), []).append(run_load(load, server, clients, era, args))
        hwm = {s.name: proc_kib(s.proc.pid, "VmHWM:") for s in servers}
        counted = upstream_stats(up_port)
    finally:
        stderr = {s.name: s.stop() for s in servers}
        up.terminate()
        up.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    load_end = loadavg()

    errors = sum(run["errors"] for rs in runs.values() for run in rs)
    calls = sum(run["calls"] for rs in runs.values() for run in rs)
    misses: list[str] = []
    print(f"solvapay-mcp serve --http vs bare rmcp Streamable HTTP (floor_http); {args.rounds} rounds × {args.duration:g} s per cell, medians;"
          f" load average {load_start} → {load_end}")
    print()
    print("| era | clients | calls/s ours / floor | ratio | p50 ms ours / floor | p99 ms ours / floor | p99 ratio | server CPU µs/call ours / floor | load gen CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for era in eras:
        for clients in levels:
            o, f = runs[(era, "ours", clients)], runs[(era, "floor", clients)]
            ratio = med(o, "calls_per_s") / med(f, "calls_per_s")
            p99 = med(o, "p99_ms") / med(f, "p99_ms")
            label = "2026-07-28" if era == "stateless" else "2025-11-25 session"
            print(f"| {label} | {clients} | {med(o, 'calls_per_s'):,.0f} / {med(f, 'calls_per_s'):,.0f} | **{ratio:.2f}×** "
                  f"| {med(o, 'p50_ms'):.3f} / {med(f, 'p50_ms'):.3f} | {med(o, 'p99_ms'):.3f} / {med(f, 'p99_ms'):.3f} | **{p99:.2f}×** "
                  f"| {med(o, 'server_cpu_us_per_call'):.0f} / {med(f, 'server_cpu_us_per_call'):.0f} "
                  f"| {med(o + f, 'loadgen_cpu_share'):.2f} core |")
            if era == "stateless":
                if not ratio >= 0.8:
                    misses.append(f"calls/s at {clients} clients: {ratio:.2f}× the floor's (goal ≥ 0.8×)")
                if not p99 <= 2.0:
                    misses.append(f"p99 at {clients} clients: {p99:.2f}× the floor's (goal ≤ 2×)")
    top = max(levels)
    # The goal's figure: the peak (VmHWM) after the 2026-07-28 runs with the most clients; the
    # session era, when asked for, runs later and is shown apart.
    cell = lambda name, key: max((r.get(key) or 0) for r in runs[("stateless", name, top)])  # noqa: E731
    print()
    print(f"RSS, 2026-07-28, {top} clients: ours VmHWM {cell('ours', 'server_hwm_kib') / MIB:.1f} MiB (VmRSS ≤ {cell('ours', 'server_rss_max_kib') / MIB:.1f}); "
          f"floor VmHWM {cell('floor', 'server_hwm_kib') / MIB:.1f} MiB (VmRSS ≤ {cell('floor', 'server_rss_max_kib') / MIB:.1f}); goal: ours ≤ 40 MiB")
    if args.session:
        print(f"peak over the whole run, 2025-11-25 sessions included: ours VmHWM {hwm['ours'] / MIB:.1f} MiB, floor {hwm['floor'] / MIB:.1f} MiB")
    if not cell("ours", "server_hwm_kib") <= 40 * MIB:
        misses.append(f"RSS: ours peaked at {cell('ours', 'server_hwm_kib') / MIB:.1f} MiB with {top} clients (goal ≤ 40 MiB)")
    upstream_gets = counted.get("GET /v1/sdk/customers/{ref}")
    print(f"{calls:,} measured calls, {errors} failed; the upstream answered {upstream_gets} GETs (warm-up included)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": {f"{e}/{n}/{c}": rs for (e, n, c), rs in runs.items()}, "hwm_kib": hwm, "load": [load_start, load_end]}, f, indent=2)
    for name, text in stderr.items():
        if text.strip():
            print(f"[{name} stderr] {text.strip()[:2000]}", file=sys.stderr)
    if errors:
        print(f"FAILED: {errors} calls failed", file=sys.stderr)
        return 2
    if not (upstream_gets or 0) >= calls:
        # Ours without a key serves the in-process sandbox: that would not be the same call.
        print(f"FAILED: {calls} calls but {upstream_gets} upstream GETs: a server did not call the upstream", file=sys.stderr)
        return 2
    for miss in misses:
        print(f"MISS: {miss}")
    print("all goals met" if not misses else f"{len(misses)} goal(s) missed")
    return 1 if misses else 0


def upstream_stats(port: int) -> dict:
    # By hand: this file's name shadows the standard library's `http` package (and urllib with it).
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /__stats HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


def proc_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return -1


if __name__ == "__main__":
    sys.exit(main())
