"""ACD settings (wrap-up, widening) and what they and the feature codes render into
Asterisk's config; mistakes in them explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.acd.settings import AcdSettings, AgentSettings, QueueSettings
from hotline.app import render
from hotline.config.settings import Settings, load_settings
from hotline.kernel.errors import ConfigError

# these load configuration files without a var_dir: the test's own, not the checkout's
pytestmark = pytest.mark.usefixtures("own_var")


@pytest.mark.parametrize(
    ("text", "where", "allowed"),
    [
        ("acd: {wrapup_seconds: -1}\n", "acd.wrapup_seconds", "greater than or equal to 0"),
        ("acd: {wrapup_seconds: soon}\n", "acd.wrapup_seconds", "valid integer"),
        ("acd: {wrapup: 5}\n", "acd.wrapup", "Extra inputs are not permitted"),
        (
            "queues: [{name: general, wrapup_seconds: 5000}]\n",
            "queues.0.wrapup_seconds",
            "less than or equal to 3600",
        ),
        (
            "acd: {widening: {secondary_after_seconds: 30, general_after_seconds: 10}}\n",
            "acd.widening",
            "secondary_after_seconds must not be after general_after_seconds",
        ),
        (
            "acd: {widening: {trunk_after_seconds: 30}}\n",
            "acd.widening",
            "trunk_after_seconds needs acd.overflow",
        ),
        (
            "acd: {widening: {behind_factor: 2}}\n",
            "acd.widening.behind_factor",
            "less than or equal to 1",
        ),
        (
            "queues: [{name: general, widening: {general_after: 10}}]\n",
            "queues.0.widening.general_after",
            "Extra inputs are not permitted",
        ),
        ("acd: {overflow: {endpoint: carrier}}\n", "acd.overflow.address", "Field required"),
    ],
)
def test_acd_mistakes_are_explained(tmp_path: Path, text: str, where: str, allowed: str) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and where in str(err.value) and allowed in str(err.value)


def test_a_queue_may_have_its_own_wrap_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(
        "acd: {wrapup_seconds: 20}\n"
        "queues: [{name: complaint, wrapup_seconds: 0}, {name: general}]\n",
        encoding="utf-8",
    )
    s = load_settings(path)
    assert (s.wrapup_seconds("complaint"), s.wrapup_seconds("general")) == (0, 20)
    assert s.wrapup_seconds("nope") == 0
    monkeypatch.delenv("HOTLINE_CONFIG_FILE", raising=False)
    assert load_settings(tmp_path / "absent.yaml").acd.wrapup_seconds == 15  # the default


def test_rendered_wrap_up_and_feature_codes(tmp_path: Path, asterisk_root: Path) -> None:
    root = asterisk_root
    settings = Settings(
        var_dir=tmp_path / "var",
        asterisk_root=root,
        acd=AcdSettings(wrapup_seconds=15),
        queues=[QueueSettings(name="complaint", wrapup_seconds=30), QueueSettings(name="general")],
        agents=[AgentSettings(id="1001", skills=["complaint"], contact="sip:1001@127.0.0.1")],
    )
    render.render_all(settings)
    queues = (root / "etc/asterisk/queues.conf").read_text()
    assert "[hotline-complaint](hotline-queue-defaults)\nwrapuptime=30" in queues
    assert "[hotline-general](hotline-queue-defaults)\nwrapuptime=15" in queues
    ext = (root / "etc/asterisk/extensions.conf").read_text()
    agents = ext[ext.index("[hotline-agents]") :]
    for code in ("*11,", "*12,", "*131,", "*135,", "*14,", "_*13X,"):
        assert f"exten => {code}1," in agents, code
    assert "PauseQueueMember(,PJSIP/${CHANNEL(endpoint)},,leader_duty)" in agents
    assert (
        "exten => 1001,1,NoOp(log in agent 1001)\n"
        " same => n,AddQueueMember(hotline-complaint,PJSIP/1001,0,,1001,PJSIP/1001)\n"
        " same => n,AddQueueMember(hotline-general,PJSIP/1001,0,,1001,PJSIP/1001)\n"
    ) in agents
