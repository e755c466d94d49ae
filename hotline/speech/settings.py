"""Speech navigation's section of the config."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import (
    Field,
)

from hotline.crm_bridge.settings import CrmBridgeConfig
from hotline.kernel.settings import (
    Section,
)


class SpeechSettings(Section):
    """Speech recognition with Vosk, offline on the hotline's own machines (speech/)."""

    model_dir: Path | None = Field(
        default=None,
        description="Model directory (a Vosk model: am/, conf/, graph/, ivector/); none: "
        "var/speech/model, where `hotline speech install-model` puts it. Missing: speech off.",
    )
    language: str = Field(
        default="zh",
        pattern=r"^[a-z]{2}$",
        description="Language of the model's phrase lists: zh for the Mandarin model, ko for "
        "the Korean test model (tests only).",
    )
    host: str = Field(
        default="127.0.0.1",
        description="The recognition service Asterisk streams caller audio to (AudioSocket "
        "over TCP).",
    )
    port: int = Field(default=4575, ge=1, le=65535, description="The recognition service's port.")
    pool_size: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Recognisers running at once; 0: one per CPU core. Full pool: the key menu.",
    )
    min_confidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A result below this confidence (0-1) falls back to the key menu.",
    )
    model_url: str = Field(
        default="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
        description="Where `hotline speech install-model` downloads the model from (a local "
        "mirror is fine: every large file's SHA-256 is checked all the same).",
    )
    transcribe_messages: bool = Field(
        default=True,
        description="The transcripts service (speech/transcribe.py) turns left messages into "
        "text on their work order.",
    )
    transcribe_recordings: bool = Field(
        default=False,
        description="Also whole call recordings, at low priority (each takes a recogniser for "
        "as long as the call).",
    )
    transcribe_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the transcripts service looks for new recordings.",
    )
    listen_seconds: float = Field(
        default=4,
        gt=0,
        le=30,
        description="Speech navigation (agi/speech.py, speech/server.py): after its prompt, "
        "how long the menu listens for a phrase before the key menu.",
    )
    connect_seconds: float = Field(
        default=3,
        gt=0,
        le=30,
        description="How long the service waits for Asterisk's AudioSocket connection after "
        "the IVR asked.",
    )


class SpeechConfig(CrmBridgeConfig, Protocol):
    """What speech reads of the settings."""

    @property
    def speech(self) -> SpeechSettings: ...
    @property
    def speech_model_dir(self) -> Path: ...
