"""`hotline simulate` against the test hotline: Poisson callers, SIPp agents, every
offered call found in the call records (answered or abandoned), and the service level
the system reported (its live numbers) equal to the one recomputed from the records.

The menu's prompts are 0.3 s tones (conftest's tone_ivr): a simulated caller stays on the
line for the survey after the agent hangs up (two attempts, each the prompt and 6 s for
a key), which with the spoken prompts adds half a minute after the last call."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.session_hotline import Hotline


def test_a_short_simulation_accounts_for_every_call_and_the_service_levels_agree(
    hotline: Hotline, tone_ivr: Path, no_agents: None
) -> None:
    # One agent and talk times of 5 s on average: a queue builds up, so that with the
    # seeded arrivals some callers wait longer than 15 s and others do not.
    out = hotline.cli(
        "simulate", "--agents", "1", "--calls-per-hour", "900", "--aht", "5",
        "--minutes", "0.25", "--target", "15",
        timeout=400,
    )  # fmt: skip
    print(out)
    m = re.search(r"offered (\d+), answered (\d+), abandoned (\d+), unaccounted (\d+)", out)
    assert m, out
    offered, answered, abandoned, unaccounted = map(int, m.groups())
    assert offered >= 3 and unaccounted == 0, out
    assert answered + abandoned == offered, out

    def judged(who: str) -> tuple[int, int]:
        found = re.search(who + r": answered within 15 s (\d+) of (\d+) finished", out)
        assert found, out
        return int(found.group(1)), int(found.group(2))

    records = judged("call records")
    system = judged(r"the system \(live numbers, queue general\)")
    assert system == records, out
    assert records[1] == offered, out  # every offered call was judged on both sides
    assert "other call" not in out
    assert re.search(r"measured (\d+\.\d)%, Erlang C (\d+\.\d)%", out), out
    # the sim agents are logged out again: the queue is as the test found it
    assert "sim01" not in hotline.cli("asterisk", "cli", "queue show hotline-general")
