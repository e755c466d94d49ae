"""Skills with a proficiency through the real Asterisk: of two free agents with the
suggestion skill, the more proficient one answers, call after call (app_queue's
longest-idle rule alone would alternate); the pool widens while a caller waits: to
the skill's less proficient agents, then to the general pool, each step on the record.

The menu speaks 0.3 s tones (conftest's tone_ivr): a caller who presses a key at 1.5 s is
in the queue about half a second later, and talk_ms counts from the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.acd.settings import WideningSettings
from hotline.acd.widening import plan
from tests.helpers.ivr_calls import Phone, walk
from tests.helpers.session_hotline import AGENTS, HELP_WIDENING, OVERFLOW_CENTRE, WIDENING, Hotline

pytestmark = pytest.mark.usefixtures("tone_ivr")

SUGGESTION_AGENTS = {"1006": ("suggestion:2", 5080, 17600), "1007": ("suggestion", 5082, 17700)}


@pytest.fixture
def suggestion_desk(hotline: Hotline, tmp_path: Path) -> Iterator[None]:
    phones = []
    try:
        for agent_id, (skill, port, media) in SUGGESTION_AGENTS.items():
            phones.append(Phone(tmp_path, port, media).start())
            hotline.cli(
                "agent", "add", agent_id, "--contact", f"sip:{agent_id}@127.0.0.1:{port}",
                "--skills", skill, "--name", f"建议坐席{agent_id}",
            )  # fmt: skip
            hotline.cli("agent", "login", agent_id)
        yield
    finally:
        for agent_id in SUGGESTION_AGENTS:
            hotline.cli("agent", "logout", agent_id, check=False)
        for phone in phones:
            phone.stop()


def test_the_most_proficient_free_agent_answers(
    hotline: Hotline, suggestion_desk: None, tmp_path: Path
) -> None:
    members = hotline.cli("asterisk", "cli", "queue show hotline-suggestion")
    assert "with penalty 3" in members and "1007" in members, members
    for number in ("13900000501", "13900000502"):
        result = walk(tmp_path, number, [(1500, "5")], talk_ms=5000)
        assert result.ok, result.stdout[-2000:]
        call = hotline.wait_call(number)
        assert call["queue"] == "suggestion" and call["agent"] == "1007", call


def step_at(call: dict[str, Any], step: str) -> int:
    """When the call record says a widening step was taken (seconds since the join)."""
    taken = {name: int(at) for name, at in (w.split("@", 1) for w in call["widening"])}
    assert step in taken, call
    return taken[step]


def test_the_skills_other_agents_answer_after_the_secondary_step(
    hotline: Hotline, suggestion_desk: None, tmp_path: Path
) -> None:
    hotline.cli("agent", "logout", "1007")  # the proficient one: only 1006 (suggestion:2)
    number = "13900000503"
    result = walk(tmp_path, number, [(1500, "5")], talk_ms=8000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call(number)
    assert call["agent"] == "1006" and call["queues"] == ["suggestion"], call
    expected = plan(
        WideningSettings(**WIDENING), 100.0 if call["widening_pace"] == "on-target" else 0.0, 95.0
    )
    assert call["widening"] == [f"secondary@{step_at(call, 'secondary')}"], call
    # nobody answered before the step: 1006 was free all along
    assert step_at(call, "secondary") >= expected.secondary - 1, call
    assert call["wait_seconds"] >= expected.secondary - 1, call


def test_the_widening_step_reaches_a_general_agent_after_the_configured_wait(
    hotline: Hotline, tmp_path: Path
) -> None:
    # key 2, help: no agent has the skill; the session's agents serve the general pool
    number = "13900000504"
    result = walk(tmp_path, number, [(1500, "2")], talk_ms=10000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call(number)
    assert call["queues"] == ["help", "general"], call
    assert call["agent"] in {a["id"] for a in AGENTS}, call
    assert [w.split("@")[0] for w in call["widening"]] == ["secondary", "general"], call
    # the plan the IVR chose from the help queue's live service level
    pace = call["widening_pace"]
    assert pace in ("on-target", "behind", "unknown"), call
    level = {"on-target": 100.0, "behind": 0.0, "unknown": None}[pace]
    expected = plan(WideningSettings(**HELP_WIDENING), level, 95.0)
    assert step_at(call, "general") >= expected.general - 1, call
    assert call["wait_seconds"] >= expected.general - 1, call


@pytest.fixture
def agents_paused(hotline: Hotline) -> Iterator[None]:
    """The session's agents logged in but paused: nobody answers, yet the estimated wait
    is known, so the caller goes straight into the queue without the callback offer."""
    for a in AGENTS:
        hotline.cli("agent", "pause", str(a["id"]), "--reason", "meeting")
    try:
        yield
    finally:
        for a in AGENTS:
            hotline.cli("agent", "unpause", str(a["id"]))


def test_nobody_free_here_the_other_centre_takes_the_call_over_the_overflow_trunk(
    hotline: Hotline, agents_paused: None, tmp_path: Path
) -> None:
    number = "13900000505"
    centre = Phone(tmp_path, OVERFLOW_CENTRE, 17800).start()
    try:
        result = walk(tmp_path, number, [(1500, "2")], talk_ms=21000)
    finally:
        centre.stop()
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call(number)
    steps = [w.split("@")[0] for w in call["widening"]]
    assert steps == ["secondary", "general", "trunk", "trunk-answered"], call
    assert call["disposition"] == "overflowed" and call["agent"] == "", call
    level = {"on-target": 100.0, "behind": 0.0, "unknown": None}[call["widening_pace"]]
    expected = plan(WideningSettings(**HELP_WIDENING), level, 95.0)
    assert step_at(call, "trunk") >= expected.general, call
    # the other centre was called on its number, with the citizen's number kept
    invite = centre.received()
    assert "INVITE sip:12345@127.0.0.1:5094" in invite, invite[-2000:]
    assert f"<sip:{number}@" in invite, invite[-2000:]
