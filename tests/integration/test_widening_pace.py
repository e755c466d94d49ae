"""Widening paced by the live service level (issue 20): the same caller, in the same queue,
reaches the general pool sooner while the queue's live figure is below target than while
it is on target, and the record says which pace and when each step came.

The figure is made here with real calls in the consultation queue (key 1), which no other
test's agent serves: answered at once by agent 1024 (added here) until the live service
puts the queue on target, then callers who give up in the queue until it is below. In
between, 1024 is logged out, so the measured callers wait for the general step, where the
session's agents 1001 and 1002 answer. The menu speaks 0.3 s tones (tone_ivr).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from hotline.acd import live_keys
from hotline.acd.settings import LiveSettings, WideningSettings
from hotline.acd.widening import BEHIND, ON_TARGET, plan
from tests.helpers.ivr_calls import Phone, walk
from tests.helpers.session_hotline import (
    AGENTS,
    NAMESPACE,
    OWN_SERVICE_PORTS,
    WIDENING,
    Hotline,
)

pytestmark = pytest.mark.usefixtures("tone_ivr")

AGENT, PORT, MEDIA = "1024", 5106, 18400
TARGET = LiveSettings().target_percent
KEY = "1"  # consultation


def live_window() -> dict[str, Any]:
    """The consultation queue's window figures, as the live service keeps them in Redis
    and the IVR reads them when a caller joins."""
    r = redis.Redis(port=OWN_SERVICE_PORTS["redis"], decode_responses=True, socket_timeout=2)
    try:
        raw = r.hget(live_keys.queue_key(NAMESPACE, "consultation"), "json")
    finally:
        r.close()
    return dict(json.loads(str(raw))["window"]) if raw else {}


def finished(window: dict[str, Any]) -> int:
    return sum(int(window.get(k, 0)) for k in ("answered", "abandoned", "left"))


def level_after(before: int, timeout: float = 20) -> float | None:
    """The service level at 20 s once the live service has counted one more finished call."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        window = live_window()
        if finished(window) > before:
            value = window["service_level"]["20"]
            return None if value is None else float(value)
        time.sleep(0.3)
    raise AssertionError(f"the live numbers did not count the call: {live_window()}")


def step_at(call: dict[str, Any], step: str) -> int:
    taken = {name: int(at) for name, at in (w.split("@", 1) for w in call["widening"])}
    assert step in taken, call
    return taken[step]


@pytest.fixture
def consultation_agent(hotline: Hotline, tmp_path: Path) -> Iterator[None]:
    phone = Phone(tmp_path, PORT, MEDIA).start()
    try:
        hotline.cli(
            "agent", "add", AGENT, "--contact", f"sip:{AGENT}@127.0.0.1:{PORT}",
            "--skills", "consultation", "--name", "咨询坐席",
        )  # fmt: skip
        yield
    finally:
        hotline.cli("agent", "logout", AGENT, check=False)
        phone.stop()


def call(
    hotline: Hotline, tmp_path: Path, number: str, talk_ms: int
) -> tuple[dict[str, Any], float | None]:
    """A consultation caller who talks (or waits) talk_ms after the key; the call record,
    and the queue's live service level once the call is counted."""
    before = finished(live_window())
    result = walk(tmp_path, number, [(1500, KEY)], talk_ms=talk_ms)
    assert result.ok, result.stdout[-2000:]
    return hotline.wait_call(number, timeout=60), level_after(before)


def test_behind_target_the_general_pool_comes_sooner(
    hotline: Hotline, consultation_agent: None, tmp_path: Path
) -> None:
    steps = WideningSettings(**WIDENING)
    on_target, behind = plan(steps, 100.0, TARGET), plan(steps, 0.0, TARGET)
    assert behind.general < on_target.general  # what the test is to show, in the settings

    # on target: callers answered at once by the queue's own agent
    hotline.cli("agent", "login", AGENT)
    level: float | None = None
    for n in range(1, 6):
        answered, level = call(hotline, tmp_path, f"1390000130{n}", talk_ms=2000)
        assert answered["agent"] == AGENT and answered["wait_seconds"] < 20, answered
        if level is not None and level >= TARGET:
            break
    assert level is not None and level >= TARGET, level
    hotline.cli("agent", "logout", AGENT)

    first, _ = call(hotline, tmp_path, "13900001311", talk_ms=on_target.general * 1000 + 6000)
    assert first["widening_pace"] == ON_TARGET, first
    assert first["agent"] in {a["id"] for a in AGENTS}, first
    # the record counts whole seconds from the join, the dialplan's step a moment later
    assert on_target.general <= step_at(first, "general") <= on_target.general + 2, first

    # below target: callers who give up while they wait in the queue
    for n in range(1, 6):
        gave_up, level = call(hotline, tmp_path, f"1390000132{n}", talk_ms=3000)
        assert gave_up["disposition"] == "abandoned_in_queue", gave_up
        if level is not None and level < TARGET:
            break
    assert level is not None and level < TARGET, level

    second, _ = call(hotline, tmp_path, "13900001331", talk_ms=behind.general * 1000 + 6000)
    assert second["widening_pace"] == BEHIND, second
    assert second["agent"] in {a["id"] for a in AGENTS}, second
    assert behind.general <= step_at(second, "general") <= behind.general + 2, second
    assert step_at(second, "general") < step_at(first, "general"), (first, second)
