"""Transcripts on a real PostgreSQL: the queue query, once per recording, the search."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from hotline.calls.models import Transcript
from hotline.kernel.db import make_engine, upgrade
from hotline.recordings.worker import process_pending
from hotline.speech.search import search_orders
from hotline.speech.transcribe import TranscriptionWorker
from tests.helpers.left_messages import KOREAN_MODEL, leave_message, with_speech
from tests.helpers.recordings_env import Env, make_env


def test_a_message_transcribed_and_found_on_postgresql(
    tmp_path: Path,
    pg_url: str,
) -> None:
    upgrade(pg_url)
    env = Env(make_env(tmp_path).settings, make_engine(pg_url))
    order = leave_message(env, "1700000400.1")
    process_pending(env.settings, env.engine)
    settings = with_speech(env.settings, model_dir=KOREAN_MODEL, language="ko")
    worker = TranscriptionWorker(settings, env.engine)
    assert (worker.tick(), worker.tick()) == (1, 0)
    with Session(env.engine) as s:
        [stored] = s.exec(select(Transcript)).all()
        assert stored.work_order_number == order.number
        hits = search_orders(s, "네")
    assert [(h.number, h.matched_in) for h in hits] == [(order.number, "transcript")]
