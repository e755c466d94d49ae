"""Skills with a proficiency through the real Asterisk: of two free agents with the
suggestion skill, the more proficient one answers, call after call (app_queue's
longest-idle rule alone would alternate)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.ivr_calls import Phone, walk
from tests.integration.conftest import Hotline

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
        result = walk(tmp_path, number, [(1500, "5")], talk_ms=9000)
        assert result.ok, result.stdout[-2000:]
        call = hotline.wait_call(number)
        assert call["queue"] == "suggestion" and call["agent"] == "1007", call
