"""`hotline simulate` against the test hotline: Poisson callers, SIPp agents, and every
offered call found in the call records (answered or abandoned)."""

from __future__ import annotations

import re

from tests.integration.conftest import Hotline


def test_a_short_simulation_accounts_for_every_offered_call(
    hotline: Hotline, no_agents: None
) -> None:
    out = hotline.cli(
        "simulate", "--agents", "2", "--calls-per-hour", "900", "--aht", "3", "--minutes", "0.25",
        timeout=400,
    )  # fmt: skip
    m = re.search(r"offered (\d+), answered (\d+), abandoned (\d+), unaccounted (\d+)", out)
    assert m, out
    offered, answered, abandoned, unaccounted = map(int, m.groups())
    assert offered >= 1 and unaccounted == 0, out
    assert answered + abandoned == offered, out
    sl = re.search(r"measured (\d+\.\d)%, Erlang C (\d+\.\d)%", out)
    assert sl, out
    # the sim agents are logged out again: the queue is as the test found it
    assert "sim01" not in hotline.cli("asterisk", "cli", "queue show hotline-general")
