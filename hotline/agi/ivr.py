"""The `ivr` route: a call from answer to the moment it leaves the voice menu.

The dialplan has answered. This route picks the tree of the dialled number (a
sub-centre's or the main hotline's), refuses blocked numbers (except for the
emergency lines), walks the tree and sets HOTLINE_* variables; the dialplan does
the rest (the general queue when they are empty or AGISTATUS is not SUCCESS).
The database is asked while the welcome plays, never before it (docs/ivr.md, "A slow
database").
"""

from __future__ import annotations

import asyncio
import logging

from hotline.agi import returning
from hotline.agi.call import Call, Exit
from hotline.agi.channel import AGIChannel
from hotline.agi.reload import ConfigStore
from hotline.agi.services import IvrServices
from hotline.agi.speech import SpeechClient
from hotline.agi.tree import PlayNode
from hotline.agi.waiting import WaitRules, offer_at_join, set_widening
from hotline.agi.walk import play, walk
from hotline.asterisk.variables import (
    HOTLINE_EMERGENCY,
    HOTLINE_HANGUP,
    HOTLINE_IVR_CHOICE,
    HOTLINE_IVR_RESULT,
    HOTLINE_ORDER,
    HOTLINE_QUEUE,
    HOTLINE_REQUEST_TYPE,
    HOTLINE_TRANSFER,
    RESULT_BLOCKED,
    RETURNING_PRIORITY,
)

log = logging.getLogger(__name__)


async def ivr(
    agi: AGIChannel,
    store: ConfigStore,
    services: IvrServices,
    waiting: WaitRules | None = None,
    speech: SpeechClient | None = None,
) -> None:
    config = store.current  # this call stays on this tree even if it is reloaded now
    dialled = next(iter(agi.arguments), "") or agi.headers.get("agi_dnid", "")
    tree_name, tree = config.tree_for(dialled)
    call = Call(agi, config, tree, services, speech=speech)
    if tree_name != config.default_tree:
        log.info("call %s: sub-centre tree %s", agi.uniqueid, tree_name)
    # asked now, answered while the welcome plays: no silence before the first prompt
    verdict = asyncio.create_task(services.blocked(agi.callerid))
    returning.prefetch(call)
    try:
        await leave(call, await start(call, verdict), waiting)
    finally:
        for task in (verdict, call.open_orders):
            if task is not None:
                task.cancel()


async def start(call: Call, verdict: asyncio.Task[bool]) -> Exit:
    """The first prompt (the welcome) plays while the block list is asked; a blocked caller
    hears the notice after it. A key pressed in it goes to the next menu as usual."""
    name, key = call.tree.start, None
    first = call.tree.node(name)
    if isinstance(first, PlayNode):
        name, key = await play(call, first)
    if await verdict:
        return await blocked(call)
    return await walk(call, name, key)


async def blocked(call: Call) -> Exit:
    """A blocked number (art. 21.4) hears a short notice; * still reaches the emergency lines."""
    log.info("call %s: blocked number", call.agi.uniqueid)
    emergency = call.tree.emergency_node
    key = await call.play(call.config.blocked_prompt, "*" if emergency else "")
    if key == "*" and emergency:
        call.keys.append("*")
        result = await walk(call, emergency)
        if result.kind == "transfer":
            return result  # emergency transfers are never blocked
    await call.services.refused(call.agi.callerid, call.agi.uniqueid)
    return Exit("hangup", RESULT_BLOCKED)


async def leave(call: Call, how: Exit, waiting: WaitRules | None = None) -> None:
    agi = call.agi
    queue = how.queue or call.tree.fallback_queue  # a failed transfer also ends there
    log.info("call %s: leaves the IVR: %s %s", agi.uniqueid, how.kind, how.result)
    await agi.set_variable(HOTLINE_IVR_CHOICE, call.choice)
    await agi.set_variable(HOTLINE_REQUEST_TYPE, how.request_type)
    await agi.set_variable(HOTLINE_QUEUE, queue)
    if how.emergency:
        await agi.set_variable(HOTLINE_EMERGENCY, "1")
    if how.kind == "transfer":
        await agi.set_variable(HOTLINE_TRANSFER, how.number)
    await agi.set_variable(HOTLINE_IVR_RESULT, how.result)
    if how.kind == "hangup":
        await agi.set_variable(HOTLINE_HANGUP, "1")
    elif how.kind == "queue":
        if call.matter:  # a returning caller on the same matter goes ahead (queue time else)
            await agi.set_variable(HOTLINE_ORDER, call.matter)
            await agi.set_variable("QUEUE_PRIO", str(RETURNING_PRIORITY))
        await call.play(call.tree.transfer_prompt)
        if waiting is not None:
            await set_widening(agi, queue, waiting)
            await offer_at_join(agi, call.config, queue, waiting)
