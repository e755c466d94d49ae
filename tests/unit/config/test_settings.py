"""A configuration mistake names the file, the field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config.settings import DEFAULT_CONFIG_FILE, Settings, load_settings
from hotline.kernel.errors import ConfigError

# these load configuration files without a var_dir: the test's own, not the checkout's
pytestmark = pytest.mark.usefixtures("own_var")


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hotline.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_need_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_CONFIG_FILE", raising=False)
    s = load_settings(tmp_path / "absent.yaml")
    assert (s.sip.port, s.ami.port, s.agi.port, s.api.port) == (5060, 5038, 4573, 8345)
    assert s.ami.host == s.agi.host == s.api.host == "127.0.0.1"
    assert "general" in s.queue_names()


def test_shipped_config_loads() -> None:
    s = load_settings(DEFAULT_CONFIG_FILE)
    assert s.sip.hotline_number == "12345"


@pytest.mark.parametrize(
    ("text", "where", "allowed"),
    [
        ("ami: {port: 70000}\n", "ami.port", "less than or equal to 65535"),
        ("sip: {hotline_number: '12a45'}\n", "sip.hotline_number", "pattern"),
        (
            "agents: [{id: '1001', skills: [complain], contact: 'sip:1001@10.0.0.1'}]\n",
            "unknown skills ['complain']",
            "allowed: [",
        ),
        (
            "agents: [{id: '1001', password: x, contact: 'sip:1001@10.0.0.1'}]\n",
            "agents.0",
            "exactly one of 'password'",
        ),
        (
            "agents: [{id: '1001', skills: ['complaint:9'], contact: 'sip:1001@10.0.0.1'}]\n",
            "agents.0.skills",
            "optionally with :1-5 for the proficiency",
        ),
        (
            "agents: [{id: '1001', skills: ['complian:3'], contact: 'sip:1001@10.0.0.1'}]\n",
            "unknown skills ['complian:3']",
            "allowed: [",
        ),
        ("queues: [{name: complaint}]\n", "queues", "'general' is required"),
        ("tenant: Nanning City\n", "tenant", "pattern"),
        ("api: {prot: 1}\n", "api.prot", "Extra inputs are not permitted"),
    ],
)
def test_mistakes_are_explained(tmp_path: Path, text: str, where: str, allowed: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    msg = str(err.value)
    assert str(path) in msg and where in msg and allowed in msg


def test_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "sip: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path)


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_API__PORT", "8400")
    assert load_settings(write(tmp_path, "api: {port: 8345}\n")).api.port == 8400


def test_env_for_one_option_keeps_the_files_other_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_API__PORT", "8400")
    s = load_settings(write(tmp_path, "api: {host: 127.0.0.9, port: 8345}\ntenant: liuzhou\n"))
    assert (s.api.host, s.api.port, s.tenant) == ("127.0.0.9", 8400, "liuzhou")


def test_a_load_leaves_nothing_behind(tmp_path: Path) -> None:
    a = load_settings(write(tmp_path, "tenant: liuzhou\n"))
    assert a.tenant == "liuzhou"
    assert Settings().tenant == "nanning"  # the next Settings sees no earlier file
    (tmp_path / "other").mkdir()
    assert load_settings(write(tmp_path / "other", "ami: {port: 5039}\n")).tenant == "nanning"


def test_proficiency_is_a_penalty_and_the_best_answers_first(tmp_path: Path) -> None:
    from hotline.acd.agents import all_agents

    path = write(
        tmp_path,
        "agents: [{id: '1001', skills: ['complaint:3', report], contact: 'sip:1001@10.0.0.1'}]\n",
    )
    agent = all_agents(load_settings(path))[0]
    assert agent.queues == ("complaint", "report", "general")
    assert [agent.penalty(q) for q in agent.queues] == [2, 0, 0]
