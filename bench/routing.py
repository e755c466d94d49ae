"""Measurement 8: from an agent becoming free to the next waiting caller's INVITE.

One agent (a SIPp phone that answers, talks `talk_ms` and hangs up) serves a
queue that callers fill faster than it empties, so a caller is always waiting when
the agent frees. The agent's SIP message trace gives, for each call, the time from
its BYE to the next INVITE it receives. ENG routes through the engine's menu to its
queue; REF through the dialplan-only menu to the same app_queue queue.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

from bench.harness import TARGETS, BenchHotline, progress
from hotline.acd.simulate import scenario

AGENT = {
    "id": "2001",
    "name": "bench agent",
    "skills": ["complaint"],
    "contact": "sip:2001@127.0.0.1:5090",
    "qualify_seconds": 0,  # one SIPp run of -m calls: a qualify's OPTIONS would count as one
}
AGENT_PORT, AGENT_MEDIA = 5090, 17500
STAMP = re.compile(r"^-{5,} (\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d\.\d+)")


def agent_events(log: Path) -> list[tuple[float, str]]:
    """(time, "INVITE" received | "BYE" sent) from a SIPp -trace_msg log."""
    events: list[tuple[float, str]] = []
    lines = log.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        m = STAMP.match(line)
        if not m or i + 3 >= len(lines):
            continue
        t = datetime.fromisoformat(f"{m.group(1)} {m.group(2)}").timestamp()
        direction = lines[i + 1]
        first = next((x for x in lines[i + 2 : i + 5] if x.strip()), "")
        if "received" in direction and first.startswith("INVITE "):
            events.append((t, "INVITE"))
        elif "sent" in direction and first.startswith("BYE "):
            events.append((t, "BYE"))
    return events


def delays_ms(events: list[tuple[float, str]]) -> list[float]:
    out, free_at = [], None
    for t, kind in sorted(events):
        if kind == "BYE":
            free_at = t
        elif free_at is not None:
            out.append((t - free_at) * 1000)
            free_at = None
    return out


def routing_delay(
    h: BenchHotline, target: str, calls: int = 30, rate: float = 4, talk_ms: int = 1000
) -> list[float]:
    prefix = h.next_prefix()
    work = h.var / f"routing-{prefix}"
    work.mkdir()
    sip = f"127.0.0.1:{h.settings.sip.port}"
    agent_xml, caller_xml = work / "agent.xml", work / "caller.xml"
    agent_xml.write_text(scenario("agent_talks.xml", talk_ms=talk_ms, asterisk=sip))
    caller_xml.write_text(scenario("wait_for_agent.xml", prefix=prefix, key=3))
    log = work / "agent_messages.log"
    budget = calls * (talk_ms / 1000 + 3) + 60
    # fmt: off
    agent = subprocess.Popen(
        ["sipp", "-sf", str(agent_xml), "-i", "127.0.0.1", "-p", str(AGENT_PORT),
         "-mp", str(AGENT_MEDIA), "-m", str(calls), "-nostdin", "-trace_msg",
         "-message_file", str(log), "-timeout", f"{budget:.0f}s"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        ["sipp", sip, "-sf", str(caller_xml), "-s", TARGETS[target], "-r", f"{rate:g}",
         "-m", str(calls), "-l", str(calls), "-i", "127.0.0.1", "-p", "5061", "-mp", "16000",
         "-nostdin", "-timeout", f"{budget:.0f}s"],
        cwd=work, capture_output=True, check=False, timeout=budget + 30,
    )
    # fmt: on
    try:
        agent.wait(30)
    except subprocess.TimeoutExpired:
        agent.kill()
    h.drain()
    d = delays_ms(agent_events(log)) if log.exists() else []
    progress(f"{target}: {len(d)} agent-free -> next INVITE intervals measured")
    return d
