"""The sandbox dashboard in headless Chromium, its figures checked against the API.

One MCP session (Python `mcp` Client, auto era) keeps the server, and so its in-process sandbox,
alive on `--demo` data. A few moves go through the tools (a plan bought at a checkout paid in
Chromium, a deleted customer, an archived plan, credits granted, a partial refund, a usage record, a cancelled renewal); then `dashboard.mjs`
(playwright-core + /usr/bin/chromium) opens /dashboard (its URL from `sandbox status --json` on the
same data dir), screenshots each panel and reads each panel's figures, and moves the clock with the
page's form. Every panel is checked against what the tools answer, before and after the move.
Screenshots go to e2e/artifacts/dashboard-<panel>.png (and dashboard-after-<panel>.png).
Usage: python dashboard_flow.py <solvapay-mcp binary>
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from mcp import Client

from common import ARTIFACTS, brief, Checks, is_error, node, run_suite, sc, server_params


# The --demo data (src/sandbox/demo.rs).
BOB, JANE = "cus_X7Y8Z9W0", "cus_A1B2C3D4"
PRODUCT = "prd_P9Q0R1S2"
JANE_PRO, JANE_PAYMENT = "pur_T3U4V5W6", "txn_D7E8F9G0"
REFUND = 1000
ADVANCE_DAYS = 20


def status(binary: str, data_dir: str) -> dict:
    """`solvapay-mcp sandbox status --json` on the session's data dir."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SOLVAPAY_DATA_DIR": data_dir, "RUST_LOG": "warn"}
    done = subprocess.run([binary, "sandbox", "status", "--json"], env=env, capture_output=True, text=True, timeout=30)
    return json.loads(done.stdout) if done.returncode == 0 else {"rc": done.returncode, "stderr": done.stderr[-500:]}


def http_get(url: str, host: str | None = None) -> tuple[int, dict, str]:
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def money(m: dict | None) -> tuple[Any, Any]:
    m = m or {}
    return m.get("amount"), (m.get("currency") or "").upper()


class Api:
    """What the tools answer, in the shapes the panels are compared with."""

    def __init__(self, s: Client) -> None:
        self.s = s

    async def call(self, name: str, args: dict) -> dict:
        r = await self.s.call_tool(name, args)
        if is_error(r):
            raise RuntimeError(f"{name}: {brief(r)}")
        return sc(r)

    async def all_pages(self, name: str, key: str, args: dict | None = None) -> tuple[int, list[dict]]:
        rows: list[dict] = []
        total = 0
        while True:
            page = await self.call(name, {**(args or {}), "limit": 100, "offset": len(rows)})
            rows += page.get(key, [])
            total = page.get("total", len(rows))
            if not page.get("hasMore") or not page.get(key):
                return total, rows

    async def read(self) -> dict:
        customers_total, customers = await self.all_pages("list_customers", "customers")
        products_total, products = await self.all_pages("list_products", "products")
        plans_total, plans = await self.all_pages("list_plans", "plans")
        purchases = await self.call("list_purchases", {})
        txns_total, txns = await self.all_pages("list_transactions", "transactions")
        limits = {}
        for p in purchases.get("purchases", []):
            if p.get("usage"):
                limits[p["reference"]] = await self.call(
                    "check_limits", {"customerRef": p["customerRef"], "productRef": p["productRef"]}
                )
        balances = {}
        for cu in customers:
            balances[cu["reference"]] = (await self.call("get_customer_balance", {"customerRef": cu["reference"]})).get("credits")
        return {
            "customers": (customers_total, customers),
            "balances": balances,
            "products": (products_total, products),
            "plans": (plans_total, plans),
            "purchases": purchases,
            "transactions": (txns_total, txns),
            "limits": limits,
            "stats": await self.call("get_transaction_stats", {}),
        }


