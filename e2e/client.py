"""Python `mcp` client against the real binary (local sandbox), in both protocol eras.

legacy: ClientSession.initialize() (handshake era, 2025-11-25)
modern: Client(params, mode="auto") (negotiates 2026-07-28 via server/discover)

The same billing scenario runs in each, on a fresh data dir with the demo data.
Usage: python client.py <solvapay-mcp binary>
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any

from mcp import Client, ClientSession
from mcp.client.stdio import stdio_client

from common import brief, Checks, envelope, is_error, run_suite, sc, server_params, texts


async def scenario(c: Checks, era: str, session: Any) -> None:
    """A billing scenario through `session.list_tools` / `session.call_tool`."""

    async def call(name: str, args: dict[str, Any]) -> Any:
        return await session.call_tool(name, args)

    tools = (await session.list_tools()).tools
    # SolvaPay's 32 hosted tools and the 4 of the credits toolset.
    c.check(f"[{era}] tools/list: 37 tools", len(tools) == 37, len(tools))
    c.check(f"[{era}] every tool has an outputSchema", all(t.output_schema for t in tools))

    # Demo data: Jane's active purchase.
    r = await call("get_purchases_by_customer", {"customerRef": "cus_A1B2C3D4"})
    purchases = sc(r).get("purchases", [])
    c.check(f"[{era}] demo: Jane has purchase pur_T3U4V5W6", any(p.get("reference") == "pur_T3U4V5W6" for p in purchases), brief(r))

    # Catalog: product and a recurring plan.
    stamp = int(time.time() * 1000)
    r = await call("create_product", {"name": f"E2E Product {era} {stamp}", "description": "end-to-end"})
    prd = sc(r).get("reference", "")
    c.check(f"[{era}] create_product: prd_ reference, isError false", not is_error(r) and prd.startswith("prd_"), brief(r))
    r = await call(
        "create_plan",
        {"productRef": prd, "type": "recurring", "price": 1500, "currency": "USD", "billingCycle": "monthly", "name": "Monthly"},
    )
    plan = sc(r)
    pln = plan.get("reference", "")
    c.check(f"[{era}] create_plan: pln_ reference, price 1500 minor units", pln.startswith("pln_") and (plan.get("price") or {}).get("amount") == 1500, brief(r))
    c.check(f"[{era}] create_plan: price.formatted shows $15.00", (plan.get("price") or {}).get("formatted") == "$15.00", plan.get("price"))

    # Customer, get-or-create twice.
    email = f"py-{era}-{stamp}@example.com"
    r = await call("ensure_customer", {"email": email, "name": "Py E2E"})
    cus = sc(r).get("customer", {}).get("reference", "")
    c.check(f"[{era}] ensure_customer creates (created: true)", sc(r).get("created") is True and cus.startswith("cus_"), brief(r))
    r = await call("ensure_customer", {"email": email})
    same = sc(r).get("customer", {}).get("reference") == cus
    c.check(f"[{era}] ensure_customer again: same customer, created: false", sc(r).get("created") is False and same, brief(r))

    # Checkout session.
    r = await call("create_checkout_session", {"customerRef": cus, "productRef": prd, "planRef": pln})
    url = sc(r).get("checkoutUrl", "")
    c.check(f"[{era}] create_checkout_session: checkout URL", re.search(r"/customer/checkout\?id=[0-9a-f]{32}$", url) is not None, brief(r))

    # No purchase before paying.
    r = await call("get_purchases_by_customer", {"customerRef": cus})
    c.check(f"[{era}] no purchase before checkout", not is_error(r) and sc(r).get("purchases") == [], brief(r))

    # Usage with the default timestamp ("now"): the demo sandbox's clock starts at 2026-02-11.
    key = f"py-e2e-{era}-{stamp}"
    r = await call("record_usage", {"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "outcome": "success", "requestId": f"{key}-now"})
    c.check(f"[{era}] record_usage with no timestamp is recorded (demo sandbox)", not is_error(r), brief(r))

    # Tool errors: isError with SolvaPay's envelope as structuredContent.
    r = await call("get_customer", {"reference": "cus_NOPE0000"})
    err = envelope(r).get("error", {})
    c.check(f"[{era}] get_customer cus_NOPE0000: isError", is_error(r), brief(r))
    c.check(f"[{era}] ... code NOT_FOUND, success false", err.get("code") == "NOT_FOUND" and envelope(r).get("success") is False, brief(r))
    r = await call("create_plan", {"productRef": prd, "type": "recurring", "price": -5, "currency": "USD", "billingCycle": "monthly"})
    c.check(f"[{era}] create_plan price -5: isError VALIDATION_ERROR", is_error(r) and envelope(r).get("error", {}).get("code") == "VALIDATION_ERROR", brief(r))
    r = await call("create_customer", {"email": "x@example.com", "bogus": 1})
    c.check(f"[{era}] unknown argument: isError", is_error(r), brief(r))
    c.check(f"[{era}] error text is SolvaPay's envelope", any('"success":false' in t for t in texts(r)), texts(r))


async def usage(c: Checks, era: str, session: Any) -> None:
    """Usage events on a sandbox without demo data (its clock is the wall clock)."""
    stamp = int(time.time() * 1000)
    r = await session.call_tool("create_product", {"name": f"Usage {era} {stamp}"})
    prd = sc(r).get("reference", "")
    r = await session.call_tool("ensure_customer", {"email": f"usage-{era}-{stamp}@example.com"})
    cus = sc(r).get("customer", {}).get("reference", "")
    c.check(f"[{era}] usage: product and customer created", prd.startswith("prd_") and cus.startswith("cus_"), brief(r))
    key = f"py-e2e-{era}-{stamp}"
    args = {"customerRef": cus, "productRef": prd, "outcome": "success", "requestId": key, "units": 3}
    r1 = await session.call_tool("record_usage", args)
    r2 = await session.call_tool("record_usage", args)
    c.check(f"[{era}] record_usage: recorded", not is_error(r1) and sc(r1).get("success") is True, brief(r1))
    c.check(f"[{era}] record_usage again with the same requestId: duplicate", sc(r2).get("duplicate") is True, brief(r2))
    events = [{"customerRef": cus, "productRef": prd, "requestId": f"{key}-{i}"} for i in range(25)]
    r = await session.call_tool("record_bulk_usage", {"events": events})
    c.check(f"[{era}] record_bulk_usage: 25 recorded in 1 request", sc(r).get("recorded") == 25 and sc(r).get("requests") == 1, brief(r))
    r = await session.call_tool("record_bulk_usage", {"events": events})
    c.check(f"[{era}] record_bulk_usage again: 25 duplicates", sc(r).get("duplicates") == 25, brief(r))


async def legacy(c: Checks, binary: str) -> None:
    async with stdio_client(server_params(binary)) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            c.check("[legacy] initialize: protocol 2025-11-25", init.protocol_version == "2025-11-25", init.protocol_version)
            c.check("[legacy] serverInfo.name is solvapay-mcp", init.server_info.name == "solvapay-mcp", init.server_info)
            c.check("[legacy] instructions present", bool(init.instructions))
            await scenario(c, "legacy", session)
    async with stdio_client(server_params(binary, demo=False)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await usage(c, "legacy", session)


async def modern(c: Checks, binary: str) -> None:
    async with Client(server_params(binary), mode="auto") as client:
        c.check("[modern] negotiated 2026-07-28", client.protocol_version == "2026-07-28", client.protocol_version)
        info = client.server_info
        c.check("[modern] serverInfo.name is solvapay-mcp", info is not None and info.name == "solvapay-mcp", info)
        await scenario(c, "modern", client)
    async with Client(server_params(binary, demo=False), mode="auto") as client:
        await usage(c, "modern", client)


def main() -> int:
    return run_suite("python-client", [("legacy", legacy), ("modern", modern)], timeout=120)


if __name__ == "__main__":
    sys.exit(main())
