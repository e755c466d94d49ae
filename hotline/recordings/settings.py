"""The recordings' section of the config."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from hotline.kernel.settings import RecordingRole, Section
from hotline.workorders.settings import WorkordersConfig


class RecordingSettings(Section):
    format: Literal["wav", "wav49", "gsm", "raw"] = Field(
        default="wav",
        description='What MixMonitor writes (the spool); "raw" is set by stereo (MixMonitor D '
        "needs it).",
    )
    stereo: bool = Field(
        default=False,
        description="Citizen and agent on separate channels (quality review); needs a stereo "
        "archive format (wav, mp3 or opus).",
    )
    archive_format: Literal["wav", "gsm", "mp3", "opus"] = Field(
        default="gsm",
        description="What the worker archives: gsm ~100 kB/min, wav ~960 kB/min, mp3/opus "
        "16 kbit/s.",
    )
    archive_dir: Path | None = Field(
        default=None, description="Where archives are kept; none: var/recordings."
    )
    retention_years: int = Field(
        default=3,
        description="Years a recording is kept, counted from the call; less than 3 is "
        "refused (regulation art. 28).",
    )
    truncation_tolerance_seconds: float = Field(
        default=2.0,
        ge=0,
        description="A recording shorter than its call by more than this is flagged "
        "truncated; raise it for carriers that suppress silence on both sides.",
    )
    min_free_mb: int = Field(
        default=500,
        ge=1,
        description="Free space below this where recordings are written or kept raises "
        "disk_low and marks recordings down in `hotline status`.",
    )
    secondary_dir: str = Field(
        default="",
        description="Absolute path inside the Asterisk root; recording moves there while the "
        "spool is short of space. Empty: none.",
    )
    poll_seconds: float = Field(
        default=2.0, gt=0, description="How often the worker looks for pending recordings."
    )
    disk_check_seconds: float = Field(
        default=5.0, gt=0, description="How often the worker checks free space."
    )
    keep_spool: bool = Field(default=False, description="Keep Asterisk's original after archiving.")
    full_number_roles: list[RecordingRole] = Field(
        default_factory=list,
        description="Deprecated: auth.full_number_roles (roles listed here are added to it).",
    )

    @field_validator("retention_years")
    @classmethod
    def _three_years_at_least(cls, v: int) -> int:
        if v < 3:
            raise ValueError(
                f"recordings must be kept at least 3 years (regulation art. 28); got {v}"
            )
        return v

    @model_validator(mode="after")
    def _stereo_capture(self) -> RecordingSettings:
        if self.stereo:
            if self.archive_format == "gsm":
                raise ValueError("stereo needs archive_format wav, mp3 or opus (GSM is mono)")
            self.format = "raw"
        elif self.format == "raw":
            raise ValueError("format 'raw' is only for stereo: set stereo: true instead")
        if self.secondary_dir and not self.secondary_dir.startswith("/"):
            raise ValueError("secondary_dir must be an absolute path inside the Asterisk root")
        return self


class RecordingsConfig(WorkordersConfig, Protocol):
    """What the recordings read of the settings."""

    @property
    def recordings(self) -> RecordingSettings: ...
    @property
    def recordings_dir(self) -> Path: ...
    @property
    def recordings_archive_dir(self) -> Path: ...
