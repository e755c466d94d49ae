"""While a caller waits for an agent: the offer at joining, and keys 1 and 2 in the queue.

app_queue announces position and estimated wait (queues.conf). This module adds
what it cannot: at joining, when the estimated wait is over waiting.offer_over_seconds,
the caller hears the offer at once; key 1 (at joining or any time in the queue)
asks for a callback that keeps the caller's place; key 2 leaves a message that
becomes a work order with its recording.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

from hotline.acd import widening
from hotline.acd.estimate import estimated_wait, over_limit
from hotline.acd.settings import WaitingSettings, WideningSettings
from hotline.acd.widening import ServiceLevel, WideningPlan, no_service_level
from hotline.agi import say
from hotline.agi.channel import AGIChannel
from hotline.agi.reload import ConfigStore
from hotline.agi.services import IvrServices
from hotline.agi.settings import AgiConfig
from hotline.agi.tree import IvrConfig
from hotline.asterisk.variables import (
    GENERAL_QUEUE,
    HOTLINE_CALLBACK,
    HOTLINE_MESSAGE_ORDER,
    HOTLINE_WAIT_CHOICE,
)
from hotline.kernel.names import asterisk_queue

log = logging.getLogger(__name__)

OFFER_KEYS = {"1": "callback", "2": "message"}
OFFER_TIMEOUT_MS = 3000
# A number we can ring back: digits, optionally with a leading +.
CALLABLE = re.compile(r"^\+?[0-9]{3,20}$")


async def _count(agi: AGIChannel, expression: str) -> int:
    value = await agi.get_full_variable(expression)
    return int(value) if value and value.strip().isdigit() else 0


@dataclass(frozen=True)
class WaitRules:
    """hotline/config/hotline.yaml's waiting section, each queue's widening steps, and where the
    queues' live service level comes from (it decides how fast the pool widens)."""

    settings: WaitingSettings
    widening: dict[str, WideningSettings] = field(default_factory=dict)
    service_level: ServiceLevel = no_service_level
    target_percent: float = 95.0
    lookup_seconds: float = 0.8  # agi.lookup_timeout_seconds: Redis may be slow or gone

    @classmethod
    def from_settings(
        cls, settings: AgiConfig, service_level: ServiceLevel | None = None
    ) -> WaitRules:
        return cls(
            settings.waiting,
            settings.widening_steps(),
            service_level or no_service_level,
            settings.live.target_percent,
            settings.agi.lookup_timeout_seconds,
        )

    def steps(self, queue: str) -> WideningSettings:
        return self.widening.get(queue) or WideningSettings()

    async def plan(self, queue: str) -> WideningPlan:
        """The widening steps; the configured ones when the live level is not known in time."""
        level: float | None = None
        try:
            async with asyncio.timeout(self.lookup_seconds):
                level = await self.service_level(queue)
        except TimeoutError:
            log.warning("live service level of %s: no answer in time: configured steps", queue)
        return widening.plan(self.steps(queue), level, self.target_percent)


async def set_widening(agi: AGIChannel, queue: str, rules: WaitRules) -> WideningPlan:
    """Tell the dialplan when this caller's pool widens (acd/widening.py)."""
    chosen = await rules.plan(queue)
    for name, value in chosen.variables().items():
        await agi.set_variable(name, value)
    if chosen.pace == widening.BEHIND:
        log.info(
            "call %s: %s is below its service level target: widening at %ds/%ds",
            agi.uniqueid,
            queue,
            chosen.secondary,
            chosen.general,
        )
    return chosen


async def _in_line(agi: AGIChannel, queue: str, handle_seconds: float) -> tuple[int, float | None]:
    name = asterisk_queue(queue)
    waiting = await _count(agi, f"${{QUEUE_WAITING_COUNT({name})}}")
    logged = await _count(agi, f"${{QUEUE_MEMBER({name},logged)}}")
    ready = await _count(agi, f"${{QUEUE_MEMBER({name},ready)}}")
    position = waiting + 1
    return position, estimated_wait(position, logged, ready, handle_seconds)


