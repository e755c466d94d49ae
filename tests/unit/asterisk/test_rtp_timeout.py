"""The RTP timeouts (sip.carrier_rtp_timeout, sip.agent_rtp_timeout): what they render into
pjsip.conf for the carrier and each agent's phone, and mistakes in them explained."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.acd.settings import AgentSettings
from hotline.app import render
from hotline.asterisk.settings import RtpTimeout, SipSettings
from hotline.config.settings import Settings, load_settings
from hotline.kernel.errors import ConfigError

# these load configuration files without a var_dir: the test's own, not the checkout's
pytestmark = pytest.mark.usefixtures("own_var")

AGENTS = [
    AgentSettings(id="1001", skills=[], contact="sip:1001@127.0.0.1:5070"),
    AgentSettings(id="1002", skills=[], contact="sip:1002@127.0.0.1:5072"),
]


def endpoints(root: Path) -> dict[str, dict[str, str]]:
    """The rtp_timeout* options of each type=endpoint section of the rendered pjsip.conf."""
    text = (root / "etc/asterisk/pjsip.conf").read_text(encoding="utf-8")
    out: dict[str, dict[str, str]] = {}
    for name, body in re.findall(r"^\[([^\]]+)\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S):
        options = dict(re.findall(r"^(\w+)=(.*)$", body, re.M))
        if options.get("type") == "endpoint":
            out[name] = {k: v for k, v in options.items() if k.startswith("rtp_timeout")}
    return out


def rendered(tmp_path: Path, root: Path, sip: SipSettings) -> dict[str, dict[str, str]]:
    render.render_all(
        Settings(var_dir=tmp_path / "var", asterisk_root=root, sip=sip, agents=AGENTS)
    )
    return endpoints(root)


def test_defaults_end_a_silent_leg_after_60_s_and_a_held_one_after_600_s(
    tmp_path: Path, asterisk_root: Path
) -> None:
    want = {"rtp_timeout": "60", "rtp_timeout_hold": "600"}
    assert rendered(tmp_path, asterisk_root, SipSettings()) == {
        "carrier": want,
        "1001": want,
        "1002": want,
    }


def test_the_carrier_and_the_agents_phones_have_their_own(
    tmp_path: Path, asterisk_root: Path
) -> None:
    sip = SipSettings(
        carrier_rtp_timeout=RtpTimeout(seconds=30, on_hold_seconds=300),
        agent_rtp_timeout=RtpTimeout(seconds=0, on_hold_seconds=0),  # 0: never
    )
    got = rendered(tmp_path, asterisk_root, sip)
    assert got["carrier"] == {"rtp_timeout": "30", "rtp_timeout_hold": "300"}
    assert got["1001"] == got["1002"] == {"rtp_timeout": "0", "rtp_timeout_hold": "0"}


def test_from_the_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(
        "sip: {carrier_rtp_timeout: {seconds: 20}, agent_rtp_timeout: {on_hold_seconds: 0}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOTLINE_SIP__AGENT_RTP_TIMEOUT__SECONDS", "45")
    sip = load_settings(path).sip
    assert sip.carrier_rtp_timeout == RtpTimeout(seconds=20, on_hold_seconds=600)
    assert sip.agent_rtp_timeout == RtpTimeout(seconds=45, on_hold_seconds=0)


@pytest.mark.parametrize(
    ("text", "where", "allowed"),
    [
        (
            "sip: {carrier_rtp_timeout: {seconds: -1}}\n",
            "sip.carrier_rtp_timeout.seconds",
            "greater than or equal to 0",
        ),
        (
            "sip: {agent_rtp_timeout: {on_hold_seconds: a while}}\n",
            "sip.agent_rtp_timeout.on_hold_seconds",
            "valid integer",
        ),
        (
            "sip: {carrier_rtp_timeout: {seconds: 100000}}\n",
            "sip.carrier_rtp_timeout.seconds",
            "less than or equal to 86400",
        ),
        (
            "sip: {carrier_rtp_timeout: {seconds: 120, on_hold_seconds: 60}}\n",
            "sip.carrier_rtp_timeout",
            "on_hold_seconds must not be shorter than seconds (60 < 120)",
        ),
        (
            "sip: {rtp_timeout: 60}\n",
            "sip.rtp_timeout",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_mistakes_are_explained(tmp_path: Path, text: str, where: str, allowed: str) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    msg = str(err.value)
    assert str(path) in msg and where in msg and allowed in msg, msg


def test_zero_turns_either_off_whatever_the_other() -> None:
    assert RtpTimeout(seconds=0, on_hold_seconds=600).seconds == 0
    assert RtpTimeout(seconds=600, on_hold_seconds=0).on_hold_seconds == 0
