"""A tiny SolvaPay-shaped HTTP/1.1 upstream for the whole-process benchmarks (stdlib only).

Answers every request after a configurable delay (0 = "zero latency"), keeps connections alive,
and counts requests per route. Control: `POST /__delay?ms=N`, `GET /__stats`, `POST /__reset`.
Prints `PORT=<port>` on stdout once listening.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

STATE = {"delay": 0.0, "in_flight": 0, "peak": 0}
COUNTS: Counter[str] = Counter()

CUSTOMER = {
    "reference": "cus_A1B2C3D4",
    "email": "jane@example.com",
    "name": "Jane Doe",
    "metadata": {},
    "createdAt": "2026-02-01T10:00:00.000Z",
    "purchases": [],
}


def route(method: str, path: str, body: bytes) -> tuple[int, object]:
    bare = path.split("?", 1)[0]
    if bare == "/__stats":
        return 200, {**COUNTS, "peak_in_flight": STATE["peak"]}
    if bare == "/__reset":
        COUNTS.clear()
        STATE["peak"] = 0
        return 200, {}
    if bare == "/__delay":
        STATE["delay"] = float(path.split("ms=", 1)[1]) / 1000.0
        return 200, {}
    COUNTS[f"{method} {bare if not bare.startswith('/v1/sdk/customers/') else '/v1/sdk/customers/{ref}'}"] += 1
    if method == "GET" and bare.startswith("/v1/sdk/customers/"):
        return 200, CUSTOMER
    if method == "POST" and bare == "/v1/sdk/usages/bulk":
        events = json.loads(body or b"{}").get("events", [])
        return 201, {"inserted": len(events), "results": [{"success": True, "reference": f"usage_{i}"} for i in range(len(events))]}
    if bare == "/v1/sdk/merchant":
        return 200, {"defaultCurrency": "USD"}
    return 404, {"statusCode": 404, "message": f"Cannot {method} {bare}", "error": "Not Found"}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            method, path, _ = line.decode("latin-1").split(" ", 2)
            length = 0
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            status, payload = route(method, path, body)
            if not path.startswith("/__"):
                STATE["in_flight"] += 1
                STATE["peak"] = max(STATE["peak"], STATE["in_flight"])
                try:
                    if STATE["delay"]:
                        await asyncio.sleep(STATE["delay"])
                finally:
                    STATE["in_flight"] -= 1
            data = json.dumps(payload).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n".encode() + data
            )
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(f"PORT={server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
