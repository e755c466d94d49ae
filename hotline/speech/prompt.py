"""A prompt as the raw audio AudioSocket carries (8 kHz 16-bit mono), read from its WAV."""

from __future__ import annotations

import logging
import wave
from functools import lru_cache
from pathlib import Path

from hotline.speech.audiosocket import SAMPLE_RATE

log = logging.getLogger(__name__)


def prompt_file(sounds_dir: Path, sound: str) -> Path:
    return sounds_dir / f"{sound}.wav"


def load_prompt(path: Path) -> bytes:
    """The file's samples; b"" (silence: the caller still hears the key menu next) when it
    is missing or not 8 kHz 16-bit mono, as `hotline prompts` writes them."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        log.warning("speech prompt %s is missing: listening without it", path)
        return b""
    return _read(path, stamp)


@lru_cache(maxsize=64)
def _read(path: Path, stamp: int) -> bytes:
    try:
        with wave.open(str(path), "rb") as w:
            shape = (w.getframerate(), w.getnchannels(), w.getsampwidth())
            if shape != (SAMPLE_RATE, 1, 2):
                log.warning("speech prompt %s is %s Hz/%s ch/%s B, not 8000/1/2", path, *shape)
                return b""
            return w.readframes(w.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        log.warning("speech prompt %s does not read: %s", path, exc)
        return b""
