"""The speech pieces without Asterisk: AudioSocket frames, the grammar's reading of a
result, the pool's bound, the menu's speech config, the keyword lists."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from hotline.acd.settings import DEFAULT_QUEUES, EmergencySettings
from hotline.agi.tree import load_ivr
from hotline.kernel.errors import ConfigError
from hotline.speech import audiosocket as aus
from hotline.speech.errors import ProtocolError
from hotline.speech.grammar import Grammar, Outcome
from hotline.speech.pool import RecogniserPool, pool_size

QUEUES = [q.name for q in DEFAULT_QUEUES]
GRAMMAR = Grammar(
    phrases={"1": ["咨询", "了解 一下"], "3": ["投诉"]}, keywords={"119": ["着火"], "120": ["救命"]}
)


def result(*words: tuple[str, float]) -> dict[str, object]:
    return {
        "text": " ".join(w for w, _ in words),
        "result": [{"word": w, "conf": c} for w, c in words],
    }


async def test_frames_read_back_as_written() -> None:
    reader = asyncio.StreamReader()
    call = uuid.uuid4()
    reader.feed_data(aus.encode(aus.KIND_UUID, call.bytes) + aus.audio(b"\x01\x02" * 160))
    reader.feed_data(aus.encode(aus.KIND_DTMF, b"5"))
    reader.feed_eof()
    assert aus.call_uuid(await aus.read_frame(reader)) == str(call)
    frame = await aus.read_frame(reader)
    assert frame.kind == aus.KIND_AUDIO and len(frame.payload) == aus.FRAME_BYTES
    assert aus.dtmf_key(await aus.read_frame(reader)) == "5"
    assert (await aus.read_frame(reader)).kind == aus.KIND_HANGUP  # closed: hangup
    assert aus.encode(aus.KIND_HANGUP) == aus.HANGUP


def test_a_frame_other_than_uuid_first_is_refused() -> None:
    with pytest.raises(ProtocolError, match="expected a UUID frame"):
        aus.call_uuid(aus.Frame(aus.KIND_AUDIO, b"\x00" * 16))


def test_grammar_is_plain_utf8_with_unknown_last() -> None:
    text = GRAMMAR.to_json()
    assert "\\u" not in text and "咨询" in text
    assert json.loads(text)[-1] == "[unk]"


def test_a_phrase_chooses_its_key_when_sure() -> None:
    got = GRAMMAR.interpret(result(("了解", 0.9), ("一下", 0.8)), 0.6)
    assert (got.kind, got.key, got.confidence) == ("phrase", "1", 0.85)


def test_a_keyword_wins_over_a_phrase() -> None:
    got = GRAMMAR.interpret(result(("投诉", 0.9), ("着火", 0.9)), 0.6)
    assert (got.kind, got.line, got.word) == ("keyword", "119", "着火")


def test_low_confidence_is_unsure_and_unknown_is_nothing() -> None:
    unsure = GRAMMAR.interpret(result(("投诉", 0.4)), 0.6)
    assert unsure.kind == "unsure" and unsure.text == "投诉" and unsure.key == ""
    assert GRAMMAR.interpret(result(("[unk]", 1.0)), 0.6).kind == "nothing"
    assert GRAMMAR.interpret({"text": ""}, 0.6).kind == "nothing"


def test_outcome_travels_as_json() -> None:
    out = Outcome("keyword", text="着火 了", confidence=0.9, line="119", word="着火")
    assert Outcome.from_json(out.to_json()) == out


def test_pool_is_bounded_and_never_waits() -> None:
    pool = RecogniserPool(2)
    try:
        assert pool.try_take() and pool.try_take()
        assert not pool.try_take()  # full: the caller gets the key menu
        pool.give_back()
        assert pool.try_take()
    finally:
        pool.close()
    assert pool_size(0) >= 1 and pool_size(3) == 3


def test_keywords_default_per_line_and_can_be_replaced() -> None:
    default = EmergencySettings().keywords()
    assert default["119"] == ["着火", "火灾", "冒烟", "煤气"] and default["120"][1] == "救命"
    mine = EmergencySettings.model_validate({"lines": {"119": {"keywords": ["화재"]}}})
    assert mine.keywords()["119"] == ["화재"] and mine.keywords()["110"] == ["抢劫", "打人"]


def _tree(tmp_path: Path, speech: str) -> Path:
    path = tmp_path / "ivr.yaml"
    path.write_text(
        "trees:\n  main:\n    start: m\n    nodes:\n"
        "      m:\n        kind: menu\n        prompt: menu\n"
        '        keys: {"1": a, "3": b}\n'
        f"        speech: {speech}\n"
        "      a: {kind: queue, queue: consultation}\n"
        "      b: {kind: queue, queue: complaint}\n",
        encoding="utf-8",
    )
    return path


def test_shipped_menu_has_mandarin_phrases_for_its_keys() -> None:
    from hotline.agi.menu import DEFAULT_MENU_FILE

    node = load_ivr(DEFAULT_MENU_FILE, QUEUES).trees["main"].nodes["main_menu"]
    speech = getattr(node, "speech", None)
    assert speech is not None and speech.phrases["3"][0] == "投诉"
    for phrases in speech.phrases.values():
        for phrase in phrases:  # Mandarin words, spaced where the model splits them
            assert all("\u4e00" <= ch <= "\u9fff" or ch == " " for ch in phrase), phrase


def test_phrases_for_a_key_the_menu_lacks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"speech.phrases for keys \['7'\].*allowed: 1, 3"):
        load_ivr(_tree(tmp_path, '{phrases: {"7": [查询]}}'), QUEUES)


def test_a_phrase_for_two_keys_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="phrase '投 诉' given for key '1' and '3'"):
        load_ivr(_tree(tmp_path, '{phrases: {"1": [投诉], "3": [投 诉]}}'), QUEUES)
