"""`hotline call`: the README's test call, a product command (no test helpers), against
the session's hotline; its printed summary read from the stored call and work order."""

from __future__ import annotations

import re
import subprocess
from datetime import date

from tests.helpers.ports import SIP_TARGET
from tests.helpers.session_hotline import HOTLINE, REPO, Hotline


def test_hotline_call_3_shows_complaint_agent_record_and_due_date(hotline: Hotline) -> None:
    out = hotline.cli("call", "3", "--from", "13900009001")  # talks 8 s, as the README
    print(out)  # the summary, in the log
    assert f"calling sip:12345@{SIP_TARGET} from 13900009001: keys 3, talking 8 s" in out, out
    assert re.search(r"^menu: +3 -> complaint 投诉 \(chosen\)$", out, re.M), out
    assert re.search(r"^queue: +complaint 投诉, waited \d+\.\d s$", out, re.M), out
    assert re.search(r"^agent: +agent 1001 answered at ", out, re.M), out
    assert re.search(r"^call record: #\d+ linkedid \S+, answered, ", out, re.M), out
    assert re.search(r"^recording: +/\S+\.wav ", out, re.M), out
    order = re.search(
        r"^work order: +(\S+) draft, complaint 投诉, due (\S+) \(10 working", out, re.M
    )
    assert order, out
    number, due = order.groups()
    assert date.fromisoformat(due) > date.today()
    # the same order as `hotline orders show` sees it
    assert number in hotline.cli("orders", "show", number)
    call = hotline.wait_call("13900009001")
    assert f"linkedid {call['linkedid']}," in out and call["agent"] == "1001"


def test_hotline_call_without_a_running_hotline_says_so(hotline: Hotline) -> None:
    env = {**hotline.env, "HOTLINE_SIP__PORT": "5099"}  # where nothing listens
    out = subprocess.run(
        [*HOTLINE, "call", "3", "--from", "13900009002"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 1, out
    assert "the hotline is not running: nothing answers SIP at 127.0.0.1:5099" in out.stderr
