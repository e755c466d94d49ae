"""The emergency lines' trunk settings (emergency.lines) and what the dialplan makes of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hotline.app import render
from hotline.asterisk import TEMPLATES
from hotline.config.settings import Settings, load_settings
from hotline.kernel.errors import ConfigError

# these load configuration files without a var_dir: the test's own, not the checkout's
pytestmark = pytest.mark.usefixtures("own_var")


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hotline.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_flat_settings_are_every_lines_default(tmp_path: Path) -> None:
    flat = "emergency: {endpoint: trunk2, address: '10.0.0.9:5070', ring_seconds: 30}\n"
    s = load_settings(write(tmp_path, flat))
    for line in s.emergency.resolved():
        assert line.primary.uri == f"sip:{line.line}@10.0.0.9:5070"
        assert (line.primary.endpoint, line.primary.caller_id) == ("trunk2", "citizen")
        assert line.backup is None and line.ring_seconds == 30
        assert line.feature_code == f"*{line.line}"


def test_one_line_of_its_own_with_a_backup(tmp_path: Path) -> None:
    s = load_settings(
        write(
            tmp_path,
            """
emergency:
  caller_id: hotline
  lines:
    119:
      destination: {host: fire.example, port: 5061, prefix: "0771", caller_id: citizen}
      backup: {host: "[2001:db8::1]", endpoint: backup-trunk}
      ring_seconds: 20
      feature_code: "*91"
""",
        )
    )
    fire = s.emergency.resolve("119")
    assert fire.primary.uri == "sip:0771119@fire.example:5061"
    assert fire.primary.caller_id == "citizen"
    assert fire.backup is not None
    assert fire.backup.uri == "sip:119@[2001:db8::1]:5060"
    assert (fire.backup.endpoint, fire.backup.caller_id) == ("backup-trunk", "hotline")
    assert (fire.ring_seconds, fire.feature_code) == (20, "*91")
    police = s.emergency.resolve("110")  # untouched lines keep the defaults
    assert police.primary.uri == "sip:110@127.0.0.1:5090" and police.primary.caller_id == "hotline"


@pytest.mark.parametrize(
    ("text", "where", "allowed"),
    [
        ("emergency: {lines: {'118': {}}}\n", "emergency.lines", "allowed: 110, 119, 120, 122"),
        (
            "emergency: {lines: {'119': {destinaton: {host: a}}}}\n",
            "emergency.lines.119.destinaton",
            "allowed: destination, backup, ring_seconds, feature_code",
        ),
        (
            "emergency: {lines: {'119': {backup: {host: a, prefx: '9'}}}}\n",
            "emergency.lines.119.backup.prefx",
            "allowed: host, port, prefix, caller_id, endpoint",
        ),
        (
            "emergency: {lines: {'120': {destination: {host: a, caller_id: caller}}}}\n",
            "emergency.lines.120.destination.caller_id",
            "'citizen' or 'hotline'",
        ),
        (
            "emergency: {lines: {'120': {destination: {host: 'a b'}}}}\n",
            "emergency.lines.120.destination.host",
            "pattern",
        ),
        ("emergency: {lines: {'110': {ring_seconds: 1}}}\n", "ring_seconds", "greater than"),
        (
            "emergency: {lines: {'110': {feature_code: '*1'}, '119': {feature_code: '*19'}}}\n",
            "emergency",
            "'*1' is the start of '*19'",
        ),
        ("emergency: {caller_id: nobody}\n", "emergency.caller_id", "'citizen' or 'hotline'"),
    ],
)
def test_mistakes_are_explained(tmp_path: Path, text: str, where: str, allowed: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    msg = str(err.value)
    assert str(path) in msg and where in msg and allowed in msg, msg


def rendered(settings: Settings, name: str) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - Asterisk config
    )
    env.filters["sipsafe"] = render._sipsafe
    ctx: dict[str, Any] = render.context(settings)
    return env.get_template(f"{name}.j2").render(ctx)


def test_the_dialplan_dials_destination_then_backup_with_the_caller_id_policy(
    tmp_path: Path,
) -> None:
    s = load_settings(
        write(
            tmp_path,
            """
emergency:
  lines:
    "120":
      destination: {host: 10.0.0.1, caller_id: hotline}
      backup: {host: 10.0.0.2, port: 5080, prefix: "9"}
      ring_seconds: 25
""",
        )
    )
    s.ami.secret = "x"
    text = rendered(s, "extensions.conf")
    block = text[text.index("exten => 120,1") : text.index("exten => 122,1")]
    dials = [line for line in block.splitlines() if "Dial(" in line]
    assert dials == [
        " same => n,Dial(PJSIP/carrier/sip:120@10.0.0.1:5060,25,"
        "G(hotline-linkage-joined^${EXTEN}^1)f(12345))",
        " same => n,Dial(PJSIP/carrier/sip:9120@10.0.0.2:5080,25,"
        "G(hotline-linkage-joined^${EXTEN}^1))",
    ]
    assert "Destination: backup" in block
    # a line without a backup goes from its one destination straight to "failed"
    police = text[text.index("exten => 110,1") : text.index("exten => 119,1")]
    assert police.count("Dial(") == 1 and "hotline-linkage-failed" in police
    # the agent's leg (only) gets the feature codes; features.conf maps them
    assert "cb(hotline-agent-leg^s^1)" in text
    assert (
        "Set(DYNAMIC_FEATURES=hotline-linkage-110#hotline-linkage-119#"
        "hotline-linkage-120#hotline-linkage-122)" in text
    )
    features = rendered(s, "features.conf")
    assert "hotline-linkage-120 => *120,peer,Gosub(hotline-linkage-feature,120,1)" in features
    manager = rendered(s, "manager.conf")
    assert "ConfbridgeJoin|ConfbridgeLeave" in manager
    assert "write=agent,reporting,originate\n" in manager  # no new AMI privilege
