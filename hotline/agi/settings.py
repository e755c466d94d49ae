"""The FastAGI server's section of the config."""

from __future__ import annotations

from typing import Protocol

from pydantic import (
    Field,
)

from hotline.acd.settings import AcdConfig
from hotline.kernel.settings import (
    Section,
)


class AgiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Address the FastAGI server binds to.")
    port: int = Field(default=4573, ge=1, le=65535, description="FastAGI port.")
    allowed_peers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Peers allowed to connect (Asterisk's address); any other is refused. "
        "Loopback by default.",
    )
    call_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Longest a route may run for one call; then it is cut off: a call in the "
        "menu goes on to the general queue, its record's ivr_result agi-cut.",
    )
    header_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Time a new connection has to send its whole AGI header block; a peer "
        "that sends half a header or nothing is dropped.",
    )
    lookup_timeout_seconds: float = Field(
        default=0.8,
        gt=0,
        le=5,
        description="Longest a caller waits on one database or Redis question (blocked? open "
        "orders? an order's progress, a callback, a message); then the call goes on as if "
        "the answer were no (see the voice menu's page, 'A slow database').",
    )
    lookup_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads that ask the database for the callers; while all are stuck on a "
        "database that does not answer, callers get the no-answer fallback at once.",
    )


class AgiConfig(AcdConfig, Protocol):
    """What the IVR reads of the settings."""

    @property
    def agi(self) -> AgiSettings: ...
