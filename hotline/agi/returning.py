"""Returning caller: a caller with open work orders hears how many (then the menu).

The count is asked when the call starts (prefetch) and read when the flow is reached, after
the welcome: the caller never waits on the database in silence before the first prompt.
"""

from __future__ import annotations

import asyncio
import logging

from hotline.agi import say
from hotline.agi.call import Call, Exit
from hotline.agi.tree import SubflowNode

log = logging.getLogger(__name__)


FLOW = "returning_caller"


def prefetch(call: Call) -> None:
    """Ask for the caller's open orders now, if this call's tree has the flow."""
    if any(isinstance(n, SubflowNode) and n.flow == FLOW for n in call.tree.nodes.values()):
        call.open_orders = asyncio.create_task(call.services.open_orders(call.agi.callerid))


async def returning_caller(call: Call, node: SubflowNode) -> Exit | str | None:
    asked = call.open_orders
    count = await asked if asked is not None else await call.services.open_orders(call.agi.callerid)
    if count <= 0:
        return None
    log.info("call %s: returning caller with %d open orders", call.agi.uniqueid, count)
    menu = call.tree.next_menu(node.next)
    # "您有" N "件工单正在办理中，查询进度请按7，人工服务请按0"
    return await call.play_all(
        ["returning-before", *say.number(count), "returning-after"],
        menu.escape_digits if menu else "",
    )
