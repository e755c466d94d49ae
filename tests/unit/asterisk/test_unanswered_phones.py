"""What RONA and qualify render into Asterisk's configuration: each agent's aor is asked
every sip.agent_qualify_seconds (or the agent's own), and the queues pause an agent whose
phone rang unanswered for acd.ring_seconds (autopause), unless turned off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.acd.settings import AcdSettings, AgentSettings
from hotline.app import render
from hotline.asterisk.settings import SipSettings
from hotline.config.settings import Settings

pytestmark = pytest.mark.usefixtures("own_var")

AGENTS = [
    AgentSettings(id="1001", skills=[], contact="sip:1001@127.0.0.1:5070"),
    AgentSettings(id="1002", skills=[], password="a-test-password"),
    AgentSettings(id="1003", skills=[], contact="sip:1003@127.0.0.1:5074", qualify_seconds=0),
]


def sections(path: Path, kind: str | None = None) -> dict[str, dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    out = {}
    for name, body in re.findall(r"^\[([^\]]+)\][^\n]*\n(.*?)(?=^\[|\Z)", text, re.M | re.S):
        options = dict(re.findall(r"^(\w+)=(\S*)", body, re.M))
        if kind is None or options.get("type") == kind:
            out[name] = options
    return out


def render_with(tmp_path: Path, root: Path, **kw: object) -> Path:
    render.render_all(
        Settings(var_dir=tmp_path / "var", asterisk_root=root, agents=AGENTS, **kw)  # type: ignore[arg-type]
    )
    return root / "etc/asterisk"


def test_every_phone_is_qualified_unless_its_agent_says_not(
    tmp_path: Path, asterisk_root: Path
) -> None:
    etc = render_with(tmp_path, asterisk_root, sip=SipSettings(agent_qualify_seconds=7))
    aors = sections(etc / "pjsip.conf", "aor")
    assert {a: (o["qualify_frequency"], o["qualify_timeout"]) for a, o in aors.items()} == {
        "1001": ("7", "3.0"),
        "1002": ("7", "3.0"),  # a softphone's registered contact is asked too
        "1003": ("0", "3.0"),
    }


def test_queues_pause_an_agent_whose_phone_rang_unanswered(
    tmp_path: Path, asterisk_root: Path
) -> None:
    etc = render_with(tmp_path, asterisk_root, acd=AcdSettings(ring_seconds=12))
    defaults = sections(etc / "queues.conf")["hotline-queue-defaults"]
    assert (defaults["timeout"], defaults["autopause"]) == ("12", "all")
    assert (defaults["autopausebusy"], defaults["autopauseunavail"]) == ("no", "no")
    etc = render_with(tmp_path, asterisk_root, acd=AcdSettings(no_answer_pause=False))
    assert sections(etc / "queues.conf")["hotline-queue-defaults"]["autopause"] == "no"
