"""Work-order progress self-service (工单进度查询, key 7): number + #, status, unit, due date.

A caller hears only orders filed from their own number, unless they give the order's
query code (查询码). Three wrong numbers go to an agent.
"""

from __future__ import annotations

import logging

from hotline.agi import say
from hotline.agi.call import Call, Exit
from hotline.agi.tree import SubflowNode
from hotline.asterisk.variables import RESULT_PROGRESS_FAILED
from hotline.workorders.progress import OrderProgress

log = logging.getLogger(__name__)

ATTEMPTS = 3
NUMBER_TIMEOUT_MS = 10_000
CODE_TIMEOUT_MS = 8_000
# status fragments there are prompts for; later states sound like "closed"
STATUS_PROMPTS = {
    "draft",
    "accepted",
    "dispatched",
    "signed",
    "returned",
    "coordinating",
    "replied",
    "closed",
}


def order_number(keys: str) -> str | None:
    """YYYYMMDD-NNNNNN from the 14 digits the caller keyed."""
    digits = "".join(c for c in keys if c.isdigit())
    if len(digits) != 14:
        return None
    return f"{digits[:8]}-{digits[8:]}"


async def progress(call: Call, node: SubflowNode) -> Exit | str | None:
    agi = call.agi
    for attempt in range(1, ATTEMPTS + 1):
        keyed = await agi.get_data(call.sound("progress-enter"), NUMBER_TIMEOUT_MS, 20)
        number = order_number(keyed or "")
        order = None
        if number is not None:
            order = await call.services.find_order(number, agi.callerid, None)
            if order is None:  # not the caller's own: perhaps they have the query code
                code = await agi.get_data(call.sound("progress-code"), CODE_TIMEOUT_MS, 12)
                if code:
                    order = await call.services.find_order(number, agi.callerid, code)
        if order is not None:
            log.info("call %s: progress of an order read out", agi.uniqueid)
            call.matter = order.number
            await read_out(call, order)
            return None
        log.info("call %s: order not found (attempt %d of %d)", agi.uniqueid, attempt, ATTEMPTS)
        await call.play("progress-not-found")
    return Exit("queue", RESULT_PROGRESS_FAILED, queue=call.tree.fallback_queue)


async def read_out(call: Call, order: OrderProgress) -> None:
    """工单 <digits> 状态 <status> 承办单位 <unit> 办理期限 <date>."""
    status = order.status if order.status in STATUS_PROMPTS else "closed"
    if order.status not in STATUS_PROMPTS and order.status not in ("rated", "archived"):
        status = "dispatched"
    parts = ["progress-order", *say.digits(order.number), "progress-status", f"status-{status}"]
    await call.play_all(parts)
    if order.unit_name:
        unit = await call.services.speak(order.unit_name)
        if unit is not None:
            await call.play("progress-unit")
            await call.agi.stream_file(unit)
    if order.due_at is not None:
        local = order.due_at.astimezone(call.services.timezone).date()
        await call.play_all(["progress-due", *say.day(local)])
    await call.play("progress-end")
