"""Returning caller: a caller with open work orders hears how many (then the menu)."""

from __future__ import annotations

import logging

from hotline.agi import say
from hotline.agi.call import Call, Exit
from hotline.agi.tree import SubflowNode

log = logging.getLogger(__name__)


async def returning_caller(call: Call, node: SubflowNode) -> Exit | str | None:
    count = await call.services.open_orders(call.agi.callerid)
    if count <= 0:
        return None
    log.info("call %s: returning caller with %d open orders", call.agi.uniqueid, count)
    menu = call.tree.next_menu(node.next)
    # "您有" N "件工单正在办理中，查询进度请按7，人工服务请按0"
    return await call.play_all(
        ["returning-before", *say.number(count), "returning-after"],
        menu.escape_digits if menu else "",
    )
