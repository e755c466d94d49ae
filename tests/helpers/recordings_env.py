"""Helpers for tests of recordings: a private var/ and root, a migrated SQLite, fake calls.

The audio files are real (sox/pydub tones); only the call that produced them is made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from pydub.generators import Sine  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.calls.models import CallRecord, Disposition
from hotline.config.settings import Settings, load_settings
from hotline.kernel.db import make_engine, upgrade
from hotline.recordings.models import Recording


@dataclass
class Env:
    settings: Settings
    engine: Engine


def make_env(tmp: Path, **recordings: object) -> Env:
    cfg = tmp / "hotline.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "var_dir": str(tmp / "var"),
                "asterisk_root": str(tmp / "root"),
                "recordings": recordings,
            }
        )
    )
    settings = load_settings(cfg)
    upgrade(settings.db_url)
    return Env(settings, make_engine(settings.db_url))


def add_call(
    env: Env,
    linkedid: str,
    *,
    seconds: float = 10.0,
    audio_seconds: float | None = None,
    agent: str = "1001",
    caller: str = "13800138000",
    queue: str = "complaint",
    started_at: datetime | None = None,
) -> Path | None:
    """A finished call with its pending recording; audio_seconds=0 writes no file."""
    started = started_at or datetime.now(UTC) - timedelta(seconds=seconds + 5)
    rel = f"/var/spool/asterisk/monitor/hotline/{started:%Y/%m/%d}/{linkedid}.wav"
    src: Path | None = None
    if audio_seconds != 0:
        src = env.settings.root / rel.lstrip("/")
        src.parent.mkdir(parents=True, exist_ok=True)
        length = seconds if audio_seconds is None else audio_seconds
        tone = Sine(440, sample_rate=8000).to_audio_segment(duration=int(length * 1000))
        tone.set_channels(1).set_sample_width(2).export(str(src), format="wav").close()
    with Session(env.engine) as s:
        s.add(
            CallRecord(
                linkedid=linkedid,
                tenant="nanning",
                caller_number=caller,
                started_at=started,
                answered_at=started + timedelta(seconds=1),
                ended_at=started + timedelta(seconds=seconds),
                disposition=Disposition.ANSWERED,
                agent=agent,
                queue=queue,
                recording_path=rel,
            )
        )
        s.add(Recording(linkedid=linkedid, path=rel, created_at=started))
        s.commit()
    return src
