"""The tree format of config/ivr.yaml: each kind of mistake is refused with the file,
the path in the tree and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.agi.tree import FLOW_PROMPTS, load_ivr
from hotline.kernel.errors import ConfigError

QUEUES = ["complaint", "consultation", "zhuang", "general"]

GOOD = """\
prompt_dir: hotline
centres:
  - {number: "12366", tree: tax}
trees:
  main:
    start: welcome
    emergency_node: emergency
    nodes:
      welcome: {kind: play, prompt: welcome, next: menu}
      menu:
        kind: menu
        prompt: menu
        repeat_key: "#"
        keys: {"1": consultation, "3": complaint, "8": info, "9": zhuang, "*": emergency}
      info: {kind: play, prompt: not-accepted, next: menu}
      consultation: {kind: queue, queue: consultation, request_type: consultation}
      complaint: {kind: queue, queue: complaint, request_type: complaint}
      zhuang: {kind: queue, queue: zhuang, require_skill: true, unavailable_prompt: no-zhuang}
      emergency: {kind: menu, prompt: emergency-menu, keys: {"1": police}}
      police: {kind: transfer, number: "110"}
  tax:
    start: menu
    nodes:
      menu: {kind: menu, prompt: menu-tax, keys: {"0": agent}}
      agent: {kind: queue, queue: general}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ivr.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str, sounds: Path | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_ivr(path, QUEUES, sounds)
    message = str(info.value)
    assert str(path) in message
    return message


def sounds_for(tmp_path: Path, names: list[str]) -> Path:
    sounds = tmp_path / "sounds"
    (sounds / "hotline").mkdir(parents=True)
    for name in names:
        (sounds / "hotline" / f"{name}.wav").write_bytes(b"RIFF")
    return sounds


ALL_PROMPTS = [
    "welcome", "menu", "invalid", "not-accepted", "no-zhuang", "emergency-menu", "menu-tax",
    "transfer", "blocked", "survey", "survey-thanks",
]  # fmt: skip


def test_good_tree(tmp_path: Path) -> None:
    config = load_ivr(write(tmp_path, GOOD), QUEUES, sounds_for(tmp_path, ALL_PROMPTS))
    assert config.tree_for("12366")[0] == "tax"
    assert config.sound("welcome") == "hotline/welcome"
    menu = config.trees["main"].next_menu("welcome")
    assert menu is not None and menu.escape_digits == "1389*#"


def test_unknown_node(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('"3": complaint', '"3": complant'))
    assert "trees.main.nodes.menu.keys.\"3\": unknown node 'complant'" in message
    assert "allowed: complaint, consultation, emergency, info, menu, police, welcome" in message


def test_unknown_next_and_start(tmp_path: Path) -> None:
    text = GOOD.replace("next: menu}", "next: menuu}", 1).replace("start: menu", "start: x")
    message = error_for(tmp_path, text)
    assert "trees.main.nodes.welcome.next: unknown node 'menuu'" in message
    assert "trees.tax.start: unknown node 'x'; allowed: agent, menu" in message


def test_key_used_twice_in_yaml(tmp_path: Path) -> None:
    text = GOOD.replace('"1": consultation, "3"', '"1": consultation, "1": help, "3"')
    assert "given twice" in error_for(tmp_path, text)


def test_key_used_twice_as_number_and_text(tmp_path: Path) -> None:
    text = GOOD.replace('"1": consultation, "3"', '"1": consultation, 1: complaint, "3"')
    message = error_for(tmp_path, text)
    assert "trees.main.nodes.menu: key '1' used twice in keys" in message


def test_key_used_twice_as_repeat_key(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('repeat_key: "#"', 'repeat_key: "3"'))
    assert "key '3' used twice: in keys and as repeat_key" in message


def test_missing_prompt_file(tmp_path: Path) -> None:
    sounds = sounds_for(tmp_path, [p for p in ALL_PROMPTS if p != "no-zhuang"])
    message = error_for(tmp_path, GOOD, sounds)
    assert "trees.main.nodes.zhuang.unavailable_prompt: missing prompt file" in message
    assert str(sounds / "hotline" / "no-zhuang") + ".wav" in message
    assert "config/prompts.yaml" in message


def test_subflow_needs_its_fragments(tmp_path: Path) -> None:
    text = GOOD.replace(
        "info: {kind: play, prompt: not-accepted, next: menu}",
        "info: {kind: subflow, flow: progress, next: menu}",
    )
    sounds = sounds_for(tmp_path, ALL_PROMPTS)
    message = error_for(tmp_path, text, sounds)
    assert "trees.main.nodes.info.flow (progress needs it): missing prompt file" in message
    for name in FLOW_PROMPTS["progress"][:3]:
        (sounds / "hotline" / f"{name}.wav").write_bytes(b"")
    assert "progress-enter.wav" not in error_for(tmp_path, text, sounds)


def test_loop_without_exit(tmp_path: Path) -> None:
    text = GOOD.replace(
        "info: {kind: play, prompt: not-accepted, next: menu}",
        "info: {kind: play, prompt: not-accepted, next: info2}\n"
        "      info2: {kind: play, prompt: welcome, next: info}",
    ).replace('"8": info', '"8": info')
    message = error_for(tmp_path, text)
    assert "trees.main.nodes.info: loop without exit: info -> info2 -> info" in message
    assert "must pass through a menu" in message


def test_loop_through_a_menu_is_fine(tmp_path: Path) -> None:
    # info -> menu -> info: the menu's failure goes to an agent
    load_ivr(write(tmp_path, GOOD), QUEUES)


def test_unknown_kind(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("kind: transfer", "kind: dial"))
    assert "trees.main.nodes.police: unknown or missing node kind" in message
    assert "allowed kinds: collect, hangup, menu, play, queue, subflow, transfer" in message


def test_unknown_field_names_the_kind_fields(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('number: "110"', 'number: "110", numbr: 1'))
    assert "trees.main.nodes.police.numbr: unknown field; allowed: kind, number" in message


def test_unknown_queue(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("queue: zhuang,", "queue: zhuan,"))
    assert "trees.main.nodes.zhuang.queue: unknown queue 'zhuan'" in message
    assert "allowed: complaint, consultation, general, zhuang" in message


def test_failure_must_go_to_an_exit(tmp_path: Path) -> None:
    text = GOOD.replace('keys: {"1": police}}', 'keys: {"1": police}, on_failure: welcome}')
    message = error_for(tmp_path, text)
    assert "trees.main.nodes.emergency.on_failure: 'welcome' is a play node" in message
    assert "allowed: a queue or hangup node" in message


def test_centre_with_unknown_tree(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("tree: tax}", "tree: taxes}"))
    assert "centres[0].tree: unknown tree 'taxes'; allowed: main, tax" in message


def test_bad_transfer_number(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('number: "110"', 'number: "110;x"'))
    assert "trees.main.nodes.police.number" in message


def test_shipped_prompts_have_texts() -> None:
    """Every prompt config/ivr.yaml uses has a Mandarin text in config/prompts.yaml."""
    import yaml

    from hotline.agi.menu import DEFAULT_MENU_FILE
    from hotline.asterisk.prompts import PROMPTS_FILE

    texts = yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))
    config = load_ivr(DEFAULT_MENU_FILE, ["consultation", "help", "complaint", "report",
                      "suggestion", "enterprise", "zhuang", "general"])  # fmt: skip
    missing = {prompt for _, prompt in config.prompts()} - set(texts)
    assert not missing
    assert "{city_name}" in texts["welcome"] and "录音" in texts["welcome"]
    assert "24小时" in texts["welcome"]  # 7x24, no closed-hours branch (art. 5)
