"""The `ivr` route: the main menu. Sets HOTLINE_* variables; the dialplan does the rest.

The dialplan has already answered the channel; it reads HOTLINE_QUEUE afterwards and
sends the caller there (the general queue when it is empty or AGISTATUS is not SUCCESS).
"""

from __future__ import annotations

import logging

from agi.channel import AGIChannel
from agi.menu import Menu, MenuKey
from agi.variables import (
    CHOICE_NONE,
    HOTLINE_EMERGENCY,
    HOTLINE_IVR_CHOICE,
    HOTLINE_IVR_RESULT,
    HOTLINE_QUEUE,
    HOTLINE_REQUEST_TYPE,
    RESULT_CHOSEN,
    RESULT_FAILED,
)

log = logging.getLogger(__name__)


async def ivr(agi: AGIChannel, menu: Menu) -> None:
    # Barge-in: a key pressed during the welcome is the menu choice.
    key = await agi.stream_file(menu.welcome_prompt, menu.escape_digits)
    for attempt in range(1, menu.max_attempts + 1):
        if key is None:
            key = await agi.get_data(menu.menu_prompt, menu.menu_timeout_ms, 1)
        if key and (entry := menu.keys.get(key)) is not None:
            await _chosen(agi, key, entry)
            await agi.stream_file(menu.transfer_prompt)
            return
        log.info(
            "call %s: no valid key (attempt %d of %d)", agi.uniqueid, attempt, menu.max_attempts
        )
        if attempt < menu.max_attempts:
            await agi.stream_file(menu.invalid_prompt)
        key = None
    # Repeated failures go to a person, never to a dead end.
    await agi.set_variable(HOTLINE_IVR_CHOICE, CHOICE_NONE)
    await agi.set_variable(HOTLINE_QUEUE, menu.fallback_queue)
    await agi.set_variable(HOTLINE_IVR_RESULT, RESULT_FAILED)
    await agi.stream_file(menu.transfer_prompt)


async def _chosen(agi: AGIChannel, key: str, entry: MenuKey) -> None:
    log.info("call %s: key %s -> queue %s", agi.uniqueid, key, entry.queue)
    await agi.set_variable(HOTLINE_IVR_CHOICE, key)
    await agi.set_variable(HOTLINE_REQUEST_TYPE, entry.request_type or "")
    await agi.set_variable(HOTLINE_QUEUE, entry.queue)
    if entry.emergency:
        await agi.set_variable(HOTLINE_EMERGENCY, "1")
    await agi.set_variable(HOTLINE_IVR_RESULT, RESULT_CHOSEN)
