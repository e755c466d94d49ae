"""Walk one call through a tree of hotline/config/ivr.yaml until it leaves the IVR (an Exit)."""

from __future__ import annotations

import logging

from hotline.agi.call import Call, Exit
from hotline.agi.flows import run_flow
from hotline.agi.speech import speech_menu
from hotline.agi.tree import (
    CollectNode,
    HangupNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SubflowNode,
    TransferNode,
)
from hotline.asterisk.variables import RESULT_CHOSEN, RESULT_FAILED, RESULT_NO_SKILL
from hotline.kernel.names import asterisk_queue

log = logging.getLogger(__name__)

# Nodes one call may visit before it is sent to an agent (a caller repeating forever).
MAX_STEPS = 60


async def walk(call: Call, start: str, first_key: str | None = None) -> Exit:
    """From node `start` to an exit. first_key: a key pressed before (barge-in)."""
    name, key = start, first_key
    for _ in range(MAX_STEPS):
        node = call.tree.node(name)
        if isinstance(node, PlayNode):
            name, key = await play(call, node)
        elif isinstance(node, MenuNode):
            target = await _menu(call, name, node, key)
            key = None
            if target is None:
                call.failed = True
                if node.on_failure is None:
                    return Exit("queue", RESULT_FAILED, queue=call.tree.fallback_queue)
                name = node.on_failure
            else:
                name = target
        elif isinstance(node, CollectNode):
            got = await call.agi.get_data(call.sound(node.prompt), 8000, node.max_digits)
            await call.agi.set_variable(f"HOTLINE_COLLECT_{node.variable}", got or "")
            name, key = node.next, None
        elif isinstance(node, QueueNode):
            return await _queue(call, node)
        elif isinstance(node, TransferNode):
            if node.prompt:
                await call.play(node.prompt)
            result = f"emergency-{node.number}" if node.emergency else "transfer"
            return Exit("transfer", result, number=node.number, emergency=node.emergency)
        elif isinstance(node, HangupNode):
            await call.play(node.prompt)
            return Exit("hangup", node.result)
        elif isinstance(node, SubflowNode):
            outcome = await run_flow(call, node)
            if isinstance(outcome, Exit):
                return outcome
            if outcome:  # a key pressed during the flow's messages: the next menu's
                menu_name = call.tree.next_menu_name(node.next)
                if menu_name is not None:
                    name, key = menu_name, outcome
                    continue
            name, key = node.next, None
    log.warning("call %s: %d IVR steps; sent to an agent", call.agi.uniqueid, MAX_STEPS)
    call.failed = True
    return Exit("queue", RESULT_FAILED, queue=call.tree.fallback_queue)


async def play(call: Call, node: PlayNode) -> tuple[str, str | None]:
    """Play the node; (the node to go on with, a key pressed for the next menu or None)."""
    menu = call.tree.next_menu(node.next)
    pressed = await call.play(node.prompt, menu.escape_digits if menu else "")
    if pressed and menu is not None:
        return call.tree.next_menu_name(node.next) or node.next, pressed
    return node.next, None


async def _menu(call: Call, name: str, node: MenuNode, key: str | None) -> str | None:
    """The node the caller chose, or None after max_attempts wrong or missing keys."""
    attempt = 1
    repeats = 0
    if key is None and node.speech is not None:
        key, go = await speech_menu(call, name, node)
        if go is not None:
            return go
    while attempt <= node.max_attempts:
        if key is None:
            key = await call.agi.get_data(call.sound(node.prompt), node.timeout_ms, 1)
            if key == "":  # '#' alone ends GET DATA with no digit
                key = "#"
        if key is not None and key == node.repeat_key and repeats < MAX_STEPS:
            repeats += 1
            key = None
            continue
        if key is not None and (target := node.keys.get(key)) is not None:
            call.keys.append(key)
            return target
        log.info(
            "call %s: menu %s: no valid key (attempt %d of %d)",
            call.agi.uniqueid,
            name,
            attempt,
            node.max_attempts,
        )
        key = None
        if attempt < node.max_attempts:
            key = await call.play(node.invalid_prompt, node.escape_digits) or None
        attempt += 1
    return None


async def _queue(call: Call, node: QueueNode) -> Exit:
    request_type = node.request_type.value if node.request_type else ""
    if node.require_skill:
        logged = await call.agi.get_full_variable(
            f"${{QUEUE_MEMBER({asterisk_queue(node.queue)},logged)}}"
        )
        if not logged or not logged.strip().isdigit() or int(logged) == 0:
            log.info("call %s: nobody logged in to %s", call.agi.uniqueid, node.queue)
            if node.unavailable_prompt:
                await call.play(node.unavailable_prompt)
            return Exit(
                "queue", RESULT_NO_SKILL, queue=call.tree.fallback_queue, request_type=request_type
            )
    return Exit(
        "queue",
        RESULT_FAILED if call.failed else RESULT_CHOSEN,
        queue=node.queue,
        request_type=request_type,
        emergency=node.emergency,
    )
