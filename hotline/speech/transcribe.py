"""Background transcription: archived messages (and, when enabled, whole call recordings)
into text on their work order, one Vosk recogniser at a time, niced.

Free-form recognition (no grammar) at the recording's own sample rate. It never touches a
call: a missing model or a failure only delays the text (retried later); after
MAX_ATTEMPTS failures on one recording a `failed` row stops the retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, case
from sqlmodel import Session, col, select

from hotline.calls.models import Transcript, TranscriptKind, TranscriptStatus
from hotline.calls.transcripts import save_once
from hotline.recordings.archive import load_source
from hotline.recordings.models import Recording, RecordingStatus, message_key
from hotline.recordings.worker import spool_file
from hotline.speech.errors import TranscribeError
from hotline.speech.install import NAME_FILE
from hotline.speech.model import problem, shared_model
from hotline.speech.settings import SpeechConfig

log = logging.getLogger(__name__)

MESSAGE_SUFFIX = message_key("")  # a message's entry in the recordings index ends so
MAX_ATTEMPTS = 5
RETRY_FIRST_SECONDS = 30.0
CHUNK_FRAMES = 4000
NICE = 15  # below the recordings worker's 10: calls, then archiving, then this
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


@dataclass(frozen=True)
class Recognised:
    text: str
    confidence: float | None
    seconds: float


def model_name(model_dir: Path) -> str:
    named = model_dir / NAME_FILE
    if named.is_file():
        return named.read_text(encoding="utf-8").strip()[:64]
    return model_dir.resolve().name[:64]


def tidy(text: str, language: str) -> str:
    """Vosk's Mandarin output has a space between words: 我 想 投诉 -> 我想投诉."""
    text = " ".join(text.split())
    return _CJK_GAP.sub("", text) if language == "zh" else text


def recognise(model_dir: Path, audio: Path, language: str) -> Recognised:
    import vosk

    try:
        sound = load_source(audio).set_channels(1).set_sample_width(2)
    except Exception as exc:
        raise TranscribeError(f"{audio}: {exc}") from exc
    rec = vosk.KaldiRecognizer(shared_model(model_dir), float(sound.frame_rate))
    rec.SetWords(True)
    pcm: bytes = sound.raw_data
    results = []
    step = CHUNK_FRAMES * 2
    for start in range(0, len(pcm), step):
        if rec.AcceptWaveform(pcm[start : start + step]):
            results.append(json.loads(rec.Result()))
    results.append(json.loads(rec.FinalResult()))
    words = [w for r in results for w in r.get("result", [])]
    text = tidy(" ".join(r.get("text", "") for r in results), language)
    conf = sum(float(w["conf"]) for w in words) / len(words) if words else None
    return Recognised(text, conf, len(sound) / 1000.0)


def kind_of(linkedid: str) -> TranscriptKind:
    return TranscriptKind.MESSAGE if linkedid.endswith(MESSAGE_SUFFIX) else TranscriptKind.CALL


def due(settings: SpeechConfig, engine: Engine, limit: int = 20) -> list[int]:
    """Archived recordings without a transcript: messages first, oldest first."""
    cfg = settings.speech
    if not (cfg.transcribe_messages or cfg.transcribe_recordings):
        return []
    is_message = col(Recording.linkedid).endswith(MESSAGE_SUFFIX)
    query = (
        select(Recording.id)
        .join(Transcript, col(Transcript.recording_id) == col(Recording.id), isouter=True)
        .where(col(Transcript.id).is_(None), Recording.status == RecordingStatus.ARCHIVED)
        .order_by(case((is_message, 0), else_=1), col(Recording.id))
        .limit(limit)
    )
    if not cfg.transcribe_recordings:
        query = query.where(is_message)
    elif not cfg.transcribe_messages:
        query = query.where(~is_message)
    with Session(engine) as s:
        return [rid for rid in s.exec(query).all() if rid is not None]


def audio_of(settings: SpeechConfig, rec: Recording) -> Path:
    """Asterisk's original when still in the spool (better than the archive's codec)."""
    original = spool_file(settings, rec.path)
    if original.is_file():
        return original
    return settings.recordings_archive_dir / rec.archive_path


