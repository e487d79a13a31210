"""Confirmation on a 2026-07-28 client: Python `mcp` 2.3 `Client(mode="auto")` with an elicitation
callback, against the real binary (local demo sandbox).

The server answers a refund or a deletion with an input-required result (MRTR); the client's callback
plays the person. Checked: accept → done once; decline → nothing; an expired state, a state replayed
for other arguments, and a state used twice → nothing more. What was done is read back through the
tools (list_transactions, get_customer).
Usage: python confirm.py <solvapay-mcp binary>
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from mcp import Client
from mcp_types import ElicitResult, InputRequiredResult

from common import brief, Checks, envelope, is_error, run_suite, sc, server_params

JANE_PAYMENT = "txn_D7E8F9G0"


class Person:
    """Answers every confirmation with `action` and remembers the questions."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.questions.append(getattr(params, "message", ""))
        content = {"confirm": True} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)


async def refunds(client: Client) -> int:
    r = await client.call_tool("list_transactions", {"limit": 100})
    return sum(1 for t in sc(r).get("transactions", []) if t.get("type") == "refund")


def message(result: Any) -> str:
    return str(envelope(result).get("error", {}).get("message", ""))


async def accepted_and_declined(c: Checks, binary: str) -> None:
    for action, made in (("decline", 0), ("accept", 1)):
        person = Person(action)
        async with Client(server_params(binary), mode="auto", elicitation_callback=person) as client:
            c.check(f"[{action}] negotiated 2026-07-28", client.protocol_version == "2026-07-28", client.protocol_version)
            r = await client.call_tool("create_refund", {"sourceTransactionRef": JANE_PAYMENT, "amount": 1000})
            c.check(f"[{action}] the person was asked once", len(person.questions) == 1, person.questions)
            c.check(
                f"[{action}] the question names amount, payment and customer",
                person.questions[:1] == ["Refund $10.00 of txn_D7E8F9G0 (payment of $49.00) to Jane Smith?"],
                person.questions,
            )
            c.check(f"[{action}] isError only when declined", is_error(r) == (made == 0), brief(r))
            c.check(f"[{action}] refunds made: {made}", await refunds(client) == made)
            if made == 0:
                c.check("[decline] says nothing was sent", "nothing was sent" in message(r), brief(r))


async def first_round(client: Client, name: str, args: dict[str, Any]) -> InputRequiredResult:
    r = await client.session.call_tool(name, args, allow_input_required=True)
    if not isinstance(r, InputRequiredResult):
        raise AssertionError(f"expected an input-required result, got {brief(r)}")
    return r


async def replayed_and_expired(c: Checks, binary: str) -> None:
    accept = {"confirm": {"action": "accept", "content": {"confirm": True}}}
    params = server_params(binary)
    params.env["SOLVAPAY_CONFIRM_TIMEOUT_SECS"] = "2"
    async with Client(params, mode="auto", elicitation_callback=Person("accept")) as client:
        session = client.session
        bob = {"reference": "cus_X7Y8Z9W0"}
        jane = {"reference": "cus_A1B2C3D4"}
        first = await first_round(client, "delete_customer", bob)
        c.check("input-required: one form and a sealed state", set((first.input_requests or {}).keys()) == {"confirm"} and bool(first.request_state), first)

        r = await session.call_tool("delete_customer", jane, input_responses=accept, request_state=first.request_state)
        c.check("a state replayed for other arguments is refused", is_error(r) and "does not belong" in message(r), brief(r))
        r = await client.call_tool("get_customer", jane)
        c.check("... and Jane still exists", not is_error(r), brief(r))

        r = await session.call_tool("delete_customer", bob, input_responses=accept, request_state=first.request_state)
        c.check("the state with its own arguments deletes Bob", not is_error(r), brief(r))
        r = await session.call_tool("delete_customer", bob, input_responses=accept, request_state=first.request_state)
        c.check("the same state used twice is refused", is_error(r), brief(r))

        late = await first_round(client, "delete_customer", jane)
        await asyncio.sleep(2.5)
        r = await session.call_tool("delete_customer", jane, input_responses=accept, request_state=late.request_state)
        c.check("an expired state is refused", is_error(r) and "expired" in message(r), brief(r))
        r = await client.call_tool("get_customer", jane)
        c.check("... and Jane still exists", not is_error(r), brief(r))


def main() -> int:
    return run_suite("python-confirm (2026-07-28 MRTR)", [("accept/decline", accepted_and_declined), ("replay/expiry", replayed_and_expired)], timeout=120)


if __name__ == "__main__":
    sys.exit(main())
