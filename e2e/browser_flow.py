"""Checkout and billing portal in headless Chromium, between MCP tool calls.

One MCP session (Python `mcp` Client, auto era) keeps the server, and so its in-process sandbox,
alive while `browser.mjs` (playwright-core + /usr/bin/chromium) opens the URLs the tools return.
Screenshots go to e2e/artifacts/.
Usage: python browser_flow.py <solvapay-mcp binary>
"""

from __future__ import annotations

import os
import sys
import time

from mcp import Client

from common import ARTIFACTS, brief, Checks, is_error, node, run_suite, sc, server_params


async def browse(mode: str, url: str, prefix: str, *extra: str) -> tuple[int, dict]:
    return await node("browser.mjs", mode, url, os.path.join(ARTIFACTS, prefix), *extra)


async def flow(c: Checks, binary: str) -> None:
    stamp = int(time.time() * 1000)
    async with Client(server_params(binary, demo=False), mode="auto") as s:
        r = await s.call_tool("create_product", {"name": f"Browser Product {stamp}"})
        prd = sc(r).get("reference", "")
        r = await s.call_tool(
            "create_plan",
            {"productRef": prd, "type": "recurring", "price": 1500, "currency": "USD", "billingCycle": "monthly", "name": "Browser Monthly"},
        )
        pln = sc(r).get("reference", "")
        r = await s.call_tool("create_customer", {"email": f"browser-{stamp}@example.com", "name": "Browser Buyer"})
        cus = sc(r).get("reference", "")
        c.check("catalog and customer created", prd.startswith("prd_") and pln.startswith("pln_") and cus.startswith("cus_"), brief(r))

        r = await s.call_tool("create_checkout_session", {"customerRef": cus, "productRef": prd, "planRef": pln})
        checkout_url = sc(r).get("checkoutUrl", "")
        c.check("create_checkout_session returns a checkout URL", "/customer/checkout?id=" in checkout_url, brief(r))

        code, page = await browse("checkout", checkout_url, "checkout")
        c.check("Chromium: checkout page opened, Pay clicked, payment successful", code == 0, page)
        c.check("checkout button reads 'Pay $15.00'", page.get("button") == "Pay $15.00", page.get("button"))
        pur = page.get("purchaseRef", "")

        r = await s.call_tool("get_purchases_by_customer", {"customerRef": cus})
        purchases = sc(r).get("purchases", [])
        mine = [p for p in purchases if p.get("reference") == pur]
        c.check("get_purchases_by_customer: the purchase is there", len(mine) == 1, brief(r))
        c.check("... and active", bool(mine) and mine[0].get("status") == "active", mine)
        c.check("... for 1500 USD", bool(mine) and (mine[0].get("amount") or {}).get("amount") == 1500 and (mine[0].get("amount") or {}).get("currency") == "USD", mine)
        c.check("activeCount is 1", sc(r).get("activeCount") == 1, sc(r).get("activeCount"))

        r = await s.call_tool("create_customer_session", {"customerRef": cus})
        portal_url = sc(r).get("customerUrl", "")
        c.check("create_customer_session returns a portal URL", "/customer/manage?id=" in portal_url, brief(r))

        code, page = await browse("portal", portal_url, "portal")
        c.check("Chromium: portal opened, 'Cancel renewal' clicked, renewal cancelled", code == 0, page)

        r = await s.call_tool("get_purchase", {"reference": pur})
        p = sc(r)
        c.check("get_purchase after the portal: still active (paid period)", not is_error(r) and p.get("status") == "active", brief(r))
        c.check("... cancelledAt set, autoRenew false", bool(p.get("cancelledAt")) and p.get("autoRenew") is False, brief(r))

        code, page = await browse("checkout", checkout_url, "checkout-reused")
        c.check("a used checkout link shows 'already completed', no Pay button", code != 0 and page.get("completed") is True, page)

        # The return URL is another origin (localhost instead of 127.0.0.1, the sandbox's /healthz):
        # the page's CSP form-action must let the Pay redirect go there.
        return_url = checkout_url.split("/customer/")[0].replace("127.0.0.1", "localhost") + "/healthz"
        r = await s.call_tool(
            "create_checkout_session", {"customerRef": cus, "productRef": prd, "planRef": pln, "returnUrl": return_url}
        )
        code, page = await browse("return", sc(r).get("checkoutUrl", ""), "checkout-return", return_url)
        c.check("Chromium: Pay on a checkout with a returnUrl lands on the return URL", code == 0 and page.get("after") == "ok", page)


def main() -> int:
    return run_suite("browser", [("browser flow", flow)], timeout=240)


if __name__ == "__main__":
    sys.exit(main())