def transcribe_one(settings: SpeechConfig, engine: Engine, rec_id: int) -> Transcript | None:
    """Recognise one archived recording and store its transcript (once)."""
    with Session(engine) as s:
        rec = s.get(Recording, rec_id)
        if rec is None:
            return None
        audio = audio_of(settings, rec)
        linkedid, number = rec.linkedid, rec.work_order_number
    model_dir = settings.speech_model_dir
    heard = recognise(model_dir, audio, settings.speech.language)
    transcript = Transcript(
        recording_id=rec_id,
        linkedid=linkedid,
        work_order_number=number,
        kind=kind_of(linkedid),
        text=heard.text,
        confidence=heard.confidence,
        model=model_name(model_dir),
        language=settings.speech.language,
        audio_seconds=heard.seconds,
        created_at=datetime.now(UTC),
    )
    with Session(engine) as s:
        stored = save_once(s, transcript)
        s.expunge(stored)
    return stored


def give_up(settings: SpeechConfig, engine: Engine, rec_id: int, error: str) -> None:
    with Session(engine) as s:
        rec = s.get(Recording, rec_id)
        if rec is None:
            return
        save_once(
            s,
            Transcript(
                recording_id=rec_id,
                linkedid=rec.linkedid,
                work_order_number=rec.work_order_number,
                kind=kind_of(rec.linkedid),
                status=TranscriptStatus.FAILED,
                model=model_name(settings.speech_model_dir),
                language=settings.speech.language,
                error=error[:500],
                created_at=datetime.now(UTC),
            ),
        )


def _lower_priority() -> None:
    # Linux nice is per thread: recognition yields to calls and to the archiving.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


class TranscriptionWorker:
    """Runs in `hotline up` (or `hotline serve transcripts`)."""

    def __init__(self, settings: SpeechConfig, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.pool = ThreadPoolExecutor(
            1, thread_name_prefix="transcripts", initializer=_lower_priority
        )
        self.failures: dict[int, tuple[int, float]] = {}  # recording id: attempts, retry at
        self.off_because: str | None = None
        self.done = 0

    async def run(self) -> None:
        while True:
            try:
                await asyncio.get_running_loop().run_in_executor(self.pool, self.tick)
            except Exception:  # database down: keep going
                log.exception("transcription pass failed; retrying")
            await asyncio.sleep(self.settings.speech.transcribe_poll_seconds)

    def status(self) -> dict[str, object]:
        """Transcripts made since the start, why transcription waits, recordings to retry."""
        return {
            "done": self.done,
            "off_because": self.off_because or "",
            "retrying": len(self.failures),
        }

    def tick(self) -> int:
        """One pass: every due recording not waiting for a retry. Returns how many were done."""
        why = problem(self.settings.speech_model_dir)
        if why != self.off_because:
            if why:
                log.warning("transcription waits: %s", why)
            else:
                log.info("transcription on: model %s", self.settings.speech_model_dir)
            self.off_because = why
        if why:
            return 0
        done = 0
        now = time.monotonic()
        for rec_id in due(self.settings, self.engine):
            attempts, retry_at = self.failures.get(rec_id, (0, 0.0))
            if retry_at > now:
                continue
            try:
                stored = transcribe_one(self.settings, self.engine, rec_id)
            except Exception as exc:
                attempts += 1
                log.warning("transcription of recording %s failed (%d): %s", rec_id, attempts, exc)
                if attempts >= MAX_ATTEMPTS:
                    give_up(self.settings, self.engine, rec_id, str(exc))
                    self.failures.pop(rec_id, None)
                else:
                    wait = RETRY_FIRST_SECONDS * 2 ** (attempts - 1)
                    self.failures[rec_id] = (attempts, time.monotonic() + wait)
                continue
            self.failures.pop(rec_id, None)
            if stored is not None:
                done += 1
                log.info(
                    "transcribed %s (order %s): %d characters, %.1f s of audio",
                    stored.kind,
                    stored.work_order_number or "-",
                    len(stored.text),
                    stored.audio_seconds,
                )
        self.done += done
        return done