async def queue_estimate(agi: AGIChannel, queue: str, rules: WaitRules) -> tuple[int, float | None]:
    """(position the caller would take, estimated seconds or None if nobody can answer).

    A caller in a skill queue also joins the general queue after its widening step,
    so the wait is the shorter of the two.
    """
    handle = rules.settings.average_handle_seconds
    position, estimate = await _in_line(agi, queue, handle)
    if queue != GENERAL_QUEUE:
        _, general = await _in_line(agi, GENERAL_QUEUE, handle)
        if general is not None:
            general += rules.steps(queue).general_after_seconds
            estimate = general if estimate is None else min(estimate, general)
    return position, estimate


async def offer_at_join(agi: AGIChannel, config: IvrConfig, queue: str, rules: WaitRules) -> str:
    """'' to wait in the queue, or 'callback' / 'message' if the caller took the offer."""
    position, estimate = await queue_estimate(agi, queue, rules)
    if not over_limit(estimate, rules.settings.offer_over_seconds):
        return ""
    log.info(
        "call %s: %s position %d, estimate %s s: offering callback or message",
        agi.uniqueid,
        queue,
        position,
        "unknown" if estimate is None else f"{estimate:.0f}",
    )
    key = await agi.stream_file(config.sound("queue-busy"), "12")
    if key is None:
        key = await agi.get_data(config.sound("queue-offer"), OFFER_TIMEOUT_MS, 1)
    choice = OFFER_KEYS.get(key or "", "")
    if choice:
        await agi.set_variable(HOTLINE_WAIT_CHOICE, choice)
    return choice


async def callback(
    agi: AGIChannel, store: ConfigStore, services: IvrServices, rules: WaitRules
) -> None:
    """Key 1: keep the caller's place and ring them back; args: queue, position, request type."""
    args = [*agi.arguments, "", "", ""]
    queue, position_arg, request_type = args[0] or "general", args[1], args[2]
    config = store.current
    number = agi.callerid
    if not CALLABLE.match(number):
        log.info("call %s: no number to call back; stays in the queue", agi.uniqueid)
        await agi.stream_file(config.sound("callback-no-number"))
        return
    if position_arg.isdigit() and int(position_arg) > 0:
        position = int(position_arg)
    else:  # from the offer at joining: the place the caller would have taken
        position, _ = await _in_line(agi, queue, rules.settings.average_handle_seconds)
    linkedid = agi.uniqueid  # the citizen's channel began the call: its id is the Linkedid
    cb_id = await services.request_callback(linkedid, number, queue, position, request_type)
    if cb_id is None:
        await agi.stream_file(config.sound("callback-no-number"))
        return
    log.info("call %s: callback %d requested, %s place %d", agi.uniqueid, cb_id, queue, position)
    await agi.set_variable(HOTLINE_CALLBACK, str(cb_id))
    await agi.stream_file(config.sound("callback-confirm"))
    for fragment in say.digits(number):
        await agi.stream_file(config.sound(fragment))
    await agi.stream_file(config.sound("callback-keep"))


async def message(agi: AGIChannel, store: ConfigStore, services: IvrServices) -> None:
    """Key 2, after Record(): the message becomes a work order; args: file, request type.

    Also run from the h extension when the caller hung up while speaking: then the
    order is made all the same and nothing is played.
    """
    args = [*agi.arguments, "", ""]
    path, request_type = args[0], args[1]
    linkedid = agi.uniqueid  # as in callback()
    number = await services.leave_message(linkedid, agi.callerid, path, request_type)
    config = store.current
    if number is None:
        log.warning("call %s: the message in %s made no work order", agi.uniqueid, path)
        await agi.stream_file(config.sound("message-failed"))
        return
    log.info("call %s: message saved as work order %s", agi.uniqueid, number)
    await agi.set_variable(HOTLINE_MESSAGE_ORDER, number)
    await agi.stream_file(config.sound("message-saved"))
    for fragment in say.digits(number):
        await agi.stream_file(config.sound(fragment))
    await agi.stream_file(config.sound("message-bye"))
