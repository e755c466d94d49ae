"""The `duty` route: a unit's duty phone answered the call about an emergency (突发) order.

Args: the attempt id, the order number's digits and the role rung (duty, liaison,
supervisor), set on the channel by the duty-call service's Originate. The message,
the order number digit by digit and "press 1" are said up to key_rounds times; key 1
acts at once, even during the message. For the unit (duty phone, liaison) 1 signs
the order (签收); for a supervisor it acknowledges. Whatever happened is left in
HOTLINE_DUTY_RESULT for the dialplan's report (UserEvent HotlineDutyCall).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine

from hotline.agi import say
from hotline.agi.channel import AGIChannel
from hotline.agi.reload import ConfigStore
from hotline.agi.settings import AgiConfig
from hotline.asterisk.variables import HOTLINE_DUTY_RESULT
from hotline.workorders.context import service_session
from hotline.workorders.duty_calls import KeyResult, press_one
from hotline.workorders.models import Outcome
from hotline.workorders.settings import DutyCallSettings

log = logging.getLogger(__name__)

SIGN_KEY = "1"


class DutyBook(Protocol):
    async def press_one(self, attempt_id: int) -> KeyResult | None:
        """Sign (or acknowledge) for this attempt; None when it could not be stored."""
        ...


class DbDutyBook:
    """Signs in the database: one short transaction, off the event loop."""

    def __init__(self, settings: AgiConfig, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    async def press_one(self, attempt_id: int) -> KeyResult | None:

        def run() -> KeyResult:
            with service_session(self.settings, self.engine) as svc:
                return press_one(svc.session, svc, attempt_id, datetime.now(UTC))

        try:
            return await asyncio.to_thread(run)
        except Exception:
            log.exception("duty call attempt %d: key 1 could not be stored", attempt_id)
            return None


class NoDutyBook:
    """No database (unit tests of other routes, the bench): nothing can be signed."""

    async def press_one(self, attempt_id: int) -> KeyResult | None:
        return None


async def duty(
    agi: AGIChannel, store: ConfigStore, book: DutyBook, rules: DutyCallSettings
) -> None:
    args = [*agi.arguments, "", "", ""]
    raw_id, order_digits, role = args[0], args[1], args[2]
    if not raw_id.isdigit():
        log.warning("call %s: duty route without an attempt id", agi.uniqueid)
        await agi.set_variable(HOTLINE_DUTY_RESULT, Outcome.FAILED)
        return
    config = store.current
    supervisor = role == "supervisor"
    message = [
        "duty-supervisor-intro" if supervisor else "duty-intro",
        "duty-order",
        *say.digits(order_digits),
        "duty-supervisor-press-1" if supervisor else "duty-press-1",
    ]
    key: str | None = None
    for _ in range(rules.key_rounds):
        key = await _say(agi, [config.sound(m) for m in message])
        if key is None:
            key = await _wait_key(agi, rules.key_wait_seconds * 1000)
        if key == SIGN_KEY:
            break
    if key != SIGN_KEY:
        log.info("duty call attempt %s: no key 1", raw_id)
        await agi.set_variable(HOTLINE_DUTY_RESULT, Outcome.NO_KEY)
        await agi.stream_file(config.sound("duty-bye"))
        return
    result = await book.press_one(int(raw_id))
    if result is None:
        await agi.set_variable(HOTLINE_DUTY_RESULT, Outcome.SIGN_FAILED)
        await agi.stream_file(config.sound("duty-sign-failed"))
        return
    await agi.set_variable(HOTLINE_DUTY_RESULT, result.outcome)
    log.info("duty call attempt %s: work order %s %s", raw_id, result.order_number, result.outcome)
    done = "duty-acknowledged" if result.outcome is Outcome.ACKNOWLEDGED else "duty-signed"
    await agi.stream_file(config.sound(done))


async def _say(agi: AGIChannel, sounds: list[str]) -> str | None:
    """Play the fragments; key 1 stops at once and is returned (other keys are ignored)."""
    for sound in sounds:
        key = await agi.stream_file(sound, SIGN_KEY)
        if key == SIGN_KEY:
            return key
    return None


async def _wait_key(agi: AGIChannel, timeout_ms: int) -> str | None:
    result = await agi.command("WAIT FOR DIGIT", timeout_ms)
    code = int(result.result) if result.result.lstrip("-").isdigit() else 0
    return chr(code) if code > 0 else None
