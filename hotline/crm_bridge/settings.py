"""The CRM bridge's sections of the config: the CDR backstop and the upstream platform."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from hotline.kernel.settings import (
    LOOPBACK_HOSTS,
    Section,
)
from hotline.recordings.settings import RecordingsConfig


class BridgeSettings(Section):
    """The CRM bridge's backstop: Asterisk's own CDR compared with our call records."""

    reconcile_every_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="How often the bridge compares Asterisk's CDR with the call records.",
    )
    reconcile_grace_seconds: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="A CDR younger than this is left to the events (its call record may be "
        "on its way).",
    )
    reconcile_lookback_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 90,
        description="How far back each scheduled comparison looks (never before the bridge's "
        "journal first ran; `hotline bridge reconcile --since` looks further).",
    )


class UpstreamSettings(Section):
    """Pushing call records and work orders to the regional platform (art. 5, 16)."""

    url: str = Field(
        default="",
        description="POST endpoint of the platform, e.g. "
        "https://12345.gxzf.gov.cn/api/hotline/changes (plain http only to loopback); empty: "
        "nothing is recorded for pushing and the upstream service stays idle.",
    )
    secret: str = Field(
        default="",
        description="The shared HMAC secret. Never in the config file: "
        "HOTLINE_UPSTREAM__SECRET, or generated into var/secrets.env on first start (give it "
        "to the platform).",
    )
    ca_file: Path | None = Field(
        default=None,
        description="A CA bundle (PEM) to verify the platform's certificate; none: the system's.",
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Per request to the platform."
    )
    retry_first_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Back-off after a failed attempt (5xx, timeout, no connection): doubles "
        "from this up to retry_cap_seconds, with jitter.",
    )
    retry_cap_seconds: float = Field(
        default=300.0,
        gt=0,
        description="The longest back-off; at least retry_first_seconds.",
    )
    max_attempts: int = Field(
        default=0,
        ge=0,
        description="After this many failed attempts a change goes to the dead-letter list; "
        "0: never.",
    )
    batch: int = Field(
        default=100, ge=1, le=10_000, description="Changes sent per pass over the outbox."
    )
    poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the outbox is read."
    )
    keep_delivered_days: int = Field(
        default=7,
        ge=0,
        description="Delivered changes are kept this long (to look into), then deleted.",
    )

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v:
            return v
        parts = urlsplit(v)
        host = parts.hostname or ""
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError(f"give the platform's https:// URL, e.g. https://host/path; got {v!r}")
        if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"plain http is allowed only to loopback (a test receiver); use https for {host}"
            )
        return v

    @field_validator("ca_file")
    @classmethod
    def _ca_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"CA file {v} does not exist (a PEM bundle to verify the platform)")
        return v

    @model_validator(mode="after")
    def _cap_over_first(self) -> UpstreamSettings:
        if self.retry_cap_seconds < self.retry_first_seconds:
            raise ValueError("retry_cap_seconds must be at least retry_first_seconds")
        return self


class CrmBridgeConfig(RecordingsConfig, Protocol):
    """What the CRM bridge reads of the settings."""

    @property
    def bridge(self) -> BridgeSettings: ...
    @property
    def upstream(self) -> UpstreamSettings: ...
    @property
    def cdr_file(self) -> Path: ...
