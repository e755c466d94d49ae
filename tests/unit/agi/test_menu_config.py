"""config/ivr.yaml: the shipped menu loads; each kind of mistake is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.agi.menu import DEFAULT_MENU_FILE, load_menu, menu_file
from hotline.agi.tree import MenuNode, QueueNode, load_ivr
from hotline.kernel.errors import ConfigError
from hotline.workorders.deadlines import RequestType

QUEUES = [
    "consultation",
    "help",
    "complaint",
    "report",
    "suggestion",
    "enterprise",
    "zhuang",
    "general",
]

GOOD = """\
welcome_prompt: hotline/welcome
menu_prompt: hotline/menu
invalid_prompt: hotline/invalid
transfer_prompt: hotline/transfer
menu_timeout_seconds: 5
max_attempts: 3
fallback_queue: general
keys:
  "1": {request_type: consultation, queue: consultation}
  "3": {request_type: complaint, queue: complaint}
  "*": {queue: general, emergency: true}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ivr.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_menu(path, QUEUES)
    message = str(info.value)
    assert str(path) in message
    return message


def test_shipped_menu_loads() -> None:
    config = load_ivr(DEFAULT_MENU_FILE, QUEUES)
    menu = config.trees["main"].nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert set(menu.keys) == set("1234567890*")  # DESIGN.md's keys, 8 = not accepted
    assert menu.repeat_key == "#"
    complaint = config.trees["main"].nodes[menu.keys["3"]]
    assert isinstance(complaint, QueueNode)
    assert complaint.queue == "complaint"
    assert complaint.request_type is RequestType.COMPLAINT
    assert config.tree_for("12366")[0] == "tax"
    assert config.tree_for("12345")[0] == config.tree_for("")[0] == "main"


def test_flat_menu_still_loads_as_one_tree(tmp_path: Path) -> None:
    """bench/ivr-bench.yaml keeps the older flat format."""
    config = load_ivr(write(tmp_path, GOOD), QUEUES)
    tree = config.trees["main"]
    assert config.sound("hotline/welcome") == "hotline/welcome"
    menu = tree.nodes["menu"]
    assert isinstance(menu, MenuNode)
    assert menu.escape_digits == "13*"


def test_menu_file_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOTLINE_IVR_FILE", raising=False)
    assert menu_file() == DEFAULT_MENU_FILE
    monkeypatch.setenv("HOTLINE_IVR_FILE", str(tmp_path / "other.yaml"))
    assert menu_file() == tmp_path / "other.yaml"


def test_good_menu(tmp_path: Path) -> None:
    menu = load_menu(write(tmp_path, GOOD), QUEUES)
    assert menu.escape_digits == "13*"


def test_unquoted_number_keys_are_accepted(tmp_path: Path) -> None:
    menu = load_menu(write(tmp_path, GOOD.replace('"1":', "1:")), QUEUES)
    assert "1" in menu.keys


def test_unknown_queue(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("queue: complaint}", "queue: complant}"))
    assert 'keys."3".queue' in message
    assert "complant" in message
    assert "allowed: complaint, consultation, enterprise, general" in message


def test_unknown_fallback_queue(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("fallback_queue: general", "fallback_queue: x"))
    assert "fallback_queue: unknown queue 'x'" in message


def test_bad_request_type(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("request_type: complaint", "request_type: rant"))
    assert 'keys."3".request_type' in message
    for allowed in ("consultation", "help", "complaint", "report", "suggestion", "praise"):
        assert allowed in message


@pytest.mark.parametrize(
    ("key", "where"),
    [('"8x"', 'keys."8x"'), ('"a"', 'keys."a"'), ("10", 'keys."10"'), ('""', 'keys.""')],
)
def test_bad_key(tmp_path: Path, key: str, where: str) -> None:
    message = error_for(tmp_path, GOOD.replace('"3":', f"{key}:"))
    assert f"{where}: " in message
    assert "allowed: 0-9, *, #" in message


def test_missing_field_in_key(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("{request_type: complaint, queue: complaint}", "{}"))
    assert 'keys."3".queue: required field is missing' in message


def test_missing_top_level_field(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("menu_prompt: hotline/menu\n", ""))
    assert "menu_prompt: required field is missing" in message


def test_unknown_field(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("emergency: true", "emergncy: true"))
    assert 'keys."*".emergncy: unknown field; allowed: queue, request_type, emergency' in message


def test_bad_values(tmp_path: Path) -> None:
    text = GOOD.replace("max_attempts: 3", "max_attempts: 0").replace(
        "welcome_prompt: hotline/welcome", 'welcome_prompt: "../etc/passwd"'
    )
    message = error_for(tmp_path, text)
    assert "max_attempts:" in message
    assert "welcome_prompt:" in message


def test_no_keys(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.split("keys:")[0] + "keys: {}\n")
    assert "keys:" in message


def test_duplicate_key(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD + '  "3": {queue: general}\n')
    assert "given twice" in message


@pytest.mark.parametrize(
    "text", ["keys: [unclosed\n", "a: b: c\n", "keys:\n  *: {queue: general}\n"]
)
def test_not_yaml(tmp_path: Path, text: str) -> None:
    assert "not valid YAML" in error_for(tmp_path, text)


@pytest.mark.parametrize("text", ["", "- a list\n", "just text\n"])
def test_top_level_not_a_mapping(tmp_path: Path, text: str) -> None:
    assert "top level must be a mapping" in error_for(tmp_path, text)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_menu(path, QUEUES)
    assert str(path) in str(info.value)