def sums(txns: list[dict]) -> dict[str, dict[str, int]]:
    """Per currency, by hand: payments received (completed or since refunded) and completed refunds."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"payments": 0, "gross": 0, "refunds": 0, "refunded": 0})
    for t in txns:
        amount, cur = money(t.get("amount"))
        if t.get("type") == "payment" and t.get("status") in ("completed", "refunded"):
            out[cur]["payments"] += 1
            out[cur]["gross"] += amount
        elif t.get("type") == "refund" and t.get("status") == "completed":
            out[cur]["refunds"] += 1
            out[cur]["refunded"] += abs(amount)
    return dict(out)


def check_panels(c: Checks, when: str, page: dict, api: dict) -> None:
    """Every panel's figures against the API's answers."""
    c.check(f"[{when}] the page has no <script>", page.get("scripts") == 0, page.get("scripts"))
    c.check(
        f"[{when}] all seven panels are there",
        page.get("panels") == ["clock", "revenue", "customers", "products", "purchases", "usage", "transactions"],
        page.get("panels"),
    )

    # Customers.
    total, customers = api["customers"]
    shown = page["customers"]
    c.check(f"[{when}] customers: the count is list_customers' total ({total})", shown["total"] == total, shown["total"])
    c.check(
        f"[{when}] customers: the same references and emails",
        sorted((r["ref"], r["email"]) for r in shown["rows"]) == sorted((x["reference"], x["email"]) for x in customers),
        shown["rows"],
    )
    credits = {r["ref"]: r["credits"] for r in shown["rows"]}
    c.check(f"[{when}] customers: each credit balance as get_customer_balance gives it {api['balances']}", credits == api["balances"], credits)

    # Products and plans.
    total, products = api["products"]
    shown = page["products"]
    c.check(f"[{when}] products: the count is list_products' total ({total})", shown["total"] == total, shown["total"])
    plan_types = {p["reference"]: p for p in api["plans"][1]}
    want = sorted(
        (p["reference"], sorted((pl["reference"], *money(pl.get("price"))) for pl in p.get("plans", []))) for p in products
    )
    got = sorted((r["ref"], sorted((pl["ref"], pl["price"]["minor"], pl["price"]["currency"]) for pl in r["plans"])) for r in shown["rows"])
    c.check(f"[{when}] products: each product's plans and prices as list_products gives them", got == want, {"page": got, "api": want})
    kinds = {pl["ref"]: (pl["kind"], pl["status"], pl["limit"]) for r in shown["rows"] for pl in r["plans"]}
    want = {ref: (p.get("type"), p.get("status"), p.get("limit")) for ref, p in plan_types.items()}
    c.check(
        f"[{when}] plans: each plan's type, status and limit as list_plans gives them ({api['plans'][0]} plans)",
        kinds == want and len(want) == api["plans"][0],
        {"page": kinds, "api": want},
    )

    # Purchases and their states.
    purchases = api["purchases"].get("purchases", [])
    shown = page["purchases"]
    c.check(
        f"[{when}] purchases: the count is list_purchases' total ({api['purchases'].get('total')})",
        shown["total"] == api["purchases"].get("total") == len(purchases),
        shown["total"],
    )
    want = sorted((p["reference"], p["status"], bool(p.get("autoRenew")), *money(p.get("amount"))) for p in purchases)
    got = sorted((r["ref"], r["status"], r["autoRenew"], r["amount"]["minor"], r["amount"]["currency"]) for r in shown["rows"])
    c.check(f"[{when}] purchases: each status, renewal and amount as list_purchases gives them", got == want, {"page": got, "api": want})
    by_ref = {p["reference"]: p for p in purchases}
    for r in shown["rows"]:
        p = by_ref.get(r["ref"], {})
        if p.get("status") in ("active", "trialing") and p.get("cancelledAt"):
            c.check(
                f"[{when}] {r['ref']}: shown 'renewal cancelled', ending {str(p.get('endDate'))[:10]}",
                r["state"] == "renewal-cancelled" and str(p.get("endDate"))[:10] in (r["stateText"] or ""),
                r,
            )
    active = sum(1 for p in purchases if p["status"] in ("active", "trialing"))
    c.check(f"[{when}] purchases: activeCount {api['purchases'].get('activeCount')} as counted by hand", api["purchases"].get("activeCount") == active, active)

    # Usage against limits.
    metered = {p["reference"]: p for p in purchases if p.get("usage")}
    shown = page["usage"]
    c.check(f"[{when}] usage: one row per purchase with a usage window ({len(metered)})", shown["total"] == len(metered) == len(shown["rows"]), shown)
    for r in shown["rows"]:
        p = metered.get(r["ref"], {})
        u = p.get("usage") or {}
        c.check(
            f"[{when}] usage {r['ref']}: used {r['used']} of {r['limit']} in {r['periodStart'][:10]} – {r['periodEnd'][:10]}, as list_purchases",
            (r["used"], r["limit"], r["periodStart"], r["periodEnd"])
            == (u.get("used"), (p.get("planSnapshot") or {}).get("limit"), u.get("periodStart"), u.get("periodEnd")),
            {"page": r, "api": p},
        )
        lim = api["limits"].get(r["ref"], {})
        want_left = max(r["limit"] - r["used"], 0) if r["limit"] else None
        c.check(
            f"[{when}] usage {r['ref']}: check_limits agrees (used {lim.get('used')}, allowance {lim.get('allowance')}, remaining {lim.get('remaining')})",
            (lim.get("used"), lim.get("allowance"), lim.get("remaining")) == (r["used"], r["limit"], want_left)
            and lim.get("withinLimits") == (want_left is None or want_left > 0),
            lim,
        )

    # Transactions and refunds, per currency.
    total, txns = api["transactions"]
    shown = page["transactions"]
    c.check(f"[{when}] transactions: the count is list_transactions' total ({total})", shown["total"] == total, shown["total"])
    want = sorted((t["reference"], t["type"], t["status"], abs(money(t.get("amount"))[0]), money(t.get("amount"))[1]) for t in txns)
    got = sorted((r["ref"], r["type"], r["status"], r["amount"]["minor"], r["amount"]["currency"]) for r in shown["rows"])
    c.check(f"[{when}] transactions: each type, status and amount as list_transactions gives them", got == want, {"page": got, "api": want})
    refunds_of: dict[str, int] = defaultdict(int)
    for t in txns:
        if t.get("type") == "refund" and t.get("status") == "completed":
            refunds_of[(t.get("metadata") or {}).get("originalTransactionRef")] += abs(money(t.get("amount"))[0])
    refunded = {r["ref"]: r["refunded"]["minor"] for r in shown["rows"] if r["type"] == "payment"}
    want = {t["reference"]: refunds_of.get(t["reference"], 0) for t in txns if t.get("type") == "payment"}
    c.check(f"[{when}] transactions: each payment's refunded amount is the sum of its refunds {dict(refunds_of)}", refunded == want, {"page": refunded, "api": want})
    by_hand = sums(txns)
    got_totals = {t["currency"]: {k: t[k] for k in ("payments", "gross", "refunds", "refunded")} for t in shown["totals"]}
    c.check(f"[{when}] transactions: totals per currency equal the sums by hand {by_hand}", got_totals == by_hand, got_totals)
    c.check(
        f"[{when}] transactions: net = gross - refunded in each currency",
        all(t["net"] == t["gross"] - t["refunded"] for t in shown["totals"]),
        shown["totals"],
    )

    # The revenue chart, per month, by hand from list_transactions.
    now = page["clock"]["now"] or ""
    charts = page["revenue"]["charts"]
    c.check(f"[{when}] revenue: one chart per currency with money moved in it", sorted(ch["currency"] for ch in charts) == sorted(by_hand), [ch["currency"] for ch in charts])
    for ch in charts:
        cur = ch["currency"]
        months = [m["month"] for m in ch["months"]]
        c.check(f"[{when}] revenue {cur}: six months ending with the clock's ({now[:7]})", len(months) == 6 and months[-1] == now[:7], months)
        for m in ch["months"]:
            in_month = sums([t for t in txns if str(t.get("createdAt", ""))[:7] == m["month"] and money(t.get("amount"))[1] == cur]).get(cur, {"gross": 0, "refunded": 0})
            ok = (m["gross"], m["refunds"], m["net"]) == (in_month["gross"], in_month["refunded"], in_month["gross"] - in_month["refunded"])
            if m["month"] == now[:7]:
                c.check(
                    f"[{when}] revenue {cur}: the current month's net {m['net']} ({m['netText']}) is the transactions' sum",
                    ok,
                    {"page": m, "by_hand": in_month},
                )
            elif not ok:
                c.check(f"[{when}] revenue {cur} {m['month']}: gross/refunds/net as by hand", False, {"page": m, "by_hand": in_month})
        c.check(
            f"[{when}] revenue {cur}: the chart's totals are its months' sums",
            (ch["gross"], ch["refunds"], ch["net"]) == (sum(m["gross"] for m in ch["months"]), sum(m["refunds"] for m in ch["months"]), sum(m["net"] for m in ch["months"])),
            ch,
        )


async def flow(c: Checks, binary: str) -> None:
    data_dir = tempfile.mkdtemp(prefix="solvapay-e2e-dash-")
    async with Client(server_params(binary, demo=True, data_dir=data_dir), mode="auto") as s:
        api = Api(s)
        st = status(binary, data_dir)
        url = (st.get("server") or {}).get("dashboard", "")
        c.check("sandbox status --json names the running dashboard", url.endswith("/dashboard") and (st.get("server") or {}).get("running") is True, st)

        # A payment this month: a plan bought at a checkout paid in Chromium (the sandbox's provider
        # has one currency, USD).
        prd = (await api.call("create_product", {"name": "Dashboard Add-on"})).get("reference", "")
        pln = (await api.call(
            "create_plan",
            {"productRef": prd, "type": "recurring", "price": 1200, "currency": "USD", "billingCycle": "monthly", "name": "Add-on"},
        )).get("reference", "")
        checkout = (await api.call("create_checkout_session", {"customerRef": BOB, "productRef": prd, "planRef": pln})).get("checkoutUrl", "")
        code, paid = await node("browser.mjs", "checkout", checkout, os.path.join(ARTIFACTS, "dashboard-checkout"))
        c.check("Chromium: the Add-on checkout paid, $12.00", code == 0 and paid.get("button") == "Pay $12.00", paid)

        # A deleted customer (not listed) and an archived plan.
        gone = (await api.call("create_customer", {"email": "gone@example.com", "name": "Gone"})).get("reference", "")
        r = await s.call_tool("delete_customer", {"customerRef": gone})
        c.check("delete_customer: a customer created and deleted", not is_error(r), brief(r))
        old = (await api.call(
            "create_plan", {"productRef": prd, "type": "one-time", "price": 500, "currency": "USD", "name": "Legacy"}
        )).get("reference", "")
        r = await s.call_tool("update_plan", {"productRef": prd, "planRef": old, "status": "archived"})
        c.check("update_plan: a plan archived", not is_error(r) and sc(r).get("status") == "archived", brief(r))

        r = await s.call_tool("grant_credits", {"customerRef": JANE, "credits": 250, "reason": "dashboard e2e"})
        c.check("grant_credits: 250 to Jane", not is_error(r) and sc(r).get("balance") == 250, brief(r))
        r = await s.call_tool("create_refund", {"sourceTransactionRef": JANE_PAYMENT, "amount": REFUND, "reason": "requested_by_customer"})
        c.check(f"create_refund: {REFUND} of Jane's payment", not is_error(r), brief(r))
        r = await s.call_tool("record_usage", {"customerRef": BOB, "productRef": PRODUCT, "units": 3, "outcome": "success", "requestId": "dash-usage-1"})
        c.check("record_usage: 3 units for Bob", not is_error(r), brief(r))
        r = await s.call_tool("cancel_renewal", {"purchaseRef": JANE_PRO, "reason": "dashboard e2e"})
        c.check("cancel_renewal: Jane's Pro", not is_error(r) and sc(r).get("autoRenew") is False, brief(r))

        # The page's protections, with plain HTTP.
        code, headers, body = http_get(url)
        csp = {k.lower(): v for k, v in headers.items()}.get("content-security-policy", "")
        c.check("GET /dashboard: 200, a Content-Security-Policy, no <script> in the HTML", code == 200 and "default-src" in csp and "<script" not in body.lower(), (code, csp))
        code, _, _ = http_get(url, host="evil.example")
        c.check("GET /dashboard with a foreign Host: 421", code == 421, code)

        before = await api.read()
        code, page = await node("dashboard.mjs", url, ARTIFACTS, f"{ADVANCE_DAYS}d")
        after = await api.read()
        c.check("Chromium: dashboard read, clock advanced from its form", code == 0, {k: v for k, v in page.items() if k not in ("before", "after")})
        if code != 0:
            return
        c.check("Chromium saw the CSP header", "default-src" in (page.get("csp") or ""), page.get("csp"))
        check_panels(c, "before", page["before"], before)

        # The moves show.
        b = page["before"]
        jane = next((r for r in b["purchases"]["rows"] if r["ref"] == JANE_PRO), {})
        c.check("the cancelled renewal shows as 'renewal cancelled'", jane.get("state") == "renewal-cancelled", jane)
        jtx = next((r for r in b["transactions"]["rows"] if r["ref"] == JANE_PAYMENT), {})
        c.check(f"Jane's payment shows {REFUND} refunded", (jtx.get("refunded") or {}).get("minor") == REFUND, jtx)
        month = next((m for ch in b["revenue"]["charts"] for m in ch["months"] if m["month"] == b["clock"]["now"][:7]), {})
        c.check(f"this month's chart column: the $12.00 payment and the {REFUND} refund", (month.get("gross"), month.get("refunds")) == (1200, REFUND), month)

        # The clock moved: on the page, in the status, in the API's default range.
        t0 = datetime.fromisoformat(b["clock"]["now"].replace("Z", "+00:00"))
        t1 = datetime.fromisoformat((page["after"]["clock"]["now"] or "").replace("Z", "+00:00"))
        moved = t1 - t0
        c.check(f"the page shows the clock {ADVANCE_DAYS} days on ({t1.isoformat()})", timedelta(days=ADVANCE_DAYS) <= moved < timedelta(days=ADVANCE_DAYS, minutes=5), moved)
        st = status(binary, data_dir)
        now = datetime.fromisoformat(((st.get("clock") or {}).get("now") or "").replace("Z", "+00:00"))
        c.check("sandbox status: the stored clock moved with it", timedelta(0) <= now - t1 < timedelta(minutes=5) and (st.get("clock") or {}).get("stored") is True, st.get("clock"))
        c.check(
            f"get_transaction_stats: the default range now ends {t1.date()}",
            before["stats"].get("toDate") == t0.date().isoformat() and after["stats"].get("toDate") == t1.date().isoformat(),
            (before["stats"].get("toDate"), after["stats"].get("toDate")),
        )
        check_panels(c, "after", page["after"], after)
        jane = next((r for r in page["after"]["purchases"]["rows"] if r["ref"] == JANE_PRO), {})
        c.check("after the move: the cancelled renewal has ended (expired)", jane.get("state") == "expired", jane)


def main() -> int:
    return run_suite("dashboard", [("dashboard flow", flow)], timeout=120)


if __name__ == "__main__":
    sys.exit(main())
